"""Benchmark of ``coretech breakthrough`` at national scale (prints figures; not a test).

Generates N patents (applications 2000-2022, realistic grant lags, 1-5 IPC symbols each drawn
from the embedded scheme's 67k subgroups with Zipf popularity, 300 real prefecture names) as
Parquet in a folder, and a 3,000-code dictionary (20 subclasses, 480 main groups, 2,500
subgroups). Then measures, each in its own process (wall time and peak RSS from
/usr/bin/time -v), alternately ``--repeat`` times:

1. the whole command ``coretech breakthrough`` (read, validate, count, lag table, eq. 5, write);
2. the reference a user would write: a small DuckDB script that does not import coretech
   (reads the dictionary, drops rejected rows, counts each granted patent once per
   city-year when a symbol lies within a dictionary code: a subclass by its first four
   characters, a main group by its group number, a subgroup itself -- the embedded scheme has
   no subgroup under another subgroup, so that is the whole subtree);
3. optionally (``--pandas-max``) the pandas explode-and-filter code a user would write.

The counts of (1) and (2) must be identical (asserted: the script stops otherwise). Prints
the median wall and CPU times, the largest peak RSS, the ratio per round and its median, and
the ratio of the CPU medians (steadier than wall time on a shared machine).

    python bench/breakthrough.py --rows 2000000 --repeat 5 --keep /tmp/bt-bench
    python bench/breakthrough.py --rows 10000000 --repeat 3 --keep /tmp/bt-bench

Targets (issue 18): ratio <= 2.0 at 2M rows, <= 1.5 at 10M, peak RSS <= 0.8 GB at 10M.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
LAG_SHARES = [0.0, 0.05, 0.2, 0.25, 0.2, 0.12, 0.07, 0.05, 0.03, 0.02, 0.01]


def generate(n: int, folder: Path, seed: int = 1) -> tuple[Path, Path]:
    """Write ``patents_<n>.parquet`` and ``dictionary.csv`` into ``folder``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from coretech.indicators.cities import _division_names
    from coretech.ipc.scheme import default_scheme

    rng = np.random.default_rng(seed)
    scheme = default_scheme()
    subgroups = scheme.loc[scheme["kind"] == "subgroup", "code"].to_numpy()
    # skewed popularity of symbols, like real filings: Zipf over ranks (p ~ 1/rank), shuffled
    pop = 1.0 / np.arange(1, len(subgroups) + 1) ** 1.0
    rng.shuffle(pop)
    pop /= pop.sum()
    cities = np.array([c for c in _division_names()[1] if c.endswith("市")][:300])
    years = rng.integers(2000, 2023, size=n)
    doy = rng.integers(0, 365, size=n)
    app = (np.array(years - 1970, dtype="datetime64[Y]").astype("datetime64[D]")
           + doy.astype("timedelta64[D]"))
    lag_years = rng.choice(len(LAG_SHARES), size=n, p=LAG_SHARES)
    grant = app + (lag_years * 365 + rng.integers(-120, 120, size=n)).astype("timedelta64[D]")
    grant = np.maximum(grant, app + np.timedelta64(30, "D"))
    granted = (rng.random(n) < 0.6) & (grant <= np.datetime64("2022-12-31"))
    k = rng.integers(1, 6, size=n)
    flat = rng.choice(len(subgroups), size=int(k.sum()), p=pop)
    offsets = np.concatenate([[0], np.cumsum(k)]).astype(np.int64)
    lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(subgroups[flat]))
    ipc = pc.binary_join(lists, ";")
    table = pa.table({
        "patent_id": pa.array(np.char.add("CN", np.arange(n).astype(str))),
        "app_date": pa.array(app),
        "grant_date": pa.array(np.where(granted, grant, np.datetime64("NaT")), mask=~granted),
        "ipc": ipc,
        "city": pa.array(cities[rng.integers(0, len(cities), size=n)]),
    })
    pat = folder / f"patents_{n}.parquet"
    pq.write_table(table, pat, row_group_size=1 << 20)
    return pat, write_dictionary(folder, seed)


def write_dictionary(folder: Path, seed: int = 1) -> Path:
    """The same 3,000-code dictionary for every N (its own random stream)."""
    from coretech.ipc.scheme import default_scheme

    rng = np.random.default_rng(seed + 1000)
    scheme = default_scheme()
    subgroups = scheme.loc[scheme["kind"] == "subgroup", "code"].to_numpy()
    # 3,000-code dictionary, mostly fine codes like the paper's 2,769: 20 subclasses,
    # 480 main groups, 2,500 subgroups (with their subtrees), drawn uniformly
    subclasses = scheme.loc[scheme["kind"] == "subclass", "code"].to_numpy()
    mains = scheme.loc[scheme["kind"] == "main_group", "code"].to_numpy()
    codes = np.concatenate([
        rng.choice(subclasses, 20, replace=False),
        rng.choice(mains, 480, replace=False),
        rng.choice(subgroups, 2500, replace=False),
    ])
    dic = folder / "dictionary.csv"
    with open(dic, "w", encoding="utf-8") as fh:
        fh.write("tech_id,ipc_code,decision\n")
        for i, c in enumerate(codes):
            fh.write(f"t{i % 685},{c},auto\n")
        # reviewed rows a user's script must drop too
        fh.write("t0,H01L,reject\nt1,G06F,rejected\nt2,H04W,拒绝\n")
    return dic


SQL_SCRIPT = '''
import sys
import duckdb

pat, dic, out, end_year = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect()
con.execute(f"""CREATE TABLE codes AS SELECT DISTINCT trim(ipc_code) AS code
FROM read_csv('{dic}', all_varchar = true)
WHERE coalesce(lower(trim(decision)), '') NOT IN ('reject', 'rejected', '拒绝')""")
con.execute(f"""COPY (
  WITH s AS (SELECT patent_id, city, year(app_date) AS year,
                    trim(unnest(string_split(ipc, ';'))) AS code
             FROM read_parquet('{pat}') WHERE grant_date <= DATE '{end_year}-12-31')
  SELECT city, year, count(DISTINCT patent_id) AS k_raw FROM s
  WHERE code IN (SELECT code FROM codes)
     OR split_part(code, '/', 1) || '/00' IN (SELECT code FROM codes)
     OR left(code, 4) IN (SELECT code FROM codes)
  GROUP BY ALL ORDER BY ALL) TO '{out}' (HEADER)""")
'''

PANDAS_SCRIPT = """
import sys
import pandas as pd

pat, dic, out, end_year = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
d = pd.read_csv(dic, dtype=str)
codes = set(d.loc[~d["decision"].str.strip().str.lower().isin(["reject", "rejected", "拒绝"]),
                  "ipc_code"].str.strip())
df = pd.read_parquet(pat)
df = df[pd.to_datetime(df["grant_date"]) <= f"{end_year}-12-31"]
df["year"] = pd.to_datetime(df["app_date"]).dt.year
df["code"] = df["ipc"].str.split(";")
x = df[["patent_id", "city", "year", "code"]].explode("code")
c = x["code"].str.strip()
hit = c.isin(codes) | (c.str.split("/").str[0] + "/00").isin(codes) | c.str[:4].isin(codes)
res = x[hit].drop_duplicates(["patent_id", "city", "year"]).groupby(["city", "year"]).size()
res.rename("k_raw").reset_index().to_csv(out, index=False)
"""


def timed(cmd: list[str]) -> dict:
    """Run ``cmd`` under /usr/bin/time -v; return wall seconds and peak RSS (MiB)."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr[-3000:]}")
    err = proc.stderr
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", err)
    h, m, s = wall.groups()
    secs = (int(h) if h else 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", err).group(1))
              for k in ("User", "System"))
    return {"seconds": round(secs, 2), "cpu_seconds": round(cpu, 2), "peak_rss_mib": round(rss, 1)}


def timed_median(cmds: dict[str, list[str]], repeat: int) -> dict[str, dict]:
    """Run the commands alternately ``repeat`` times; median seconds, largest peak RSS."""
    runs: dict[str, list[dict]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, cmd in cmds.items():
            runs[k].append(timed(cmd))
    return {
        k: {"seconds": float(np.median([r["seconds"] for r in v])),
            "cpu_seconds": float(np.median([r["cpu_seconds"] for r in v])),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in v),
            "runs": [r["seconds"] for r in v]}
        for k, v in runs.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--end-year", type=int, default=2022)
    ap.add_argument("--pandas-max", type=int, default=0,
                    help="skip the pandas baseline above this many rows (memory)")
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep the generated files in")
    ap.add_argument("--repeat", type=int, default=1,
                    help="alternate the command and the SQL query this many times (median)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="coretech-bench-")
    folder = args.keep or Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    pat = folder / f"patents_{args.rows}.parquet"
    dic = folder / "dictionary.csv"
    if not pat.exists():
        print(f"generating {args.rows:,} patents in {folder} ...", file=sys.stderr)
        pat, dic = generate(args.rows, folder)
    elif not dic.exists():
        write_dictionary(folder)
    end = str(args.end_year)
    results = {"rows": args.rows, "parquet_mib": round(pat.stat().st_size / 2**20, 1),
               "load_before": os.getloadavg()[0]}
    out = folder / "sicoughs.csv"
    sql_out = folder / "sql.csv"
    env_cmd = ["env", f"PYTHONPATH={REPO}"]
    results.update(timed_median({
        "coretech_breakthrough": [
            *env_cmd, PY, "-m", "coretech.cli", "breakthrough", str(pat), "--dictionary",
            str(dic), "--out", str(out), "--lag-table", str(folder / "lags.csv"),
            "--end-year", end,
        ],
        "duckdb_sql": [PY, "-c", textwrap.dedent(SQL_SCRIPT), str(pat), str(dic), str(sql_out),
                       end],
    }, max(1, args.repeat)))
    results["load_after"] = os.getloadavg()[0]
    # identical counts on both sides, or the figures mean nothing
    import pandas as pd

    ours = pd.read_csv(out)
    ours = ours[ours["k_raw"] > 0][["city", "year", "k_raw"]].reset_index(drop=True)
    ref = pd.read_csv(sql_out)[["city", "year", "k_raw"]]
    m = ours.merge(ref, on=["city", "year"], how="outer", suffixes=("", "_sql")).fillna(0)
    same = bool((m["k_raw"] == m["k_raw_sql"]).all())
    results["counts_identical"] = same
    results["core_patents"] = int(ref["k_raw"].sum())
    if not same:
        raise SystemExit(f"counts differ from the reference:\n{m[m['k_raw'] != m['k_raw_sql']]}")
    if args.rows <= args.pandas_max:
        pd_out = folder / "pandas.csv"
        results["pandas_explode"] = timed([PY, "-c", textwrap.dedent(PANDAS_SCRIPT), str(pat),
                                           str(dic), str(pd_out), end])
        assert pd.read_csv(pd_out)["k_raw"].sum() == results["core_patents"]
        results["ratio_to_pandas"] = round(results["coretech_breakthrough"]["seconds"]
                                           / results["pandas_explode"]["seconds"], 2)
    else:
        results["pandas_explode"] = f"skipped above {args.pandas_max:,} rows"
    results["ratio_of_medians"] = round(results["coretech_breakthrough"]["seconds"]
                                        / results["duckdb_sql"]["seconds"], 2)
    # each round's command over the reference run right after it
    pairs = zip(results["coretech_breakthrough"]["runs"], results["duckdb_sql"]["runs"],
                strict=True)
    results["ratio_per_round"] = [round(a / b, 2) for a, b in pairs]
    results["ratio_median_round"] = float(np.median(results["ratio_per_round"]))
    # CPU seconds (user + system, all threads): steadier than wall time on a shared machine
    results["ratio_cpu_medians"] = round(results["coretech_breakthrough"]["cpu_seconds"]
                                         / results["duckdb_sql"]["cpu_seconds"], 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
