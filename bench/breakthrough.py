"""Benchmark of ``coretech breakthrough`` at national scale (prints figures; not a test).

Generates N patents (applications 2000-2022, realistic grant lags, 1-5 IPC symbols each drawn
from the embedded scheme's 67k subgroups with Zipf popularity, 300 real prefecture names) as
Parquet in a temp dir, and a 3,000-code dictionary (20 subclasses, 480 main groups, 2,500
subgroups with their subtrees). Then measures, each in its own process
(wall time and peak RSS from /usr/bin/time -v):

1. the whole command ``coretech breakthrough`` (read, validate, count, lag table, eq. 5, write);
2. a hand-written DuckDB SQL query doing the same count (granted by T, any symbol within a
   dictionary code, once per patent and city-year);
3. the pandas explode-and-filter code a user would write (skipped above --pandas-max rows).

    .venv/bin/python bench/breakthrough.py --rows 1000000
    .venv/bin/python bench/breakthrough.py --rows 10000000 --pandas-max 0 --repeat 3

``--repeat N`` runs the command and the SQL query alternately N times and reports the median
wall time and the largest peak RSS of each, and the ratio per round (the machine is shared:
single runs vary ±30%).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PY = str(REPO / ".venv" / "bin" / "python")
LAG_SHARES = [0.0, 0.05, 0.2, 0.25, 0.2, 0.12, 0.07, 0.05, 0.03, 0.02, 0.01]


def generate(n: int, folder: Path, seed: int = 1) -> tuple[Path, Path]:
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
    return pat, dic


SQL_SCRIPT = """
import sys, duckdb, pandas as pd
from coretech.indicators.breakthrough import cover_table, load_hierarchy, read_dictionary
pat, dic, out = sys.argv[1:4]
codes = read_dictionary(dic)["ipc_code"]
cover = cover_table(codes, load_hierarchy(None))
con = duckdb.connect()
con.register("cover", cover)
con.execute(f'''
COPY (
  WITH s AS (
    SELECT patent_id, city, year(app_date) AS year, trim(unnest(string_split(ipc, ';'))) AS code
    FROM read_parquet('{pat}') WHERE grant_date <= DATE '2022-12-31')
  SELECT city, year, count(DISTINCT patent_id) AS k_raw FROM s
  WHERE code IN (SELECT key FROM cover WHERE level = 'code')
     OR split_part(code, '/', 1) || '/00' IN (SELECT key FROM cover WHERE level = 'main_group')
     OR left(code, 4) IN (SELECT key FROM cover WHERE level = 'subclass')
     OR left(code, 3) IN (SELECT key FROM cover WHERE level = 'class')
     OR left(code, 1) IN (SELECT key FROM cover WHERE level = 'section')
  GROUP BY ALL ORDER BY ALL) TO '{out}' (HEADER)''')
"""

PANDAS_SCRIPT = """
import sys, pandas as pd
from coretech.indicators.breakthrough import cover_table, load_hierarchy, read_dictionary
pat, dic, out = sys.argv[1:4]
codes = read_dictionary(dic)["ipc_code"]
cover = cover_table(codes, load_hierarchy(None))
keys = {lvl: set(g["key"]) for lvl, g in cover.groupby("level")}
df = pd.read_parquet(pat)
df = df[pd.to_datetime(df["grant_date"]) <= "2022-12-31"]
df["year"] = pd.to_datetime(df["app_date"]).dt.year
df["code"] = df["ipc"].str.split(";")
x = df[["patent_id", "city", "year", "code"]].explode("code")
c = x["code"].str.strip()
hit = (c.isin(keys.get("code", set()))
       | (c.str.split("/").str[0] + "/00").isin(keys.get("main_group", set()))
       | c.str[:4].isin(keys.get("subclass", set()))
       | c.str[:3].isin(keys.get("class", set()))
       | c.str[:1].isin(keys.get("section", set())))
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
    return {"seconds": round(secs, 2), "peak_rss_mib": round(rss, 1)}


def timed_median(cmds: dict[str, list[str]], repeat: int) -> dict[str, dict]:
    """Run the commands alternately ``repeat`` times; median seconds, largest peak RSS."""
    runs: dict[str, list[dict]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, cmd in cmds.items():
            runs[k].append(timed(cmd))
    return {
        k: {"seconds": float(np.median([r["seconds"] for r in v])),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in v),
            **({"runs": [r["seconds"] for r in v]} if repeat > 1 else {})}
        for k, v in runs.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pandas-max", type=int, default=2_000_000,
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
    results = {"rows": args.rows, "parquet_mib": round(pat.stat().st_size / 2**20, 1)}
    out = folder / "sicoughs.csv"
    sql_out = folder / "sql.csv"
    results.update(timed_median({
        "coretech_breakthrough": [
            str(REPO / ".venv" / "bin" / "coretech"), "breakthrough", str(pat), "--dictionary",
            str(dic), "--out", str(out), "--lag-table", str(folder / "lags.csv"),
        ],
        "duckdb_sql": [PY, "-c", textwrap.dedent(SQL_SCRIPT), str(pat), str(dic), str(sql_out)],
    }, max(1, args.repeat)))
    # same counts?
    import pandas as pd

    ours = pd.read_csv(out)
    ref = pd.read_csv(sql_out)
    m = ours.merge(ref, on=["city", "year"], how="left", suffixes=("", "_sql")).fillna(0)
    results["counts_equal_sql"] = bool((m["k_raw"] == m["k_raw_sql"]).all()
                                       and ref["k_raw"].sum() == ours["k_raw"].sum())
    if args.rows <= args.pandas_max:
        pd_out = folder / "pandas.csv"
        results["pandas_explode"] = timed([PY, "-c", textwrap.dedent(PANDAS_SCRIPT), str(pat),
                                           str(dic), str(pd_out)])
        results["ratio_to_pandas"] = round(results["coretech_breakthrough"]["seconds"]
                                           / results["pandas_explode"]["seconds"], 2)
    else:
        results["pandas_explode"] = f"skipped above {args.pandas_max:,} rows"
    results["ratio_to_sql"] = round(results["coretech_breakthrough"]["seconds"]
                                    / results["duckdb_sql"]["seconds"], 2)
    if args.repeat > 1:  # each round's command over the query run right after it
        pairs = zip(results["coretech_breakthrough"]["runs"], results["duckdb_sql"]["runs"],
                    strict=True)
        results["ratio_to_sql_per_round"] = [round(a / b, 2) for a, b in pairs]
        results["ratio_to_sql_median_round"] = float(np.median(results["ratio_to_sql_per_round"]))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
