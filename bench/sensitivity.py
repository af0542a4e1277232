"""Benchmark: 100 dictionary variants on 2M simulated patents and the 286-city panel.

    python bench/sensitivity.py [--patents 2000000] [--demo DIR]

Uses a demo output folder (``coretech demo --out DIR``; made in a temp folder when not given)
for the dictionary, candidates and the simulated 286-city panel; simulates ``--patents``
applications over the same scheme symbols with the demo's simulator; runs the breakthrough
stage on them, then ``run_sensitivity`` with 10 thresholds + 6 top-k + 44 jackknife + 40
bootstrap variants (100 in all) and 2 targets. Prints the seconds of each step; the goal is
the sensitivity step under 60 s on this machine. As a ratio it also prints the time of one
plain ``coretech breakthrough`` run, the unit a user would otherwise pay per variant.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patents", type=int, default=2_000_000)
    ap.add_argument("--demo", type=Path, default=None)
    ap.add_argument("--bootstrap", type=int, default=40)
    args = ap.parse_args()

    from coretech.indicators.breakthrough import run_breakthrough
    from coretech.ipc.scheme import default_scheme
    from coretech.sensitivity import run_sensitivity
    try:
        from coretech.simulate.patents import simulate_patents
    except ImportError:
        from coretech.demo import simulate_patents

    work = Path(tempfile.mkdtemp(prefix="coretech-bench-sens-"))
    demo = args.demo
    if demo is None:
        demo = work / "demo"
        subprocess.run([sys.executable, "-m", "coretech.cli", "demo", "--out", str(demo)],
                       check=True, env={**os.environ}, stdout=subprocess.DEVNULL)
    dic = pd.read_csv(demo / "match" / "dictionary.csv")
    cities = pd.read_csv(demo / "panel" / "panel.csv")["city"].unique().tolist()
    t = time.perf_counter()
    pats = simulate_patents(default_scheme()["code"].tolist(), dic["ipc_code"].tolist(), cities,
                            n_patents=args.patents)
    ppath = work / "patents.parquet"
    pats.to_parquet(ppath, index=False)
    print(f"simulated {len(pats):,} patents in {time.perf_counter() - t:.1f} s")
    bt = work / "bt" / "sicoughs.csv"
    t = time.perf_counter()
    run_breakthrough(ppath, dictionary=demo / "match" / "dictionary.csv", out=bt, end_year=2022,
                     reference=(2000, 2016), lag_table=work / "bt" / "lags.csv",
                     ipc=demo / "ipc" / "scheme.parquet")
    t_bt = time.perf_counter() - t
    print(f"breakthrough (one dictionary): {t_bt:.1f} s")
    t = time.perf_counter()
    rec = run_sensitivity(patents=ppath, dictionary=demo / "match" / "dictionary.csv",
                          candidates=demo / "match" / "candidates.csv", breakthrough=bt,
                          panel=demo / "panel" / "panel.csv", out=work / "sens", base=work,
                          ipc=demo / "ipc" / "scheme.parquet", n_bootstrap=args.bootstrap,
                          min_lag_share=0.25, progress=lambda m: print("  " + m))
    t_s = time.perf_counter() - t
    n = rec["counts"]["variants"]
    print(f"sensitivity: {n} variants x {len(rec['options']['targets'])} targets in {t_s:.1f} s "
          f"({t_s / n:.2f} s per variant; one breakthrough run per variant would take "
          f"~{n * t_bt:.0f} s, ratio {t_s / (n * t_bt):.3f})")
    print(rec["reading"]["mechanism_a"])


if __name__ == "__main__":
    main()
