"""Commands of the audit stage: ``audit``, ``review export``, ``review apply``, ``diff``,
``migrate`` (registered on the ``coretech`` app by :mod:`coretech.cli`).

Each is a thin wrapper around a file-level function (``run_audit``, ``run_review_export``,
``run_review_apply``, ``run_diff``, ``run_migrate``); heavy imports happen inside the
commands so that ``coretech --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

review_app = typer.Typer(
    help="Human review of a dictionary: export candidates to Excel, apply the decisions.\n\n"
    "Examples:\n"
    "coretech review export dict.csv --candidates cand.csv --out review.xlsx\n"
    "coretech review apply review.xlsx --dictionary dict.csv --out reviewed.csv",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def audit(
    dictionary: Path = typer.Argument(..., help="Dictionary CSV/XLSX from `coretech match` "
                                      "(tech_id, ipc_code, score, decision, ...)."),
    gold: Path = typer.Option(..., "--gold", help="Gold concordance: tech_id,pattern[,exclude] "
                              "table, JSON Lines (e.g. key_digital_2023.jsonl) or the WIPO "
                              "technology concordance CSV."),
    candidates: Path | None = typer.Option(None, "--candidates", help="Candidates file of "
                                           "`coretech match --candidates`: gives hit@1, "
                                           "recall@10 and the full PR curve."),
    ipc: Path | None = typer.Option(None, "--ipc", help="IPC scheme table (`coretech ipc "
                                    "load`); default: the embedded English scheme. Gold codes "
                                    "it lacks are counted apart, not as misses."),
    catalogue: Path | None = typer.Option(None, "--catalogue", help="Technology catalogue: "
                                          "its field/category columns group the coverage "
                                          "tables (default: the gold's groups)."),
    level: str = typer.Option("subclass", "--level", help="Level of the worst-miss table, the "
                              "coverage recall and the threshold panel: subclass, main_group "
                              "or subgroup."),
    out: Path | None = typer.Option(None, "--out", help="Write the HTML report here "
                                    "(one self-contained file)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the metrics here (JSON)."),
) -> None:
    """Measure a dictionary against an expert concordance (HTML report + JSON metrics).

    Precision, recall and F1 at subclass, main-group and subgroup level; hit@1 and recall@10
    of the candidates; a precision-recall curve over the score threshold; coverage by field;
    technologies with no match; the worst misses with their best candidates.

    Examples:
    coretech audit dict.csv --gold gold.csv --candidates cand.csv --out a.html
    coretech audit dict.csv --gold key_digital_2023.jsonl --json metrics.json
    """
    from coretech.matching.audit_report import run_audit

    rec = run_audit(dictionary, gold=gold, candidates=candidates, ipc=ipc, catalogue=catalogue,
                    level=level, out=out, json_out=json_out)
    m = rec["metrics"]

    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    for lv in ("subclass", "main_group", "subgroup"):
        d = m["levels"][lv]
        typer.echo(f"{lv:<11} precision {f(d['precision'])}  recall {f(d['recall'])}  "
                   f"f1 {f(d['f1'])}")
    typer.echo(f"hit@1 {f(m['hit_at_1'])}  recall@10 {f(m['recall_at_10'])}  technologies "
               f"{m['n_technologies']}  no match {m['n_technologies_no_match']}  gold codes not "
               f"in scheme {m['n_gold_codes_not_in_scheme']}")
    for p in (out, json_out):
        if p is not None:
            typer.echo(f"wrote {p}")


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    """Add this stage's commands to ``app``."""
    app.command("audit")(audit)
    _register_more(app)


def _register_more(app: typer.Typer) -> None:
    """review / diff / migrate."""
    app.add_typer(review_app, name="review")
    app.command("diff")(diff)
    app.command("migrate")(migrate)


@review_app.command("export")
def review_export(
    dictionary: Path = typer.Argument(..., help="Dictionary from `coretech match`."),
    candidates: Path = typer.Option(..., "--candidates", help="Candidates file of "
                                    "`coretech match --candidates` (one sheet row each)."),
    out: Path = typer.Option(..., "--out", help="The review workbook to write (.xlsx)."),
    ipc: Path | None = typer.Option(None, "--ipc", help="Scheme table for path titles "
                                    "(default: the path in the matcher's evidence)."),
    catalogue: Path | None = typer.Option(None, "--catalogue", help="Catalogue, for the "
                                          "technologies' names."),
    blank_per_tech: int = typer.Option(2, "--blank-per-tech", help="Blank rows under each "
                                       "technology for codes the reviewer adds."),
    blank_rows: int = typer.Option(20, "--blank-rows", help="Blank rows at the end of the "
                                   "sheet."),
) -> None:
    """Write an Excel workbook to review a dictionary's matches.

    One row per candidate with a decision drop-down (accept / reject), frozen header,
    filters, and blank rows where a reviewer adds codes.

    Examples:
    coretech review export dict.csv --candidates cand.csv --out review.xlsx
    """
    from coretech.matching.review import run_review_export

    rec = run_review_export(dictionary, candidates=candidates, out=out, ipc=ipc,
                            catalogue=catalogue, blank_per_tech=blank_per_tech,
                            blank_rows=blank_rows)
    c = rec["counts"]
    typer.echo(f"wrote {out}: {c['candidate_rows']} rows for {c['technologies']} technologies "
               f"({c['prefilled_accept']} pre-filled accept), {c['blank_rows']} blank rows")


@review_app.command("apply")
def review_apply(
    workbook: Path = typer.Argument(..., help="The review workbook, filled in."),
    dictionary: Path = typer.Option(..., "--dictionary", help="The dictionary that was "
                                    "exported."),
    out: Path = typer.Option(..., "--out", help="Reviewed dictionary to write (CSV/XLSX/...); "
                             "give it to `coretech match --overrides`."),
    candidates: Path | None = typer.Option(None, "--candidates", help="Candidates file (score "
                                           "and evidence of accepted candidates)."),
    ipc: Path | None = typer.Option(None, "--ipc", help="Scheme to check codes against "
                                    "(default: the one in the dictionary's .meta.json, else "
                                    "the embedded English scheme)."),
) -> None:
    """Read a filled-in review workbook, check every cell, write the reviewed dictionary.

    Decisions become accepted, rejected or added (auto where the reviewer left a row blank);
    give the result to `coretech match --overrides`.

    Examples:
    coretech review apply review.xlsx --dictionary dict.csv --out reviewed.csv
    """
    from coretech.matching.review import run_review_apply

    rec = run_review_apply(workbook, dictionary=dictionary, out=out, candidates=candidates,
                           ipc=ipc)
    c = rec["counts"]
    typer.echo(f"wrote {out}: accepted {c.get('accepted', 0)}, rejected {c.get('rejected', 0)}, "
               f"added {c.get('added', 0)}, unchanged {c.get('auto', 0)}")


def diff(
    old: Path = typer.Argument(..., help="The older dictionary."),
    new: Path = typer.Argument(..., help="The newer dictionary."),
    out: Path | None = typer.Option(None, "--out", help="Write the changed (technology, code) "
                                    "rows here (CSV/XLSX/...)."),
    include_unchanged: bool = typer.Option(False, "--all", help="Also write unchanged rows."),
    tolerance: float = typer.Option(1e-9, "--tolerance", help="Score changes up to this are "
                                    "not a re-score."),
    top: int = typer.Option(15, "--top", help="Technologies to list in the printed summary."),
) -> None:
    """Compare two dictionaries: codes added, removed and re-scored per technology.

    Prints a summary (rejected rows do not count as codes); --out writes the changed rows.

    Examples:
    coretech diff dictionary_v1.csv dictionary_v2.csv
    coretech diff dictionary_v1.csv dictionary_v2.csv --out changes.csv
    """
    from coretech.matching.diff import run_diff

    rec = run_diff(old, new, out=out, include_unchanged=include_unchanged, tolerance=tolerance)
    s = rec["summary"]
    c = s["codes"]
    typer.echo(f"codes: {s['codes_old']} -> {s['codes_new']}  added {c['added']}  removed "
               f"{c['removed']}  rescored {c['rescored']}  redecided {c['redecided']}  "
               f"confirmed {c['confirmed']}  unchanged {c['unchanged']}")
    jac = "n/a" if s["jaccard"] is None else f"{s['jaccard']:.3f}"
    typer.echo(f"technologies: {s['technologies_old']} -> {s['technologies_new']}  changed "
               f"{s['technologies_changed']}  only in OLD {len(s['technologies_only_old'])}  "
               f"only in NEW {len(s['technologies_only_new'])}  Jaccard {jac}")
    changed = [r for r in rec["per_technology"]
               if r["added"] or r["removed"] or r["rescored"] or r["redecided"]]
    if changed:
        typer.echo(f"{'tech_id':<20} {'old':>5} {'new':>5} {'+':>4} {'-':>4} {'~':>4}")
        for r in changed[:top]:
            typer.echo(f"{str(r['tech_id'])[:20]:<20} {r['n_old']:>5} {r['n_new']:>5} "
                       f"{r['added']:>4} {r['removed']:>4} {r['rescored']:>4}")
        if len(changed) > top:
            typer.echo(f"... and {len(changed) - top} more changed technologies")
    if out is not None:
        typer.echo(f"wrote {out}")


def migrate(
    dictionary: Path = typer.Argument(..., help="Dictionary in the old IPC edition."),
    concordance: Path = typer.Option(..., "--concordance", help="WIPO's revision concordance "
                                     "list, ipc_concordancelist_<edition>.xml."),
    out: Path = typer.Option(..., "--out", help="Migrated dictionary to write."),
    report: Path | None = typer.Option(None, "--report", help="Write one row per changed "
                                       "(technology, old code): moved, split, narrowed, "
                                       "merged, deleted."),
    split: str = typer.Option("default", "--split", help="Targets of a split code: 'default' "
                              "(those WIPO marks default-reclassification; all if none) or "
                              "'all'."),
    ipc: Path | None = typer.Option(None, "--ipc", help="The new edition's scheme table: flag "
                                    "migrated codes it lacks."),
) -> None:
    """Move a dictionary to the next IPC edition with WIPO's concordance list.

    Reports codes moved, split, narrowed, merged and deleted.

    Examples:
    coretech migrate dict.csv --concordance concordance.xml --out dict_2026.csv
    coretech migrate dict.csv --concordance conc.xml --out d.csv --split all
    """
    from coretech.matching.migrate import run_migrate

    rec = run_migrate(dictionary, concordance=concordance, out=out, report=report, split=split,
                      ipc=ipc)
    c = rec["counts"]
    typer.echo(f"{rec['from_version']} -> {rec['to_version']}: moved {c['moved']}, split "
               f"{c['split']}, merged {c['merged']}, narrowed {c['narrowed']}, deleted "
               f"{c['deleted']}; rows {c['rows_in']} -> {c['rows_out']}, technologies affected "
               f"{c['technologies_affected']}"
               + (f"; not in the new scheme {c['not_in_new_scheme']}" if ipc else ""))
    typer.echo(f"wrote {out}" + (f" and {report}" if report else ""))
