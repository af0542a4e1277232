"""What a robustness section says: a one-paragraph reading and a plot along each path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from coretech.io import atomic_path


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def reading(results: pd.DataFrame, influence: pd.DataFrame, target: str, *, level: float = 0.95) -> str:
    """One paragraph on ``target``: where the estimate stays inside the dictionary's interval.

    "The estimate (0.41, 95% CI 0.30-0.52) stays within its 95% interval for thresholds
    0.4-0.8 and top-k for k >= 3; removing 碳纤维 alone moves it by -0.20 (-1.8 SE); over
    100 bootstrap catalogues it ranges 0.33-0.47 (2.5-97.5 percentiles)."
    """
    r = results[results["target"] == target]
    base = r[r["kind"] == "dictionary"]
    if base.empty or not np.isfinite(base["coef"].iloc[0]):
        return f"{target}: the dictionary's own estimate could not be computed."
    b = base.iloc[0]
    pct = int(round(level * 100))
    parts = [f"{target}: the estimate with the dictionary is {_fmt(b['coef'])} "
             f"({pct}% CI {_fmt(b['ci_lo'])} to {_fmt(b['ci_hi'])}, N = {int(b['nobs'])})"]
    inside = (r["coef"] >= b["ci_lo"]) & (r["coef"] <= b["ci_hi"])
    for kind, label in (("threshold", "score thresholds"), ("topk", "top-k")):
        sub = r[r["kind"] == kind]
        if sub.empty:
            continue
        ok = sub[inside.loc[sub.index]]
        if ok.empty:
            parts.append(f"it leaves that interval at every {label} value")
        elif len(ok) == len(sub):
            parts.append(f"it stays within that interval for every {label} value "
                         f"({sub['parameter'].iloc[0]} to {sub['parameter'].iloc[-1]})")
        else:
            vals = ", ".join(ok["parameter"].tolist())
            parts.append(f"it stays within that interval for {label} {vals} "
                         f"({len(ok)} of {len(sub)})")
    inf = influence[influence["target"] == target]
    if len(inf):
        top = inf.iloc[0]
        name = f"{top['tech_id']} ({top['name']})" if top["name"] else str(top["tech_id"])
        share = top["delta"] / b["coef"] if b["coef"] else np.nan
        parts.append(f"removing {name} alone moves it by {top['delta']:+.3g} "
                     f"({top['delta_se']:+.2g} SE, {share:+.0%} of the estimate)")
    boot = r[r["kind"] == "bootstrap"]["coef"].dropna()
    if len(boot) >= 10:
        lo, hi = np.percentile(boot, [2.5, 97.5])
        parts.append(f"over {len(boot)} bootstrap catalogues it ranges {_fmt(lo)} to {_fmt(hi)} "
                     "(2.5-97.5 percentiles)")
    auto = r[r["kind"] == "auto"]
    if len(auto):
        parts.append(f"the matcher's own dictionary before review gives {_fmt(auto['coef'].iloc[0])}")
    return "; ".join(parts) + "."


def write_plot(results: pd.DataFrame, path: Path, target: str) -> Path:
    """Write :func:`figure` as a PNG (deterministic: no software stamp)."""
    import matplotlib as mpl

    fig = figure(results, target)
    with mpl.rc_context({"svg.hashsalt": "coretech"}), atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None}, dpi=110)
    return path


def figure(results: pd.DataFrame, target: str):  # noqa: ANN201 - matplotlib Figure
    """The coefficient with its interval along the threshold and top-k paths, and the
    jackknife estimates; the dictionary's estimate and interval as a band."""
    from matplotlib.figure import Figure

    r = results[results["target"] == target]
    base = r[r["kind"] == "dictionary"].iloc[0]
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, kind, label in ((axes[0], "threshold", "score threshold"),
                            (axes[1], "topk", "top-k codes per technology")):
        sub = r[r["kind"] == kind]
        ax.axhspan(base["ci_lo"], base["ci_hi"], color="#dddddd", label="dictionary 95% CI")
        ax.axhline(base["coef"], color="#555555", lw=1)
        if len(sub):
            x = sub["parameter"].astype(float).to_numpy()
            y = sub["coef"].to_numpy(float)
            ax.errorbar(x, y, yerr=[y - sub["ci_lo"].to_numpy(float), sub["ci_hi"].to_numpy(float) - y],
                        fmt="o-", ms=3, lw=1, capsize=2, color="#4c72b0")
        ax.set_xlabel(label)
        ax.set_ylabel("coefficient")
    axes[0].set_title(f"{target}: threshold path", fontsize=9)
    axes[1].set_title("top-k path", fontsize=9)
    jk = r[r["kind"] == "jackknife"].sort_values("coef")
    ax = axes[2]
    ax.axvspan(base["ci_lo"], base["ci_hi"], color="#dddddd")
    ax.axvline(base["coef"], color="#555555", lw=1)
    if len(jk):
        ax.plot(jk["coef"], np.arange(len(jk)), "o", ms=2, color="#c44e52")
    ax.set_yticks([])
    ax.set_xlabel("coefficient without one technology")
    ax.set_title("jackknife over technologies", fontsize=9)
    return fig


def report_section(rep, folder: Path) -> None:  # noqa: ANN001 - an HTMLReport
    """The report's section: the reading per target, the plot, the most influential items."""
    import json

    meta = folder / "sensitivity.meta.json"
    res_path = folder / "sensitivity.csv"
    if not (meta.is_file() and res_path.is_file()):
        return
    rec = json.loads(meta.read_text(encoding="utf-8"))
    res = pd.read_csv(res_path)
    inf = pd.read_csv(folder / "influence.csv") if (folder / "influence.csv").is_file() else None
    rep.heading("Dictionary sensitivity")
    rep.paragraph(
        "How much the estimates move when the dictionary changes: the breakthrough variable "
        "is re-computed (eq. 5) and the mechanism regressions re-estimated under "
        f"{rec.get('counts', {}).get('variants', '?')} dictionary variants (score thresholds, "
        "top-k codes per technology, each technology left out, technologies resampled). "
        "See docs/sensitivity.md; the results are sensitivity/sensitivity.csv and "
        "influence.csv.")
    for target, text in sorted(rec.get("reading", {}).items()):
        rep.paragraph(text)
        if (res["target"] == target).any():
            rep.figure(figure(res, target), caption=f"{target}: coefficient and 95% interval "
                       "along each path; grey band: the dictionary's interval")
        if inf is not None and len(inf):
            top = inf[inf["target"] == target].head(5)
            rep.table(top.drop(columns=["target"]), caption="Most influential technologies "
                      "(jackknife: coefficient without the technology)", digits=4, max_rows=None)
