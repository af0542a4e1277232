"""The audit metric definitions on small cases worked out by hand (see each docstring)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.ipc import Hierarchy
from coretech.matching.audit import (
    audit_metrics,
    candidate_metrics,
    level_metrics,
    per_technology,
    pr_curve,
)
from coretech.matching.gold import read_gold


@pytest.fixture
def gold(tmp_path):
    p = tmp_path / "gold.csv"
    p.write_text(
        "tech_id,pattern,exclude\n"
        "T1,G06N3*,G06N3/12\n"
        "T1,H04L9/32,\n"
        "T2,H01L21*,\n"
        "T2,B60L*,\n"
        "T3,F21*,\n",
        encoding="utf-8",
    )
    return read_gold(p)


@pytest.fixture
def dictionary():
    rows = [
        ("T1", "G06N3/08", 0.9, 1, "auto"),
        ("T1", "G06N3/12", 0.8, 2, "auto"),
        ("T1", "H04L9/32", 0.7, 3, "accepted"),
        ("T1", "G06F17/10", 0.6, 4, "auto"),
        ("T1", "G06N20/00", 0.3, 5, "rejected"),
        ("T2", "B60L53/00", 0.9, 1, "auto"),
        ("T2", "H10D12/00", 0.5, 2, "added"),
        ("T9", "G06N3/04", 0.9, 1, "auto"),  # not in the gold: ignored
    ]
    return pd.DataFrame(rows, columns=["tech_id", "ipc_code", "score", "rank", "decision"])


#: every code of the tiny world except H01L21/00 (a later edition moved H01L)
SCHEME = {"G06N3/00", "G06N3/08", "G06N3/12", "H04L9/32", "G06F17/10", "G06N20/00", "B60L",
          "B60L53/00", "H10D12/00", "F21", "G06N3/04", "H04L9/00"}


def test_subclass_level_by_hand(dictionary, gold):
    """T1: P={G06N,H04L,G06F}, G={G06N,H04L}: 2 correct, 2 covered (the subgroup exclusion
    G06N3/12 is finer than L and ignored). T2: P={B60L,H10D}, G={B60L*} (H01L21* set apart):
    1 correct, 1 covered. T3: P={}, G={F21*}: 0 covered. P = 3/5, R = 3/4."""
    m = level_metrics(dictionary, gold, "subclass", scheme_codes=SCHEME)
    assert (m["n_correct"], m["n_codes"], m["n_gold_covered"], m["n_gold"]) == (3, 5, 3, 4)
    assert m["precision"] == pytest.approx(0.6)
    assert m["recall"] == pytest.approx(0.75)
    assert m["f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert m["n_gold_codes_not_in_scheme"] == 1
    assert m["n_technologies"] == 3


def test_main_group_level_by_hand(dictionary, gold):
    """T1: P={G06N3/00,H04L9/00,G06F17/00}; G={G06N3/00*, H04L9/00}: 2/3, 2/2.
    T2: {B60L53/00,H10D12/00} vs {B60L*}: 1/2, 1/1. T3: 0/1."""
    m = level_metrics(dictionary, gold, "main_group", scheme_codes=SCHEME)
    assert (m["n_correct"], m["n_codes"], m["n_gold_covered"], m["n_gold"]) == (3, 5, 3, 4)


def test_subgroup_level_exclusion_applies(dictionary, gold):
    """At subgroup level the exclusion G06N3/12 is at L: G06N3/12 is not correct.
    T1: 2 correct of 4 (G06N3/08, H04L9/32); T2: 1 of 2. P = 3/6, R = 3/4, F1 = 0.6."""
    m = level_metrics(dictionary, gold, "subgroup", scheme_codes=SCHEME)
    assert (m["n_correct"], m["n_codes"], m["n_gold_covered"], m["n_gold"]) == (3, 6, 3, 4)
    assert m["precision"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.6)


def test_without_scheme_moved_codes_count_as_misses(dictionary, gold):
    """Without the scheme H01L21* stays in T2's gold: subclass G(T2)={H01L,B60L}, R = 3/5."""
    m = level_metrics(dictionary, gold, "subclass")
    assert m["recall"] == pytest.approx(3 / 5)
    assert m["n_gold_codes_not_in_scheme"] == 0


def test_technology_with_only_moved_codes_is_not_evaluated(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("tech_id,pattern\nA,H01L29/739\nB,G06N*\n", encoding="utf-8")
    d = pd.DataFrame({"tech_id": ["A", "B"], "ipc_code": ["H10D12/00", "G06N3/08"]})
    m = level_metrics(d, read_gold(p), "subgroup", scheme_codes={"G06N", "H10D12/00"})
    assert m["n_technologies"] == 1
    assert m["n_technologies_without_gold_in_scheme"] == 1
    assert (m["precision"], m["recall"]) == (1.0, 1.0)


def test_broad_code_covers_but_is_not_correct(tmp_path):
    """Gold G06N3/08 (exact); the dictionary says G06N. At main-group level P={G06N} stays a
    subclass, G={G06N3/00}: G06N is not within G06N3/00 (P = 0) but holds it (R = 1)."""
    p = tmp_path / "g.csv"
    p.write_text("tech_id,pattern\nA,G06N3/08\n", encoding="utf-8")
    d = pd.DataFrame({"tech_id": ["A"], "ipc_code": ["G06N"]})
    m = level_metrics(d, read_gold(p), "main_group")
    assert (m["precision"], m["recall"], m["f1"]) == (0.0, 1.0, 0.0)


def test_subgroup_subtree_needs_the_hierarchy(tmp_path):
    """G06F21/62* holds G06F21/6245 (a dot-child in the scheme) but not its sibling G06F21/64."""
    p = tmp_path / "g.csv"
    p.write_text("tech_id,pattern\nA,G06F21/62*\n", encoding="utf-8")
    d = pd.DataFrame({"tech_id": ["A", "A"], "ipc_code": ["G06F21/6245", "G06F21/64"]})
    h = Hierarchy({"G06F21/00": "G06F", "G06F21/62": "G06F21/00", "G06F21/6245": "G06F21/62",
                   "G06F21/64": "G06F21/00"})
    with_h = level_metrics(d, read_gold(p), "subgroup", hierarchy=h)
    assert (with_h["n_correct"], with_h["n_codes"], with_h["recall"]) == (1, 2, 1.0)
    without = level_metrics(d, read_gold(p), "subgroup")
    assert (without["n_correct"], without["recall"]) == (0, 0.0)
    # at main-group level both collapse onto G06F21/00, which G06F21/62 truncates to
    mg = level_metrics(d, read_gold(p), "main_group")
    assert (mg["n_codes"], mg["n_correct"]) == (1, 1)


def test_class_pattern_contains_subclasses(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("tech_id,pattern\nA,F21*\n", encoding="utf-8")
    d = pd.DataFrame({"tech_id": ["A", "A"], "ipc_code": ["F21V23/00", "F22B1/02"]})
    for lv in ("subclass", "main_group", "subgroup"):
        m = level_metrics(d, read_gold(p), lv)
        assert (m["n_correct"], m["n_codes"], m["recall"]) == (1, 2, 1.0), lv


def test_per_technology_lists_misses(dictionary, gold):
    t = per_technology(dictionary, gold, "subclass", scheme_codes=SCHEME).set_index("tech_id")
    assert t.loc["T3", "missed"] == "F21*"
    assert t.loc["T3", "n_codes"] == 0 and t.loc["T3", "recall"] == 0
    assert t.loc["T2", "n_gold_codes_not_in_scheme"] == 1
    assert t.loc["T1", "precision"] == pytest.approx(2 / 3)


def test_pr_curve_by_hand(dictionary, gold):
    """Subclass codes with their best score: T1 G06N .9 (correct), H04L .7 (c), G06F .6 (x);
    T2 B60L .9 (c), H10D .5 (x). Gold best covers: .9, .7, .9, none (4 gold)."""
    c = pr_curve(dictionary, gold, "subclass", scheme_codes=SCHEME)
    assert list(c["threshold"]) == [0.5, 0.6, 0.7, 0.9]
    assert list(c["n_codes"]) == [5, 4, 3, 2]
    assert list(c["precision"]) == pytest.approx([0.6, 0.75, 1.0, 1.0])
    assert list(c["recall"]) == pytest.approx([0.75, 0.75, 0.75, 0.5])
    # the curve at t agrees with level_metrics of the codes scoring >= t
    sub = dictionary[dictionary["score"] >= 0.7].assign(decision="auto")
    m = level_metrics(sub, gold, "subclass", scheme_codes=SCHEME)
    assert (m["precision"], m["recall"]) == (1.0, 0.75)


def test_candidate_metrics_by_hand(gold):
    """T1 top-1 G06F (miss), T2 top-1 B60L (hit), T3 top-1 F21V (hit, within F21*): 2/3.
    Top-10 subclasses: T1 {G06F,G06N} holds 1 of {G06N,H04L}; T2 1/1; T3 1/1 -> (0.5+1+1)/3.
    Micro: 3 of 4. With k=1, T1 has 0 of 2 -> recall@1 = 2/3."""
    rows = [
        ("T1", "G06F17/10", 0.95, 1, ""), ("T1", "G06N3/08", 0.9, 2, "auto"),
        ("T1", "G06N3/12", 0.1, 3, ""),
        ("T2", "H10D12/00", 0.9, 2, ""), ("T2", "B60L53/00", 0.8, 1, "auto"),
        ("T3", "F21V23/00", 0.4, 1, ""),
    ]
    cands = pd.DataFrame(rows, columns=["tech_id", "ipc_code", "score", "rank", "decision"])
    m = candidate_metrics(cands, gold, scheme_codes=SCHEME)
    assert m["hit_at_1"] == pytest.approx(2 / 3)
    assert m["recall_at_10"] == pytest.approx(2.5 / 3)
    assert m["recall_at_10_micro"] == pytest.approx(0.75)
    m1 = candidate_metrics(cands, gold, scheme_codes=SCHEME, k=1)
    assert m1["recall_at_1"] == pytest.approx(2 / 3)
    # a technology without candidates scores 0
    m2 = candidate_metrics(cands[cands.tech_id != "T3"], gold, scheme_codes=SCHEME)
    assert m2["hit_at_1"] == pytest.approx(1 / 3)
    assert m2["n_technologies_without_candidates"] == 1


def test_audit_metrics_has_the_interface_keys(dictionary, gold):
    m = audit_metrics(dictionary, gold, candidates=dictionary, scheme_codes=SCHEME)
    assert set(m["levels"]) == {"subclass", "main_group", "subgroup"}
    for lv in m["levels"].values():
        assert {"precision", "recall", "f1"} <= set(lv)
    assert m["n_technologies"] == 3
    assert m["n_gold_codes_not_in_scheme"] == 1
    # top-1 of T1 is G06N3/08 (rank 1): a hit; T2 B60L53/00: hit; T3 none
    assert m["hit_at_1"] == pytest.approx(2 / 3)
    assert audit_metrics(dictionary, gold)["hit_at_1"] is None


def test_no_codes_gives_undefined_precision(gold):
    d = pd.DataFrame({"tech_id": ["T1"], "ipc_code": ["G06N3/08"], "decision": ["rejected"]})
    m = level_metrics(d, gold, "subclass")
    assert m["precision"] is None and m["recall"] == 0 and m["f1"] is None


def test_bad_code_in_dictionary_file_names_the_cell(tmp_path, gold):
    p = tmp_path / "dictionary.csv"
    p.write_text("tech_id,ipc_code,score\nT1,G06N3/08,0.5\nT1,G06N 3/x,0.4\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dictionary.csv, row 3, column 'ipc_code'"):
        level_metrics(p, gold, "subclass")
    p.write_text("tech_id,ipc_code,score\nT1,G06N3/08,high\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2, column 'score': expected a number"):
        level_metrics(p, gold, "subclass")
    p.write_text("tech_id,ipc_code,score\nT1,G06N3/08,0.5\n", encoding="utf-8")
    with pytest.raises(InputError, match="level must be one of"):
        level_metrics(p, gold, "class")


def test_metrics_are_finite_on_shared_gold(shared):
    """The gold scored against itself (every pattern's own symbol as a code) is perfect."""
    g = read_gold(shared / "data/gold/wipo_ipc_technology_concordance.csv")
    rows = [(t, p.rstrip("*")) for t, pats in zip(g.tech_id, g.include, strict=True)
            for p in pats]
    d = pd.DataFrame(rows, columns=["tech_id", "ipc_code"])
    for lv in ("subclass", "main_group", "subgroup"):
        m = level_metrics(d, g, lv)
        assert m["recall"] == 1.0 and math.isclose(m["precision"], 1.0), lv


def test_patterns_meeting_at_one_code_count_once(tmp_path):
    """G06F* and G06F3* both truncate to G06F at subclass level: |G| = 1, not 2."""
    p = tmp_path / "g.csv"
    p.write_text("tech_id,pattern\nA,G06F*\nA,G06F3*\nA,G06F3/01\n", encoding="utf-8")
    d = pd.DataFrame({"tech_id": ["A"], "ipc_code": ["G06F3/01"]})
    m = level_metrics(d, read_gold(p), "subclass")
    assert (m["n_gold"], m["n_gold_covered"], m["recall"]) == (1, 1, 1.0)
    mg = level_metrics(d, read_gold(p), "main_group")
    assert (mg["n_gold"], mg["recall"]) == (2, 1.0)  # G06F* and G06F3/00


def test_key_digital_against_the_2026_chinese_codes(shared):
    """CNIPA's 2026.01 table has no H01L: every H01L pattern of key_digital is counted apart,
    and a dictionary of the gold's own in-scheme symbols scores recall 1 (no H01L 'miss')."""
    import json

    from coretech.ipc import try_normalize

    raw = (shared / "data/gold/key_digital_2023.jsonl").read_text(encoding="utf-8").splitlines()
    n_h01l = sum(p.startswith("H01L") for line in raw for p in json.loads(line)["patterns"])
    assert n_h01l > 100
    tsv = pd.read_csv(shared / "data/ipc/ipc_zh_2026_flat.tsv", sep="\t", dtype=str,
                      keep_default_na=False)
    codes = {c for c in map(try_normalize, tsv["code"]) if c}
    gold = read_gold(shared / "data/gold/key_digital_2023.jsonl")
    rows = [(t, p.rstrip("*")) for t, pats in zip(gold.tech_id, gold.include, strict=True)
            for p in pats if p.rstrip("*") in codes]
    d = pd.DataFrame(rows, columns=["tech_id", "ipc_code"])
    m = level_metrics(d, gold, "main_group", scheme_codes=codes)
    assert m["n_gold_codes_not_in_scheme"] >= n_h01l
    assert m["recall"] == 1.0 and m["precision"] == 1.0
    without = level_metrics(d, gold, "main_group")  # no scheme: H01L counts as missed
    assert without["recall"] < 1.0
    assert without["n_gold"] - m["n_gold"] >= 1
