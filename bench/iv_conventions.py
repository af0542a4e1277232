"""Table 4 on the simulated 286-city panel under each IV convention and covariance option.

Prints, for ``iv_gmm(..., fe=["city", "year"])`` with the first lag as instrument: the SE of
the coefficient, its ratio to the ivreg2-on-demeaned-data SE, the Cragg-Donald F (the same
for every covariance option), KP rk LM, d and s; then the time of one fit against linearmodels'
IV2SLS on the same demeaned arrays (ratio, same run).

    PYTHONPATH=$PWD .venv/bin/python bench/iv_conventions.py
"""

from __future__ import annotations

import time

import numpy as np

from coretech.models.absorb import Absorber, codes_of
from coretech.models.iv import add_lag, iv_gmm
from coretech.models.simulate import simulate_panel


def main() -> None:
    df = add_lag(simulate_panel(seed=7), "Cialomy")
    args = ("Nycives", "Cialomy", "L1.Cialomy")
    kw = {"exog": ["Idetion"], "fe": ["city", "year"], "estimator": "gmm2s"}
    print(f"{'convention':10} {'cov':9} {'SE':>10} {'SE/ivreg2':>9} {'CD F':>12} {'KP LM':>9} {'d':>4} {'s':>4}")
    for cl in (None, "city"):
        base = iv_gmm(df, *args, convention="ivreg2", cluster=cl, **kw).std_errors["Cialomy"]
        for conv in ("ivreghdfe", "xtivreg2", "ivreg2"):
            r = iv_gmm(df, *args, convention=conv, cluster=cl, **kw)
            g = r.diagnostics
            se = r.std_errors["Cialomy"]
            print(f"{conv:10} {cl or 'robust':9} {se:10.6f} {se / base:9.5f} {g['cd_f']:12.3f} {g['kp_lm']:9.3f} "
                  f"{g['dofminus']:4d} {g['sdofminus']:4d}")
    from linearmodels.iv import IV2SLS

    data = df.dropna(subset=["L1.Cialomy"])
    ab = Absorber([codes_of(data.city), codes_of(data.year)])
    mat = ab.demean(data[["Nycives", "Cialomy", "L1.Cialomy", "Idetion"]].to_numpy(float))
    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        IV2SLS(mat[:, 0], mat[:, 3], mat[:, 1], mat[:, 2]).fit(cov_type="robust")
    t_lm = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for _ in range(reps):
        iv_gmm(df, *args, **kw)
    t_iv = (time.perf_counter() - t0) / reps
    print(f"one fit: iv_gmm (all diagnostics, AR interval, endogeneity test) {t_iv * 1e3:.0f} ms; "
          f"linearmodels IV2SLS on pre-demeaned arrays {t_lm * 1e3:.0f} ms; ratio {t_iv / t_lm:.1f}")
    assert np.isfinite(t_iv)


if __name__ == "__main__":
    main()
