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
    (T3 gone); rescored: G06N3/12 (0.8 -> 0.6); redecided: B60L53/00 (auto -> accepted, other
    notation); unchanged: G06N3/08."""
    d = diff_dictionaries(pd.read_csv(files[0], dtype=str), pd.read_csv(files[1], dtype=str))
    got = {(t, c): ch for t, c, ch in zip(d.tech_id, d.ipc_code, d.change, strict=True)}
    assert got == {
        ("T1", "G06N3/08"): "unchanged", ("T1", "G06N3/12"): "rescored",
        ("T1", "G06N20/00"): "added", ("T1", "H04L9/32"): "removed",
        ("T2", "B60L53/00"): "redecided", ("T3", "F21V23/00"): "removed",
        ("T4", "H02J7/00"): "added",
    }
    row = d.set_index(["tech_id", "ipc_code"]).loc[("T1", "G06N3/12")]
    assert row["delta"] == pytest.approx(-0.2)
    s, per = diff_summary(d)
    assert s["codes"] == {"added": 2, "removed": 2, "rescored": 1, "redecided": 1,
                          "unchanged": 1}
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
    assert len(ch) == 6 and "unchanged" not in set(ch["change"])
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
