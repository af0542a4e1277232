"""Weak- and under-identification statistics of the first stage, and Stock-Yogo critical values.

The statistics come from linearmodels (>= 7.1): ``cragg_donald_f`` (Cragg-Donald Wald F),
``kleibergen_paap`` (Kleibergen-Paap rk LM, chi2(L1-K1+1)) and ``kleibergen_paap_f``
(Kleibergen-Paap rk Wald F), computed on the first stage with the exogenous regressors
partialled out. Those functions count degrees of freedom as N - L (L = all instruments
including the exogenous regressors). When fixed effects have been absorbed before the call,
ivreg2/xtivreg2 also subtract ``dofminus`` = the degrees of freedom of the absorbed effects;
:func:`first_stage_statistics` applies that adjustment:

    CD F   = (N - L - d) / L1 * r2min / (1 - r2min)
    KP LM  = rk_LM * (N - d) / N
    KP F   = rk_Wald F * (N - L - d) / (N - L)

With d = 0 these are the linearmodels values (= ivreg2 on Card, see tests).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from linearmodels.iv.common import cragg_donald_f, kleibergen_paap, kleibergen_paap_f

SIZE_LEVELS = (10, 15, 20, 25)
BIAS_LEVELS = (5, 10, 20, 30)


@lru_cache(maxsize=1)
def stock_yogo_table() -> pd.DataFrame:
    """The shipped Stock & Yogo (2005) critical values (ivreg2's ``s_cdsy``).

    Columns: ``test`` (``size``: maximal 2SLS Wald test size, Table 5.2, 1-2 endogenous
    regressors; ``bias``: maximal 2SLS relative bias, Table 5.1, 1-3 endogenous regressors and
    at least K1+2 instruments), ``level`` (percent), ``n_endog``, ``n_instruments`` (1-30),
    ``critical_value``.
    """
    with resources.files("coretech.data").joinpath("stock_yogo.csv").open("rb") as fh:
        return pd.read_csv(fh)


def stock_yogo(n_endog: int, n_instruments: int, *, test: str = "size", level: int = 10) -> float:
    """Critical value for the Cragg-Donald F; NaN when Stock and Yogo tabulate none."""
    t = stock_yogo_table()
    hit = t[(t.test == test) & (t.level == level) & (t.n_endog == n_endog) & (t.n_instruments == n_instruments)]
    return float(hit.critical_value.iloc[0]) if len(hit) else float("nan")


def partial_out(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Residuals of the columns of ``a`` on ``x`` (least squares)."""
    xtx = x.T @ x
    return a - x @ np.linalg.solve(xtx, x.T @ a)


def first_stage_statistics(
    endog: np.ndarray,
    instr: np.ndarray,
    exog: np.ndarray,
    *,
    cov: str = "robust",
    clusters: np.ndarray | None = None,
    dofminus: int = 0,
) -> dict[str, float]:
    """CD F, KP rk LM (with p and df), KP rk Wald F and Stock-Yogo values for one first stage.

    ``exog`` holds the included exogenous regressors (with the constant when there is one);
    arrays are already within-transformed when fixed effects were absorbed, with ``dofminus``
    their degrees of freedom.
    """
    n = endog.shape[0]
    k1, l1 = endog.shape[1], instr.shape[1]
    target = n - l1 - exog.shape[1] - dofminus
    if exog.shape[1]:
        # partial the exogenous regressors out here (small normal equations; linearmodels'
        # pinv-based annihilator is slow on tall arrays); linearmodels then counts N - L1
        endog, instr = partial_out(endog, exog), partial_out(instr, exog)
    nl = n - l1
    fam = "clustered" if clusters is not None else ("unadjusted" if cov == "unadjusted" else "robust")
    cfg = {"clusters": clusters} if clusters is not None else None
    exog_arg = np.zeros((n, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cd = cragg_donald_f(endog, instr, exog_arg)
        lm = kleibergen_paap(endog, instr, exog_arg, cov_type=fam, cov_config=cfg)
        kpf = kleibergen_paap_f(endog, instr, exog_arg, cov_type=fam, cov_config=cfg)
    lm_stat = float(getattr(lm, "stat", np.nan))
    lm_df = int(getattr(lm, "df", l1 - k1 + 1) or (l1 - k1 + 1))
    out = {
        "cd_f": float(cd) * target / nl,
        "kp_lm": lm_stat * (n - dofminus) / n,
        "kp_lm_df": lm_df,
        "kp_f": float(kpf) * target / nl,
        "n_endog": k1,
        "n_instruments": l1,
    }
    from scipy import stats

    out["kp_lm_p"] = float(stats.chi2.sf(out["kp_lm"], lm_df))
    for lvl in SIZE_LEVELS:
        out[f"stock_yogo_{lvl}"] = stock_yogo(k1, l1, test="size", level=lvl)
    return out
