"""coretech diff: codes added, removed and re-scored, worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from coretech.cli import main
from coretech.errors import InputError
from coretech.matching.diff import diff_dictionaries, diff_summary, run_diff

OLD = """tech_id,ipc_code,score,rank,decision
T1,G06N3/08,0.9,1,auto
T1,G06N3/12,0.8,2,auto
T1,H04L9/32,0.7,3,auto
T2,B60L53/00,0.5,1,auto
T3,F21V23/00,0.3,1,auto
"""
NEW = """tech_id,ipc_code,score,rank,decision
T1,G06N 3/08,0.9,1,auto
T1,G06N3/12,0.6,2,auto
T1,G06N20/00,0.4,3,auto
T1,H04L9/32,0.7,4,rejected
T2,B60L0053000000,0.5,1,accepted
T4,H02J7/00,0.9,1,auto
"""


@pytest.fixture
def files(tmp_path):
    o, n = tmp_path / "old.csv", tmp_path / "new.csv"
    o.write_text(OLD, encoding="utf-8")
    n.write_text(NEW, encoding="utf-8")
    return o, n


def test_diff_by_hand(files):
    """added: G06N20/00 (T1), H02J7/00 (T4); removed: H04L9/32 (rejected in NEW), F21V23/00
    (T3 gone); rescored: G06N3/12 (0.8 -> 0.6); confirmed: B60L53/00 (auto -> accepted, other
    notation: a reviewer kept the matcher's code, not a change); unchanged: G06N3/08."""
    d = diff_dictionaries(pd.read_csv(files[0], dtype=str), pd.read_csv(files[1], dtype=str))
    got = {(t, c): ch for t, c, ch in zip(d.tech_id, d.ipc_code, d.change, strict=True)}
    assert got == {
        ("T1", "G06N3/08"): "unchanged", ("T1", "G06N3/12"): "rescored",
        ("T1", "G06N20/00"): "added", ("T1", "H04L9/32"): "removed",
        ("T2", "B60L53/00"): "confirmed", ("T3", "F21V23/00"): "removed",
        ("T4", "H02J7/00"): "added",
    }
    row = d.set_index(["tech_id", "ipc_code"]).loc[("T1", "G06N3/12")]
    assert row["delta"] == pytest.approx(-0.2)
    s, per = diff_summary(d)
    assert s["codes"] == {"added": 2, "removed": 2, "rescored": 1, "redecided": 0,
                          "confirmed": 1, "unchanged": 1}
    assert s["technologies_changed"] == 3  # T1, T3, T4 -- not T2 (only confirmed)
    assert (s["codes_old"], s["codes_new"]) == (5, 5)
    assert s["technologies_only_old"] == ["T3"] and s["technologies_only_new"] == ["T4"]
    assert s["jaccard"] == pytest.approx(3 / 7)
    p = per.set_index("tech_id")
    assert tuple(p.loc["T1", ["n_old", "n_new", "added", "removed", "rescored"]]) == (3, 3, 1, 1, 1)
    assert p.loc["T1", "jaccard"] == pytest.approx(2 / 4)


def test_tolerance(files):
    d = diff_dictionaries(pd.read_csv(files[0], dtype=str), pd.read_csv(files[1], dtype=str),
                          tolerance=0.25)
    assert d.set_index("ipc_code").loc["G06N3/12", "change"] == "unchanged"


def test_diff_command_writes_changes(files, tmp_path, capsys):
    out = tmp_path / "changes.csv"
    assert main(["diff", str(files[0]), str(files[1]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "added 2  removed 2  rescored 1" in printed
    ch = pd.read_csv(out, dtype=str)
    assert len(ch) == 5 and {"unchanged", "confirmed"}.isdisjoint(ch["change"])
    assert (tmp_path / "changes.meta.json").exists()
    first = out.read_bytes()
    run_diff(files[0], files[1], out=out)
    assert out.read_bytes() == first
    run_diff(files[0], files[1], out=out, include_unchanged=True)
    assert len(pd.read_csv(out)) == 7


def test_diff_errors(tmp_path, files):
    bad = tmp_path / "bad.csv"
    bad.write_text("tech_id,ipc_code\nT1,G06N3/08\nT1,G06N 3/08\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv, row 3, column 'ipc_code': T1 G06N3/08 "
                                         r"appears more than once"):
        run_diff(files[0], bad)
    bad.write_text("tech_id,ipc_code\nT1,X06N3/08\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv, row 2, column 'ipc_code'"):
        run_diff(files[0], bad)
    bad.write_text("tech_id,code\nT1,G06N3/08\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        run_diff(files[0], bad)


def test_diff_after_a_review_lists_only_the_reviewed_rows(tmp_path):
    """Export a review of a 3-technology dictionary, change 4 decisions, apply: the diff of the
    matcher's dictionary and the reviewed one reports those 4 rows and their 3 technologies --
    not every pre-filled ``accept`` left as it was (auto -> accepted is a confirmation)."""
    from pathlib import Path

    from openpyxl import load_workbook

    from coretech.matching.review import run_review_apply, run_review_export

    fix = Path(__file__).parent / "fixtures"
    dic, cand = fix / "dictionary_small.csv", fix / "candidates_small.csv"
    wb_path = tmp_path / "review.xlsx"
    run_review_export(dic, candidates=cand, out=wb_path, blank_rows=2)
    wb = load_workbook(wb_path)
    ws = wb["review"]
    col = {c.value: c.column_letter for c in ws[1]}
    row = {(ws[f"A{r}"].value, ws[f"C{r}"].value): r for r in range(2, ws.max_row + 1)}
    d = col["decision"]
    ws[f"{d}{row[('T1', 'G06N3/12')]}"] = "reject"  # a dictionary code -> removed
    ws[f"{d}{row[('T1', 'G06N20/00')]}"] = "accept"  # a candidate -> added
    ws[f"{d}{row[('T2', 'H02J7/00')]}"] = "reject"  # a candidate rejected -> redecided
    ws[f"{d}{row[('T3', 'G02B6/00')]}"] = "accept"  # -> added (T3 is not in the dictionary)
    wb.save(wb_path)
    reviewed = tmp_path / "reviewed.csv"
    run_review_apply(wb_path, dictionary=dic, out=reviewed, candidates=cand,
                     ipc=fix / "tiny_scheme.csv")
    out = tmp_path / "changes.csv"
    rec = run_diff(dic, reviewed, out=out)
    s = rec["summary"]
    assert s["codes"]["confirmed"] == 5  # the untouched pre-filled accepts
    assert {k: s["codes"][k] for k in ("added", "removed", "rescored", "redecided")} == {
        "added": 2, "removed": 1, "rescored": 0, "redecided": 1}
    ch = pd.read_csv(out, dtype=str)
    assert sorted(zip(ch.tech_id, ch.ipc_code, ch.change, strict=True)) == [
        ("T1", "G06N20/00", "added"), ("T1", "G06N3/12", "removed"),
        ("T2", "H02J7/00", "redecided"), ("T3", "G02B6/00", "added")]
    assert s["technologies_changed"] == 3
    assert (s["codes_old"], s["codes_new"]) == (6, 7)
