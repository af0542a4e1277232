"""Step 4 of the breakthrough variable: the grant lag and eq. (5), METHODS.md §2.

    K_adj(c, t) = K_raw(c, t) / sum_{s=0}^{T-t} T_s                                  (eq. 5)
    Sicoughs(c, t) = ln(1 + K_adj(c, t))

T_s is estimated from the lag cells of :class:`.counter.BreakthroughCounter` (pooled or per
group, :func:`coretech.indicators.lag.shares_from_cells`). A year whose denominator is 0 (no
reference application was granted that soon) cannot be adjusted: its ``k_adj`` is empty
(NaN), never 0, and :func:`national_table` says so, next to the reference window, the years
not adjusted and adjustment factors above :data:`LARGE_FACTOR`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from coretech.indicators.lag import cumulative_share, shares_from_cells

OUTPUT_COLUMNS = ["city", "year", "k_raw", "lag_share_cum", "k_adj", "sicoughs"]
#: An adjustment factor K_adj / K_raw above this (fewer than 1 in 5 eventual grants seen by
#: T) is flagged: the adjusted count then rests on a small, noisy share of the grants.
LARGE_FACTOR = 5.0


def estimate_shares(
    cells: pd.DataFrame,
    *,
    method: str,
    reference: tuple[int, int] | None,
    end_year: int,
    s_max: int | None,
) -> dict[str, pd.DataFrame]:
    """T_s per group (``'all'`` = pooled over groups) from the lag cells."""
    out = {"all": shares_from_cells(cells.groupby(["t", "s"], as_index=False)["n"].sum(),
                                    method=method, reference=reference, end_year=end_year,
                                    s_max=s_max)}
    groups = sorted(set(cells["group"])) if "group" in cells.columns else []
    if groups != ["all"]:
        for g in groups:
            sub = cells[cells["group"] == g]
            try:
                out[g] = shares_from_cells(sub, method=method, reference=reference,
                                           end_year=end_year, s_max=s_max)
            except ValueError:
                out[g] = out["all"]  # too few grants in the group: fall back to pooled
    return out


def adjust_counts(
    counts: pd.DataFrame,
    shares: Mapping[str, pd.DataFrame],
    *,
    cities: list[str],
    years: tuple[int, int],
    end_year: int,
    adjust_from: int | None,
) -> pd.DataFrame:
    """Balanced city x year panel of k_raw, lag_share_cum, k_adj, sicoughs (eq. 5 per group).

    With groups, K_adj = sum_g K_raw,g / cum_g(T - t) and ``lag_share_cum`` = K_raw / K_adj
    (the pooled denominator where K_raw = 0).
    """
    yr = np.arange(years[0], years[1] + 1)
    panel = pd.MultiIndex.from_product([cities, yr], names=["city", "year"]).to_frame(index=False)
    pooled_den = _denominators(shares["all"], yr, end_year, adjust_from)
    if counts.empty:
        k = pd.DataFrame(columns=["city", "year", "k_raw", "k_adj"])
    else:
        c = counts[(counts["year"] >= years[0]) & (counts["year"] <= years[1])]
        c = c.reset_index(drop=True)
        den = np.ones(len(c))
        for g, sub_idx in c.groupby("group").groups.items():
            tab = shares.get(str(g), shares["all"])
            d = _denominators(tab, yr, end_year, adjust_from)
            pos = np.asarray(sub_idx)
            den[pos] = d[c.loc[pos, "year"].to_numpy() - yr[0]]
        with np.errstate(divide="ignore", invalid="ignore"):
            c["k_adj"] = np.where(den > 0, c["k_raw"] / den, np.nan)
        k = c.groupby(["city", "year"], as_index=False)[["k_raw", "k_adj"]].sum(min_count=1)
    out = panel.merge(k, on=["city", "year"], how="left")
    out["k_raw"] = out["k_raw"].fillna(0).astype("int64")
    pden = pooled_den[out["year"].to_numpy() - yr[0]]
    out["k_adj"] = np.where(out["k_raw"] == 0, np.where(pden > 0, 0.0, np.nan),
                            out["k_adj"].astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = np.where(out["k_adj"] > 0, out["k_raw"] / out["k_adj"], pden)
    out["lag_share_cum"] = eff
    out["sicoughs"] = np.log1p(out["k_adj"])
    return out[OUTPUT_COLUMNS]


def _denominators(tab: pd.DataFrame, yr: np.ndarray, end_year: int, adjust_from: int | None) -> np.ndarray:
    d = cumulative_share(tab, yr, end_year)
    if adjust_from is not None:
        d = np.where(yr >= adjust_from, d, 1.0)
    return d


def bootstrap_interval(
    counts: pd.DataFrame,
    cells: pd.DataFrame,
    panel: pd.DataFrame,
    *,
    n_boot: int,
    seed: int,
    level: float,
    method: str,
    reference: tuple[int, int] | None,
    end_year: int,
    s_max: int | None,
    adjust_from: int | None,
    fallback: Mapping[str, pd.DataFrame],
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of K_adj from resampling the reference applications' lags.

    Each replicate draws the (group, cohort, lag) cell counts from a multinomial with the
    observed cell shares (= resampling granted applications with replacement, within group),
    re-estimates T_s with the same method and recomputes eq. (5). K_raw is held fixed: the
    interval reflects the uncertainty of T_s only.
    """
    rng = np.random.default_rng(seed)
    yr = np.arange(int(panel["year"].min()), int(panel["year"].max()) + 1)
    groups = sorted(set(cells["group"]))
    key = panel.set_index(["city", "year"]).index
    # k_raw per group aligned to the panel rows
    kg = {}
    for g in groups:
        sub = counts[counts["group"] == g].set_index(["city", "year"])["k_raw"]
        kg[g] = sub.reindex(key, fill_value=0).to_numpy(dtype=float)
    year_idx = panel["year"].to_numpy() - yr[0]
    draws = np.empty((len(panel), n_boot))
    cell_groups = {g: cells[cells["group"] == g].reset_index(drop=True) for g in groups}
    for b in range(n_boot):
        total = np.zeros(len(panel))
        for g in groups:
            cg = cell_groups[g]
            n = cg["n"].to_numpy()
            resampled = cg.assign(n=rng.multinomial(int(n.sum()), n / n.sum()))
            try:
                tab = shares_from_cells(resampled, method=method, reference=reference,
                                        end_year=end_year, s_max=s_max)
            except ValueError:  # too few grants drawn in the group: keep its point estimate
                tab = fallback.get(g, fallback["all"])
            den = _denominators(tab, yr, end_year, adjust_from)[year_idx]
            with np.errstate(divide="ignore", invalid="ignore"):
                total += np.where(kg[g] > 0, kg[g] / den, 0.0)
        draws[:, b] = total
    alpha = (1 - level) / 2
    lo = np.nanquantile(draws, alpha, axis=1)
    hi = np.nanquantile(draws, 1 - alpha, axis=1)
    return lo, hi


def lag_table_frame(shares: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """``s, n, share, cum_share`` (pooled) plus ``share_<group>`` per group."""
    base = shares["all"].copy()
    for g in sorted(k for k in shares if k != "all"):
        t = shares[g].set_index("s")["share"]
        smax = max(int(base["s"].max()), int(t.index.max()))
        base = base.set_index("s").reindex(range(smax + 1)).reset_index()
        base["n"] = base["n"].fillna(0).astype("int64")
        base["share"] = base["share"].fillna(0.0)
        base["cum_share"] = base["share"].cumsum()
        base[f"share_{g}"] = t.reindex(range(smax + 1), fill_value=0.0).to_numpy()
    return base


def national_table(
    table: pd.DataFrame,
    *,
    reference: tuple[int, int] | None,
    adjust_from: int | None,
    large_factor: float = LARGE_FACTOR,
) -> pd.DataFrame:
    """National totals by year with what eq. (5) did to each year.

    Columns ``year, k_raw, k_adj, factor, lag_share_cum, in_reference, status, flag``.
    ``k_adj`` is the sum over cities, empty (NaN) when any city's year cannot be adjusted
    (denominator 0): never 0. ``factor`` = k_adj / k_raw. ``status``: ``not adjusted (before
    --adjust-from Y)``, ``adjusted``, or ``not adjustable (denominator 0)``. ``in_reference``:
    the year is in the reference window that estimated T_s (the other years are left out of
    the estimate). ``flag``: ``large factor (xF)`` above ``large_factor``.
    """
    g = table.groupby("year", sort=True)
    out = pd.DataFrame({
        "year": np.asarray(list(g.groups), dtype="int64"),
        "k_raw": g["k_raw"].sum().to_numpy(dtype="int64"),
        "k_adj": g["k_adj"].sum(min_count=1).to_numpy(dtype=float),
    })
    bad = g["k_adj"].apply(lambda s: bool(s.isna().any())).to_numpy()
    out.loc[bad, "k_adj"] = np.nan
    den = g["lag_share_cum"].first().to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(out["k_raw"] > 0, out["k_adj"] / out["k_raw"],
                          np.where(den > 0, 1.0 / den, np.nan))
    out["factor"] = np.where(bad, np.nan, factor)
    out["lag_share_cum"] = np.where(bad, np.nan, den)
    yr = out["year"].to_numpy()
    out["in_reference"] = ((yr >= reference[0]) & (yr <= reference[1])) if reference else True
    status = np.where(bad, "not adjustable (denominator 0)", "adjusted")
    if adjust_from is not None:
        status = np.where(~bad & (yr < adjust_from),
                          f"not adjusted (before --adjust-from {adjust_from})", status)
    out["status"] = status
    big = ~bad & (out["factor"].to_numpy() > large_factor)
    out["flag"] = [f"large factor (x{f:.1f})" if b else "" for f, b in
                   zip(out["factor"].to_numpy(), big, strict=True)]
    return out
