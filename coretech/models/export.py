"""Writers of :class:`coretech.models.tables.Table` to CSV, LaTeX, Word, Excel and HTML.

Every writer is atomic (temporary file, then rename) and deterministic: Word and Excel files
are zip archives whose entries carry the time of writing, so they are re-packed with a fixed
timestamp, and their document properties are pinned (``coretech.io.fix_workbook_timestamps``
for Excel, the same stamps for Word) - re-running gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable
from copy import deepcopy
from pathlib import Path
from typing import Any

from coretech.errors import InputError
from coretech.io import (
    FIXED_TIMESTAMP,
    atomic_write_bytes,
    atomic_write_text,
    fix_workbook_timestamps,
    normalise_zip,
    text_cells_as_text,
)
from coretech.models.config import FORMATS
from coretech.models.tables import Table


def to_csv(table: Table) -> str:
    """The grid, then (as in the Excel sheet) a blank row and one note per row in the first
    column: the notes (stars, standard errors, "simulated data") travel with the numbers."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in table.grid():
        w.writerow(row)
    if table.notes:
        w.writerow([])
        for n in table.notes:
            w.writerow([n])
    return buf.getvalue()


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "<": "$<$", ">": "$>$", "≤": r"$\leq$", "≥": r"$\geq$", "×": r"$\times$",
        "–": "--", "—": "---", "…": r"\ldots{}", "χ": r"$\chi$", "²": "$^2$"}
_P_TEST = re.compile(r"(?<![\w\\])p\$([<>])\$(\d*\.?\d+)")
_MINUS = re.compile(r"(?<![\w.])-(?=\d)")
_STARS = re.compile(r"(?<![\w*])(\*{1,3})(?=[\s,;.]|$)")


def _tex(s: str) -> str:
    """LaTeX for a cell or note: specials escaped; ``<``/``>`` and ``p<0.01`` in math mode (so
    no T1 font encoding is needed); trailing significance stars as a superscript."""
    out = "".join(_TEX.get(ch, ch) for ch in s)
    out = out.replace("R$^2$", "$R^2$")
    out = _P_TEST.sub(r"$p\1\2$", out)
    out = _MINUS.sub("$-$", out)  # a minus sign, not a hyphen
    for st in ("***", "**", "*"):
        if out.endswith(st) and out[: -len(st)][-1:].isdigit():
            return out[: -len(st)] + "$^{" + st + "}$"
    return out


def _tex_note(s: str) -> str:
    return _STARS.sub(lambda m: "$^{" + m.group(1) + "}$", _tex(s))


_CAPTION_NUMBER = re.compile(r"^\s*(?:Table|Tab\.|表)\s*[0-9A-Za-z]+\s*[.:：．]?\s*")

#: Widths of Computer Modern Roman 10 pt (cmr10.tfm) in em, for the printable ASCII range
#: (``chr(33)`` ... ``chr(126)``); a space is 0.333 em. Used to estimate column widths.
_CMR10 = [float(x) for x in (
    ".2778 .5 .8333 .5 .8333 .7778 .2778 .3889 .3889 .5 .7778 .2778 .3333 .2778 .5 .5 .5 .5 .5 "
    ".5 .5 .5 .5 .5 .5 .2778 .2778 .2778 .7778 .4722 .4722 .7778 .75 .7083 .7222 .7639 .6806 "
    ".6528 .7847 .75 .3611 .5139 .7778 .625 .9167 .75 .7778 .6806 .7778 .7361 .5556 .7222 .75 "
    ".75 1.0278 .75 .75 .6111 .2778 .5 .2778 .5 .2778 .2778 .5 .5556 .4444 .5556 .4444 .3056 .5 "
    ".5556 .2778 .3056 .5278 .2778 .8333 .5556 .5 .5556 .5278 .3917 .3944 .3889 .5556 .5278 "
    ".7222 .5278 .5278 .4444 .5 1.0 .5 .5").split()]
#: LaTeX sizes tried, largest first: (command, font size in pt, width of cmrN per pt relative
#: to cmr10 -- smaller optical sizes are wider --, \tabcolsep in pt).
_SIZES = (("", 10.0, 1.0, 6.0), (r"\small", 9.0, 1.029, 5.0), (r"\small", 9.0, 1.029, 4.0),
          (r"\footnotesize", 8.0, 1.063, 4.0), (r"\footnotesize", 8.0, 1.063, 3.0))
_LAST_SIZES = ((r"\scriptsize", 7.0, 1.165, 3.0), (r"\scriptsize", 7.0, 1.165, 2.0))
_SPLIT = re.compile(r"^(\S+)\s+(\[[^\]]*\])$")  # "0.3229 [0.8088]": statistic [p]
#: Text-block width the layout is computed for: the standard ``article`` class at 10 pt
#: (345 pt, 12.1 cm). Column widths are written as fractions of ``\linewidth``.
TEXT_WIDTH_PT = 345.0


def _em(text: str) -> float:
    """Estimated width of ``text`` in em of cmr10 (stars after a number as a superscript)."""
    w = 0.0
    core = text
    m = re.search(r"\d(\*{1,3})$", text)
    if m:
        core = text[: -len(m.group(1))]
        w += 0.45 * len(m.group(1))
    for ch in core:
        o = ord(ch)
        if ch == " ":
            w += 0.3333
        elif 33 <= o <= 126:
            w += 1.35 if ch in "<>" else .7778 if ch == "-" else _CMR10[o - 33]
        elif unicodedata.east_asian_width(ch) in "WF":
            w += 1.0
        else:
            w += 0.6
    return w


def _is_numeric(cell: str) -> bool:
    """A cell of numbers (``0.9655**``, ``(0.0240)``, ``0.32 [0.81]``, ``Yes``, ``2860``)."""
    c = cell.strip()
    return not c or bool(re.fullmatch(r"[-−+]?[\d.,]*\d[\d.,]*\**|\([-−+]?[\d.,]+\)|"
                                      r"[-−+]?[\d.,]+\**\s*\[[\d.,]+\]|[A-Za-z]{1,4}|—|-", c))


def _lines(text: str, width: float, em: float) -> list[str]:
    """Greedy line breaks of ``text`` at spaces, lines at most ``width`` pt (words kept)."""
    out: list[str] = []
    for word in text.split():
        if out and _em(out[-1] + " " + word) * em <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    return out or [""]


def _layout(table: Table, text_width: float = TEXT_WIDTH_PT) -> dict:
    """Choose font size, \\tabcolsep, wrapped header cells and paragraph columns so that the
    table fits ``text_width`` pt (see :func:`to_latex`)."""
    k = table.width
    header, body = table.header, table.body
    wrappable = [j == 0 or any(not _is_numeric(r[j]) and " " in r[j].strip() for r in body)
                 for j in range(k)]
    budget = text_width - 2.0
    margin = 1.02

    def attempt(size: tuple, wrap_head: bool, wrap_body: bool) -> dict | None:
        _, pt, factor, sep = size
        em = pt * factor * margin
        def cell_w(j: int, c: str) -> float:
            m = _SPLIT.match(c.strip()) if wrap_body and not wrappable[j] else None
            return max(_em(x) for x in m.groups()) * em if m else _em(c) * em

        body_w = [max([cell_w(j, r[j]) for r in body] or [0.0]) for j in range(k)]
        head_lines = [[[c] for c in (r[j] for r in header)] for j in range(k)]
        head_w = [max([_em(r[j]) * em for r in header] or [0.0]) for j in range(k)]
        if wrap_head:
            for j in range(k):
                if head_w[j] > body_w[j] and not (wrap_body and wrappable[j]):
                    longest = max([_em(w) * em for r in header for w in r[j].split()] or [0.0])
                    target = max(body_w[j], longest)
                    head_lines[j] = [_lines(r[j], target, em) for r in header]
                    head_w[j] = max(_em(line) * em for cell in head_lines[j] for line in cell)
        nat = [max(body_w[j], head_w[j]) for j in range(k)]
        pad = 2 * sep * k
        widths: list[float | None] = [None] * k
        if sum(nat) + pad > budget:
            if not wrap_body:
                return None
            fixed = sum(nat[j] for j in range(k) if not wrappable[j])
            free = budget - pad - fixed
            wj = [j for j in range(k) if wrappable[j]]
            mins = {j: max([_em(w) * em for r in body + header for w in r[j].split()] or [0.0])
                    for j in wj}
            if free < sum(mins.values()):
                return None
            # share the free width in proportion to the natural widths, at least the longest word
            tot = sum(nat[j] for j in wj)
            alloc = {j: max(mins[j], free * nat[j] / tot) for j in wj}
            over = sum(alloc.values()) - free
            while over > 1e-6:
                slack = {j: alloc[j] - mins[j] for j in wj if alloc[j] - mins[j] > 1e-9}
                if not slack:
                    return None
                s_tot = sum(slack.values())
                for j, sl in slack.items():
                    alloc[j] -= over * sl / s_tot
                over = sum(alloc.values()) - free
            for j in wj:
                if alloc[j] < nat[j]:
                    widths[j] = alloc[j]
        return {"size": size[0], "sep": sep, "head": head_lines, "widths": widths,
                "split": wrap_body, "text_width": text_width}

    order = [(s, h, False) for s in _SIZES for h in (False, True)]
    order += [(s, True, True) for s in _SIZES[1:]]
    order += [(s, h, b) for s in _LAST_SIZES for h, b in ((False, False), (True, False), (True, True))]
    for size, h, b in order:
        got = attempt(size, h, b)
        if got is not None:
            got["resize"] = False
            return got
    last = _LAST_SIZES[-1]
    return {"size": last[0], "sep": last[3], "head": [[[r[j]] for r in header] for j in range(k)],
            "widths": [None] * k, "split": False, "text_width": text_width,
            "resize": True}  # last resort


def latex_caption(title: str) -> str:
    """The caption text: the title without its own "Table 3." number (LaTeX numbers tables)."""
    return _CAPTION_NUMBER.sub("", title, count=1) or title


def to_latex(table: Table, *, text_width_pt: float = TEXT_WIDTH_PT) -> str:
    """The table as a LaTeX ``table`` float: ``threeparttable`` with booktabs rules and the
    notes in a ``tablenotes`` block set to the table's width.

    Width rule: the table must fit a text block of ``text_width_pt`` (the standard article's
    345 pt). The natural layout is kept when it fits; otherwise, in this order, the font steps
    down (``\\small``, ``\\footnotesize``, with a narrower ``\\tabcolsep``), long header cells
    of number columns break into lines, and text columns (row labels, descriptions) become
    paragraph columns whose widths are fractions of ``\\linewidth``; ``\\resizebox`` (graphicx)
    only when nothing else fits. Numbers never wrap. ``<`` and ``p<0.01`` are set in math
    mode, so the default OT1 encoding prints them right. Needs ``booktabs`` and
    ``threeparttable``; Chinese tables need XeLaTeX with ``xeCJK`` (or ``ctex``).
    """
    k = table.width
    lay = _layout(table, text_width_pt)
    widths = lay["widths"]
    spec = []
    for j in range(k):
        if widths[j] is not None:
            frac = math.floor(widths[j] / lay["text_width"] * 1000) / 1000
            spec.append(f"p{{{frac:.3f}\\linewidth}}")
        else:
            spec.append("l" if j == 0 else "c")
    last_wraps = widths[-1] is not None
    eol = " \\tabularnewline" if last_wraps else " \\\\"

    def cell(j: int, text: str) -> str:
        t = _tex(text)
        if widths[j] is not None and j < k - 1 and t:
            return "\\raggedright " + t
        m = _SPLIT.match(text.strip()) if lay["split"] and widths[j] is None and j else None
        if m:  # statistic over its [p], like a coefficient over its SE
            return (f"\\begin{{tabular}}[t]{{@{{}}c@{{}}}}{_tex(m.group(1))} \\\\ "
                    f"{{[}}{_tex(m.group(2)[1:-1])}{{]}}\\end{{tabular}}")
        return t

    def head_cell(j: int, i: int) -> str:
        lines = lay["head"][j][i]
        if len(lines) > 1:
            return ("\\begin{tabular}[b]{@{}c@{}}" + " \\\\ ".join(_tex(x) for x in lines)
                    + "\\end{tabular}")
        return cell(j, lines[0])

    needs = "booktabs, threeparttable" + (", graphicx" if lay["resize"] else "")
    lines = [
        f"% {table.title}",
        f"% written by coretech.models (requires \\usepackage{{{needs}}})",
        "\\begin{table}[htbp]",
        "\\centering",
    ]
    if lay["size"]:
        lines.append(lay["size"])
    if lay["sep"] != 6.0:
        lines.append(f"\\setlength{{\\tabcolsep}}{{{lay['sep']:g}pt}}")
    lines += [
        "\\begin{threeparttable}",
        f"\\caption{{{_tex(latex_caption(table.title))}}}",
        f"\\label{{tab:{table.name}}}",
    ]
    if lay["resize"]:
        lines.append("\\resizebox{\\linewidth}{!}{%")
    lines += [f"\\begin{{tabular}}{{{''.join(spec)}}}", "\\toprule"]
    for i in range(len(table.header)):
        lines.append(" & ".join(head_cell(j, i) for j in range(k)) + eol)
    lines.append("\\midrule")
    for r in table.body:
        lines.append(" & ".join(cell(j, c) for j, c in enumerate(r)) + eol)
    lines += ["\\bottomrule", "\\end{tabular}" + ("}" if lay["resize"] else "")]
    if table.notes:
        note_size = "\\footnotesize" if lay["size"] in ("", "\\small") else lay["size"]
        lines += ["\\begin{tablenotes}[flushleft]", note_size]
        lines += [f"\\item[] {_tex_note(n)}" for n in table.notes]
        lines.append("\\end{tablenotes}")
    lines += ["\\end{threeparttable}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def to_html(table: Table) -> str:
    """A self-contained page in the three-rule layout, notes under the table: the same
    renderer as the study report (:func:`coretech.htmlreport.table_page`)."""
    from coretech.htmlreport import table_page

    lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in table.title) else "en"
    return table_page(table.title, table.header, table.body, table.notes, lang=lang)


#: Times New Roman advance widths (per 1000 em; Adobe Times-Roman metrics, which Times New
#: Roman and Liberation Serif share) for the printable ASCII range chr(32) ... chr(126).
_TIMES = [int(x) for x in (
    "250 333 408 500 500 833 778 333 333 333 500 564 250 333 250 278 500 500 500 500 500 500 "
    "500 500 500 500 278 278 564 564 564 444 921 722 667 667 722 611 556 722 722 333 389 722 "
    "611 889 722 722 556 722 667 556 611 722 722 944 722 722 611 333 278 333 469 500 333 444 "
    "500 444 500 444 333 500 500 278 278 500 278 778 500 500 500 500 333 389 278 500 500 722 "
    "500 500 444 480 200 480 541").split()]
#: Word table layout: font, font size (pt), cell margin left + right (pt), A4 page margin (mm).
DOCX_FONT, DOCX_EAST_ASIA_FONT, DOCX_SIZE, DOCX_NOTE_SIZE = "Times New Roman", "SimSun", 9.0, 8.0
_DOCX_CELL_PAD = 2 * 5.4 + 2.0
DOCX_PAGE_MARGIN_MM = 25.0


def docx_text_width(text: str, size: float = DOCX_SIZE, *, bold: bool = False) -> float:
    """Estimated width in pt of ``text`` set in Times New Roman at ``size`` pt (bold: +8%)."""
    w = 0.0
    for ch in text:
        o = ord(ch)
        if 32 <= o <= 126:
            w += _TIMES[o - 32]
        elif unicodedata.east_asian_width(ch) in "WF":
            w += 1000
        else:
            w += 600
    return w / 1000 * size * (1.08 if bold else 1.0)


def _docx_columns(table: Table, avail: float) -> list[float] | None:
    """Column widths (pt) that fit the content without wrapping, or with text columns wrapped
    at spaces when that is the only way to fit ``avail``; None when even that does not fit."""
    k = table.width
    nh = len(table.header)
    grid = table.grid()
    nat = [max(docx_text_width(r[j], bold=i < nh) for i, r in enumerate(grid)) * 1.05
           + _DOCX_CELL_PAD for j in range(k)]
    if sum(nat) <= avail:
        return nat
    wrappable = [j == 0 or any(not _is_numeric(r[j]) and " " in r[j].strip() for r in table.body)
                 for j in range(k)]
    fixed = sum(nat[j] for j in range(k) if not wrappable[j])
    wj = [j for j in range(k) if wrappable[j]]
    mins = {j: max(docx_text_width(w, bold=i < nh) for i, r in enumerate(grid)
                   for w in (r[j].split() or [""])) * 1.05 + _DOCX_CELL_PAD for j in wj}
    free = avail - fixed
    if not wj or free < sum(mins.values()):
        return None
    tot = sum(nat[j] for j in wj)
    out = list(nat)
    for j in wj:
        out[j] = max(mins[j], free * nat[j] / tot)
    scale_free = free - sum(mins.values())
    extra = sum(out[j] - mins[j] for j in wj)
    if extra > scale_free > 0:
        for j in wj:
            out[j] = mins[j] + (out[j] - mins[j]) * scale_free / extra
    return out


def _border(parent, tag: str, edges: dict[str, tuple[str, int]]):  # noqa: ANN001, ANN202
    """``<w:tag>`` with one ``<w:edge w:val w:sz w:space w:color>`` per edge."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    box = OxmlElement(f"w:{tag}")
    for edge, (val, size) in edges.items():
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), val)
        e.set(qn("w:sz"), str(size))
        e.set(qn("w:space"), "0")
        e.set(qn("w:color"), "000000" if val != "nil" else "auto")
        box.append(e)
    return box


def to_docx(table: Table) -> bytes:
    """The table as a Word document: A4, a three-line table (a 1.5 pt rule above and below
    the table, 0.75 pt under the header; no other borders), Times New Roman 9 pt with no
    spacing around cell paragraphs, and column widths fitted to the content so numbers such
    as ``0.9655**`` and row labels do not wrap. A table too wide for an A4 portrait text block
    (160 mm) is set on A4 landscape; only beyond that do row-label/text columns wrap."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = docx.Document()
    props = doc.core_properties
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    props.last_printed = FIXED_TIMESTAMP
    props.author = "coretech"
    props.last_modified_by = "coretech"
    props.revision = 1
    props.title = table.title
    normal = doc.styles["Normal"]
    normal.font.name = DOCX_FONT
    normal.font.size = Pt(DOCX_SIZE)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), DOCX_EAST_ASIA_FONT)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0

    sec = doc.sections[0]
    margin = Mm(DOCX_PAGE_MARGIN_MM)
    sec.top_margin = sec.bottom_margin = sec.left_margin = sec.right_margin = margin
    mm_pt = 72 / 25.4
    portrait = (210 - 2 * DOCX_PAGE_MARGIN_MM) * mm_pt
    landscape = (297 - 2 * DOCX_PAGE_MARGIN_MM) * mm_pt
    widths = _docx_columns(table, portrait)
    natural = widths is not None and _docx_columns(table, float("inf")) == widths
    wide = not natural  # landscape before any wrapping
    if wide:
        widths = _docx_columns(table, landscape)
    if wide:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
    else:
        sec.page_width, sec.page_height = Mm(210), Mm(297)
    if widths is None:  # nothing fits: equal shares of the landscape block (cells wrap)
        widths = [landscape / table.width] * table.width

    title = doc.add_paragraph()
    run = title.add_run(table.title)
    run.bold = True
    run.font.size = Pt(DOCX_SIZE + 1)
    title.paragraph_format.space_after = Pt(4)
    title.paragraph_format.keep_with_next = True

    grid = table.grid()
    nh = len(table.header)
    t = doc.add_table(rows=len(grid), cols=table.width)
    t.autofit = False
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    tbl_pr = t._tbl.tblPr
    borders = _border(tbl_pr, "tblBorders", {"top": ("single", 12), "left": ("nil", 0),
                                             "bottom": ("single", 12), "right": ("nil", 0),
                                             "insideH": ("nil", 0), "insideV": ("nil", 0)})
    # schema order of w:tblPr: ... jc, tblCellSpacing, tblInd, tblBorders, shd, tblLayout
    # (autofit off: fixed), tblCellMar, tblLook
    after = [c for c in tbl_pr if c.tag in (qn("w:shd"), qn("w:tblLayout"), qn("w:tblCellMar"),
                                            qn("w:tblLook"))]
    if after:
        after[0].addprevious(borders)
    else:
        tbl_pr.append(borders)
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is not None:
        tbl_w.set(qn("w:type"), "dxa")
        tbl_w.set(qn("w:w"), str(round(sum(widths) * 20)))
    for gc, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        gc.set(qn("w:w"), str(round(w * 20)))
    protos: dict[tuple[bool, bool], Any] = {}  # (first column, header row) -> a formatted <w:p>
    for i, (row_obj, row) in enumerate(zip(t.rows, grid, strict=True)):  # t.cell(i, j) is O(cells)
        tr_pr = row_obj._tr.get_or_add_trPr()
        cant = OxmlElement("w:cantSplit")
        tr_pr.append(cant)
        if i < nh:
            tr_pr.append(OxmlElement("w:tblHeader"))
        for j, (cell, val) in enumerate(zip(row_obj.cells, row, strict=True)):
            cell.width = Pt(widths[j])
            # the cell's paragraph: a copy of the first one formatted alike (python-docx's
            # setters search the XML on every call: ~60% of the time of a table, same XML)
            look = (j == 0, i < nh)
            if look in protos:
                cell._tc.clear_content()
                para = deepcopy(protos[look])
                cell._tc.append(para)
                para.r_lst[0].text = val
            else:
                cell.text = val
                for p in cell.paragraphs:
                    pf = p.paragraph_format
                    pf.space_before = Pt(0)
                    pf.space_after = Pt(0)
                    pf.line_spacing = 1.0
                    p.alignment = WD_ALIGN_PARAGRAPH.LEFT if j == 0 else WD_ALIGN_PARAGRAPH.CENTER
                    for r in p.runs:
                        r.font.size = Pt(DOCX_SIZE)
                        r.bold = i < nh
                protos[look] = deepcopy(cell._tc.p_lst[0])
            if i == nh - 1:  # the rule under the header
                tc_pr = cell._tc.get_or_add_tcPr()
                box = _border(tc_pr, "tcBorders", {"bottom": ("single", 6)})
                w = tc_pr.find(qn("w:tcW"))  # tcW, gridSpan, vMerge come before tcBorders
                if w is not None:
                    w.addnext(box)
                else:
                    tc_pr.insert(0, box)
    for n in table.notes:
        p = doc.add_paragraph()
        p.add_run(n).font.size = Pt(DOCX_NOTE_SIZE)
        p.paragraph_format.space_after = Pt(0)
    if table.notes:
        doc.paragraphs[-len(table.notes)].paragraph_format.space_before = Pt(3)
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
