"""Word and Excel table files: a three-line table on A4 with fitted columns; text stays text."""

from __future__ import annotations

import io

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from docx.shared import Mm

from coretech.models.export import docx_text_width, to_docx, to_xlsx
from coretech.models.study import ModelsConfig
from coretech.models.suite import run_suite
from coretech.models.tables import Table


@pytest.fixture(scope="module")
def demo_tables(panel):
    return run_suite(panel, ModelsConfig.from_mapping({"permutations": 19})).tables


def _open(table: Table) -> docx.document.Document:
    return docx.Document(io.BytesIO(to_docx(table)))


def _edge(parent, box: str, edge: str):  # noqa: ANN001
    el = parent.find(qn(f"w:{box}"))
    return None if el is None else el.find(qn(f"w:{edge}"))


def test_table3_is_a_three_line_table_on_a4_portrait(demo_tables):
    t = demo_tables["table3"]
    d = _open(t)
    sec = d.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(0.1) and abs(sec.page_height - Mm(297)) < Mm(0.1)
    tbl = d.tables[0]._tbl
    borders = tbl.tblPr
    for edge, size in (("top", "12"), ("bottom", "12")):
        e = _edge(borders, "tblBorders", edge)
        assert e is not None and e.get(qn("w:val")) == "single" and e.get(qn("w:sz")) == size
    for edge in ("insideH", "insideV", "left", "right"):
        assert _edge(borders, "tblBorders", edge).get(qn("w:val")) == "nil"
    nh = len(t.header)
    rows = d.tables[0].rows
    for cell in rows[nh - 1].cells:  # the rule under the header
        b = _edge(cell._tc.tcPr, "tcBorders", "bottom")
        assert b is not None and b.get(qn("w:val")) == "single"
    for cell in rows[nh].cells:
        assert cell._tc.tcPr.find(qn("w:tcBorders")) is None


@pytest.mark.parametrize("name", ["table2", "table3", "table4", "table5", "table6", "table7"])
def test_no_cell_wraps_and_no_spacing_after(demo_tables, name):
    t = demo_tables[name]
    d = _open(t)
    sec = d.sections[0]
    assert {round(sec.page_width.mm), round(sec.page_height.mm)} == {210, 297}
    text_width = (sec.page_width - sec.left_margin - sec.right_margin) / 12700  # EMU -> pt
    tbl = d.tables[0]
    widths = [int(g.get(qn("w:w"))) / 20 for g in tbl._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert sum(widths) <= text_width + 0.5
    nh = len(t.header)
    for i, row in enumerate(tbl.rows):
        for j, cell in enumerate(row.cells):
            assert cell.width.pt == pytest.approx(widths[j], abs=0.1)
            # the text and Word's default cell margins (2 x 5.4 pt) fit the column
            need = docx_text_width(cell.text, bold=i < nh) + 2 * 5.4
            assert need <= widths[j], (name, i, j, cell.text, need, widths[j])
            for p in cell.paragraphs:
                assert p.paragraph_format.space_after == 0
                assert p.paragraph_format.space_before == 0


def test_wide_tables_turn_landscape_before_wrapping():
    wide = Table("w", "Wide", [["", *[f"Outcome {i}" for i in range(9)]]],
                 [["A row label", *["-0.1234***"] * 9]])
    d = _open(wide)
    sec = d.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (297, 210)
    narrow = Table("n", "Narrow", [["", "y"]], [["x", "0.9655**"]])
    sec = _open(narrow).sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)


HOSTILE = '=HYPERLINK("http://evil.example/","click")'


def test_xlsx_export_writes_text_not_formulas(tmp_path):
    t = Table("t", HOSTILE, [["", "=1+1"]], [["@SUM(A1)", "-0.5000***"], ["+cmd", "0.1"]],
              notes=["=2*3"])
    p = tmp_path / "t.xlsx"
    p.write_bytes(to_xlsx(t))
    wb = openpyxl.load_workbook(p)
    cells = [c for row in wb.active.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert wb.active["A1"].value == HOSTILE and wb.active["A1"].quotePrefix
    assert {c.value for c in cells} >= {"=1+1", "@SUM(A1)", "-0.5000***", "+cmd", "=2*3"}
