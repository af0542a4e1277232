"""Warm `coretech match` of 700 Chinese names vs a plain TF-IDF script (issue 18).

    /work/venv/bin/python bench/match_speed.py [--rounds 5] [--keep DIR]

Set-up (not timed): the Chinese scheme table from ../shared/data/ipc/ipc_zh_2026_flat.tsv
(`coretech ipc load`), a catalogue of 700 Chinese names (key_digital_2023's names, then its
keywords), one `coretech match` to fill the index cache, and the reference's index: a
scikit-learn TfidfVectorizer (char_wb 2-4, sublinear tf) fitted on the path titles of the
same subclass/main-group/subgroup rows, pickled with the matrix by this script.

Timed, in fresh processes, alternating, ``--rounds`` times each:

* coretech:  `coretech match cat.csv --ipc zh.parquet --out dictionary.csv` (warm cache),
* reference: a stand-alone script that does not import coretech: read the catalogue with
  pandas, unpickle the fitted vectorizer and matrix, transform the 700 names, top 10 per name
  with sparse_dot_topn, write a CSV (what the issue measured at 2.3-2.7 s).

Prints every run, the medians and the ratio coretech / reference (goal: <= 1.0), with the
load average (the machine is shared: ratios of runs taken side by side are the figure).
Also reports whether the coretech process imported scikit-learn (it should not).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CORETECH_SHARED", REPO.parent / "shared")) / "data"
ZH = SHARED / "ipc" / "ipc_zh_2026_flat.tsv"
GOLD = SHARED / "gold" / "key_digital_2023.jsonl"

REFERENCE = r'''
import pickle, sys
import pandas as pd
from sparse_dot_topn import sp_matmul_topn
index, cat, out = sys.argv[1:4]
with open(index, "rb") as fh:
    vec, mat_t, codes = pickle.load(fh)
names = pd.read_csv(cat, dtype=str)
q = vec.transform(names["name_zh"].fillna(""))
top = sp_matmul_topn(q, mat_t, top_n=10, threshold=1e-9, sort=True).tocoo()
pd.DataFrame({"tech_id": names["tech_id"].to_numpy()[top.row],
              "ipc_code": [codes[j] for j in top.col], "score": top.data}).to_csv(out, index=False)
'''

CORETECH = r'''
import runpy, sys
sys.argv = ["coretech", *sys.argv[1:]]
try:
    runpy.run_module("coretech.cli", run_name="__main__")
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
finally:
    sys.stderr.write(f"\nsklearn imported: {'sklearn' in sys.modules}\n")
'''


def catalogue(path: Path, n: int = 700) -> int:
    import json

    import pandas as pd

    names: list[str] = []
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            names.append(rec["name"])
            names.extend(rec.get("keywords", []))
    names = list(dict.fromkeys(names))[:n]
    pd.DataFrame({"tech_id": [f"T{i:04d}" for i in range(len(names))],
                  "name_zh": names}).to_csv(path, index=False)
    return len(names)


def reference_index(scheme: Path, out: Path) -> None:
    import pickle

    import numpy as np
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer

    s = pd.read_parquet(scheme)
    s = s[(s["lang"] == "zh") & s["kind"].isin(["subclass", "main_group", "subgroup"])]
    docs = s["path_title"].fillna(s["title"]).fillna("").astype(str)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                          dtype=np.float32)
    mat_t = vec.fit_transform(docs).T.tocsr()
    out.write_bytes(pickle.dumps((vec, mat_t, s["code"].tolist())))


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, its stderr)."""
    import resource

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), r.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="work folder (default: a new temporary one)")
    args = ap.parse_args()
    if not ZH.is_file() or not GOLD.is_file():
        raise SystemExit(f"needs {ZH} and {GOLD}")
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="ct-match-speed-"))
    tmp.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    env = {**os.environ, "PYTHONPATH": str(REPO), "CORETECH_CACHE_DIR": str(tmp / "cache")}
    scheme, cat = tmp / "zh.parquet", tmp / "cat700.csv"
    subprocess.run([py, "-m", "coretech.cli", "ipc", "load", str(ZH), "--out", str(scheme)],
                   env=env, check=True, capture_output=True)
    n = catalogue(cat)
    (tmp / "reference.py").write_text(REFERENCE, encoding="utf-8")
    (tmp / "coretech_match.py").write_text(CORETECH, encoding="utf-8")
    reference_index(scheme, tmp / "reference.pkl")
    ct = [py, str(tmp / "coretech_match.py"), "match", str(cat), "--ipc", str(scheme),
          "--out", str(tmp / "dictionary.csv")]
    ref = [py, str(tmp / "reference.py"), str(tmp / "reference.pkl"), str(cat),
           str(tmp / "reference_top10.csv")]
    ref_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    t0 = time.perf_counter()
    subprocess.run(ct, env=env, check=True, capture_output=True)  # fills the index cache
    print(f"set-up: {n} names, index cache filled in {time.perf_counter() - t0:.1f} s "
          f"(cold match, this machine now)")
    load0 = os.getloadavg()[0]
    rows = []
    for r in range(args.rounds):
        order = [("coretech", ct, env), ("reference", ref, ref_env)]
        if r % 2:
            order.reverse()
        for name, cmd, e in order:
            sec, cpu, err = timed(cmd, e)
            sk = "sklearn imported: True" in err
            rows.append((name, sec, cpu, sk))
            print(f"round {r + 1}  {name:<9} {sec:6.2f} s wall {cpu:6.2f} s CPU"
                  + ("  (imported sklearn)" if sk else ""))
    names = ("coretech", "reference")
    med = {k: statistics.median(s for n_, s, _, _ in rows if n_ == k) for k in names}
    cpu = {k: statistics.median(c for n_, _, c, _ in rows if n_ == k) for k in names}
    ct_sk = any(sk for n_, _, _, sk in rows if n_ == "coretech")
    print(f"median wall: coretech {med['coretech']:.2f} s, reference {med['reference']:.2f} s, "
          f"ratio {med['coretech'] / med['reference']:.2f} (goal <= 1.0)")
    print(f"median CPU:  coretech {cpu['coretech']:.2f} s, reference {cpu['reference']:.2f} s, "
          f"ratio {cpu['coretech'] / cpu['reference']:.2f}")
    print(f"coretech imported scikit-learn on a warm match: {'yes' if ct_sk else 'no'}")
    print(f"load average {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end; "
          f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
