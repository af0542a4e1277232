"""Benchmark of the models stage: the Tables 2-7 suite and the 999-draw permutation test.

Run:  .venv/bin/python bench/models.py [--repeat 3]

Prints wall-clock (and process CPU) medians on the simulated 286-city x 10-year panel (seed 0), with baselines
measured in the same run: the permutation test against a naive loop that re-estimates the
interaction model with ``twfe`` for each draw (extrapolated from 20 draws), and ``twfe``
against linearmodels' PanelOLS with entity and time effects.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from coretech.models.fe import twfe
from coretech.models.heterogeneity import _design, interaction_test, permutation_test
from coretech.models.simulate import simulate_panel
from coretech.models.study import ModelsConfig
from coretech.models.suite import run_models, run_suite

CONTROLS = ["Idetion", "Eoryity", "Mentel", "Fialevel", "Tinevel", "Fprises"]


def timed(fn, repeat):
    """Median wall-clock seconds; the median CPU seconds of this process go to ``timed.cpu``."""
    out, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    timed.cpu = statistics.median(cpu)
    return statistics.median(out)


def naive_permutation(df, draws):
    data, order, gcode, ucode, unit_group = _design(df, "Nycives", "Cialomy", CONTROLS, "region", "city",
                                                     ["city", "year"], None)
    rng = np.random.default_rng(0)
    for _ in range(draws):
        perm = rng.permutation(unit_group)
        lab = np.array(order)[perm[ucode]]
        interaction_test(data.assign(_g=lab), "Nycives", "Cialomy", CONTROLS, "_g")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    df = simulate_panel(seed=0)
    cfg = ModelsConfig.from_mapping({"pilot_column": "pilot"})
    t_suite = timed(lambda: run_suite(df, cfg), a.repeat)
    c_suite = timed.cpu
    with tempfile.TemporaryDirectory() as tmp:
        panel = Path(tmp) / "panel.csv"
        df.to_csv(panel, index=False)
        t_files = timed(lambda: run_models(panel, study={"pilot_column": "pilot"}, out=Path(tmp) / "t"), a.repeat)
    t_perm = timed(lambda: permutation_test(df, "Nycives", "Cialomy", CONTROLS, "region", n_perm=999), a.repeat)
    c_perm = timed.cpu
    t_naive20 = timed(lambda: naive_permutation(df, 20), 1)
    t_twfe = timed(lambda: twfe(df, "Nycives", ["Cialomy", *CONTROLS]), 5)
    from linearmodels import PanelOLS

    p = df.set_index(["city", "year"])
    t_lm = timed(lambda: PanelOLS(p["Nycives"], p[["Cialomy", *CONTROLS]], entity_effects=True,
                                  time_effects=True).fit(cov_type="clustered", cluster_entity=True), 5)
    print(f"panel: {len(df)} city-years, {df.city.nunique()} cities (simulated, seed 0)")
    print(f"Tables 2-7 suite in memory (2 x 999-draw permutation tests incl.): {t_suite:.2f} s wall, "
          f"{c_suite:.2f} s CPU  (goal <= 3 s)")
    print(f"Tables 2-7 read + estimate + write 6 tables x 5 formats:           {t_files:.2f} s")
    print(f"permutation test, 999 draws, 4 regions:                             {t_perm:.3f} s wall, "
          f"{c_perm:.3f} s CPU  (goal <= 10 s)")
    print(f"  baseline naive loop (twfe per draw), extrapolated to 999:         {t_naive20 * 999 / 20:.1f} s"
          f"  -> speed-up x{t_naive20 * 999 / 20 / t_perm:.0f}")
    print(f"twfe (2 FE, 7 regressors, cluster): {t_twfe * 1e3:.1f} ms; linearmodels PanelOLS: {t_lm * 1e3:.1f} ms"
          f"  (ratio {t_lm / t_twfe:.2f})")


if __name__ == "__main__":
    main()
