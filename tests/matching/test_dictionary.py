"""The decision rule (threshold, floor, cap, per-subclass cap, roll-up) and reviewed overrides."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scheme_fixture import english_scheme

from coretech.errors import InputError
from coretech.matching.dictionary import DecisionRule, SchemeCounts, decide, read_overrides
from coretech.matching.matcher import Matcher

COUNTS = SchemeCounts(list(english_scheme()["code"]))


def _cands(pairs: list[tuple[str, float]]) -> list[dict]:
    kinds = dict(zip(english_scheme()["code"], english_scheme()["kind"], strict=True))
    return [{"tech_id": "t", "ipc_code": c, "kind": kinds[c], "score": s, "rank": i,
             "method": "m", "evidence": f"e{i}", "decision": ""}
            for i, (c, s) in enumerate(pairs, start=1)]


def test_threshold_floor_and_cap() -> None:
    cands = _cands([("H01L29/73", 0.9), ("H01M10/0525", 0.7), ("C22C", 0.4), ("F16C", 0.2)])
    rule = DecisionRule(threshold=0.5, rollup="none")
    assert [r["ipc_code"] for r in decide(cands, rule, COUNTS)] == ["H01L29/73", "H01M10/0525"]
    rule = DecisionRule(threshold=0.95, min_codes=1, rollup="none")
    assert [r["ipc_code"] for r in decide(cands, rule, COUNTS)] == ["H01L29/73"]
    rule = DecisionRule(threshold=0.95, min_codes=0, rollup="none")
    assert decide(cands, rule, COUNTS) == []
    rule = DecisionRule(threshold=0.1, max_codes=3, rollup="none")
    assert [r["ipc_code"] for r in decide(cands, rule, COUNTS)] == [
        "H01L29/73", "H01M10/0525", "C22C"]
    assert {r["decision"] for r in decide(cands, rule, COUNTS)} == {"auto"}


def test_per_subclass_cap_spreads_the_dictionary() -> None:
    cands = _cands([("H01L29/73", 0.9), ("H01L29/739", 0.85), ("H01L29/78", 0.8),
                    ("H01M10/0525", 0.6)])
    rule = DecisionRule(threshold=0.5, rollup="none", max_per_subclass=2)
    assert [r["ipc_code"] for r in decide(cands, rule, COUNTS)] == [
        "H01L29/73", "H01L29/739", "H01M10/0525"]


def test_best_subclass_cap_auto_depends_on_the_language() -> None:
    cands = _cands([("H01L29/73", 0.9), ("H01L29/739", 0.85), ("H01L29/78", 0.8),
                    ("H01M10/0525", 0.6)])
    rule = DecisionRule(threshold=0.5, rollup="none", max_per_subclass=2)
    assert rule.cap_best_subclass == "auto"  # the default
    zh, en = rule.for_languages(["zh"]), rule.for_languages(["en"])
    assert zh.cap_best_subclass is True and en.cap_best_subclass is False
    assert rule.for_languages(["zh", "en"]).cap_best_subclass is True
    assert [r["ipc_code"] for r in decide(cands, zh, COUNTS)] == [
        "H01L29/73", "H01L29/739", "H01M10/0525"]
    assert [r["ipc_code"] for r in decide(cands, en, COUNTS)] == [
        "H01L29/73", "H01L29/739", "H01L29/78", "H01M10/0525"]  # best subclass exempt
    assert DecisionRule(cap_best_subclass=False).for_languages(["zh"]).cap_best_subclass is False
    with pytest.raises(ValueError, match="cap_best_subclass"):
        DecisionRule(cap_best_subclass="sometimes").validate()


def test_rollup_to_the_main_group_when_most_of_it_matches() -> None:
    # F16C33/00 has 3 entries in the scheme (33/00, 33/30, 33/62): 2 of 3 accepted -> roll up
    cands = _cands([("F16C33/30", 0.9), ("F16C33/62", 0.8), ("H01L29/73", 0.7),
                    ("H01L29/739", 0.6)])
    rule = DecisionRule(threshold=0.5, rollup="main_group", rollup_share=0.5, rollup_min=2)
    out = decide(cands, rule, COUNTS)
    codes = [r["ipc_code"] for r in out]
    assert codes == ["F16C33/00", "H01L29/73", "H01L29/739"]  # H01L29: 2 of 11, no roll-up
    rolled = out[0]
    assert rolled["kind"] == "main_group" and rolled["score"] == 0.9 and rolled["rank"] == 1
    assert rolled["method"].startswith("rollup(2/3)")
    assert "rolled up from 2 codes; best F16C33/30" in rolled["evidence"]
    strict = DecisionRule(threshold=0.5, rollup="main_group", rollup_share=0.9)
    assert "F16C33/00" not in [r["ipc_code"] for r in decide(cands, strict, COUNTS)]


def test_rollup_to_the_subclass() -> None:
    # G06N has 2 main groups (3/00, 10/00); codes in both -> the subclass
    cands = _cands([("G06N3/02", 0.9), ("G06N10/00", 0.8)])
    rule = DecisionRule(threshold=0.5, rollup="subclass", rollup_share=0.5, rollup_min=2)
    assert [r["ipc_code"] for r in decide(cands, rule, COUNTS)] == ["G06N"]


def test_decision_rule_validation() -> None:
    with pytest.raises(ValueError, match="rollup_share"):
        DecisionRule(rollup_share=0).validate()
    with pytest.raises(ValueError, match="max_per_subclass"):
        DecisionRule(max_per_subclass=-1).validate()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_overrides_keep_human_decisions(tmp_path: Path) -> None:
    # the relative score (every technology gets codes): this test is about the overrides
    m = Matcher(cache_dir=False, term_min_df=1, rollup="none",
                calibration_model="none").fit(english_scheme())
    cat = pd.DataFrame({"tech_id": ["li"], "name_en": ["lithium-ion batteries"]})
    auto = m.match(cat).dictionary
    assert "H01M10/0525" in set(auto["ipc_code"])
    ov = _write(tmp_path / "reviewed.csv",
                "tech_id,ipc_code,kind,score,rank,method,evidence,decision\n"
                "li,H01M10/0525,subgroup,0.9,1,m,e,rejected\n"
                "li,H01M 10/052,subgroup,,,,,accepted\n"
                "li,C22C38/00,main_group,,,,,added\n"
                f"li,{auto['ipc_code'].iloc[-1]},x,,,,,auto\n")
    res = m.match(cat, overrides=read_overrides(ov))
    d = res.dictionary.set_index("ipc_code")
    assert "H01M10/0525" not in d.index  # rejected: never comes back
    assert d.loc["H01M10/052", "decision"] == "accepted"
    assert d.loc["C22C38/00", "decision"] == "added"
    assert d.loc["C22C38/00", "method"] in {"review"} or "tfidf" in d.loc["C22C38/00", "method"]
    assert "Ferrous alloys" in d.loc["C22C38/00", "evidence"]
    c = res.candidates.set_index("ipc_code")
    assert c.loc["H01M10/0525", "decision"] == "rejected"
    assert res.counts["overrides_rejected_removed"] == 1


def test_bad_overrides_name_the_row(tmp_path: Path) -> None:
    head = "tech_id,ipc_code,decision\n"
    with pytest.raises(InputError, match=r"row 3, column 'decision': decision 'maybe'"):
        read_overrides(_write(tmp_path / "a.csv", head + "t,H01L,accepted\nt,H01M,maybe\n"))
    with pytest.raises(InputError, match=r"row 2, column 'ipc_code'"):
        read_overrides(_write(tmp_path / "b.csv", head + "t,X99,accepted\n"))
    with pytest.raises(InputError, match=r"row 3, column 'decision'.*contradicts 'accepted'"):
        read_overrides(_write(tmp_path / "c.csv", head + "t,H01L,accepted\nt,h01l,rejected\n"))
    ov = read_overrides(_write(tmp_path / "d.csv", head + "ghost,H01L,added\n"))
    m = Matcher(cache_dir=False, term_min_df=1).fit(english_scheme())
    with pytest.raises(InputError, match=r"d.csv, row 2, column 'tech_id'.*not in the catalogue"):
        m.match(pd.DataFrame({"tech_id": ["t"], "name_en": ["alloys"]}), overrides=ov)


@pytest.mark.parametrize("rollup", ["none", "main_group", "subclass"])
def test_presorted_and_in_place_give_the_same_decision(rollup: str) -> None:
    """The matcher's fast call (rows already by score, updated in place) decides as the
    plain call does, including roll-ups and the per-subclass cap."""
    cands = _cands([("F16C33/30", 0.9), ("F16C33/62", 0.8), ("H01L29/73", 0.7),
                    ("H01L29/739", 0.6), ("H01L29/00", 0.55), ("F16C33/00", 0.52),
                    ("G06N3/02", 0.4)])
    for cap in (True, False):
        rule = DecisionRule(threshold=0.5, rollup=rollup, rollup_share=0.5, rollup_min=2,
                            max_per_subclass=2, cap_best_subclass=cap)
        plain = decide(list(reversed(cands)), rule, COUNTS)  # any order: decide sorts
        fast = decide([dict(r) for r in cands], rule, COUNTS, copy=False, presorted=True)
        assert [(r["ipc_code"], r["score"], r["rank"], r["method"]) for r in fast] == \
               [(r["ipc_code"], r["score"], r["rank"], r["method"]) for r in plain]
        assert len(plain) >= 2


@pytest.mark.parametrize("seed", range(6))
def test_array_decisions_equal_the_row_by_row_rule(seed: int) -> None:
    """decide_sorted (many technologies at once, on arrays) accepts exactly the rows that
    decide() accepts, with the same scores, ranks and roll-up prefixes."""
    import numpy as np

    from coretech.matching.dictionary import decide_sorted

    rng = np.random.default_rng(seed)
    codes = sorted(set(english_scheme()["code"]))
    kinds = dict(zip(english_scheme()["code"], english_scheme()["kind"], strict=True))
    techs = []
    for _t in range(25):
        k = int(rng.integers(1, len(codes)))
        pick = rng.choice(len(codes), size=k, replace=False)
        scores = np.round(rng.uniform(0.2, 1.0, size=k), 2)  # ties in score, not in rank
        ranks = rng.permutation(k) + 1
        techs.append([{"tech_id": f"t{_t}", "ipc_code": codes[i], "kind": kinds[codes[i]],
                       "score": float(s), "rank": int(r), "method": "m", "evidence": "e",
                       "decision": ""} for i, s, r in zip(pick, scores, ranks, strict=True)])
    for rollup in ("none", "main_group"):
        for cap, per_sub, max_codes, share, rmin in ((True, 2, 20, 0.5, 2), (False, 1, 3, 0.3, 1),
                                                    (False, 0, 5, 0.5, 2), (True, 3, 4, 0.2, 2)):
            rule = DecisionRule(threshold=0.5, max_codes=max_codes, rollup=rollup,
                                rollup_share=share, rollup_min=rmin, max_per_subclass=per_sub,
                                cap_best_subclass=cap)
            want = {}
            tech, code, score, rank, best_sub, index = [], [], [], [], [], []
            for t, rows in enumerate(techs):
                ranked = sorted(rows, key=lambda r: (-r["score"], r["rank"]))
                best_sub.append(ranked[0]["ipc_code"][:4])
                passing = [r for r in ranked if r["score"] >= rule.threshold]
                if len(passing) < rule.min_codes:
                    continue
                want[t] = [(r["ipc_code"], r["score"], r["rank"], r.get("_rolled", (None,))[0])
                           for r in sorted(decide(rows, rule, COUNTS), key=lambda r: r["rank"])]
                for r in passing:
                    tech.append(t)
                    code.append(r["ipc_code"])
                    score.append(r["score"])
                    rank.append(r["rank"])
                    index.append(r)
            got = decide_sorted(np.array(tech), code, np.array(score), np.array(rank), best_sub,
                                np.array([cap is False] * len(techs)), rule, COUNTS)
            have: dict[int, list] = {t: [] for t in want}
            for t, c, s, r, rl in zip(got.tech.tolist(), got.code, got.score.tolist(),
                                      got.rank.tolist(), got.rolled, strict=True):
                have[t].append((c, s, r, rl[0] if rl else None))
            assert have == want, (rollup, cap, per_sub, max_codes)
            assert sum(len(v) for v in want.values()) > 0
            if rollup == "main_group" and rmin == 1:
                assert any(x[3] for v in want.values() for x in v)  # some roll-ups happened
