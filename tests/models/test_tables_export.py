"""Tables built from results, and their writers (CSV, LaTeX, Word, Excel, HTML)."""

from __future__ import annotations

import csv
import re
import zipfile

import docx
import openpyxl
import pytest

from coretech.models.export import FORMATS, to_latex, write_table_formats
from coretech.models.fe import twfe
from coretech.models.tables import Column, descriptive_table, regression_table, stars

from .conftest import CONTROLS


def test_stars():
    assert [stars(p) for p in (0.001, 0.0099, 0.01, 0.049, 0.05, 0.0999, 0.1, 0.5)] == \
        ["***", "***", "**", "**", "*", "*", "", ""]


@pytest.fixture(scope="module")
def table(panel):
    r1 = twfe(panel, "Nycives", ["Cialomy"])
    r2 = twfe(panel, "Nycives", ["Cialomy", *CONTROLS])
    return regression_table("t", "Test table", [Column(r1, "Nycives", controls=False), Column(r2, "Nycives")],
                            ["Cialomy", "Idetion"], decimals=4), r1, r2


def test_regression_table_cells_come_from_results(table, panel):
    t, r1, r2 = table
    assert t.header[-1] == ["", "(1)", "(2)"]
    coef = t.cell("Cialomy", 2)
    assert coef.startswith(f"{r2.params['Cialomy']:.4f}")
    assert coef.endswith(stars(float(r2.pvalues["Cialomy"])))
    assert t.cell("Cialomy", 2, offset=1) == f"({r2.std_errors['Cialomy']:.4f})"
    assert t.cell("Idetion", 1) == ""  # not in column 1
    assert t.cell("Constant", 1).startswith(f"{r1.params['_cons']:.4f}")
    assert t.cell("Controls", 1) == "No" and t.cell("Controls", 2) == "Yes"
    assert t.cell("N", 2) == "2860"
    assert t.cell("R² with FE", 2) == f"{r2.rsquared:.4f}"
    assert t.cell("Within R²", 2) == f"{r2.rsquared_within:.4f}"
    assert t.cell("Clusters (city)", 2) == str(panel["city"].nunique())
    assert t.cell("Mean of dep. var.", 2) == f"{panel['Nycives'].mean():.4f}"


def test_descriptives(panel):
    t = descriptive_table(panel, [("Dependent", ["Nycives"]), ("Controls", ["Idetion", "Mentel"])])
    row = t.body[0]
    assert row[2:] == ["Nycives", "2860", f"{panel.Nycives.mean():.4f}", f"{panel.Nycives.std():.4f}",
                       f"{panel.Nycives.min():.4f}", f"{panel.Nycives.max():.4f}"]
    assert t.body[1][0] == "Controls" and t.body[2][0] == ""


def test_all_formats_written_readable_and_byte_identical(table, tmp_path):
    t = table[0]
    a = write_table_formats(t, tmp_path / "a", FORMATS)
    b = write_table_formats(t, tmp_path / "b", FORMATS)
    for f in FORMATS:
        assert a[f].read_bytes() == b[f].read_bytes(), f
    rows = list(csv.reader(a["csv"].open(encoding="utf-8")))
    assert rows == [*t.grid(), [], *([n] for n in t.notes)]  # notes after a blank row
    d = docx.Document(str(a["docx"]))
    cells = [[c.text for c in r.cells] for r in d.tables[0].rows]
    assert cells == t.grid()
    assert d.core_properties.modified.year == 2000
    wb = openpyxl.load_workbook(a["xlsx"])
    ws = wb.active
    assert ws.cell(row=1, column=1).value == "Test table"
    assert [c.value or "" for c in ws[3 + len(t.header)]][:3] == t.body[0]
    assert all(i.date_time == (2000, 1, 1, 0, 0, 0) for i in zipfile.ZipFile(a["xlsx"]).infolist())
    html = a["html"].read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html)  # numbers and their stars are in separate spans
    assert "<caption>Test table</caption>" in html and t.body[0][1] in text
    tex = a["tex"].read_text(encoding="utf-8")
    assert "\\toprule" in tex and "$R^2$" in tex


def test_latex_escapes_and_stars():
    from coretech.models.tables import Table

    t = Table("x", "A & B_1", [["", "y"]], [["x_1", "0.5000***"], ["R²", "0.1"]])
    tex = to_latex(t)
    assert "A \\& B\\_1" in tex
    assert "x\\_1 & 0.5000$^{***}$" in tex


def test_unknown_format(table, tmp_path):
    from coretech.errors import InputError

    with pytest.raises(InputError, match="unknown table format"):
        write_table_formats(table[0], tmp_path, ["pdf"])
