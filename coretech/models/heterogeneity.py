"""Heterogeneity (Table 6): subsample regressions and tests that group coefficients differ.

The paper ranks subsample coefficients (east > west > northeast > central; first tier >
the rest) without testing the differences (METHODS.md section 7). Table 6 shows one
regression per group (eq. (1) on the group's cities: own controls' slopes, own year
effects). The tests of H0: b_1 = ... = b_G on *those* slopes:

- :func:`chow_test` - the fully interacted (Chow) model

      Y_it = sum_g 1{g(i)} (b_g D_it + c_g' Controls_it + lambda_gt) + mu_i + e_it

  (year effects interacted with the group, city effects nested in groups): its b_g equal the
  Table 6 slopes exactly; Wald F on the G-1 contrasts b_g - b_1 with the model's
  cluster-robust covariance (CRV1, K counting every interacted parameter), on (G-1, G_cl-1)
  degrees of freedom. Stata: ``reghdfe Y i.g#c.(D Controls), absorb(city g#year)
  cluster(city)`` then ``test`` of the equalities.
- :func:`stacked_test` - the seemingly-unrelated (``suest``-style) Wald test: the G subsample
  fits stacked, Cov(b_g, b_h) = sqrt(q_g q_h) sum_c H_cg H_ch with H_cg the sum over the
  cluster's rows of the D-row of (X_g'X_g)^{-1} x_i e_i, q_g each fit's own small-sample
  factor, so the diagonal is exactly the squared SEs printed in Table 6 (cities nested in
  groups make the off-diagonal 0 with city clustering; it is not 0 when clusters straddle
  groups, e.g. provinces and tiers). W/(G-1) on (G-1, G_cl-1) degrees of freedom.
- :func:`wild_bootstrap_test` - a wild (cluster) bootstrap of the cluster-robust Wald
  statistic of the Chow (default) or common-controls model with the null imposed (WCR,
  Cameron, Gelbach & Miller 2008; Roodman et al. 2019 ``boottest``): restricted fit with one
  common slope, y* = X_r b_r + u_r * w_c with Rademacher or Webb (6-point) weights per
  cluster, the unrestricted model and its CRV1 Wald statistic re-estimated on each draw;
  p = #{W* >= W} / B. Valid when error variances and the variation of D differ across
  groups (simulated size in docs/models.md).
- :func:`interaction_test` - the common-controls interaction model (one set of control
  slopes and year effects for all groups, as before): b_g are *not* the Table 6 slopes.
- :func:`permutation_test` - permutes group labels across cities with the unstudentized
  T = sum_g n_g (b_g - bbar)^2: a test of exchangeability of the groups, **not** of equal
  slopes (it over-rejects at 18-63% when one group's errors are noisier; docs/models.md).
  Kept for comparison only; Table 6 does not use it. The permutations are estimated in
  vectorised batches (city-level sums on a balanced panel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from coretech.errors import InputError
from coretech.models.absorb import Absorber, codes_of
from coretech.models.fe import _as_list, prepare_sample, twfe
from coretech.models.results import RegressionResult


@dataclass
class GroupTest:
    """Result of a test of equal coefficients across groups."""

    method: str
    groups: list[str]
    slopes: pd.Series
    statistic: float
    pvalue: float
    df: tuple[int, ...] = ()
    n_perm: int | None = None
    seed: int | None = None
    null: np.ndarray | None = field(default=None, repr=False)
    n_boot: int | None = None
    weights: str | None = None
    description: str = ""

    def summary(self) -> str:
        sl = ", ".join(f"{g}: {v:.4f}" for g, v in self.slopes.items())
        return f"{self.method}: statistic = {self.statistic:.4f}, p = {self.pvalue:.4g} ({sl})"


def subsamples(
    df: pd.DataFrame,
    y: str,
    x: Sequence[str],
    group: str,
    *,
    groups: Sequence[str] | None = None,
    fe: Sequence[str] = ("city", "year"),
    cluster: str | Sequence[str] | None = "city",
) -> dict[str, RegressionResult]:
    """One :func:`twfe` per group value (in ``groups`` order, default sorted values)."""
    if group not in df.columns:
        raise InputError(f"group column {group!r} is not in the panel", column=group)
    labels = df[group].astype("string")
    order = list(groups) if groups is not None else sorted(labels.dropna().unique())
    out = {}
    for g in order:
        sub = df.loc[(labels == str(g)).fillna(False).to_numpy()]
        if sub.empty:
            raise InputError(f"no rows with {group} = {g!r}", column=group)
        out[str(g)] = twfe(sub, y, list(x), fe=list(fe), cluster=cluster)
    return out


def _design(df, y, d, controls, group, unit, fe, groups, extra=()):
    data, _ = prepare_sample(df, [y, d, *controls], [group, unit, *fe, *extra])
    labels = data[group].astype(str).to_numpy()
    order = [str(g) for g in groups] if groups is not None else sorted(set(labels))
    if len(order) < 2:
        raise InputError(f"the group column {group!r} has fewer than two groups", column=group)
    keep = np.isin(labels, order)
    data, labels = data.loc[keep], labels[keep]
    gcode = pd.Index(order).get_indexer(labels)
    ucode = codes_of(data[unit])
    # a unit must have one group label (region and tier are city attributes)
    per_unit = pd.DataFrame({"u": ucode, "g": gcode}).drop_duplicates()
    if not per_unit["u"].is_unique:
        bad = per_unit[per_unit["u"].duplicated()]["u"].iloc[0]
        name = data[unit].to_numpy()[ucode == bad][0]
        raise InputError(f"{unit} {name!r} has more than one {group} value", column=group)
    unit_group = np.zeros(int(ucode.max()) + 1, dtype=int)
    unit_group[per_unit["u"].to_numpy()] = per_unit["g"].to_numpy()
    return data, order, gcode, ucode, unit_group


def interaction_test(
    df: pd.DataFrame,
    y: str,
    d: str,
    controls: Sequence[str],
    group: str,
    *,
    unit: str = "city",
    fe: Sequence[str] = ("city", "year"),
    cluster: str | Sequence[str] | None = "city",
    groups: Sequence[str] | None = None,
) -> GroupTest:
    """Wald test of equal slopes of ``d`` across ``group`` in the interaction model."""
    controls = _as_list(controls)
    data, order, gcode, _, _ = _design(df, y, d, controls, group, unit, list(fe), groups, _as_list(cluster))
    cols = []
    work = data.copy()
    for j, g in enumerate(order):
        name = f"{d}_x_{group}[{g}]"
        work[name] = data[d].to_numpy(float) * (gcode == j)
        cols.append(name)
    res = twfe(work, y, [*cols, *controls], fe=list(fe), cluster=cluster)
    b = res.params[cols].to_numpy()
    v = res.cov.loc[cols, cols].to_numpy()
    r = np.zeros((len(cols) - 1, len(cols)))
    r[:, 0] = -1
    r[np.arange(len(cols) - 1), np.arange(1, len(cols))] = 1
    rb = r @ b
    w = float(rb @ np.linalg.solve(r @ v @ r.T, rb))
    q = len(cols) - 1
    f = w / q
    p = float(stats.f.sf(f, q, res.df_resid))
    return GroupTest("interaction Wald F", order, pd.Series(b, index=order), f, p, (q, res.df_resid))


def permutation_test(
    df: pd.DataFrame,
    y: str,
    d: str,
    controls: Sequence[str],
    group: str,
    *,
    unit: str = "city",
    fe: Sequence[str] = ("city", "year"),
    groups: Sequence[str] | None = None,
    n_perm: int = 999,
    seed: int = 0,
    batch: int = 128,
    keep_null: bool = False,
) -> GroupTest:
    """Permutation test of equal slopes of ``d`` across groups (labels permuted by ``unit``)."""
    if n_perm < 1:
        raise InputError(f"n_perm must be at least 1, got {n_perm}")
    controls = _as_list(controls)
    data, order, gcode, ucode, unit_group = _design(df, y, d, controls, group, unit, list(fe), groups)
    absorber = Absorber([codes_of(data[f]) for f in fe])
    base = absorber.demean(data[[y, *controls]].to_numpy(float))
    yt, ct = base[:, 0], base[:, 1:]
    cc_inv = np.linalg.inv(ct.T @ ct) if ct.shape[1] else np.zeros((0, 0))
    if ct.shape[1]:
        yt = yt - ct @ (cc_inv @ (ct.T @ yt))  # FWL: Y net of the controls
    dv = data[d].to_numpy(float)
    n_groups = len(order)
    n_units = len(unit_group)
    n_g = np.bincount(gcode, minlength=n_groups).astype(float)
    time_codes = [codes_of(data[f]) for f in fe if f != unit]
    balanced = absorber._balanced and unit in fe and len(time_codes) == 1

    if balanced:
        # Balanced two-way panel: with labels constant within a unit, the within transform of
        # D 1{g} is G_c E_ct - Ybar_gt (E = D demeaned by unit, Ybar the year means of G E),
        # so X'X, X'C and X'y reduce to unit-level sums (no n x B array is formed).
        tcode = time_codes[0]
        n_t = int(tcode.max()) + 1
        e_row = dv - (np.bincount(ucode, dv) / np.bincount(ucode))[ucode]
        e_mat = np.zeros((n_units, n_t))
        e_mat[ucode, tcode] = e_row
        s_c = np.bincount(ucode, e_row * e_row, minlength=n_units)
        u_c = np.bincount(ucode, e_row * yt, minlength=n_units)
        w_c = np.stack([np.bincount(ucode, e_row * ct[:, j], minlength=n_units) for j in range(ct.shape[1])], axis=1) \
            if ct.shape[1] else np.zeros((n_units, 0))

        def slopes_units(labels_units: np.ndarray) -> np.ndarray:
            g = (labels_units[:, :, None] == np.arange(n_groups)[None, None, :]).astype(float)  # (B, C, G)
            gt = g.transpose(0, 2, 1)
            ybar = gt @ e_mat / n_units  # (B, G, T)
            xtx = np.zeros((g.shape[0], n_groups, n_groups))
            idx = np.arange(n_groups)
            xtx[:, idx, idx] = gt @ s_c
            xtx -= n_units * ybar @ ybar.transpose(0, 2, 1)
            if ct.shape[1]:
                p = gt @ w_c  # (B, G, k)
                xtx -= p @ cc_inv @ p.transpose(0, 2, 1)
            xty = gt @ u_c
            return np.linalg.solve(xtx, xty[..., None])[..., 0]

        def slopes_for(perms: np.ndarray) -> np.ndarray:
            return slopes_units(perms)
    else:

        def slopes_rows(labels_rows: np.ndarray) -> np.ndarray:
            """(B, n) group codes per row -> (B, G) slopes of the interaction model."""
            b_count = labels_rows.shape[0]
            onehot = labels_rows[:, :, None] == np.arange(n_groups)[None, None, :]  # (B, n, G)
            cols = (dv[None, :, None] * onehot).transpose(1, 0, 2).reshape(len(dv), -1)
            cols = absorber.demean(cols)
            x = cols.reshape(len(dv), b_count, n_groups).transpose(1, 0, 2)  # (B, n, G)
            xt = x.transpose(0, 2, 1)
            xtx = xt @ x
            if ct.shape[1]:
                p = xt @ ct  # (B, G, k)
                xtx -= p @ cc_inv @ p.transpose(0, 2, 1)
            xty = xt @ yt
            return np.linalg.solve(xtx, xty[..., None])[..., 0]

        def slopes_for(perms: np.ndarray) -> np.ndarray:
            return slopes_rows(perms[:, ucode])

    def statistic(b: np.ndarray, counts: np.ndarray) -> np.ndarray:
        bbar = (b * counts).sum(axis=-1, keepdims=True) / counts.sum(axis=-1, keepdims=True)
        return ((b - bbar) ** 2 * counts).sum(axis=-1)

    obs_b = slopes_for(unit_group[None, :])[0]
    obs = float(statistic(obs_b, n_g))
    rng = np.random.default_rng(seed)
    null = np.empty(n_perm)
    done = 0
    while done < n_perm:
        m = min(batch, n_perm - done)
        perms = np.stack([rng.permutation(unit_group) for _ in range(m)])  # (m, units)
        rows = perms[:, ucode]
        counts = np.stack([np.bincount(r, minlength=n_groups) for r in rows]).astype(float)
        null[done : done + m] = statistic(slopes_for(perms), counts)
        done += m
    p = float((1 + np.sum(null >= obs - 1e-12 * max(1.0, abs(obs)))) / (1 + n_perm))
    return GroupTest(
        "permutation", order, pd.Series(obs_b, index=order), obs, p, (), n_perm, seed,
        null if keep_null else None,
    )


# --------------------------------------------------------------------------- tests of Table 6's slopes
WEIGHTS = ("rademacher", "webb")
MODELS = ("full", "common")


def _interacted(df, y, d, controls, group, unit, fe, groups, model, extra=()):
    """The pooled interaction model: (data, group order, D x group names, regressors, fe)."""
    if model not in MODELS:
        raise InputError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    data, order, gcode, _, _ = _design(df, y, d, controls, group, unit, fe, groups, extra)
    work = data.copy()
    cols = []
    for j, g in enumerate(order):
        name = f"{d}_x_{group}[{g}]"
        work[name] = data[d].to_numpy(float) * (gcode == j)
        cols.append(name)
    regs = list(cols)
    fes = list(fe)
    if model == "full":
        for c in controls:
            for j, g in enumerate(order):
                name = f"{c}_x_{group}[{g}]"
                work[name] = data[c].to_numpy(float) * (gcode == j)
                regs.append(name)
        fes = []
        for f in fe:
            if f == unit:
                fes.append(f)
            else:  # group x f effects, as integer codes
                name = f"_{f}_by_{group}"
                fcode = codes_of(work[f])
                work[name] = gcode * (int(fcode.max()) + 1) + fcode
                fes.append(name)
        if unit not in fe:  # group intercepts
            work["_group_fe"] = gcode
            fes.append("_group_fe")
    else:
        regs.extend(controls)
    return work, order, cols, regs, fes


def _contrasts(g: int, p: int) -> np.ndarray:
    r = np.zeros((g - 1, p))
    r[:, 0] = -1
    r[np.arange(g - 1), np.arange(1, g)] = 1
    return r


def _wald_contrasts(res: RegressionResult, cols: list[str]) -> float:
    b = res.params[cols].to_numpy()
    v = res.cov.loc[cols, cols].to_numpy()
    r = _contrasts(len(cols), len(cols))
    rb = r @ b
    return float(rb @ np.linalg.solve(r @ v @ r.T, rb))


def _check_slopes_kept(res: RegressionResult, cols: list[str]) -> None:
    lost = [c for c in cols if c not in res.params.index]
    if lost:
        raise InputError(f"{lost[0]} has no variation left in the interaction model "
                         f"({res.info['omitted'][lost[0]]}); the group's slope is not identified",
                         column=lost[0])


def chow_test(
    df: pd.DataFrame,
    y: str,
    d: str,
    controls: Sequence[str],
    group: str,
    *,
    unit: str = "city",
    fe: Sequence[str] = ("city", "year"),
    cluster: str | Sequence[str] | None = "city",
    groups: Sequence[str] | None = None,
) -> GroupTest:
    """Wald F of equal slopes of ``d`` in the fully interacted (Chow) model: the slopes of the
    Table 6 subsample regressions (see the module docstring)."""
    controls = _as_list(controls)
    work, order, cols, regs, fes = _interacted(df, y, d, controls, group, unit, list(fe), groups, "full",
                                               _as_list(cluster))
    res = twfe(work, y, regs, fe=fes, cluster=cluster, panel_id=None)
    _check_slopes_kept(res, cols)
    q = len(cols) - 1
    f = _wald_contrasts(res, cols) / q
    p = float(stats.f.sf(f, q, res.df_resid))
    return GroupTest("Chow (fully interacted) Wald F", order, pd.Series(res.params[cols].to_numpy(), index=order),
                     f, p, (q, res.df_resid),
                     description="fully interacted (Chow) model: group-specific slopes of D and the "
                     "controls and group-specific year effects, cluster-robust Wald F")


def stacked_test(
    df: pd.DataFrame,
    y: str,
    d: str,
    controls: Sequence[str],
    group: str,
    *,
    unit: str = "city",
    fe: Sequence[str] = ("city", "year"),
    cluster: str | Sequence[str] | None = "city",
    groups: Sequence[str] | None = None,
    fits: dict[str, RegressionResult] | None = None,
) -> GroupTest:
    """Seemingly-unrelated (suest-style) Wald test of equal ``d`` slopes across the subsample
    fits (``fits``: the Table 6 results of :func:`subsamples`, re-estimated when omitted)."""
    controls = _as_list(controls)
    cls = _as_list(cluster)
    data, order, _, _, _ = _design(df, y, d, controls, group, unit, list(fe), groups, cls)
    if fits is None:
        fits = subsamples(data, y, [d, *controls], group, groups=order, fe=fe, cluster=cluster)
    n_g = len(order)
    h_rows, cl_rows, qs = [], [], []
    for j, g in enumerate(order):
        r = fits[str(g)]
        if d not in r.params.index:
            raise InputError(f"{d} is omitted in the {g} subsample; its slope is not identified", column=d)
        sub = data.loc[r.info["index"]]
        names = [c for c in r.params.index if c != "_cons"]
        ab = Absorber([codes_of(sub[f]) for f in fe])
        xt = ab.demean(sub[names].to_numpy(float))
        row = np.linalg.solve(xt.T @ xt, xt.T)[names.index(d)]  # D-row of (X'X)^{-1} X'
        h = np.zeros((len(sub), n_g))
        h[:, j] = row * r.info["resid"]
        h_rows.append(h)
        cl_rows.append(sub[cls].astype(str).to_numpy() if cls else
                       np.array([f"{g}|{i}" for i in range(len(sub))], dtype=object)[:, None])
        nk = (r.nobs - 1) / (r.nobs - r.info["n_params_dof"])
        qs.append(nk if cls else r.nobs / (r.nobs - r.info["n_params_dof"]))
    h = np.vstack(h_rows)
    labels = np.vstack(cl_rows)
    group_of_row = np.concatenate([np.full(len(x), j) for j, x in enumerate(h_rows)])
    v = np.zeros((n_g, n_g))
    terms = [(labels[:, 0], 1.0)]
    if labels.shape[1] == 2:
        terms += [(labels[:, 1], 1.0), (np.char.add(np.char.add(labels[:, 0].astype(str), "#"),
                                                   labels[:, 1].astype(str)), -1.0)]
    for lab, sign in terms:
        codes = codes_of(lab)
        sums = np.zeros((int(codes.max()) + 1, n_g))
        np.add.at(sums, codes, h)
        # each fit's own G/(G-1) for this clustering term (1 for the robust, obs-level case)
        fac = np.ones(n_g)
        if cls:
            for j in range(n_g):
                gj = len(np.unique(codes[group_of_row == j]))
                fac[j] = gj / (gj - 1)
        scale = np.sqrt(np.outer(fac * np.asarray(qs), fac * np.asarray(qs)))
        v += sign * scale * (sums.T @ sums)
    b = np.array([fits[str(g)].params[d] for g in order])
    r = _contrasts(n_g, n_g)
    rb = r @ b
    w = float(rb @ np.linalg.solve(r @ v @ r.T, rb))
    q = n_g - 1
    if cls:
        df2 = min(len(np.unique(labels[:, k])) for k in range(labels.shape[1])) - 1
    else:
        df2 = sum(fits[str(g)].df_resid for g in order)
    f = w / q
    out = GroupTest("stacked (SUR) Wald F", order, pd.Series(b, index=order), f,
                    float(stats.f.sf(f, q, df2)), (q, int(df2)),
                    description="stacked (seemingly-unrelated, suest-style) Wald test of the subsample "
                    "slopes with a cluster-robust covariance")
    out.null = v  # the stacked covariance of the slopes (diagonal = Table 6 SEs squared)
    return out


def _webb(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    vals = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
    return vals[rng.integers(0, 6, size=size)]


def wild_bootstrap_test(
    df: pd.DataFrame,
    y: str,
    d: str,
    controls: Sequence[str],
    group: str,
    *,
    unit: str = "city",
    fe: Sequence[str] = ("city", "year"),
    cluster: str | None = "city",
    groups: Sequence[str] | None = None,
    model: str = "full",
    weights: str = "rademacher",
    n_boot: int = 999,
    seed: int = 0,
    batch: int = 100,
    keep_null: bool = False,
) -> GroupTest:
    """Wild cluster bootstrap (null imposed) of the cluster-robust Wald statistic of equal
    slopes of ``d`` across ``group`` (``model="full"``: the Chow model of the Table 6 slopes;
    ``"common"``: common controls and year effects). ``cluster=None`` draws one weight per
    observation (the wild bootstrap of the HC1 statistic)."""
    if weights not in WEIGHTS:
        raise InputError(f"weights must be one of {', '.join(WEIGHTS)}, not {weights!r}")
    if n_boot < 1:
        raise InputError(f"n_boot must be at least 1, got {n_boot}")
    cls = _as_list(cluster)
    if len(cls) > 1:
        raise InputError("the wild bootstrap test takes one cluster variable (or None)",
                         column=", ".join(cls))
    controls = _as_list(controls)
    work, order, cols, regs, fes = _interacted(df, y, d, controls, group, unit, list(fe), groups, model, cls)
    res = twfe(work, y, regs, fe=fes, cluster=cluster, panel_id=None)
    _check_slopes_kept(res, cols)
    names = [c for c in res.params.index if c != "_cons"]
    sub = work.loc[res.info["index"]]
    absorber = Absorber([codes_of(sub[f]) for f in fes])
    z = absorber.demean(sub[[y, *names]].to_numpy(float))
    yt, xt = z[:, 0], z[:, 1:]
    n, p = xt.shape
    n_groups = len(cols)
    ccode = codes_of(sub[cls[0]]) if cls else np.arange(n)
    n_cl = int(ccode.max()) + 1
    k_dof = res.info["n_params_dof"]
    qfac = (n_cl / (n_cl - 1) * (n - 1) / (n - k_dof)) if cls else n / (n - k_dof)
    bread = np.linalg.inv(xt.T @ xt)
    rmat = _contrasts(n_groups, p)
    rbread = rmat @ bread  # (G-1, p)
    ind = None
    if cls:
        import scipy.sparse as sp

        ind = sp.csr_matrix((np.ones(n), (ccode, np.arange(n))), shape=(n_cl, n))

    def wald(ystar_t: np.ndarray) -> np.ndarray:
        """Wald statistics of the columns of the within-transformed outcomes (n, m)."""
        bst = bread @ (xt.T @ ystar_t)  # (p, m)
        e = ystar_t - xt @ bst
        m = e.shape[1]
        proj = xt @ rbread.T  # (n, G-1): row i's contribution to R b
        contrib = (proj[:, :, None] * e[:, None, :]).reshape(n, -1)  # (n, (G-1) m)
        sums = ind @ contrib if ind is not None else contrib
        hs = sums.reshape(-1, n_groups - 1, m).transpose(1, 0, 2)  # (G-1, clusters, m)
        v = qfac * np.einsum("rcm,scm->mrs", hs, hs)
        rb = (rmat @ bst).T[..., None]  # (m, G-1, 1)
        return (rb.transpose(0, 2, 1) @ np.linalg.solve(v, rb))[:, 0, 0]

    w_obs = float(wald(yt[:, None])[0])
    # restricted model: one common slope (the sum of the group columns)
    xr = np.column_stack([xt[:, :n_groups].sum(axis=1), xt[:, n_groups:]])
    br = np.linalg.lstsq(xr, yt, rcond=None)[0]
    fit_r = xr @ br
    u_r = yt - fit_r
    rng = np.random.default_rng(seed)
    null = np.empty(n_boot)
    done = 0
    while done < n_boot:
        m = min(batch, n_boot - done)
        wc = rng.choice([-1.0, 1.0], size=(n_cl, m)) if weights == "rademacher" else _webb(rng, (n_cl, m))
        ystar = fit_r[:, None] + absorber.demean(u_r[:, None] * wc[ccode])
        null[done : done + m] = wald(ystar)
        done += m
    pval = float(np.mean(null >= w_obs * (1 - 1e-12)))
    q = n_groups - 1
    what = "fully interacted (Chow)" if model == "full" else "common-controls interaction"
    return GroupTest(
        "wild cluster bootstrap Wald" if cls else "wild bootstrap Wald", order,
        pd.Series(res.params[cols].to_numpy(), index=order), w_obs / q, pval, (q,), None, seed,
        null / q if keep_null else None, n_boot, weights,
        description=f"wild {'cluster ' if cls else ''}bootstrap ({weights} weights, null imposed, "
        f"{n_boot} draws, seed {seed}) of the cluster-robust Wald statistic of the {what} model",
    )
