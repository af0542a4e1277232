"""Simulation of the tests of equal group slopes (issue 15.1, docs/models.md).

The design of the referee's check: four regions of 85/80/87/34 cities, 10 years, city and
year effects, one control; under H0 every region has slope 1; the small region (34 cities)
has an error SD x3 and a third of the others' within-city variation in D; errors AR(1)
within city (rho = 0.5). Under H1 the first region's slope is 1 + ``delta``.

Reproduce the figures of docs/models.md (prints size and power)::

    PYTHONPATH=$PWD python tests/models/group_sim.py --reps 400 --boot 199
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

SIZES = (85, 80, 87, 34)
REGIONS = ("east", "central", "west", "northeast")


def group_panel(seed: int, *, delta: float = 0.0, sd_mult: float = 3.0, d_mult: float = 1 / 3,
                years: int = 10, rho: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(len(SIZES)), SIZES)
    nc = len(g)
    esd = np.ones(len(SIZES))
    esd[-1] = sd_mult
    dsd = np.ones(len(SIZES))
    dsd[-1] = d_mult
    alpha = rng.normal(size=nc)
    lam = rng.normal(size=years)
    d = 0.5 * alpha[:, None] + dsd[g][:, None] * rng.normal(size=(nc, years))
    x = rng.normal(size=(nc, years)) + 0.3 * d
    eta = rng.normal(size=(nc, years)) * esd[g][:, None]
    e = np.empty_like(eta)
    e[:, 0] = eta[:, 0]
    for t in range(1, years):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho**2) * eta[:, t]
    slope = 1.0 + delta * (g == 0)
    y = slope[:, None] * d + 0.5 * x + alpha[:, None] + lam[None, :] + e
    return pd.DataFrame({
        "city": np.repeat([f"c{i:03d}" for i in range(nc)], years),
        "year": np.tile(np.arange(2013, 2013 + years), nc),
        "region": np.repeat(np.asarray(REGIONS)[g], years),
        "y": y.ravel(), "d": d.ravel(), "x": x.ravel(),
    })


def rejection_rates(test: str, *, reps: int, boot: int, delta: float = 0.0, seed0: int = 0,
                    alpha: float = 0.05) -> float:
    from coretech.models.heterogeneity import (
        chow_test,
        interaction_test,
        permutation_test,
        stacked_test,
        wild_bootstrap_test,
    )

    rej = 0
    for r in range(reps):
        df = group_panel(seed0 + r, delta=delta)
        if test == "wild":
            p = wild_bootstrap_test(df, "y", "d", ["x"], "region", n_boot=boot, seed=r).pvalue
        elif test == "wild_webb":
            p = wild_bootstrap_test(df, "y", "d", ["x"], "region", n_boot=boot, seed=r, weights="webb").pvalue
        elif test == "chow":
            p = chow_test(df, "y", "d", ["x"], "region").pvalue
        elif test == "stacked":
            p = stacked_test(df, "y", "d", ["x"], "region").pvalue
        elif test == "interaction":
            p = interaction_test(df, "y", "d", ["x"], "region").pvalue
        elif test == "permutation":
            p = permutation_test(df, "y", "d", ["x"], "region", n_perm=boot, seed=r).pvalue
        else:
            raise ValueError(test)
        rej += p < alpha
    return rej / reps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=400, help="replications for the size (delta = 0)")
    ap.add_argument("--power-reps", type=int, default=200, help="replications per delta > 0")
    ap.add_argument("--boot", type=int, default=199, help="bootstrap draws / permutations per test")
    ap.add_argument("--tests", default="wild,wild_webb,chow,stacked,interaction,permutation")
    ap.add_argument("--deltas", default="0.1,0.2", help="slope differences for the power")
    a = ap.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        for t in a.tests.split(","):
            size = rejection_rates(t, reps=a.reps, boot=a.boot)
            power = [rejection_rates(t, reps=a.power_reps, boot=a.boot, delta=float(dl), seed0=10_000)
                     for dl in a.deltas.split(",")] if t != "permutation" else []
            print(f"{t:12s} size {size:.3f} ({a.reps} reps)  "
                  + "  ".join(f"power(delta={dl}) {v:.3f}" for dl, v in zip(a.deltas.split(","), power, strict=False)),
                  flush=True)


if __name__ == "__main__":
    main()
