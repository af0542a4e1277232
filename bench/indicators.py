"""Benchmark of ``coretech indicators`` (prints figures; not a test).

Builds a simulated panel with every column the example spec reads (cities x years, default
the paper's 286 x 10 = 2,860 city-years), then times, in this process (best of --repeat):

1. baseline: reading the panel CSV and writing it back (the I/O the command cannot avoid);
2. ``run_indicators`` with ``coretech/data/indicators_example.toml`` (interpolation, Cialomy,
   Nycives + PCA over 41 indicators, perpetual inventory + translog, Irading, logs);
3. the entropy index alone, against the few lines of pandas a user would write for it
   (same numbers, checked).

    .venv/bin/python bench/indicators.py
    .venv/bin/python bench/indicators.py --cities 3000 --years 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "indicators"))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def naive_entropy(X: pd.DataFrame, directions: dict[str, int], shift: float = 1e-4) -> pd.Series:
    mn, mx = X.min(), X.max()
    xn = pd.DataFrame({c: ((X[c] - mn[c]) if directions[c] > 0 else (mx[c] - X[c]))
                       / (mx[c] - mn[c]) for c in X.columns}) + shift
    p = xn / xn.sum()
    e = -(p * np.log(p)).sum() / np.log(len(X))
    w = (1 - e) / (1 - e).sum()
    return (xn * w).sum(axis=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cities", type=int, default=286)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    from test_indicators_cli import make_panel

    from coretech.indicators import entropy_index, load_spec, run_indicators
    from coretech.io import read_table, write_table

    df = make_panel(a.cities, a.years, seed=1)
    rng = np.random.default_rng(0)
    inner = np.flatnonzero(((df.year > df.year.min()) & (df.year < df.year.max())).to_numpy())
    gaps = rng.choice(inner, size=len(df) // 50, replace=False)  # interior gaps only
    df.loc[df.index[gaps], "edu_years"] = np.nan
    spec_path = REPO / "coretech" / "data" / "indicators_example.toml"
    with tempfile.TemporaryDirectory() as tmp:
        panel = Path(tmp) / "panel.csv"
        df.to_csv(panel, index=False)
        io_t = best(lambda: write_table(read_table(panel), Path(tmp) / "copy.csv"), a.repeat)
        run_t = best(lambda: run_indicators(panel, spec=spec_path, out=Path(tmp) / "o.csv"),
                     a.repeat)
    spec = load_spec()
    cols = list(spec["column"])
    dirs = dict(zip(cols, spec["direction"], strict=True))
    X = df[cols].fillna(df[cols].mean())
    ours = entropy_index(X, dirs)
    ref = naive_entropy(X, dirs)
    assert np.allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-10)
    ent_t = best(lambda: entropy_index(X, dirs), a.repeat * 3)
    naive_t = best(lambda: naive_entropy(X, dirs), a.repeat * 3)
    print(f"panel: {a.cities} cities x {a.years} years = {len(df):,} rows, {df.shape[1]} columns")
    print(f"read + write the panel (baseline):  {io_t:8.3f} s")
    print(f"run_indicators, example spec:       {run_t:8.3f} s   ({run_t / io_t:.1f}x the I/O)")
    print(f"entropy index, 41 indicators:       {ent_t * 1e3:8.2f} ms")
    print(f"naive pandas entropy (same values): {naive_t * 1e3:8.2f} ms   "
          f"(coretech/naive = {ent_t / naive_t:.2f})")


if __name__ == "__main__":
    main()
