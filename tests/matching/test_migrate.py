"""IPC edition migration with a concordance list in WIPO's format (fixture)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coretech.cli import main
from coretech.errors import InputError
from coretech.matching.migrate import migrate_dictionary, read_concordance, run_migrate

FIX = Path(__file__).parent / "fixtures"
RCL = FIX / "ipc_concordancelist_20260101.xml"

DICT = """tech_id,ipc_code,kind,score,rank,method,evidence,decision
IGBT,H01L29/739,subgroup,0.95,1,tfidf,IGBT,auto
IGBT,H01L29/78,subgroup,0.70,2,tfidf,MOSFET,auto
IGBT,H01L27/06,subgroup,0.60,3,tfidf,集成,auto
IGBT,H01L27/07,subgroup,0.65,4,tfidf,集成,accepted
PKG,H01L25/00,main_group,0.80,1,tfidf,封装,auto
AI,G06N3/08,subgroup,0.90,1,tfidf,学习,auto
AI,G06F19/00,main_group,0.30,2,tfidf,,auto
AI,G06N20/00,main_group,0.85,3,tfidf,机器学习,auto
"""


@pytest.fixture
def dic(tmp_path) -> Path:
    p = tmp_path / "dictionary.csv"
    p.write_text(DICT, encoding="utf-8")
    return p


def test_read_concordance():
    c = read_concordance(RCL)
    assert (c.from_version, c.to_version) == ("20250101", "20260101")
    assert len(c.entries) == 7
    assert [t.symbol for t in c.entries["H01L29/78"]] == ["H10D30/60", "H10D30/01"]
    assert [t.default for t in c.entries["H01L29/78"]] == [True, False]
    assert c.entries["G06F19/00"] == []
    assert c.kept("H01L29/78", "default") == ["H10D30/60"]
    assert c.kept("H01L29/78", "all") == ["H10D30/60", "H10D30/01"]
    assert c.kept("H01L25/00", "default") == ["H10B80/00", "H10D80/00"]  # none flagged


def test_migrate_by_hand(dic):
    out, rep, counts = migrate_dictionary(pd.read_csv(dic, dtype=str), read_concordance(RCL))
    got = list(zip(out.tech_id, out.ipc_code, out.migrated_from, strict=True))
    assert got == [
        ("IGBT", "H10D12/00", "H01L29/739"),
        ("IGBT", "H10D30/60", "H01L29/78"),
        ("IGBT", "H10D84/00", "H01L27/06;H01L27/07"),
        ("PKG", "H10B80/00", "H01L25/00"),
        ("PKG", "H10D80/00", "H01L25/00"),
        ("AI", "G06N3/08", ""),
        ("AI", "G06N20/00", ""),
    ]
    o = out.set_index(["tech_id", "ipc_code"])
    # merged: the better-scoring row (H01L27/07, 0.65, accepted) wins; the best rank is kept
    assert o.loc[("IGBT", "H10D84/00"), "score"] == "0.65"
    assert o.loc[("IGBT", "H10D84/00"), "decision"] == "accepted"
    assert o.loc[("IGBT", "H10D84/00"), "rank"] == "3"
    assert o.loc[("IGBT", "H10D12/00"), "kind"] == "main_group"
    changes = {(t, c): ch for t, c, ch in zip(rep.tech_id, rep.old_code, rep.change, strict=True)}
    assert changes == {
        ("IGBT", "H01L29/739"): "moved", ("IGBT", "H01L29/78"): "split",
        ("IGBT", "H01L27/06"): "merged", ("IGBT", "H01L27/07"): "merged",
        ("PKG", "H01L25/00"): "split", ("AI", "G06N3/08"): "narrowed",
        ("AI", "G06F19/00"): "deleted",
    }
    r = rep.set_index("old_code")
    assert r.loc["H01L29/78", "other_targets"] == "H10D30/01"
    assert r.loc["G06N3/08", "other_targets"] == "G06N3/09"
    assert counts["moved"] == 1 and counts["split"] == 2 and counts["merged"] == 2
    assert counts["deleted"] == 1 and counts["narrowed"] == 1
    assert (counts["rows_in"], counts["rows_out"], counts["technologies_affected"]) == (8, 7, 3)


def test_split_all_and_new_scheme_check(dic, tmp_path):
    out, rep, counts = migrate_dictionary(pd.read_csv(dic, dtype=str), read_concordance(RCL),
                                          split="all", scheme_codes={"H10D12/00", "G06N3/08"})
    codes = set(zip(out.tech_id, out.ipc_code, strict=True))
    assert ("IGBT", "H10D30/01") in codes and ("AI", "G06N3/09") in codes
    assert len(out) == 9
    missing = set(rep.loc[rep.change == "not_in_new_scheme", "old_code"])
    assert "G06N20/00" in missing and "H10D12/00" not in missing


def test_migrate_command(dic, tmp_path, capsys):
    out, rep = tmp_path / "dictionary.2026.csv", tmp_path / "changes.csv"
    rc = main(["migrate", str(dic), "--concordance", str(RCL), "--out", str(out),
               "--report", str(rep)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "20250101 -> 20260101" in text and "moved 1" in text and "deleted 1" in text
    first = out.read_bytes()
    assert len(pd.read_csv(rep)) == 7
    meta = (tmp_path / "dictionary.2026.meta.json").read_text(encoding="utf-8")
    assert '"to_version": "20260101"' in meta
    run_migrate(dic, concordance=RCL, out=out)
    assert out.read_bytes() == first
    # the migrated dictionary audits like any other
    assert pd.read_csv(out)["ipc_code"].str.startswith("H01L").sum() == 0


def test_bad_concordance_lists(tmp_path, dic):
    p = tmp_path / "c.xml"
    p.write_text("<IPCConcordanceList><concordance from-symbol='H01L99/zz'/></IPCConcordanceList>",
                 encoding="utf-8")
    with pytest.raises(InputError, match=r"c.xml: concordance #1: from-symbol 'H01L99/zz'"):
        read_concordance(p)
    p.write_text("<scheme/>", encoding="utf-8")
    with pytest.raises(InputError, match="expected a WIPO concordance list"):
        read_concordance(p)
    p.write_text("<IPCConcordanceList><concordance", encoding="utf-8")
    with pytest.raises(InputError, match="not well-formed XML"):
        read_concordance(p)
    with pytest.raises(InputError, match="--split must be one of"):
        run_migrate(dic, concordance=RCL, out=tmp_path / "o.csv", split="some")
