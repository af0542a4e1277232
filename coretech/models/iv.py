"""Two-step efficient GMM with fixed effects partialled out, with Stata ``ivreg2 ..., gmm2s``
(``xtivreg2 ..., fe gmm2s``) semantics; METHODS.md section 7, Table 4.

With X = [endogenous, exogenous], Z = [excluded instruments, exogenous] (a constant in both
when no fixed effects are absorbed; otherwise every column is within-transformed first,
Frisch-Waugh-Lovell) and N* = N - d (d = ``dofminus``, the degrees of freedom of absorbed
fixed effects not nested in the cluster variable):

1. 2SLS: b1 = (X'P_Z X)^{-1} X'P_Z y, residuals u1 = y - X b1;
2. S1 = (1/N*) sum_i u1_i^2 z_i z_i' (robust) or (1/N*) sum_g (Z_g'u1_g)(Z_g'u1_g)'
   (cluster; no G/(G-1) factor, as ivreg2 without ``small``);
3. b = (X'Z S1^{-1} Z'X)^{-1} X'Z S1^{-1} Z'y;
4. V = N (X'Z S1^{-1} Z'X)^{-1} = (Q_XZ S1^{-1} Q_ZX)^{-1} / N with Q = X'Z/N: the
   weight matrix of step 2 is used in the variance, as ivreg2 does
   (linearmodels' IVGMM re-estimates S from the final residuals instead);
5. Hansen J = N g' S1^{-1} g, g = Z'u/N with the final residuals u; chi2(L1 - K1);
6. z statistics (normal), as ivreg2 without ``small``.

R-squared is ivreg2's centred R2 of the (within-transformed) model: 1 - RSS/TSS. The model F
is ivreg2's: Wald chi2 of all regressors but the constant divided by its df, times
(N - K)/N, on (K1+K2, N - K - d) degrees of freedom.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from coretech.errors import InputError
from coretech.models.absorb import Absorber, codes_of, is_nested, singleton_mask
from coretech.models.covariance import cluster_meat
from coretech.models.diagnostics import first_stage_statistics, partial_out
from coretech.models.fe import CONST, _as_list, _check_rank, prepare_sample
from coretech.models.results import RegressionResult
from coretech.models.validate import check_unique_panel, numeric_column, require_columns


def add_lag(
    df: pd.DataFrame, column: str, *, unit: str = "city", time: str = "year", lag: int = 1, name: str | None = None
) -> pd.DataFrame:
    """Return ``df`` with ``name`` (default ``L{lag}.{column}``) = column at time - lag, same unit.

    The lag is by calendar value of ``time`` (Stata's ``L.`` with ``xtset``): a gap gives a
    missing lag. Duplicate unit-time pairs are an error naming the rows.
    """
    require_columns(df, [column, unit, time])
    check_unique_panel(df, unit, time)
    name = name or f"L{lag}.{column}"
    t = numeric_column(df, time)
    val = numeric_column(df, column)
    key = pd.DataFrame({"u": df[unit].to_numpy(), "t": t.to_numpy() + lag, "v": val.to_numpy()})
    look = pd.DataFrame({"u": df[unit].to_numpy(), "t": t.to_numpy()})
    merged = look.merge(key, on=["u", "t"], how="left")
    out = df.copy()
    out[name] = merged["v"].to_numpy()
    if out[name].notna().sum() == 0:
        raise InputError(
            f"the lag {lag} of {column!r} leaves no observations: no {unit} has {column} "
            f"in two {time}s {lag} apart",
            file=df.attrs.get("source"),
            column=column,
        )
    return out


def _gmm2s(y, x, z, clusters, n_star):
    n = len(y)
    zz_inv = np.linalg.inv(z.T @ z)
    xz = x.T @ z
    a = xz @ zz_inv @ xz.T
    b1 = np.linalg.solve(a, xz @ zz_inv @ (z.T @ y))
    u1 = y - x @ b1
    sc = z * u1[:, None]
    if clusters is None:
        s1 = sc.T @ sc / n_star
    else:
        s1 = cluster_meat(sc, clusters) / n_star
    w = np.linalg.inv(s1)
    m = xz @ w @ xz.T
    b = np.linalg.solve(m, xz @ w @ (z.T @ y))
    vcv = n * np.linalg.inv(m)  # (Q W Q')^{-1} / N with Q = X'Z/N and W = S1^{-1}
    u = y - x @ b
    g = z.T @ u / n
    j = float(n * g @ w @ g)
    return b, vcv, u, j, b1


def iv_gmm(
    df: pd.DataFrame,
    y: str,
    endog: str | Sequence[str],
    instruments: str | Sequence[str],
    exog: str | Sequence[str] = (),
    fe: str | Sequence[str] = (),
    cov: str = "robust",
    cluster: str | None = None,
    *,
    drop_singletons: bool = True,
    fe_dof: str = "absorbed",
) -> RegressionResult:
    """Two-step efficient GMM (ivreg2 ``gmm2s``) of ``y`` on ``endog`` and ``exog``.

    Parameters
    ----------
    endog, instruments, exog : column names; ``instruments`` are the excluded instruments.
    fe : fixed effects partialled out (within transformation); with none, a constant
        ``_cons`` is added to the regressors and instruments.
    cov : ``"robust"`` (default) or ``"cluster"`` (needs ``cluster``); a ``cluster`` name
        implies clustering. ivreg2's ``small`` option is not implemented: statistics are
        large-sample (z, chi2), as ivreg2 reports them without ``small``.
    fe_dof : ``"absorbed"`` (default, xtivreg2): large-sample formulas use N - d with d the
        degrees of freedom of the absorbed fixed effects not nested in the cluster variable;
        ``"none"``: d = 0 (what ivreg2 on demeaned data without ``dofminus`` gives).

    ``diagnostics`` holds cd_f, kp_f, kp_lm, kp_lm_p, kp_lm_df, hansen_j, hansen_j_p,
    hansen_j_df, stock_yogo_10/15/20/25, dofminus, first-stage F and partial R2 per
    endogenous regressor.
    """
    en, ins, ex, fes = _as_list(endog), _as_list(instruments), _as_list(exog), _as_list(fe)
    if not en:
        raise InputError("iv_gmm needs an endogenous regressor")
    if len(ins) < len(en):
        raise InputError(
            f"{len(ins)} excluded instrument(s) for {len(en)} endogenous regressor(s): the "
            "equation is under-identified",
            column=", ".join(ins) or None,
        )
    if cov not in {"robust", "cluster"}:
        raise InputError(f"cov must be 'robust' or 'cluster', not {cov!r} (gmm2s weights by a robust S)")
    if cov == "cluster" and cluster is None:
        raise InputError("cov='cluster' needs a cluster column")
    if fe_dof not in {"absorbed", "none"}:
        raise InputError(f"fe_dof must be 'absorbed' or 'none', not {fe_dof!r}")
    cls = [cluster] if cluster else []
    require_columns(df, [y, *en, *ins, *ex, *fes, *cls])
    data, counts = prepare_sample(df, [y, *en, *ins, *ex], [*fes, *cls])
    if len(data) == 0:
        raise InputError(
            f"no complete observations for {y} on {', '.join(en)} with instruments "
            f"{', '.join(ins)} (a lagged instrument is missing in the first year of each city)",
            column=ins[0],
        )
    fe_codes = [codes_of(data[f]) for f in fes]
    counts["dropped_singletons"] = 0
    if fes and drop_singletons:
        keep = singleton_mask(fe_codes)
        counts["dropped_singletons"] = int((~keep).sum())
        if (~keep).any():
            data = data.loc[keep]
            fe_codes = [codes_of(data[f]) for f in fes]
    n = len(data)
    cl = codes_of(data[cluster]) if cluster else None
    absorber = Absorber(fe_codes, names=fes)
    cols = [y, *en, *ins, *ex]
    mat = absorber.demean(data[cols].to_numpy(float)) if fes else data[cols].to_numpy(float)
    yv = mat[:, 0]
    xe = mat[:, 1 : 1 + len(en)]
    zi = mat[:, 1 + len(en) : 1 + len(en) + len(ins)]
    xx = mat[:, 1 + len(en) + len(ins) :]
    if not fes:
        xx = np.column_stack([xx, np.ones(n)])
    exog_names = [*ex] + ([] if fes else [CONST])
    x = np.column_stack([xe, xx])
    z = np.column_stack([zi, xx])
    _check_rank(x, [*en, *exog_names])
    _check_rank(z, [*ins, *exog_names])
    if fes and fe_dof == "absorbed":
        d = absorber.df_absorbed([cl] if cl is not None else []) + (
            1 if not (cl is not None and any(is_nested(c, cl) for c in fe_codes)) else 0
        )
    else:
        d = 0
    n_star = n - d
    b, vcv, u, j, _ = _gmm2s(yv, x, z, cl, n_star)
    names = [*en, *exog_names]
    k = len(names)
    rss = float(u @ u)
    yc = yv - (yv.mean() if not fes else 0.0)
    tss = float(yc @ yc)
    l1, k1 = len(ins), len(en)
    jdf = l1 - k1
    res = RegressionResult(
        params=pd.Series(b, index=names, name="coef"),
        cov=pd.DataFrame(vcv, index=names, columns=names),
        nobs=n,
        df_resid=n - k - d,
        rsquared=1 - rss / tss if tss > 0 else float("nan"),
        dep_var=y,
        model="iv_gmm2s",
        cov_type=f"cluster({cluster})" if cluster else cov,
        dist="normal",
    )
    slopes = [nm for nm in names if nm != CONST]
    wald, _, q = res.wald(slopes)
    fdf2 = n - k - d
    res.fvalue = wald / q * (n - k) / n if fes == [] else wald / q * (n_star - k) / n_star
    res.f_df = (q, fdf2)
    res.f_pvalue = float(stats.f.sf(res.fvalue, q, fdf2))
    diag = first_stage_statistics(
        xe, zi, xx, cov=cov, clusters=cl, dofminus=d
    )
    diag.update(
        {
            "hansen_j": j if jdf > 0 else 0.0,
            "hansen_j_df": jdf,
            "hansen_j_p": float(stats.chi2.sf(j, jdf)) if jdf > 0 else float("nan"),
            "dofminus": d,
            "n_clusters": int(cl.max()) + 1 if cl is not None else None,
        }
    )
    diag["first_stage"] = _first_stage_f(xe, zi, xx, cl, n_star, en)
    res.diagnostics = diag
    res.info = {**counts, "nobs": n, "fe": fes, "cluster": cls, "instruments": ins, "endog": en, "exog": ex, "resid": u, "index": data.index}
    return res


def _first_stage_f(xe, zi, xx, cl, n_star, names):
    """Per endogenous regressor: partial R2 and the robust (or cluster) F of the instruments."""
    out = {}
    n = xe.shape[0]
    if xx.shape[1]:
        xe, zi = partial_out(xe, xx), partial_out(zi, xx)
    zz = np.linalg.inv(zi.T @ zi)
    for j, nm in enumerate(names):
        pi = zz @ (zi.T @ xe[:, j])
        v = xe[:, j] - zi @ pi
        r2 = 1 - float(v @ v) / float(xe[:, j] @ xe[:, j])
        sc = zi * v[:, None]
        meat = sc.T @ sc if cl is None else cluster_meat(sc, cl)
        vpi = zz @ meat @ zz * n / n_star
        w = float(pi @ np.linalg.solve(vpi, pi))
        out[nm] = {"partial_r2": r2, "wald_chi2": w}
    return out
