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
from coretech.models.validate import check_unique_panel, numeric_frame, require_columns

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
    panel_id: Sequence[str] | None = ("city", "year"),
) -> RegressionResult:
    """Fixed-effects regression of ``y`` on ``x`` absorbing ``fe`` (reghdfe semantics).

    Parameters
    ----------
    df : the data (long panel; extra columns are ignored).
    y, x : outcome and regressors (numeric columns; text cells are an error naming the row).
    fe : columns whose levels are absorbed (default city and year); ``None``/``[]`` gives
        pooled OLS with a constant.
    cluster : one column (CRV1), two columns (two-way), or ``None`` for HC1 robust.
    drop_singletons : drop groups with one observation, as reghdfe does (counted in
        ``info["dropped_singletons"]``, in ``notes`` and in ``summary()``).
    panel_id : the (unit, time) columns of a panel; when both are absorbed (``fe``), a pair
        occurring twice is an error naming the rows. ``None`` skips the check (data that is
        not a city-year panel).

    A regressor with no variation left after absorbing the effects (constant within city),
    or collinear with the regressors before it, is dropped as reghdfe does: the note
    "X omitted because of collinearity" goes to ``result.notes`` and ``info["omitted"]``, and
    the other estimates are those of the fit without it. Clustered standard errors need at
    least two clusters in the estimation sample (an error saying how many there are).
    """
    xs = _as_list(x)
    fes = _as_list(fe)
    cls = _as_list(cluster)
    if not xs:
        raise InputError("twfe needs at least one regressor")
    if len(cls) > 2:
        raise InputError("at most two cluster variables are supported", column=", ".join(cls))
    if panel_id is not None and all(p in fes for p in panel_id):
        check_unique_panel(df, *panel_id)
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
        raise InputError(
            f"no observations left for {y} on {', '.join(xs)}: all {dropped_single} complete "
            f"observations are singletons of {' or '.join(fes)} (a group with one observation "
            "is dropped, as reghdfe does)", column=y)
    cl_codes = [codes_of(data[c]) for c in cls]
    for c, codes in zip(cls, cl_codes, strict=True):
        n_cl = int(codes.max()) + 1
        if n_cl < 2:
            raise InputError(
                f"clustered standard errors need at least 2 clusters; {c!r} has {n_cl} in the "
                f"estimation sample of {n} observations (use cluster=None for robust SEs)", column=c)
    yv = data[y].to_numpy(float)
    xv = data[xs].to_numpy(float)
    absorber = Absorber(fe_codes, names=fes)
    both = np.column_stack([yv, xv])
    both = absorber.demean(both) if fes else both - both.mean(axis=0)
    yt, xt = both[:, 0], both[:, 1:]
    keep, omitted = independent_columns(xt, xs)
    notes = [f"{nm} omitted because of collinearity ({why})" for nm, why in omitted.items()]
    if not keep:
        raise InputError(
            f"every regressor is collinear with the fixed effects or the others: {'; '.join(notes)}",
            column=xs[0])
    if omitted:
        xt, xv = xt[:, keep], xv[:, keep]
        xs = [xs[j] for j in keep]
    if dropped_single:
        notes.append(f"{dropped_single} singleton observation(s) dropped (groups of "
                     f"{' or '.join(fes)} with one observation, as reghdfe does)")
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
    if not np.isfinite(fval):
        rank = int(np.linalg.matrix_rank(res.cov.loc[xs, xs].to_numpy()))
        notes.append(f"model F not reported: the covariance of the {k} regressors has rank {rank}"
                     + (f" ({g} clusters)" if g is not None else "") + ", as Stata reports F = .")
    res.notes = notes
    res.info = {
        **counts,
        "nobs": n,
        "fe": fes,
        "cluster": cls,
        "n_clusters": g,
        "fe_levels": dict(zip(fes, absorber.levels, strict=True)) if fes else {},
        "df_absorbed": df_a,
        "omitted": dict(omitted),
        "n_params_dof": n_params,
        "rss": rss,
        "resid": resid,
        "index": data.index,
    }
    return res


def independent_columns(xt: np.ndarray, names: Sequence[str]) -> tuple[list[int], dict[str, str]]:
    """Columns of the within-transformed ``xt`` to keep, and the omitted ones with the reason.

    In order (reghdfe keeps the earlier of two collinear regressors): a column with no
    variation left after absorbing the effects is omitted, then a column whose squared
    distance from the span of the kept ones (on unit-norm columns) is below 1e-9.
    Non-finite values are an error (they cannot come from validated input).
    """
    if not np.isfinite(xt).all():
        j = int(np.flatnonzero(~np.isfinite(xt).all(axis=0))[0])
        raise InputError("non-finite value after absorbing the fixed effects", column=names[j])
    scale = np.sqrt((xt**2).sum(axis=0))
    big = max(1.0, float(np.abs(xt).max())) if xt.size else 1.0
    keep: list[int] = []
    omitted: dict[str, str] = {}
    xs = xt / np.where(scale > 0, scale, 1)
    gram = xs.T @ xs
    for j, nm in enumerate(names):
        if scale[j] <= 1e-10 * big:
            omitted[nm] = "no variation left after absorbing the fixed effects"
            continue
        if keep:
            a = gram[np.ix_(keep, keep)]
            bvec = gram[keep, j]
            resid = gram[j, j] - bvec @ np.linalg.lstsq(a, bvec, rcond=None)[0]
            if resid < 1e-9:
                omitted[nm] = "collinear with " + ", ".join(names[i] for i in keep) + " and the fixed effects"
                continue
        keep.append(j)
    return keep, omitted


def _check_rank(xt: np.ndarray, names: Sequence[str]) -> None:
    """Raise at the first column :func:`independent_columns` would omit (used by IV-GMM)."""
    _, omitted = independent_columns(xt, names)
    for nm, why in omitted.items():
        if why.startswith("no variation"):
            raise InputError(
                "the regressor has no variation left after absorbing the fixed effects "
                "(it is constant within the absorbed groups)", column=nm)
        raise InputError("the regressor is collinear with the other regressors and the fixed effects",
                         column=nm)


def t_pvalue(t: float, df: int) -> float:
    return float(2 * stats.t.sf(abs(t), df))
