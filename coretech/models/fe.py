"""Two-way fixed effects, METHODS.md eq. (1):

    Y_it = a0 + a1 D_it + a2' Controls_it + mu_i + lambda_t + e_it

estimated by least squares on the within-transformed data (the fixed effects absorbed by
alternating projections, Frisch-Waugh-Lovell), with Stata ``reghdfe`` semantics:

- rows with a missing value in any variable used are dropped (counted in ``info``), then
  singleton groups are dropped iteratively (reghdfe's default; ``drop_singletons=False``
  keeps them);
- standard errors: ``cluster="city"`` gives CRV1 with q = G/(G-1) * (N-1)/(N-K); a list of two
  names gives two-way clustering; ``cluster=None`` gives HC1 robust, q = N/(N-K). K counts
  the regressors, the constant and the fixed-effect degrees of freedom that are not nested
  in a cluster variable (so city effects cost nothing when clustering by city: the
  ``xtreg, fe vce(cluster city)`` and reghdfe convention);
- t tests with ``df_resid`` = G-1 (clustered) or N-K (robust);
- the constant is reported as reghdfe and ``xtreg, fe`` do: a0 = mean(Y) - mean(X)'b, with
  its standard error from the regression of (y~ + mean y) on (X~ + mean X) and a constant;
- R-squared is 1 - RSS/TSS around the overall mean (reghdfe's ``r2``); the within
  R-squared is 1 - RSS/TSS of the within-transformed Y (``r2_within``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from coretech.errors import InputError
from coretech.models.absorb import Absorber, codes_of, singleton_mask
from coretech.models.covariance import sandwich
from coretech.models.results import RegressionResult
from coretech.models.validate import numeric_frame, require_columns

CONST = "_cons"


def _as_list(v: str | Sequence[str] | None) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return list(v)


def prepare_sample(
    df: pd.DataFrame,
    numeric: Sequence[str],
    groups: Sequence[str],
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Validated numeric copy of the model's columns with incomplete rows dropped.

    Returns the frame (numeric columns as float, group columns as they are) and counts of
    the rows used and dropped, per reason.
    """
    source = df.attrs.get("source")
    df = df.copy(deep=False)
    df.attrs = {"source": source} if source else {}  # pandas deep-copies attrs on every op
    require_columns(df, list(numeric) + list(groups))
    num = numeric_frame(df, list(numeric))
    out = num.copy()
    for g in dict.fromkeys(groups):
        if g not in out.columns:
            out[g] = df[g]
    miss = num.isna().any(axis=1)
    for g in dict.fromkeys(groups):
        col = df[g]
        miss |= col.isna() | (col.astype("string").str.strip() == "")
    kept = out.loc[~miss.to_numpy()]
    return kept, {"rows_in": len(df), "dropped_missing": int(miss.sum())}


def twfe(
    df: pd.DataFrame,
    y: str,
    x: str | Sequence[str],
    fe: str | Sequence[str] | None = ("city", "year"),
    cluster: str | Sequence[str] | None = "city",
    *,
    drop_singletons: bool = True,
) -> RegressionResult:
    """Fixed-effects regression of ``y`` on ``x`` absorbing ``fe`` (reghdfe semantics).

    Parameters
    ----------
    df : the data (long panel; extra columns are ignored).
    y, x : outcome and regressors (numeric columns; text cells are an error naming the row).
    fe : columns whose levels are absorbed (default city and year); ``None``/``[]`` gives
        pooled OLS with a constant.
    cluster : one column (CRV1), two columns (two-way), or ``None`` for HC1 robust.
    drop_singletons : drop groups with one observation, as reghdfe does.
    """
    xs = _as_list(x)
    fes = _as_list(fe)
    cls = _as_list(cluster)
    if not xs:
        raise InputError("twfe needs at least one regressor")
    if len(cls) > 2:
        raise InputError("at most two cluster variables are supported", column=", ".join(cls))
    data, counts = prepare_sample(df, [y, *xs], [*fes, *cls])
    if len(data) == 0:
        raise InputError(f"no complete observations for {y} on {', '.join(xs)}", column=y)
    fe_codes = [codes_of(data[f]) for f in fes]
    dropped_single = 0
    if fes and drop_singletons:
        keep = singleton_mask(fe_codes)
        dropped_single = int((~keep).sum())
        if dropped_single:
            data = data.loc[keep]
            fe_codes = [codes_of(data[f]) for f in fes]
    counts["dropped_singletons"] = dropped_single
    n = len(data)
    if n == 0:
        raise InputError(f"no complete observations for {y} on {', '.join(xs)}", column=y)
    cl_codes = [codes_of(data[c]) for c in cls]
    yv = data[y].to_numpy(float)
    xv = data[xs].to_numpy(float)
    absorber = Absorber(fe_codes, names=fes)
    both = np.column_stack([yv, xv])
    both = absorber.demean(both) if fes else both - both.mean(axis=0)
    yt, xt = both[:, 0], both[:, 1:]
    _check_rank(xt, xs)
    k = len(xs)
    df_a = absorber.df_absorbed(cl_codes) if fes else 0
    n_params = k + 1 + df_a
    if n - n_params <= 0:
        raise InputError(f"too few observations ({n}) for {n_params} parameters", column=y)
    ybar, xbar = yv.mean(), xv.mean(axis=0)
    xa = np.column_stack([xt + xbar, np.ones(n)])
    ya = yt + ybar
    bread = np.linalg.inv(xa.T @ xa)
    coef = bread @ (xa.T @ ya)
    resid = ya - xa @ coef
    cov, g = sandwich(xa, resid, n_params=n_params, clusters=cl_codes, bread=bread)
    names = [*xs, CONST]
    rss = float(resid @ resid)
    tss = float(((yv - ybar) ** 2).sum())
    tss_w = float(yt @ yt)
    df_resid = (g - 1) if g is not None else n - n_params
    res = RegressionResult(
        params=pd.Series(coef, index=names, name="coef"),
        cov=pd.DataFrame(cov, index=names, columns=names),
        nobs=n,
        df_resid=int(df_resid),
        rsquared=1 - rss / tss if tss > 0 else float("nan"),
        rsquared_within=(1 - rss / tss_w if tss_w > 0 else float("nan")) if fes else None,
        dep_var=y,
        model="twfe" if fes else "ols",
        cov_type=("cluster(" + ", ".join(cls) + ")") if cls else "robust",
        dist="t",
    )
    fval, fp, _ = res.wald(xs)
    res.fvalue, res.f_pvalue, res.f_df = fval, fp, (k, int(df_resid))
    res.info = {
        **counts,
        "nobs": n,
        "fe": fes,
        "cluster": cls,
        "n_clusters": g,
        "fe_levels": dict(zip(fes, absorber.levels, strict=True)) if fes else {},
        "df_absorbed": df_a,
        "n_params_dof": n_params,
        "rss": rss,
        "resid": resid,
        "index": data.index,
    }
    return res


def _check_rank(xt: np.ndarray, names: Sequence[str]) -> None:
    scale = np.sqrt((xt**2).sum(axis=0))
    for j, nm in enumerate(names):
        if scale[j] <= 1e-10 * max(1.0, np.abs(xt).max()):
            raise InputError(
                "the regressor has no variation left after absorbing the fixed effects "
                "(it is constant within the absorbed groups)",
                column=nm,
            )
    xs = xt / np.where(scale > 0, scale, 1)
    gram = xs.T @ xs
    for j in range(1, len(names)):
        # squared distance of column j from the span of the columns before it
        a = gram[:j, :j]
        bvec = gram[:j, j]
        resid = gram[j, j] - bvec @ np.linalg.lstsq(a, bvec, rcond=None)[0]
        if resid < 1e-9:
            raise InputError(
                "the regressor is collinear with the other regressors and the fixed effects",
                column=names[j],
            )


def t_pvalue(t: float, df: int) -> float:
    return float(2 * stats.t.sf(abs(t), df))
