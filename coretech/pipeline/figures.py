"""The study report's figures: the grant-lag adjustment, the heterogeneity estimates (matplotlib,
inlined as SVG by :mod:`coretech.htmlreport`) and the mechanism diagram (SVG drawn here)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd


def lag_figure(national: pd.DataFrame, lags: pd.DataFrame | None) -> Any:
    """Raw vs lag-adjusted national counts by year, and the lag distribution T_s (eq. 5)."""
    from coretech.htmlreport import new_figure

    two = lags is not None and len(lags) > 0 and {"s", "share"} <= set(lags.columns)
    fig, axes = new_figure(9.5 if two else 6, 3.4, ncols=2 if two else 1)
    axes = np.atleast_1d(axes)
    ax = axes[0]
    ax.plot(national["year"], national["k_raw"], marker="o", ms=3,
            label="raw: granted by the end year")
    ax.plot(national["year"], national["k_adj"], marker="s", ms=3, label="adjusted (eq. 5)")
    ax.set_xlabel("application year")
    ax.set_ylabel("core-technology patents, all cities")
    ax.set_title("Raw vs lag-adjusted counts", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    if two:
        ax = axes[1]
        ax.bar(lags["s"].astype(int), lags["share"].astype(float), color="#4c72b0")
        ax.set_xlabel("s = grant year − application year")
        ax.set_ylabel("T_s (share of eventual grants)")
        ax.set_title("Grant-lag distribution", fontsize=10)
    return fig


def heterogeneity_figure(est: pd.DataFrame) -> Any:
    """Coefficients with 95% CIs by group (columns ``group``, ``coef``, ``se``)."""
    from coretech.htmlreport import new_figure

    est = est.reset_index(drop=True)
    fig, ax = new_figure(6.5, 0.42 * len(est) + 1.3)
    y = np.arange(len(est))[::-1]
    ci = 1.959964 * est["se"].astype(float)
    ax.errorbar(est["coef"].astype(float), y, xerr=ci, fmt="o", color="#c44e52", capsize=3)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels(est["group"].astype(str))
    ax.set_xlabel("coefficient of the regressor, with 95% CI")
    return fig


def mechanism_svg(paths: pd.DataFrame, *, d: str = "Cialomy", y: str = "Nycives") -> str:
    """An inline SVG diagram of D -> M -> Y with each path's estimate.

    ``paths`` has columns ``mediator``, ``a``, ``a_se`` (M on D, eq. 2), ``b``, ``b_se``
    (Y on M, eq. 3).
    """
    n = max(len(paths), 1)
    w, h = 760, 30 + 90 * n
    cy = h / 2
    dx, yx, mx = 80, w - 80, w / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="mechanism paths D to M to Y">',
        '<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="7" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>',
    ]

    def box(x: float, yy: float, label: str) -> None:
        parts.append(f'<rect x="{x - 66:.1f}" y="{yy - 17:.1f}" width="132" height="34" rx="6" '
                     'fill="#eef3fb" stroke="#4c72b0"/>')
        parts.append(f'<text x="{x:.1f}" y="{yy + 5:.1f}" text-anchor="middle" '
                     f'font-family="sans-serif" font-size="13">{html.escape(label)}</text>')

    def label(x: float, yy: float, text: str) -> None:
        parts.append(f'<text x="{x:.1f}" y="{yy:.1f}" text-anchor="middle" '
                     'font-family="sans-serif" font-size="12" fill="#222" paint-order="stroke" '
                     f'stroke="#fff" stroke-width="4">{html.escape(text)}</text>')

    lines, labels = [], []
    for i, r in enumerate(paths.to_dict("records")):
        my = 15 + 45 + 90 * i
        box(mx, my, f"M: {r['mediator']}")
        x0, x1 = dx + 68, mx - 68
        lines.append(f'<line x1="{x0}" y1="{cy:.1f}" x2="{x1:.1f}" y2="{my:.1f}" '
                     'stroke="#333" marker-end="url(#arr)"/>')
        x2, x3 = mx + 66, yx - 70
        lines.append(f'<line x1="{x2:.1f}" y1="{my:.1f}" x2="{x3:.1f}" y2="{cy:.1f}" '
                     'stroke="#333" marker-end="url(#arr)"/>')
        t = 0.62  # along the line, nearer the mediator
        labels.append((x0 + t * (x1 - x0), cy + t * (my - cy) - 6, "a = " + _fmt(r["a"], r["a_se"])))
        labels.append((x3 - t * (x3 - x2), cy + t * (my - cy) - 6, "b = " + _fmt(r["b"], r["b_se"])))
    parts.extend(lines)
    box(dx, cy, f"D: {d}")
    box(yx, cy, f"Y: {y}")
    for x, yy, text in labels:
        label(x, yy, text)
    parts.append("</svg>")
    return "".join(parts)


def _stars(coef: float, se: float) -> str:
    from scipy.stats import norm

    if se is None or not np.isfinite(se) or se <= 0:
        return ""
    p = 2 * (1 - norm.cdf(abs(coef / se)))
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def _fmt(coef: float, se: float) -> str:
    if coef is None or not np.isfinite(coef):
        return "–"
    return f"{coef:.4f}{_stars(coef, se)} ({se:.4f})"
