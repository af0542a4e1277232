"""Plots of the breakthrough stage: the grant-lag distribution and raw vs adjusted counts.

Written deterministically (fixed metadata, no timestamps, fixed SVG hash salt), so a rerun
gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coretech.io import atomic_path

FORMATS = ("png", "svg")


def _save(fig, path: Path, fmt: str) -> None:  # noqa: ANN001 - matplotlib Figure
    import matplotlib as mpl

    meta = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}[fmt]
    with mpl.rc_context({"svg.hashsalt": "coretech", "svg.fonttype": "path"}), \
            atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, metadata=meta, dpi=120)


def write_plots(out_dir: Path, lag_table: pd.DataFrame, table: pd.DataFrame, *, fmt: str = "png",
                national: pd.DataFrame | None = None,
                reference: tuple[int, int] | None = None) -> list[str]:
    """Write ``lag_distribution.<fmt>`` and ``raw_vs_adjusted.<fmt>`` into ``out_dir``.

    The second plot draws national totals (``national``: :func:`coretech.indicators.
    breakthrough.national_table`, computed from ``table`` when not given): a year that
    cannot be adjusted is a gap in K_adj marked "not adjustable" (never a drop to 0), a
    factor above the large-factor threshold is labelled with its value, and the reference
    window that estimated T_s is shaded.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if fmt not in FORMATS:
        raise ValueError(f"plot format must be png or svg, got {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.bar(lag_table["s"], lag_table["share"], color="#4c72b0", label="T_s (pooled)")
    for col in [c for c in lag_table.columns if c.startswith("share_")]:
        ax.plot(lag_table["s"], lag_table[col], marker="o", lw=1, label=col[6:])
    ax2 = ax.twinx()
    ax2.plot(lag_table["s"], lag_table["cum_share"], color="#c44e52", lw=1.5, label="cumulative")
    ax2.set_ylim(0, 1.05)
    ax.set_xlabel("s = grant year - application year")
    ax.set_ylabel("share of grants")
    ax2.set_ylabel("cumulative share")
    ax.set_title("Grant-lag distribution T_s (eq. 5)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="center right", fontsize=8)
    fig.tight_layout()
    p = out_dir / f"lag_distribution.{fmt}"
    _save(fig, p, fmt)
    plt.close(fig)
    files.append(str(p))

    if national is None:
        from coretech.indicators.breakthrough.adjust import national_table

        national = national_table(table, reference=reference, adjust_from=None)
    nat = national
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    if reference is not None:
        ax.axvspan(reference[0] - 0.5, reference[1] + 0.5, color="#dddddd", alpha=0.6, lw=0,
                   label=f"reference window {reference[0]}-{reference[1]} (estimates T_s)")
    ax.plot(nat["year"], nat["k_raw"], marker="o", label="K_raw (granted by T)")
    # NaN stays NaN: a year that cannot be adjusted is a gap, not a 0
    ax.plot(nat["year"], nat["k_adj"].astype(float), marker="s", label="K_adj (eq. 5)")
    bad = nat["status"].astype(str).str.startswith("not adjustable")
    if bad.any():
        ax.scatter(nat.loc[bad, "year"], nat.loc[bad, "k_raw"], marker="x", s=60, color="#c44e52",
                   zorder=5, label="not adjustable (denominator 0): K_adj empty")
        for y, k in zip(nat.loc[bad, "year"], nat.loc[bad, "k_raw"], strict=True):
            ax.annotate("not adjustable", (y, k), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=7, color="#c44e52")
    big = nat["flag"].astype(str) != ""
    for y, k, f in zip(nat.loc[big, "year"], nat.loc[big, "k_adj"], nat.loc[big, "factor"],
                       strict=True):
        ax.annotate(f"x{f:.0f} (large factor)", (y, k), textcoords="offset points",
                    xytext=(0, -12), ha="center", fontsize=7, color="#8c564b")
    if {"k_adj_lo", "k_adj_hi"} <= set(table.columns):
        b = table.groupby("year", as_index=False)[["k_adj_lo", "k_adj_hi"]].sum(min_count=1)
        ax.fill_between(b["year"], b["k_adj_lo"], b["k_adj_hi"], alpha=0.25,
                        label="bootstrap interval (sum of city bounds)")
    ax.set_xlabel("application year")
    ax.set_ylabel("core-technology patents, all cities")
    ax.set_title("Raw vs lag-adjusted counts")
    ax.legend(fontsize=8)
    fig.tight_layout()
    p = out_dir / f"raw_vs_adjusted.{fmt}"
    _save(fig, p, fmt)
    plt.close(fig)
    files.append(str(p))
    return files
