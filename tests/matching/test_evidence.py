"""Evidence-bound scores, list names and the calibration (issue 13, classes 1-3)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scheme_fixture import chinese_scheme, english_scheme

from coretech.errors import InputError
from coretech.matching.candidates import build_queries, split_items
from coretech.matching.evidence import (
    FEATURES,
    NO_EVIDENCE_CAP,
    apply_calibration,
    catalogue_spread,
    default_calibration,
    pair_features,
    read_calibration,
    subclass_idf,
    validate_calibration,
)
from coretech.matching.matcher import Matcher


@pytest.mark.parametrize(("name", "items"), [
    ("太阳能电池封装、模块、零部件等", ["太阳能电池封装", "模块", "零部件"]),
    ("光纤宽带运营服务；新一代移动通信核心网和接入网建设",
     ["光纤宽带运营服务", "新一代移动通信核心网", "接入网建设"]),
    ("传感器/执行器", ["传感器", "执行器"]),
    ("Engines, pumps, turbines", ["Engines", "pumps", "turbines"]),
    ("Measurement and control", ["Measurement", "control"]),
    ("智能芯片", []), ("Semiconductors", []), ("IGBT芯片", []),
    ("碳化硅、", []),  # one item left: nothing to split
])
def test_list_names_are_split_into_items(name: str, items: list[str]) -> None:
    assert split_items(name) == items


def test_each_item_is_its_own_query_and_named_in_the_evidence(zh_matcher: Matcher) -> None:
    idx = zh_matcher.indexes_["zh"]
    qs = build_queries(["溅射靶材、锂离子电池"], [[]], idx.tokenizer(), 0.9)
    assert [(q.source, q.text) for q in qs] == [
        ("name", "溅射靶材、锂离子电池"), ("item", "溅射靶材"), ("item", "锂离子电池")]
    assert [q.text for q in build_queries(["溅射靶材、锂离子电池"], [[]], idx.tokenizer(), 0.9,
                                          items=False)] == ["溅射靶材、锂离子电池"]
    res = zh_matcher.match(pd.DataFrame({"tech_id": ["L"], "name_zh": ["溅射靶材、锂离子电池"]}))
    c = res.candidates
    subs = set(c.loc[c["rank"] <= 3, "ipc_code"].str[:4])
    assert {"C23C", "H01M"} <= subs  # both items reach their subclass near the top
    ev = c.loc[c["ipc_code"].str.startswith("H01M10"), "evidence"]
    assert ev.str.contains("via item '锂离子电池'").any()


def test_subclass_idf_makes_widespread_words_generic(en_matcher: Matcher) -> None:
    idx = en_matcher.indexes_["en"]
    idf = subclass_idf(idx)
    vocab = idx.word_vectorizer_.vocabulary_
    n_sub = len(set(idx.subclass_ids_.tolist()))
    # "bearing" is in one subclass (F16C), "semiconductor" in one, "device" in H01L only too;
    # the formula: ln((1 + N) / (1 + df)) + 1
    assert idf[vocab["bearing"]] == pytest.approx(np.log((1 + n_sub) / 2) + 1)
    assert subclass_idf(idx) is idf  # kept per index


def test_catalogue_spread_downweights_catalogue_heads() -> None:
    names = [["干熄焦"], ["炼油"], ["光热", "转换"]] + [[f"w{i}", "技术"] for i in range(30)]
    g = catalogue_spread(names)
    assert g["技术"] == pytest.approx(1 / (1 + 29 / (0.05 * 33)))
    assert "干熄焦" not in g  # used once: weight 1
    assert catalogue_spread(names[:5]) == {}  # too small a catalogue to tell


def test_a_code_without_a_shared_content_word_is_never_accepted(zh_matcher: Matcher) -> None:
    """Class 1: 干熄焦技术 shares no content word with any title of the scheme."""
    cat = pd.DataFrame({"tech_id": ["none", "ok"], "name_zh": ["干熄焦技术", "溅射靶材"]})
    res = zh_matcher.match(cat)
    assert "none" not in set(res.dictionary["tech_id"])
    c = res.candidates
    none = c[c["tech_id"] == "none"]
    assert (none["score"] <= NO_EVIDENCE_CAP).all() and none["needs_review"].all()
    assert not c.loc[c["tech_id"] == "ok", "needs_review"].any()
    assert res.counts["needs_review"] == ["none"]
    assert res.dictionary.loc[res.dictionary["tech_id"] == "ok", "ipc_code"].str.startswith(
        "C23C").all()


def test_calibration_formula_and_cap() -> None:
    cal = {"features": ["spec", "prior"], "coef": [2.0, 1.0], "intercept": -1.0}
    feats = {"spec": np.array([0.5, 0.0, 0.0]), "prior": np.array([0.0, 0.0, 0.4])}
    p = apply_calibration(cal, feats)
    assert p[0] == pytest.approx(1 / (1 + np.exp(-(-1 + 1.0))))
    assert p[1] == pytest.approx(min(NO_EVIDENCE_CAP, 1 / (1 + np.exp(1.0))))
    assert p[2] == pytest.approx(1 / (1 + np.exp(-(-1 + 0.4))))  # a prior is evidence


def test_shipped_calibration_is_plain_json_and_validated(tmp_path) -> None:
    cal = default_calibration()
    for key in ("without_prior", "with_prior"):
        model = cal[key]
        assert set(model["features"]) <= set(FEATURES)
        assert len(model["coef"]) == len(model["features"])
        assert 0 <= model["floor"] <= model["threshold"] <= 1
    # a prior's support raises the score in the with-prior model
    wp = cal["with_prior"]
    assert wp["coef"][wp["features"].index("sub_max_prior")] > 0
    assert read_calibration("none") is None and read_calibration(None) is cal
    bad = tmp_path / "cal.json"
    bad.write_text(json.dumps({"features": ["nope"], "coef": [1], "intercept": 0}))
    with pytest.raises(InputError, match="cal.json"):
        read_calibration(bad)
    with pytest.raises(ValueError, match="one number per feature"):
        validate_calibration({"features": ["spec"], "coef": [], "intercept": 0})
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"features": ["spec"], "coef": [3.0], "intercept": -1.0}))
    assert read_calibration(good)["coef"] == [3.0]


def test_subclass_aggregates_by_hand() -> None:
    tech = np.array([0, 0, 0, 1])
    sub = np.array([0, 0, 1, 0])
    rank = np.array([1, 2, 3, 1])
    base = {"score_rel": np.array([0.8, 0.4, 0.6, 0.5]), "spec": np.array([1.0, 0.5, 0.0, 0.2]),
            "prior": np.zeros(4)}
    f = pair_features(tech, sub, rank, base)
    assert f["sub_n"].tolist() == pytest.approx([2 / 50, 2 / 50, 1 / 50, 1 / 50])
    assert f["sub_max_spec"].tolist() == pytest.approx([1.0, 1.0, 0.0, 0.2])
    assert f["sub_share"].tolist() == pytest.approx([1.2 / 1.8, 1.2 / 1.8, 0.6 / 1.8, 1.0])
    assert f["best_spec_tech"].tolist() == pytest.approx([1.0, 1.0, 1.0, 0.2])


def test_the_old_score_is_still_available() -> None:
    """calibration_model="none": the technology-relative score of earlier versions, which the
    calibrated model reads as its feature ``score_rel``."""
    cat = pd.DataFrame({"tech_id": ["x"], "name_en": ["bipolar transistors"]})
    old = Matcher(cache_dir=False, term_min_df=1, calibration_model="none",
                  diversity=0.5).fit(english_scheme()).match(cat)
    new = Matcher(cache_dir=False, term_min_df=1, keep_features=True).fit(
        english_scheme()).match(cat)
    assert old.candidates["ipc_code"].iloc[0].startswith("H01L29/")
    rel = dict(zip(new.features["ipc_code"], new.features["score_rel"], strict=True))
    for code, sc in zip(old.candidates["ipc_code"], old.candidates["score"], strict=True):
        assert rel[code] == pytest.approx(sc)
    assert set(new.features.columns) >= set(FEATURES)


def test_specific_coverage_from_the_shared_pass_equals_its_own(zh_matcher: Matcher) -> None:
    """rerank_pairs computes cov and spec in one pass of substring tests; each equals the
    coverage computed alone under its own weights."""
    from coretech.matching.candidates import pool_pairs
    from coretech.matching.scoring import _prepare, pair_coverage, rerank_pairs, specific_coverage

    idx = zh_matcher.indexes_["zh"]
    tok = idx.tokenizer()
    qs = build_queries(["溅射靶材", "碳化硅功率器件", "锂离子电池制造、IGBT芯片"], [[], [], []], tok, 0.9)
    pairs = pool_pairs(idx, qs, 50)
    spread = {"靶材": 0.5}
    cov, _f, _r, spec = rerank_pairs(idx, qs, pairs.row, pairs.query, pairs.retrieval,
                                     fuzzy_weight=0.3, spread=spread)
    vocab = idx.word_vectorizer_.vocabulary_
    alone = pair_coverage(idx, [_prepare(q, idx, vocab) for q in qs], pairs.query, pairs.row)
    np.testing.assert_allclose(cov, alone, rtol=1e-12)
    np.testing.assert_allclose(spec, specific_coverage(idx, qs, pairs.query, pairs.row, spread),
                               rtol=1e-12)
    assert (spec > 0).sum() == (cov > 0).sum()  # same words, other weights


def test_two_model_calibration_picks_the_prior_model(zh_matcher: Matcher) -> None:
    from coretech.matching.evidence import select_model
    from coretech.matching.prior import Prior

    a = {"features": ["spec"], "coef": [4.0], "intercept": -1.0, "floor": 0.0}
    b = {"features": ["spec"], "coef": [4.0], "intercept": -3.0, "floor": 0.0}
    two = validate_calibration({"without_prior": a, "with_prior": b})
    assert select_model(two, False) is a and select_model(two, True) is b
    with pytest.raises(ValueError, match="both"):
        validate_calibration({"without_prior": a})
    m = Matcher(cache_dir=False, term_min_df=1, calibration_model=two).fit(chinese_scheme())
    cat = pd.DataFrame({"tech_id": ["T"], "name_zh": ["溅射靶材"]})
    prior = Prior(pd.DataFrame([{"name": "无关", "patterns": ("G06N*",), "exclude": (),
                                 "source": "p"}]))
    s_without = m.match(cat).candidates["score"].max()
    s_with = m.match(cat, prior=prior).candidates["score"].max()
    assert s_without == pytest.approx(1 / (1 + np.exp(-(-1 + 4.0))), abs=1e-4)
    assert s_with == pytest.approx(1 / (1 + np.exp(-(-3 + 4.0))), abs=1e-4)
    with pytest.raises(ValueError, match="floor"):
        Matcher(floor=1.5)


def test_a_compound_word_found_in_parts_counts_for_the_share_they_cover() -> None:
    """图像增强 kept whole (a title word) against "图像的增强或复原": its parts 图像 and 增强 are
    both in the path, so it counts in full; a path with only 图像 gives half of it; a path
    holding the whole word, 1; a path with neither, 0 (issue 13: the evidence said
    "words: 图像, 增强" while the coverage said no shared word)."""
    from coretech.matching.candidates import Query
    from coretech.matching.scoring import _parts_credit, word_parts

    q = Query(0, "name", "图像增强", ["图像增强"], ["图像", "增强", "图像增强"], 1.0)
    assert word_parts(q, "图像增强") == [("图像", 0), ("增强", 2)]
    assert word_parts(q, "图像") == []  # two characters: nothing to split
    paths = ["图像的增强或复原", "图像数据处理", "图像增强装置", "无关标题", "增强材料"]
    hit = np.array(["图像增强" in p for p in paths])
    np.testing.assert_allclose(_parts_credit("图像增强", word_parts(q, "图像增强"), paths, hit),
                               [1.0, 0.5, 1.0, 0.0, 0.5])
    q3 = Query(0, "name", "二氧化碳捕集", ["二氧化碳捕集"], ["二氧化", "氧化碳", "二氧化碳", "捕集"],
               1.0)
    parts = word_parts(q3, "二氧化碳捕集")  # overlapping parts cover a character once
    assert ("捕集", 4) in parts and ("氧化碳", 1) in parts
    np.testing.assert_allclose(_parts_credit("二氧化碳捕集", parts, ["氧化碳的捕集", "一氧化碳"],
                                             np.array([False, False])), [5 / 6, 3 / 6])
