"""Grant-lag distribution and the truncation adjustment of METHODS.md §2, eq. (5).

A patent applied for in year t is seen as granted only if its grant happened by the data's
last year T. Counts of eventually-granted applications for recent t are therefore too low;
eq. (5) scales them up by the share of grants that arrive within the T - t years seen:

    K_adj(t) = K_raw(t) / sum_{s=0}^{T-t} T_s                                   (eq. 5)

``T_s`` is the share of eventually-granted applications granted ``s`` calendar years after
application (s = grant year - application year), estimated from a reference window of
application cohorts (paper: 2000-2016). Three estimators are offered:

``pooled`` (the paper's, default)
    T_s = n_s / sum_j n_j, with n_s the reference-window applications granted by T with lag s.
    The recent reference cohorts are themselves truncated (the 2016 cohort is seen only
    T - 2016 years), so this estimate leans to short lags.

``complete``
    The same shares computed only from cohorts observed at least ``s_max`` years
    (t <= T - s_max), over lags 0..s_max; grants with a longer lag are left out and counted.

``kaplan_meier`` (reverse-time Kaplan-Meier / Lynden-Bell estimator under right truncation)
    With F_s = P(S <= s) and the reverse hazard g_s = P(S = s | S <= s) = T_s / F_s: among the
    cohorts that can show a lag s (t <= T - s), every lag j <= s is observed too, so
    g_s = n_s(t <= T-s) / N_{<=s}(t <= T-s) estimates g_s whatever the cohort sizes.
    Then F_{s_max} = 1, F_{s-1} = F_s (1 - g_s) and T_s = F_s - F_{s-1}. Assumes the lag
    distribution is the same for every cohort (stationarity) and no lag beyond s_max
    (default s_max = T minus the first reference year, the longest lag any cohort can show).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

METHODS = ("pooled", "complete", "kaplan_meier")

__all__ = [
    "METHODS",
    "GrantLag",
    "cumulative_share",
    "lag_adjust",
    "lag_cells",
    "lag_distribution",
    "shares_from_cells",
]


# --------------------------------------------------------------------------- inputs
def _years(values: Any, name: str) -> pd.Series:
    """Calendar years from dates (datetime-like) or from numbers; NaN stays NaN."""
    s = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.year.astype("Float64")
    if s.dtype == object:
        conv = pd.to_numeric(s, errors="coerce")
        bad = s.notna() & conv.isna() & (s.astype(str).str.strip() != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{name}: value {s.iloc[i]!r} at position {i} is not a year")
        s = conv
    return pd.to_numeric(s).astype("Float64")


def lag_cells(
    app_year: Any,
    grant_year: Any,
    groups: Any = None,
) -> pd.DataFrame:
    """Counts of granted applications by (group,) application year and lag s.

    ``app_year``/``grant_year`` are years or dates (a missing grant = not granted). Returns
    columns ``group`` (when given), ``t``, ``s``, ``n``, sorted. A grant before its application
    (s < 0) is an error: readers reject such rows first.
    """
    t = _years(app_year, "app_year")
    g = _years(grant_year, "grant_year")
    if len(t) != len(g):
        raise ValueError("app_year and grant_year differ in length")
    df = pd.DataFrame({"t": t, "s": g - t})
    keys = ["t", "s"]
    if groups is not None:
        df.insert(0, "group", pd.Series(groups).reset_index(drop=True).astype(str))
        keys = ["group", *keys]
    df = df[df["t"].notna() & df["s"].notna()]
    if (df["s"] < 0).any():
        raise ValueError("a grant year precedes its application year (negative lag)")
    df = df.astype({"t": "int64", "s": "int64"})
    out = df.groupby(keys, sort=True).size().rename("n").reset_index()
    return out


# --------------------------------------------------------------------------- estimators
def shares_from_cells(
    cells: pd.DataFrame,
    *,
    method: str = "pooled",
    reference: tuple[int, int] | None = (2000, 2016),
    end_year: int | None = None,
    s_max: int | None = None,
) -> pd.DataFrame:
    """Estimate T_s from a (t, s, n) count table (one group). Returns ``s, n, share, cum_share``.

    ``n`` is the number of reference-window grants with lag s that the estimator used. See the
    module docstring for the three methods.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    c = cells[["t", "s", "n"]]
    if reference is not None:
        r0, r1 = int(reference[0]), int(reference[1])
        if r0 > r1:
            raise ValueError(f"reference window {r0}-{r1} is empty")
        c = c[(c["t"] >= r0) & (c["t"] <= r1)]
    if end_year is not None:
        c = c[c["t"] + c["s"] <= int(end_year)]
    if c.empty or c["n"].sum() == 0:
        raise ValueError("no granted application in the reference window to estimate T_s from")
    T = int(end_year) if end_year is not None else int((c["t"] + c["s"]).max())
    first = int(c["t"].min()) if reference is None else int(reference[0])

    if method == "pooled":
        n = c.groupby("s")["n"].sum()
        support = int(n.index.max())
        n = n.reindex(range(support + 1), fill_value=0)
        share = n / n.sum()
    elif method == "complete":
        smax = int(s_max) if s_max is not None else int(c["s"].max())
        keep = c[(c["t"] <= T - smax) & (c["s"] <= smax)]
        if keep.empty:
            raise ValueError(
                f"no reference cohort is observed {smax} years (t <= {T - smax}); "
                "lower s_max or widen the reference window"
            )
        n = keep.groupby("s")["n"].sum().reindex(range(smax + 1), fill_value=0)
        share = n / n.sum()
    else:  # kaplan_meier
        smax = int(s_max) if s_max is not None else T - first
        if smax < 0:
            raise ValueError("s_max must be >= 0")
        c = c[c["s"] <= smax]
        ss = np.arange(smax + 1)
        tab = (
            c.pivot_table(index="t", columns="s", values="n", aggfunc="sum", fill_value=0)
            .reindex(columns=ss, fill_value=0)
        )
        years = tab.index.to_numpy()
        counts = tab.to_numpy(dtype=float)
        cum_by_cohort = counts.cumsum(axis=1)  # N_{<=s} per cohort
        n_used = np.zeros(smax + 1)
        g = np.zeros(smax + 1)
        for s in ss:  # loop over lags (a few dozen), not rows
            rows = years <= T - s
            n_s = counts[rows, s].sum()
            n_le = cum_by_cohort[rows, s].sum()
            n_used[s] = n_s
            g[s] = n_s / n_le if n_le > 0 else 0.0
        F = np.ones(smax + 1)
        for s in range(smax, 0, -1):
            F[s - 1] = F[s] * (1.0 - g[s])
        f = np.diff(np.concatenate([[0.0], F]))
        n = pd.Series(n_used, index=ss)
        share = pd.Series(f, index=ss)
        n = n.astype("int64")
    out = pd.DataFrame({"s": share.index.astype("int64"), "n": n.to_numpy().astype("int64"),
                        "share": share.to_numpy(dtype=float)})
    out["cum_share"] = out["share"].cumsum()
    return out.reset_index(drop=True)


def lag_distribution(
    app_year: Any,
    grant_year: Any,
    *,
    reference: tuple[int, int] | None = (2000, 2016),
    end_year: int | None = 2022,
    method: str = "pooled",
    s_max: int | None = None,
    groups: Any = None,
) -> pd.DataFrame:
    """Estimate the grant-lag distribution T_s used by eq. (5).

    T_s = share of eventually-granted applications granted s calendar years after application
    (s = grant year - application year), from application cohorts in ``reference`` (inclusive;
    None = every cohort) granted by ``end_year`` (None = every grant in the data).
    ``method``: ``pooled`` (paper, default), ``complete`` (cohorts observed >= s_max years) or
    ``kaplan_meier`` (reverse-time estimator under right truncation); see the module docstring.

    Returns ``s, n, share, cum_share``; with ``groups`` (e.g. patent type or IPC section per
    application), also ``group`` -- one block of rows per group, the pooled rows having
    group ``"all"``.
    """
    cells = lag_cells(app_year, grant_year, groups)
    kw = dict(method=method, reference=reference, end_year=end_year, s_max=s_max)
    if groups is None:
        return shares_from_cells(cells, **kw)
    pooled = shares_from_cells(cells.groupby(["t", "s"], as_index=False)["n"].sum(), **kw)
    blocks = [pooled.assign(group="all")]
    for name, sub in cells.groupby("group", sort=True):
        blocks.append(shares_from_cells(sub, **kw).assign(group=str(name)))
    out = pd.concat(blocks, ignore_index=True)
    return out[["group", "s", "n", "share", "cum_share"]]


# --------------------------------------------------------------------------- eq. (5)
def _shares_series(lag_shares: Any) -> pd.Series:
    """T_s as a Series indexed 0..S (from a Series indexed by s, a lag table, or a sequence)."""
    if isinstance(lag_shares, pd.DataFrame):
        if not {"s", "share"} <= set(lag_shares.columns):
            raise ValueError("a lag table needs columns 's' and 'share'")
        if "group" in lag_shares.columns:
            raise ValueError("a lag table by group: pass one group's rows")
        ser = pd.Series(lag_shares["share"].to_numpy(float), index=lag_shares["s"].astype(int))
    elif isinstance(lag_shares, pd.Series):
        ser = lag_shares.astype(float)
        ser.index = ser.index.astype(int)
    else:
        ser = pd.Series(np.asarray(lag_shares, dtype=float))
    if ser.index.has_duplicates:
        raise ValueError("lag shares: a lag s appears twice")
    if (ser.index < 0).any():
        raise ValueError("lag shares: s must be >= 0")
    if ser.isna().any() or (ser < 0).any():
        raise ValueError("lag shares must be non-negative numbers")
    total = float(ser.sum())
    if not np.isclose(total, 1.0, atol=1e-6):
        raise ValueError(f"lag shares must sum to 1 (T_s is a distribution); they sum to {total:.6g}")
    return ser.reindex(range(int(ser.index.max()) + 1), fill_value=0.0).sort_index()


def cumulative_share(lag_shares: Any, years: Sequence[int] | np.ndarray, end_year: int) -> np.ndarray:
    """The denominator of eq. (5): sum_{s=0}^{T-t} T_s for each application year t."""
    ser = _shares_series(lag_shares)
    cum = ser.cumsum().to_numpy()
    yrs = np.asarray(years, dtype=int)
    horizon = int(end_year) - yrs
    if (horizon < 0).any():
        bad = int(yrs[horizon < 0][0])
        raise ValueError(f"application year {bad} is after the end year {end_year}")
    idx = np.minimum(horizon, len(cum) - 1)
    out = cum[idx]
    return np.where(horizon >= len(cum) - 1, 1.0, out)


def lag_adjust(
    k_raw: pd.Series | pd.DataFrame,
    lag_shares: Any,
    end_year: int,
    *,
    adjust_from: int | None = None,
    year: str = "year",
    count: str = "k_raw",
) -> pd.DataFrame:
    """Eq. (5): K_adj(t) = K_raw(t) / sum_{s=0}^{T-t} T_s, with T = ``end_year``.

    ``k_raw``: a Series of counts indexed by application year, or a frame with columns
    ``year`` and ``k_raw`` (extra columns such as ``city`` are kept). ``lag_shares``: T_s as a
    Series indexed by s, a lag table (``s``, ``share``) or a sequence starting at s = 0; it
    must sum to 1. ``adjust_from``: adjust only years t >= adjust_from (the paper adjusts
    2017-2022, i.e. ``adjust_from=2017``); earlier years get a denominator of 1. None adjusts
    every year (the formula as written; years with T - t beyond the longest lag get 1 anyway).

    Returns a frame with ``lag_share_cum`` (the denominator) and ``k_adj``. A year whose
    denominator is 0 (no grant is ever seen that fast) gets ``k_adj`` NaN.
    """
    if isinstance(k_raw, pd.Series):
        df = pd.DataFrame({year: k_raw.index.to_numpy(), count: k_raw.to_numpy()})
    else:
        missing = [c for c in (year, count) if c not in k_raw.columns]
        if missing:
            raise ValueError(f"k_raw needs column(s) {', '.join(missing)}")
        df = k_raw.copy()
    yrs = df[year].to_numpy(dtype=int)
    denom = cumulative_share(lag_shares, yrs, end_year)
    if adjust_from is not None:
        denom = np.where(yrs >= int(adjust_from), denom, 1.0)
    df["lag_share_cum"] = denom
    with np.errstate(divide="ignore", invalid="ignore"):
        k_adj = df[count].to_numpy(dtype=float) / denom
    df["k_adj"] = np.where(denom > 0, k_adj, np.nan)
    return df


class GrantLag:
    """Estimator of the grant-lag distribution (fit) and eq. (5) adjustment (transform).

    >>> gl = GrantLag(method="pooled", reference=(2000, 2016), end_year=2022)
    >>> gl.fit(app_years, grant_years).transform(counts)  # doctest: +SKIP

    Parameters are validated at construction; ``table_`` holds ``s, n, share, cum_share``.
    """

    def __init__(
        self,
        *,
        method: str = "pooled",
        reference: tuple[int, int] | None = (2000, 2016),
        end_year: int = 2022,
        s_max: int | None = None,
        adjust_from: int | None = None,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
        if reference is not None and reference[0] > reference[1]:
            raise ValueError(f"reference window {reference[0]}-{reference[1]} is empty")
        if s_max is not None and s_max < 0:
            raise ValueError("s_max must be >= 0")
        self.method = method
        self.reference = reference
        self.end_year = end_year
        self.s_max = s_max
        self.adjust_from = adjust_from

    def fit(self, app_year: Any, grant_year: Any) -> GrantLag:
        self.table_ = lag_distribution(
            app_year, grant_year, reference=self.reference, end_year=self.end_year,
            method=self.method, s_max=self.s_max,
        )
        return self

    @property
    def shares_(self) -> pd.Series:
        return pd.Series(self.table_["share"].to_numpy(), index=self.table_["s"].to_numpy())

    def transform(self, k_raw: pd.Series | pd.DataFrame) -> pd.DataFrame:
        if not hasattr(self, "table_"):
            raise RuntimeError("GrantLag is not fitted: call fit() first")
        return lag_adjust(k_raw, self.table_, self.end_year, adjust_from=self.adjust_from)
