"""Heterogeneity (Table 6): subsample regressions and tests that group coefficients differ.

The paper ranks subsample coefficients (east > west > northeast > central; first tier >
the rest) without testing the differences (METHODS.md section 7). Two tests are offered:

- interaction model: Y = sum_g b_g D 1{g} + Controls + city FE + year FE + e, with the
  covariance of :func:`coretech.models.fe.twfe`; H0: b_1 = ... = b_G, Wald F on G-1
  contrasts (b_g - b_1) with (G-1, df_resid) degrees of freedom;
- permutation test: the same model, statistic T = sum_g n_g (b_g - bbar)^2 with
  bbar = sum_g n_g b_g / N (for two groups a monotone function of |b_1 - b_2|); the group
  labels are permuted across cities (a city keeps its label in every year, so the panel
  structure is preserved), ``n_perm`` times with a seeded generator; p = (1 + #{T* >= T}) /
  (1 + n_perm). The permutations are estimated in vectorised batches: Y and the controls are
  within-transformed once (and Y is netted of the controls, Frisch-Waugh-Lovell); in a
  balanced city-year panel the interaction columns' cross-products reduce to city-level sums
  (exact, no n x draws array), otherwise the G interaction columns are within-transformed
  per draw.
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


def _design(df, y, d, controls, group, unit, fe, groups):
    data, _ = prepare_sample(df, [y, d, *controls], [group, unit, *fe])
    labels = data[group].astype("string").to_numpy()
    order = [str(g) for g in groups] if groups is not None else sorted(set(labels))
    if len(order) < 2:
        raise InputError(f"the group column {group!r} has fewer than two groups", column=group)
    keep = np.isin(labels, order)
    data, labels = data.loc[keep], labels[keep]
    gcode = np.array([order.index(v) for v in labels])
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
    data, order, gcode, _, _ = _design(df, y, d, controls, group, unit, list(fe), groups)
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
