"""Writers of :class:`coretech.models.tables.Table` to CSV, LaTeX, Word, Excel and HTML.

Every writer is atomic (temporary file, then rename) and deterministic: Word and Excel files
are zip archives whose entries carry the time of writing, so they are re-packed with a fixed
timestamp, and their document properties are pinned (``coretech.io.fix_workbook_timestamps``
for Excel, the same stamps for Word) - re-running gives byte-identical files.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable
from pathlib import Path

from coretech.errors import InputError
from coretech.io import (
    FIXED_TIMESTAMP,
    atomic_write_bytes,
    atomic_write_text,
    fix_workbook_timestamps,
    normalise_zip,
    text_cells_as_text,
)
from coretech.models.tables import Table

FORMATS = ("csv", "tex", "docx", "xlsx", "html")


def to_csv(table: Table) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in table.grid():
        w.writerow(row)
    return buf.getvalue()


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(s: str) -> str:
    out = "".join(_TEX.get(ch, ch) for ch in s)
    out = out.replace("R²", "$R^2$")
    for st in ("***", "**", "*"):
        if out.endswith(st) and out[: -len(st)][-1:].isdigit():
            return out[: -len(st)] + "$^{" + st + "}$"
    return out


def to_latex(table: Table) -> str:
    k = table.width - 1
    lines = [
        f"% {table.title}",
        "% written by coretech.models (requires \\usepackage{booktabs})",
        "\\begin{table}[htbp]",
        "\\centering",
        f"\\caption{{{_tex(table.title)}}}",
        f"\\label{{tab:{table.name}}}",
        f"\\begin{{tabular}}{{l{'c' * k}}}",
        "\\toprule",
    ]
    for r in table.header:
        lines.append(" & ".join(_tex(c) for c in r) + " \\\\")
    lines.append("\\midrule")
    for r in table.body:
        lines.append(" & ".join(_tex(c) for c in r) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    for n in table.notes:
        lines.append(f"\\par\\footnotesize {_tex(n)}")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def to_html(table: Table) -> str:
    e = html.escape
    rows = []
    for r in table.header:
        rows.append("<tr>" + "".join(f"<th>{e(c)}</th>" for c in r) + "</tr>")
    body = []
    for r in table.body:
        body.append("<tr>" + f"<th scope=\"row\">{e(r[0])}</th>" + "".join(f"<td>{e(c)}</td>" for c in r[1:]) + "</tr>")
    notes = "".join(f"<p class=\"note\">{e(n)}</p>" for n in table.notes)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{e(table.title)}</title>\n"
        "<style>body{font-family:'Times New Roman','Noto Serif CJK SC',serif;margin:2em}"
        "table{border-collapse:collapse}caption{font-weight:bold;margin-bottom:.5em}"
        "thead tr:first-child th{border-top:2px solid #000}thead tr:last-child th{border-bottom:1px solid #000}"
        "tbody tr:last-child th,tbody tr:last-child td{border-bottom:2px solid #000}"
        "th,td{padding:2px 12px;text-align:center}tbody th{text-align:left;font-weight:normal}"
        ".note{font-size:small}</style>\n</head>\n<body>\n"
        f"<table>\n<caption>{e(table.title)}</caption>\n<thead>\n" + "\n".join(rows)
        + "\n</thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n"
        + notes + "\n</body>\n</html>\n"
    )


def to_docx(table: Table) -> bytes:
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    props = doc.core_properties
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    props.last_printed = FIXED_TIMESTAMP
    props.author = "coretech"
    props.last_modified_by = "coretech"
    props.revision = 1
    props.title = table.title
    doc.add_paragraph(table.title).runs[0].bold = True
    grid = table.grid()
    t = doc.add_table(rows=len(grid), cols=table.width)
    for i, (row_obj, row) in enumerate(zip(t.rows, grid, strict=True)):
        for cell, val in zip(row_obj.cells, row, strict=True):  # t.cell(i, j) is O(cells)
            cell.text = val
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(9)
                    run.bold = i < len(table.header)
    for n in table.notes:
        doc.add_paragraph(n).runs[0].font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return normalise_zip(buf.getvalue())


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = table.name[:31]
    ws.cell(row=1, column=1, value=table.title).font = Font(bold=True)
    for i, row in enumerate(table.grid()):
        for j, val in enumerate(row):
            c = ws.cell(row=3 + i, column=1 + j, value=val)
            c.alignment = Alignment(horizontal="left" if j == 0 else "center")
            if i < len(table.header):
                c.font = Font(bold=True)
    r = 3 + len(table.grid()) + 1
    for n in table.notes:
        ws.cell(row=r, column=1, value=n).font = Font(size=8)
        r += 1
    ws.column_dimensions["A"].width = 24
    text_cells_as_text(wb)
    fix_workbook_timestamps(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return normalise_zip(buf.getvalue())


def write_table_formats(table: Table, out_dir: str | Path, formats: Iterable[str] = FORMATS) -> dict[str, Path]:
    """Write ``table`` as ``<out_dir>/<name>.<fmt>`` for each format; returns the paths."""
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    for f in formats:
        if f not in FORMATS:
            raise InputError(f"unknown table format {f!r}; use {', '.join(FORMATS)}", column="formats")
        p = out / f"{table.name}.{f}"
        if f == "csv":
            atomic_write_text(p, to_csv(table))
        elif f == "tex":
            atomic_write_text(p, to_latex(table))
        elif f == "html":
            atomic_write_text(p, to_html(table))
        elif f == "docx":
            atomic_write_bytes(p, to_docx(table))
        else:
            atomic_write_bytes(p, to_xlsx(table))
        paths[f] = p
    return paths
