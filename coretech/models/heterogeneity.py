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
  within-transformed once, only the G interaction columns are transformed per draw.
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
    if ct.shape[1]:
        proj = np.linalg.solve(ct.T @ ct, ct.T)  # (k, n)
        yt = yt - ct @ (proj @ yt)
    dv = data[d].to_numpy(float)
    n_groups = len(order)
    n_g = np.bincount(gcode, minlength=n_groups).astype(float)

    def slopes(labels_rows: np.ndarray) -> np.ndarray:
        """(B, n) group codes per row -> (B, G) slopes of the interaction model."""
        b_count = labels_rows.shape[0]
        onehot = labels_rows[:, :, None] == np.arange(n_groups)[None, None, :]  # (B, n, G)
        cols = (dv[None, :, None] * onehot).transpose(1, 0, 2).reshape(len(dv), -1)
        cols = absorber.demean(cols)
        if ct.shape[1]:
            cols = cols - ct @ (proj @ cols)
        x = cols.reshape(len(dv), b_count, n_groups).transpose(1, 0, 2)  # (B, n, G)
        xtx = np.einsum("bni,bnj->bij", x, x)
        xty = np.einsum("bni,n->bi", x, yt)
        return np.linalg.solve(xtx, xty[..., None])[..., 0]

    def statistic(b: np.ndarray, counts: np.ndarray) -> np.ndarray:
        bbar = (b * counts).sum(axis=-1, keepdims=True) / counts.sum(axis=-1, keepdims=True)
        return ((b - bbar) ** 2 * counts).sum(axis=-1)

    obs_b = slopes(gcode[None, :])[0]
    obs = float(statistic(obs_b, n_g))
    rng = np.random.default_rng(seed)
    null = np.empty(n_perm)
    done = 0
    while done < n_perm:
        m = min(batch, n_perm - done)
        perms = np.stack([rng.permutation(unit_group) for _ in range(m)])  # (m, units)
        rows = perms[:, ucode]
        counts = np.stack([np.bincount(r, minlength=n_groups) for r in rows]).astype(float)
        null[done : done + m] = statistic(slopes(rows), counts)
        done += m
    p = float((1 + np.sum(null >= obs - 1e-12 * max(1.0, abs(obs)))) / (1 + n_perm))
    return GroupTest(
        "permutation", order, pd.Series(obs_b, index=order), obs, p, (), n_perm, seed,
        null if keep_null else None,
    )
