"""The study report: one self-contained HTML file, plus its tables as files.

:func:`run_report` reads what the pipeline wrote into a study's output folder (the dictionary,
the breakthrough variable and lag table, the models' tables and estimates, the provenance) and
writes ``report/report.html`` (figures inline as SVG, no network, Chinese text readable) and
``report/tables/*.csv``: the dictionary summary, the lag adjustment, the mechanism paths and the
heterogeneity estimates. Sections whose stage did not run say so instead of showing nothing.
The page is assembled by the shared HTML builder :mod:`coretech.htmlreport` when present.

:func:`assemble_panel` builds the models' panel from the input panel, the computed indicators
and the measured ``Sicoughs``.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError

SIMULATED_NOTE = (
    "The patents and the city panel of this run are SIMULATED: no number in this report "
    "describes real cities. Patent symbols are real IPC codes and application-to-grant lags "
    "follow the distribution measured on a real CNIPA sample, but the applications, grants and "
    "every panel variable are drawn by a random generator with known effects."
)


# =========================================================================== panel assembly
def assemble_panel(
    panel: str | Path,
    *,
    out: str | Path,
    sicoughs: str | Path | None = None,
    indicators: str | Path | None = None,
    merge_sicoughs: str = "column",
) -> dict[str, Any]:
    """Join the input panel, computed indicators and the measured Sicoughs on (city, year).

    ``merge_sicoughs``: with ``"column"`` the measured variable is added as
    ``Sicoughs_measured`` when the panel already has ``Sicoughs`` (and as ``Sicoughs`` when it
    has none); with ``"replace"`` it replaces the panel's ``Sicoughs`` (city-years without a
    measured value keep none). Indicator columns the panel already has are replaced by the
    computed ones. Returns counts of what was merged.
    """
    from coretech.io import read_table, write_table

    if merge_sicoughs not in ("column", "replace"):
        raise InputError(f"merge_sicoughs must be 'column' or 'replace', got {merge_sicoughs!r}")
    df = read_table(panel, as_text=False, required=("city", "year"))
    df["city"] = df["city"].astype(str)
    df["year"] = pd.to_numeric(df["year"], errors="raise").astype(int)
    dup = df.duplicated(["city", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"duplicate city-year {df['city'].iat[i]} {df['year'].iat[i]}", file=panel, row=i + 2
        )
    counts: dict[str, Any] = {"panel_rows": len(df)}
    if indicators is not None and Path(indicators).is_file():
        ind = read_table(indicators, as_text=False, required=("city", "year"))
        ind["city"] = ind["city"].astype(str)
        ind["year"] = pd.to_numeric(ind["year"]).astype(int)
        cols = [c for c in ind.columns if c not in ("city", "year")]
        df = df.drop(columns=[c for c in cols if c in df.columns]).merge(
            ind, on=["city", "year"], how="left", validate="one_to_one"
        )
        counts["indicator_columns"] = cols
    if sicoughs is not None and Path(sicoughs).is_file():
        s = read_table(sicoughs, as_text=False, required=("city", "year", "sicoughs"))
        s = s.assign(city=s["city"].astype(str), year=pd.to_numeric(s["year"]).astype(int))
        s = s[["city", "year", "sicoughs"]]
        target = (
            "Sicoughs_measured"
            if merge_sicoughs == "column" and "Sicoughs" in df.columns
            else "Sicoughs"
        )
        if target in df.columns:
            df = df.drop(columns=[target])
        merged = df.merge(s.rename(columns={"sicoughs": target}), on=["city", "year"], how="left")
        counts["sicoughs_column"] = target
        counts["sicoughs_matched_city_years"] = int(merged[target].notna().sum())
        counts["sicoughs_unmatched_city_years"] = int(merged[target].isna().sum())
        if target != "Sicoughs" and "Sicoughs" in merged.columns:
            ok = merged[[target, "Sicoughs"]].dropna()
            if len(ok) > 2:
                counts["corr_measured_vs_panel"] = round(float(ok.corr().iloc[0, 1]), 6)
        df = merged
    df = df.sort_values(["city", "year"], kind="mergesort").reset_index(drop=True)
    write_table(df, out)
    counts["rows"] = len(df)
    return {"stage": "panel", "outputs": {"panel": str(out)}, "counts": counts}


# =========================================================================== figures
def _svg(fig: Any) -> str:
    """A matplotlib figure as deterministic inline SVG (no date, fixed ids)."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": "coretech", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "coretech"},
                    bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK SC", "sans-serif"]
    return plt


def lag_plot(sicoughs: pd.DataFrame, lags: pd.DataFrame | None) -> str:
    """Raw vs lag-adjusted national counts by year, and the lag distribution T_s (eq. 5)."""
    plt = _plt()
    ncols = 2 if lags is not None and len(lags) else 1
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols + 1, 3.2))
    axes = np.atleast_1d(axes)
    nat = sicoughs.groupby("year")[["k_raw", "k_adj"]].sum().sort_index()
    ax = axes[0]
    ax.plot(nat.index, nat["k_raw"], marker="o", ms=3, label="raw (granted by end year)")
    ax.plot(nat.index, nat["k_adj"], marker="s", ms=3, label="lag-adjusted (eq. 5)")
    ax.set_xlabel("application year")
    ax.set_ylabel("core-technology patents, all cities")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Raw vs adjusted counts", fontsize=10)
    if ncols == 2:
        ax = axes[1]
        ax.bar(lags["s"].astype(int), lags["share"].astype(float), color="#4c72b0")
        ax.set_xlabel("s = grant year − application year")
        ax.set_ylabel("share T_s")
        ax.set_title("Lag distribution (reference window)", fontsize=10)
    fig.tight_layout()
    return _svg(fig)


def heterogeneity_plot(est: pd.DataFrame) -> str:
    """Coefficients with 95% CIs by group (columns group, coef, se[, dimension])."""
    plt = _plt()
    est = est.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(est) + 1.2))
    y = np.arange(len(est))[::-1]
    ci = 1.959964 * est["se"].astype(float)
    ax.errorbar(est["coef"].astype(float), y, xerr=ci, fmt="o", color="#c44e52", capsize=3)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels(est["group"].astype(str))
    ax.set_xlabel("coefficient of D with 95% CI")
    ax.set_title("Heterogeneity (Table 6)", fontsize=10)
    fig.tight_layout()
    return _svg(fig)


def mechanism_svg(paths: pd.DataFrame, *, d: str = "Cialomy", y: str = "Nycives") -> str:
    """An inline SVG of D -> M -> Y with each path's estimate (columns mediator, a, a_se, b,
    b_se); ``a`` is M on D (eq. 2), ``b`` is Y on M (eq. 3)."""
    n = max(len(paths), 1)
    h = 70 + 70 * n
    w = 640
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="mechanism paths">',
        '<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="7" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>',
        '<style>text{font-family:sans-serif;font-size:13px}.c{font-size:12px;fill:#333}</style>',
    ]

    def box(x: float, yy: float, label: str) -> None:
        parts.append(f'<rect x="{x - 55}" y="{yy - 16}" width="110" height="32" rx="6" '
                     'fill="#eef3fb" stroke="#4c72b0"/>')
        parts.append(f'<text x="{x}" y="{yy + 5}" text-anchor="middle">{html.escape(label)}</text>')

    cy = h / 2
    box(70, cy, f"D: {d}")
    box(w - 70, cy, f"Y: {y}")
    for i, r in enumerate(paths.itertuples(index=False)):
        my = 50 + 70 * i
        box(w / 2, my, f"M: {r.mediator}")
        parts.append(f'<line x1="125" y1="{cy}" x2="{w / 2 - 57}" y2="{my}" stroke="#333" '
                     'marker-end="url(#arr)"/>')
        parts.append(f'<line x1="{w / 2 + 55}" y1="{my}" x2="{w - 127}" y2="{cy}" stroke="#333" '
                     'marker-end="url(#arr)"/>')
        parts.append(f'<text class="c" x="{(125 + w / 2 - 57) / 2 - 10}" y="{(cy + my) / 2 - 6}" '
                     f'text-anchor="middle">{_fmt(r.a, r.a_se)}</text>')
        parts.append(f'<text class="c" x="{(w / 2 + 55 + w - 127) / 2 + 10}" '
                     f'y="{(cy + my) / 2 - 6}" text-anchor="middle">{_fmt(r.b, r.b_se)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _stars(coef: float, se: float) -> str:
    from scipy.stats import norm

    if not np.isfinite(se) or se <= 0:
        return ""
    p = 2 * (1 - norm.cdf(abs(coef / se)))
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def _fmt(coef: float, se: float) -> str:
    return f"{coef:.4f}{_stars(coef, se)} ({se:.4f})"


# =========================================================================== sections
def _table_html(df: pd.DataFrame, *, max_rows: int = 60) -> str:
    shown = df.head(max_rows)
    out = shown.to_html(index=False, border=0, classes="data", na_rep="", escape=True)
    if len(df) > max_rows:
        out += f"<p class='note'>… {len(df) - max_rows} more rows in the CSV file.</p>"
    return out


def dictionary_summary(dictionary: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame:
    """One row per technology: names, field, category, number of codes, best code and score."""
    d = dictionary.copy()
    if "decision" in d.columns:
        d = d[d["decision"].astype(str).isin(["auto", "accepted", "added"])]
    d["score"] = pd.to_numeric(d.get("score"), errors="coerce")
    d["rank"] = pd.to_numeric(d.get("rank"), errors="coerce")
    best = d.sort_values(["tech_id", "rank"], kind="mergesort").groupby("tech_id").head(1)
    agg = d.groupby("tech_id").agg(n_codes=("ipc_code", "size"))
    agg = agg.join(best.set_index("tech_id")[["ipc_code", "score"]].rename(
        columns={"ipc_code": "best_code", "score": "best_score"}))
    if catalogue is not None:
        cols = [c for c in ("tech_id", "name_zh", "name_en", "field", "category")
                if c in catalogue.columns]
        base = catalogue[cols].copy()
        out = base.merge(agg.reset_index(), on="tech_id", how="left")
        out["n_codes"] = out["n_codes"].fillna(0).astype(int)
    else:
        out = agg.reset_index()
    if "best_score" in out.columns:
        out["best_score"] = out["best_score"].round(4)
    return out


def _read(path: Path) -> pd.DataFrame | None:
    from coretech.io import read_table

    return read_table(path, as_text=False) if path.is_file() else None


def _provenance_html(prov: Mapping[str, Any] | None) -> str:
    if not prov:
        return "<p>No provenance record.</p>"
    rows = []
    for stage, e in prov.get("stages", {}).items():
        ins = "<br>".join(
            f"{html.escape(k)}: <code>{html.escape(str(v.get('path')))}</code> "
            f"<span class='hash'>{(v.get('sha256') or '')[:12]}</span>"
            for k, v in (e.get("inputs") or {}).items()
        )
        outs = "<br>".join(
            f"<code>{html.escape(str(v.get('path')))}</code> "
            f"<span class='hash'>{(v.get('sha256') or '')[:12]}</span>"
            for v in (e.get("outputs") or {}).values()
        )
        opts = html.escape(json.dumps(e.get("options", {}), ensure_ascii=False, sort_keys=True,
                                      default=str))
        status = html.escape(e.get("status", ""))
        msg = html.escape(e.get("message", "") or e.get("note", ""))
        rows.append(f"<tr><td>{html.escape(stage)}</td><td>{status}<br><small>{msg}</small></td>"
                    f"<td>{ins}</td><td><code>{opts}</code></td><td>{outs}</td></tr>")
    pk = ", ".join(f"{html.escape(k)} {html.escape(str(v))}"
                   for k, v in sorted(prov.get("packages", {}).items()))
    return (
        "<table class='data prov'><thead><tr><th>stage</th><th>status</th><th>inputs "
        "(SHA-256)</th><th>options</th><th>outputs (SHA-256)</th></tr></thead><tbody>"
        + "".join(rows)
        + f"</tbody></table><p class='note'>Packages: {pk}. Full record: "
        "<code>provenance.json</code>; wall-clock timings are kept apart in "
        "<code>timings.json</code>.</p>"
    )


def run_report(
    study_out: str | Path = ".",
    *,
    out: str | Path = "report/report.html",
    study: Any = None,
    provenance: Mapping[str, Any] | None = None,
    title: str = "coretech study report",
) -> dict[str, Any]:
    """Write the study report (HTML) and its tables from a study's output folder."""
    root = Path(study_out)
    out = Path(out)
    tables = out.parent / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    from coretech.io import write_table

    written: dict[str, str] = {}
    sections: list[tuple[str, str]] = []
    simulated = bool(study is not None and ("simulate" in (study.patents, study.panel)))
    illustrative = bool(
        study is not None and study.catalogue is not None
        and "illustrative" in Path(study.catalogue).name
    )
    banner = []
    if illustrative:
        from coretech.demo import CATALOGUE_NOTE

        banner.append(CATALOGUE_NOTE)
    if simulated:
        banner.append(SIMULATED_NOTE)

    # --- dictionary
    dic = _read(root / "match" / "dictionary.csv")
    if dic is not None:
        cat = None
        if study is not None and study.catalogue is not None:
            from coretech.io import read_table

            cat = read_table(study.catalogue)
        summ = dictionary_summary(dic, cat)
        p = tables / "dictionary_summary.csv"
        write_table(summ, p)
        written["dictionary_summary"] = str(p)
        kinds = dic["kind"].value_counts().to_dict() if "kind" in dic.columns else {}
        head = (f"<p>{len(dic)} dictionary rows for {dic['tech_id'].nunique()} technologies; "
                f"codes by level: {html.escape(json.dumps(kinds, ensure_ascii=False))}. "
                f"Technologies with no code: {int((summ['n_codes'] == 0).sum())}.</p>")
        sections.append(("Dictionary", head + _table_html(summ)))
    else:
        sections.append(("Dictionary", "<p>The match stage did not run.</p>"))

    # --- lag adjustment
    sic = _read(root / "breakthrough" / "sicoughs.csv")
    if sic is not None:
        lags = _read(root / "breakthrough" / "lags.csv")
        nat = sic.groupby("year")[["k_raw", "k_adj"]].sum().reset_index()
        p = tables / "lag_adjustment.csv"
        write_table(nat, p)
        written["lag_adjustment"] = str(p)
        sections.append(("Grant-lag adjustment (eq. 5)", lag_plot(sic, lags)
                         + _table_html(nat.round(3))))
    else:
        sections.append(("Grant-lag adjustment (eq. 5)", "<p>The breakthrough stage did not run."
                         "</p>"))

    # --- models
    sections.extend(_model_sections(root / "models", tables, written))

    # --- provenance
    sections.append(("Provenance", _provenance_html(provenance)))
    page = _page(title, banner, sections)
    from coretech.io import atomic_write_text

    atomic_write_text(out, page)
    return {"stage": "report", "outputs": {"report": str(out), **written},
            "simulated": simulated, "illustrative_catalogue": illustrative}


def _model_sections(models: Path, tables: Path, written: dict[str, str]) -> list[tuple[str, str]]:
    if not models.is_dir():
        return [("Models (Tables 2–7)", "<p>The models stage did not run.</p>")]
    out: list[tuple[str, str]] = []
    for f in sorted(models.glob("table*.csv")):
        df = _read(f)
        if df is not None:
            out.append((f.stem.replace("_", " ").capitalize(), _table_html(df.fillna(""))))
    return out or [("Models (Tables 2–7)", "<p>No tables found.</p>")]


CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:2em}.banner{background:#fff4e5;border:1px solid #f0a030;padding:.8em 1em;
border-radius:6px}table.data{border-collapse:collapse;font-size:.85em;margin:.5em 0}
table.data td,table.data th{border-bottom:1px solid #e4e4e4;padding:.25em .6em;text-align:left;
vertical-align:top}code{font-size:.9em}.hash{color:#888;font-family:monospace}
.note{color:#555;font-size:.9em}svg{max-width:100%;height:auto}
"""


def _page(title: str, banner: list[str], sections: list[tuple[str, str]]) -> str:
    try:
        from coretech import htmlreport  # type: ignore[attr-defined]
    except ImportError:
        htmlreport = None
    body_banner = "".join(f"<p>{html.escape(b)}</p>" for b in banner)
    if htmlreport is not None and hasattr(htmlreport, "render_page"):
        return htmlreport.render_page(title=title, banner=body_banner, sections=sections)
    toc = "".join(f"<li><a href='#s{i}'>{html.escape(h)}</a></li>" for i, (h, _) in
                  enumerate(sections))
    secs = "".join(f"<section id='s{i}'><h2>{html.escape(h)}</h2>{b}</section>" for i, (h, b) in
                   enumerate(sections))
    ban = f"<div class='banner'>{body_banner}</div>" if banner else ""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>"
            f"{html.escape(title)}</title><style>{CSS}</style></head><body><h1>"
            f"{html.escape(title)}</h1>{ban}<nav><ol>{toc}</ol></nav>{secs}</body></html>\n")
