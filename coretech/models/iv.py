"""IV regression with ivreg2's options and the fixed-effects conventions of three Stata
commands; METHODS.md section 7 (Table 4: ``xtivreg2 ..., fe gmm2s robust``).

:func:`iv_gmm` estimates y = X1 b1 + X2 b2 + FE + u with X1 instrumented by the excluded
instruments Z1 (2SLS, LIML or two-step efficient GMM; homoskedastic, robust, one- or two-way
cluster covariance; ``small``). The formulas are ivreg2's (:mod:`coretech.models.ivreg2`,
:mod:`coretech.models.ivdiag`). Fixed effects are partialled out (Frisch-Waugh-Lovell); the
three commands differ only in how they count what was partialled out. With ivreg2's two
degree-of-freedom adjustments, d = ``dofminus`` (large-sample: every N in S, sigma^2, KP LM,
CD F, ... becomes N - d, except in clustered S and the clustered KP LM) and
s = ``sdofminus`` (small-sample: only in N - K - d - s and the F statistics):

``convention="ivreghdfe"`` (default; ``ivreghdfe y x2 (x1 = z1), absorb(fe) ...``),
    src/ivreghdfe.ado (sergiocorreia/ivreghdfe, commit 1361b8a3):
    ``if (`"`absorb'"' != "") { loc small small; loc noconstant noconstant; loc nopartialsmall``
    -- absorb() forces ``small`` (t and F, V x (N-d)/(N-K-d-s) or (N-1)/(N-K-s) M/(M-1)) and
    drops the constant; ``mata: st_local("absorb_ct", strofreal(HDFE.df_a))`` and
    ``if (`absorb_ct'==0) loc absorb_ct 1`` -- reghdfe's absorbed degrees of freedom (effects
    nested in a cluster variable count 0; at least 1); ``local partial_ct = `partial_ct' +
    `absorb_ct'`` and ``local sdofminus = `sdofminus'+`partial_ct'`` -- they become s; d = 0.
    Singletons are dropped (reghdfe's default).
``convention="xtivreg2"`` (``xtivreg2 y x2 i.year (x1 = z1), fe ...``): only the first
    effect (the panel) is within-transformed; the other effects enter as dummy regressors
    (``i.year``, first level the base; listed in ``params`` as ``year=2014`` ...), counted in
    K and L and in the model F; d = the number of panels, s = 0, no constant, ``small`` off
    by default. xtivreg2.ado is not among the stored sources: d = N_g is the value that makes
    the equalities asserted in its certification script hold (``xtreg n w k ys, fe`` =
    ``xtivreg2 n w k ys, fe small``: sigma^2 = RSS/(N - K - N_g); ``areg ..., absorb(id)
    robust`` = ``xtivreg2 ..., fe small robust``: V x N/(N - K - N_g); fmwww.bc.edu
    cs_xtivreg2.do). Singleton panels are dropped.
``convention="ivreg2"`` (``ivreg2 y_dm x2_dm (x1_dm = z1_dm) ...`` on data demeaned by all
    effects, e.g. with reghdfe's residuals): a constant is included as ivreg2 does by default,
    d = s = 0.

In all three, following ivreg2 (``s_omega``/``m_omega`` and the "Rank identification" block):
a clustered S is divided by N (not N - d) and the clustered KP rk LM is not multiplied by
(N - d)/N ("No dofminus adjustment needed for cluster-robust"). The Cragg-Donald F is the
homoskedastic statistic r^2/(1-r^2)(N - L - d - s)/L1 whatever ``cov`` is.

Without fixed effects the three conventions coincide with plain ivreg2 (constant, d = s = 0);
this reproduces Stata's output on Card (1995) (tests/models/test_iv_card.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from coretech.errors import InputError
from coretech.models.absorb import Absorber, codes_of, is_nested, singleton_mask
from coretech.models.diagnostics import BIAS_LEVELS, SIZE_LEVELS, stock_yogo
from coretech.models.fe import CONST, _as_list, prepare_sample
from coretech.models.ivdiag import ar_confidence_set, first_stage, identification
from coretech.models.ivreg2 import (
    COVS,
    ESTIMATORS,
    Moments,
    endogeneity_test,
    estimate,
    orthog_test,
    small_sample,
)
from coretech.models.results import RegressionResult
from coretech.models.validate import check_unique_panel, numeric_column, require_columns

CONVENTIONS = ("ivreghdfe", "xtivreg2", "ivreg2")
_FE_DOF = {"absorbed": "xtivreg2", "none": "ivreg2"}


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


def iv_gmm(
    df: pd.DataFrame,
    y: str,
    endog: str | Sequence[str],
    instruments: str | Sequence[str],
    exog: str | Sequence[str] = (),
    fe: str | Sequence[str] = (),
    cov: str = "robust",
    cluster: str | Sequence[str] | None = None,
    *,
    estimator: str = "gmm2s",
    small: bool | None = None,
    convention: str | None = None,
    drop_singletons: bool = True,
    endog_test: bool | Sequence[str] = True,
    orthog: Sequence[str] = (),
    ar_level: float = 0.95,
    fe_dof: str | None = None,
) -> RegressionResult:
    """IV regression of ``y`` on ``endog`` (instrumented) and ``exog``, ivreg2's options.

    Parameters
    ----------
    endog, instruments, exog : column names; ``instruments`` are the excluded instruments.
    fe : fixed effects partialled out (see the module docstring for how each ``convention``
        counts them). With none, a constant ``_cons`` is a regressor and an instrument.
    cov : ``"unadjusted"`` (ivreg2's default), ``"robust"`` (this function's default, as
        before) or ``"cluster"``; a ``cluster`` column (or two, two-way) implies ``"cluster"``.
    estimator : ``"gmm2s"`` (default; with ``cov="unadjusted"`` efficient GMM under
        homoskedasticity, which is 2SLS), ``"2sls"`` (ivreg2's default) or ``"liml"``.
    small : ivreg2's ``small``; None (default) means the convention's own choice (on with
        ivreghdfe and fixed effects, off otherwise).
    convention : ``"ivreghdfe"`` (default), ``"xtivreg2"`` or ``"ivreg2"``.
    endog_test : ivreg2's ``endog()``: True tests all endogenous regressors, a list some.
    orthog : ivreg2's ``orthog()`` for excluded instruments: the C (difference-in-Sargan/
        Hansen) test of their validity, given the others.
    ar_level : level of the Anderson-Rubin confidence set (one endogenous regressor).
    fe_dof : legacy name: ``"absorbed"`` = ``convention="xtivreg2"``, ``"none"`` = ``"ivreg2"``.

    ``diagnostics`` holds the statistics with ivreg2's meaning (keys in docs/models.md):
    cd_f, kp_f, kp_lm(_p, _df), anderson_lm, hansen_j(_p, _df) (Sargan when homoskedastic),
    ar_f/ar_chi2 and ``ar_interval``, sstat (Stock-Wright), endog_c(_p, _df), stock_yogo_*,
    dofminus, sdofminus, n_clusters, ``first_stage`` (per endogenous regressor: F, partial and
    Shea R^2, Sanderson-Windmeijer and Angrist-Pischke F), and for LIML lambda/arubin.
    ``info["notes"]`` lists what was dropped or assumed.
    """
    en, ins, ex, fes = _as_list(endog), _as_list(instruments), _as_list(exog), _as_list(fe)
    cls = _as_list(cluster)
    convention = _convention(convention, fe_dof)
    _validate(en, ins, estimator, cov, cls)
    if cls:
        cov = "cluster"
    require_columns(df, [y, *en, *ins, *ex, *fes, *cls])
    data, counts = prepare_sample(df, [y, *en, *ins, *ex], [*fes, *cls])
    if len(data) == 0:
        raise InputError(
            f"no complete observations for {y} on {', '.join(en)} with instruments "
            f"{', '.join(ins)} (a lagged instrument is missing in the first year of each city)",
            column=ins[0],
        )
    notes: list[str] = []
    data, counts["dropped_singletons"] = _drop_singletons(data, fes, convention, drop_singletons)
    n = len(data)
    cl_codes = [codes_of(data[c]) for c in cls]
    fe_codes = [codes_of(data[f]) for f in fes]
    cols = [y, *en, *ins, *ex]
    raw = data[cols].to_numpy(float)
    dummies, dnames = np.zeros((n, 0)), []
    dofminus = sdofminus = 0
    cd_sdofminus = None
    cons = not fes
    if not fes:
        mat = raw
    elif convention == "xtivreg2":
        panel = Absorber(fe_codes[:1], names=fes[:1])
        mat = panel.demean(raw)
        dummies, dnames = _dummies(data, fes[1:], panel, notes)
        dofminus = int(fe_codes[0].max()) + 1
    else:
        mat = Absorber(fe_codes, names=fes).demean(raw)
        if convention == "ivreghdfe":
            sdofminus = max(_reghdfe_df_a(fe_codes, cl_codes), 1)
            cd_sdofminus = max(_reghdfe_df_a(fe_codes, []), 1)
        else:
            cons = True
    if small is None:
        small = bool(fes) and convention == "ivreghdfe"
    k1, l1 = len(en), len(ins)
    yv, x1, z1 = mat[:, 0], mat[:, 1 : 1 + k1], mat[:, 1 + k1 : 1 + k1 + l1]
    x2 = np.column_stack([mat[:, 1 + k1 + l1 :], dummies] + ([np.ones(n)] if cons else []))
    names = [*en, *ex, *dnames] + ([CONST] if cons else [])
    _check_rank(np.column_stack([x1, x2]), names, "regressors")
    _check_rank(np.column_stack([z1, x2]), [*ins, *names[k1:]], "instruments")
    m = Moments(yv, x1, x2, z1, cov=cov, clusters=cl_codes, dofminus=dofminus)
    r = small_sample(estimate(m, estimator), m, small=small, sdofminus=sdofminus, cons=cons)
    diag = _diagnostics(m, r, en, estimator=estimator, sdofminus=sdofminus, endog_test=endog_test,
                        ar_level=ar_level, cd_sdofminus=cd_sdofminus)
    if orthog:
        diag.update(_orthog(m, r, ins, _as_list(orthog)))
    diag.update(convention=convention, estimator=estimator, small=small, dofminus=dofminus,
                sdofminus=sdofminus, n_clusters=m.n_clusters,
                **{k: float(r[k]) for k in ("r2_a", "r2u", "r2c", "rss", "rmse", "sigmasq")},
                K=int(r["K"]), L=int(r["L"]))
    res = RegressionResult(
        params=pd.Series(r["b"], index=names, name="coef"),
        cov=pd.DataFrame(r["v"], index=names, columns=names),
        nobs=n,
        df_resid=int(r["df_r"]),
        rsquared=float(r["r2"]),
        dep_var=y,
        model=f"iv_{estimator}",
        cov_type=f"cluster({', '.join(cls)})" if cls else cov,
        dist="t" if small else "normal",
        fvalue=float(r["F"]),
        f_pvalue=float(r["F_p"]),
        f_df=tuple(int(v) for v in r["F_df"]),
        diagnostics=diag,
    )
    neg = [nm for nm, v in zip(names, np.diag(r["v"]), strict=True) if not v > 0]
    if neg:
        notes.append(f"covariance not positive definite (variance <= 0 for {', '.join(neg)}; two-way "
                     "clustering is not guaranteed positive semi-definite): Stata stops here with error 506")
    notes.insert(0, _convention_note(convention, fes, dofminus, sdofminus, small))
    res.info = {**counts, "nobs": n, "fe": fes, "cluster": cls, "instruments": ins, "endog": en,
                "exog": ex, "resid": r["resid"], "index": data.index, "notes": notes,
                "convention": convention}
    return res


def _convention(convention, fe_dof):
    if fe_dof is not None:
        if fe_dof not in _FE_DOF:
            raise InputError(f"fe_dof must be 'absorbed' or 'none', not {fe_dof!r}")
        if convention is not None and convention != _FE_DOF[fe_dof]:
            raise InputError(f"fe_dof={fe_dof!r} means convention={_FE_DOF[fe_dof]!r}, not {convention!r}")
        return _FE_DOF[fe_dof]
    convention = convention or "ivreghdfe"
    if convention not in CONVENTIONS:
        raise InputError(f"convention must be one of {', '.join(CONVENTIONS)}, not {convention!r}")
    return convention


def _validate(en, ins, estimator, cov, cls):
    if not en:
        raise InputError("iv_gmm needs an endogenous regressor")
    if len(ins) < len(en):
        raise InputError(
            f"{len(ins)} excluded instrument(s) for {len(en)} endogenous regressor(s): the "
            "equation is under-identified",
            column=", ".join(ins) or None,
        )
    if estimator not in ESTIMATORS:
        raise InputError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    if cov not in COVS:
        raise InputError(f"cov must be one of {', '.join(COVS)}, not {cov!r}")
    if cov == "cluster" and not cls:
        raise InputError("cov='cluster' needs a cluster column")
    if cov == "unadjusted" and cls:
        raise InputError("a cluster column needs cov='cluster' (or 'robust'), not 'unadjusted'")
    if len(cls) > 2:
        raise InputError(f"at most two cluster variables, not {len(cls)}")


def _drop_singletons(data, fes, convention, drop):
    if not fes or not drop:
        return data, 0
    use = fes[:1] if convention == "xtivreg2" else fes
    keep = singleton_mask([codes_of(data[f]) for f in use])
    return data.loc[keep], int((~keep).sum())


def _reghdfe_df_a(fe_codes, cl_codes):
    """reghdfe's HDFE.df_a: levels minus redundant ones, 0 for an effect nested in a cluster."""
    ab = Absorber(fe_codes)
    first_nested = any(is_nested(fe_codes[0], c) for c in cl_codes)
    return ab.df_absorbed(cl_codes) + (0 if first_nested else 1)


def _dummies(data, others, panel, notes):
    """xtivreg2's ``i.year`` regressors: one dummy per level but the first, within-panel
    demeaned; dummies collinear with the panel effects (or each other) are dropped."""
    cols, names = [], []
    for f in others:
        lv = pd.Index(pd.unique(data[f])).sort_values()
        for v in lv[1:]:
            cols.append((data[f] == v).to_numpy(float))
            names.append(f"{f}={v}")
    if not cols:
        return np.zeros((len(data), 0)), []
    d = panel.demean(np.column_stack(cols))
    kept = _independent(d)
    for j in range(d.shape[1]):
        if j not in kept:
            notes.append(f"{names[j]} omitted because of collinearity")
    return d[:, kept], [names[j] for j in kept]


def _independent(a: np.ndarray, tol: float = 1e-10) -> list[int]:
    """Columns of ``a`` kept left to right while linearly independent (Gram matrix test)."""
    scale = np.sqrt(np.maximum((a * a).sum(axis=0), 1e-300))
    g = (a.T @ a) / np.outer(scale, scale)
    kept: list[int] = []
    for j in range(a.shape[1]):
        idx = [*kept, j]
        if np.linalg.eigvalsh(g[np.ix_(idx, idx)]).min() > tol:
            kept.append(j)
    return kept


def _check_rank(a, names, what):
    if len(_independent(a)) < a.shape[1]:
        raise InputError(f"the {what} are collinear ({', '.join(map(str, names))}); drop one")


def _diagnostics(m, r, en, *, estimator, sdofminus, endog_test, ar_level, cd_sdofminus=None):
    k1, l1 = m.x1.shape[1], m.z1.shape[1]
    diag = identification(m, sdofminus=sdofminus, cd_sdofminus=cd_sdofminus)
    fs = first_stage(m, sdofminus=sdofminus, names=en)
    diag.update({k: v for k, v in fs.items()})
    jdf = m.z.shape[1] - m.x.shape[1]
    j = r["j"] if jdf > 0 else 0.0
    diag.update(hansen_j=j, hansen_j_df=jdf, hansen_j_p=float(stats.chi2.sf(j, jdf)) if jdf > 0 else float("nan"),
                j_name="Sargan" if m.cov == "unadjusted" else "Hansen J")
    if m.cov == "unadjusted":
        diag.update(sargan=j, sargan_p=diag["hansen_j_p"])
    if estimator == "liml":
        diag.update(liml_lambda=r["lam"], kclass=r["kclass"], arubin=r["arubin"], arubin_lin=r["arubin_lin"],
                    arubin_p=float(stats.chi2.sf(r["arubin"], jdf)) if jdf > 0 else float("nan"),
                    arubin_lin_p=float(stats.chi2.sf(r["arubin_lin"], jdf)) if jdf > 0 else float("nan"))
    tested = en if endog_test is True else ([] if endog_test is False else _as_list(endog_test))
    if tested:
        bad = [t for t in tested if t not in en]
        if bad:
            raise InputError(f"endog_test names {', '.join(bad)}, which are not endogenous regressors")
        c, cdf, cp = endogeneity_test(m, [en.index(t) for t in tested])
        diag.update(endog_c=c, endog_c_df=cdf, endog_c_p=cp, endog_tested=list(tested))
    if k1 == 1:
        diag["ar_interval"] = {"level": ar_level, "intervals": ar_confidence_set(m, ar_level)}
    for lvl in SIZE_LEVELS:
        diag[f"stock_yogo_{lvl}"] = stock_yogo(k1, l1, test="size", level=lvl)
    for lvl in BIAS_LEVELS:  # maximal relative bias, printed by ivreg2 when L1 >= K1 + 2
        diag[f"stock_yogo_bias_{lvl}"] = stock_yogo(k1, l1, test="bias", level=lvl)
    diag["n_endog"], diag["n_instruments"] = k1, l1
    return diag


def _orthog(m, r, ins, tested):
    bad = [t for t in tested if t not in ins]
    if bad:
        raise InputError(f"orthog names {', '.join(bad)}, which are not excluded instruments ({', '.join(ins)})")
    if len(ins) - len(tested) < m.x1.shape[1]:
        raise InputError(f"orthog: without {', '.join(tested)} the equation is under-identified")
    c, df, p = orthog_test(m, r, [ins.index(t) for t in tested])
    return {"orthog_c": c, "orthog_c_df": df, "orthog_c_p": p, "orthog_tested": list(tested)}


def _convention_note(convention, fes, d, s, small):
    if not fes:
        return "ivreg2 semantics (constant included, no degrees-of-freedom adjustment)"
    what = {"ivreghdfe": f"ivreghdfe: effects absorbed, sdofminus = {s} (reghdfe df_a)",
            "xtivreg2": f"xtivreg2 fe: panel effects within-transformed, other effects as dummies, "
                        f"dofminus = {d} panels",
            "ivreg2": "ivreg2 on demeaned data: constant included, no degrees-of-freedom adjustment"}[convention]
    return what + ("; small-sample statistics (t, F)" if small else "; large-sample statistics (z, chi2)")
