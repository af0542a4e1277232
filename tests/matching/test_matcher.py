"""The Matcher: languages, keywords, evidence, calibration, determinism."""

from __future__ import annotations

import pandas as pd
import pytest
from scheme_fixture import bilingual_scheme, english_scheme

from coretech.errors import InputError
from coretech.matching.dictionary import CANDIDATE_COLUMNS, OUTPUT_COLUMNS
from coretech.matching.matcher import Matcher
from coretech.matching.scoring import calibrate


def _top(res, tech: str) -> str:
    c = res.candidates
    return c.loc[(c["tech_id"] == tech) & (c["rank"] == 1), "ipc_code"].item()


def test_chinese_hard_cases_find_their_entries(zh_matcher: Matcher) -> None:
    cat = pd.DataFrame({"tech_id": ["a", "b", "c", "d"],
                        "name_zh": ["溅射靶材", "碳化硅(SiC)", "IGBT芯片", "锂离子电池制造技术"]})
    res = zh_matcher.match(cat)
    assert list(res.candidates.columns) == CANDIDATE_COLUMNS
    assert list(res.dictionary.columns) == OUTPUT_COLUMNS
    assert _top(res, "a") in {"C23C14/3407", "C23C14/3414"}
    assert _top(res, "b") in {"C01B32/956", "H10D62/83"}
    assert _top(res, "c") == "H10D12/00"
    assert _top(res, "d") == "H01M10/0525"
    ev = res.candidates.set_index(["tech_id", "ipc_code"])["evidence"]
    assert "靶材" in ev[("a", "C23C14/3414")] and "金属或半导体靶材" in ev[("a", "C23C14/3414")]
    assert "igbt" in ev[("c", "H10D12/00")]
    assert (res.candidates["evidence"].str.contains(r"\| path: ")).all()
    assert (res.dictionary["evidence"] != "").all()


def test_english_names_rank_the_right_subclass_first(en_matcher: Matcher) -> None:
    cat = pd.DataFrame({"tech_id": ["nn", "li", "qc"],
                        "name_en": ["neural network learning", "lithium-ion batteries",
                                    "quantum computing technology"]})
    res = en_matcher.match(cat)
    assert _top(res, "nn") in {"G06N3/02", "G06N3/08"}
    assert _top(res, "li") == "H01M10/0525"
    assert _top(res, "qc") == "G06N10/00"


def test_short_title_guard_against_one_word_titles(en_matcher: Matcher) -> None:
    # "Alloys" (C22C) is one word contained in the name; it must not tie with the bearings
    cat = pd.DataFrame({"tech_id": ["b"], "name_en": ["ball bearing steel alloys parts"]})
    from rapidfuzz import fuzz
    from rapidfuzz.utils import default_process

    assert fuzz.token_set_ratio("ball bearing steel alloys parts", "alloys",
                                processor=default_process) == 100  # the tie the guard breaks
    res = en_matcher.match(cat)
    scores = res.candidates.set_index("ipc_code")["score"]
    assert scores["F16C33/30"] > scores["C22C"]


def test_keywords_widen_the_query(en_matcher: Matcher) -> None:
    base = pd.DataFrame({"tech_id": ["t"], "name_en": ["energy storage"]})
    widened = base.assign(keywords="lithium-ion batteries; Li-accumulators")
    a = en_matcher.match(base).candidates.set_index("ipc_code")
    b = en_matcher.match(widened).candidates.set_index("ipc_code")
    assert b.loc["H01M10/0525", "score"] > a["score"].get("H01M10/0525", 0.0)
    assert "keyword" in b.loc["H01M10/0525", "method"]
    assert "via keyword 'lithium-ion batteries'" in b.loc["H01M10/0525", "evidence"]


def test_lang_auto_matches_each_name_in_its_language() -> None:
    m = Matcher(cache_dir=False, term_min_df=1).fit(bilingual_scheme())
    cat = pd.DataFrame({"tech_id": ["z", "e", "both"],
                        "name_zh": ["神经网络", "", "锂离子电池"],
                        "name_en": ["", "lithium-ion batteries", "lithium-ion batteries"]})
    res = m.match(cat)
    assert res.languages == {"z": "zh", "e": "en", "both": "zh+en"}
    meth = res.candidates.groupby("tech_id")["method"].apply(lambda s: set(x[-2:] for x in s))
    assert meth["z"] == {"zh"} and meth["e"] == {"en"}
    assert _top(res, "both") == "H01M10/0525"


def test_missing_language_is_said_plainly() -> None:
    cat = pd.DataFrame({"tech_id": ["T1", "T2"], "name_zh": ["", "溅射靶材"],
                        "name_en": ["bearings", ""]})
    m = Matcher(cache_dir=False).fit(english_scheme())
    with pytest.raises(InputError) as e:
        m.match(cat)
    msg = str(e.value)
    assert e.value.row == 3 and "only a Chinese name" in msg and "no Chinese titles" in msg
    with pytest.raises(InputError, match="--lang zh: the IPC scheme has no Chinese titles"):
        Matcher(lang="zh", cache_dir=False).fit(english_scheme())
    m_en = Matcher(lang="en", cache_dir=False).fit(english_scheme())
    with pytest.raises(InputError, match="'T2' has no name_en, needed with --lang en"):
        m_en.match(cat)


def test_calibrated_score_formula() -> None:
    raw = {"a": 0.64, "b": 0.16, "c": 0.0}
    got = calibrate(raw, 0.5)  # r * max^-0.5 = r / 0.8
    assert got == pytest.approx({"a": 0.8, "b": 0.2, "c": 0.0})
    assert calibrate(raw, 0.0) == pytest.approx(raw)
    assert calibrate(raw, 1.0)["a"] == pytest.approx(1.0)


def test_scores_ranks_and_decisions_are_consistent(en_matcher: Matcher) -> None:
    cat = pd.DataFrame({"tech_id": ["x", "y"], "name_en": ["bipolar transistors", "bearings"]})
    res = en_matcher.match(cat)
    c = res.candidates
    for _, g in c.groupby("tech_id"):
        assert list(g["rank"]) == list(range(1, len(g) + 1))
        assert g["score"].between(0, 1).all() and g["score"].max() > 0
    d = res.dictionary
    assert set(d["decision"]) == {"auto"}
    assert (d.groupby("tech_id").size() <= 20).all()
    accepted = set(zip(d["tech_id"], d["ipc_code"], strict=True))
    for t, code, dec in zip(c["tech_id"], c["ipc_code"], c["decision"], strict=True):
        assert (dec == "auto") == ((t, code) in accepted)


def test_parameters_are_validated_up_front() -> None:
    for kw, msg in [({"lang": "fr"}, "lang"), ({"threshold": 2}, "threshold"),
                    ({"max_codes": 0}, "max_codes"), ({"rollup": "class"}, "rollup"),
                    ({"top_k": 60, "pool": 50}, "pool"), ({"fuzzy_weight": -1}, "fuzzy_weight"),
                    ({"min_codes": 5, "max_codes": 2}, "min_codes")]:
        with pytest.raises(ValueError, match=msg):
            Matcher(**kw)
    with pytest.raises(RuntimeError, match="fit"):
        Matcher().match(pd.DataFrame({"tech_id": ["a"], "name_en": ["x"]}))


def test_match_is_deterministic(en_matcher: Matcher) -> None:
    cat = pd.DataFrame({"tech_id": [f"t{i}" for i in range(4)],
                        "name_en": ["transistors", "batteries", "neural networks", "alloys"]})
    a = en_matcher.match(cat)
    b = Matcher(cache_dir=False, term_min_df=1).fit(english_scheme()).match(cat)
    pd.testing.assert_frame_equal(a.candidates, b.candidates)
    pd.testing.assert_frame_equal(a.dictionary, b.dictionary)


def test_a_whole_catalogue_term_is_covered_through_its_parts(zh_matcher: Matcher) -> None:
    """碳化硅功率器件 stays one token (catalogue word); the coverage guard counts its parts."""
    from coretech.matching.candidates import build_queries
    from coretech.matching.scoring import cover_words, rerank_all

    idx = zh_matcher.indexes_["zh"]
    tok = idx.tokenizer(["碳化硅功率器件"])
    assert tok.cut("碳化硅功率器件") == ["碳化硅功率器件"]
    queries = build_queries(["碳化硅功率器件"], [[]], tok, 0.9)
    vocab = idx.word_vectorizer_.vocabulary_
    words = cover_words(queries[0], vocab)
    assert "碳化硅" in words and "碳化硅功率器件" not in words  # the titles' words count
    row = idx.row_of_["C01B32/956"]
    scored = rerank_all(idx, queries, {0: [(row, 0.5, 0)]}, fuzzy_weight=0.3)[0][0]
    assert scored.coverage == 1.0  # (功率 is not a word of this small scheme; 器件 a stop word)
    assert scored.raw == pytest.approx(0.7 * 0.5 + 0.3 * scored.fuzzy) and scored.fuzzy > 0.5
    other = rerank_all(idx, queries, {0: [(idx.row_of_["G06N3/02"], 0.5, 0)]},
                       fuzzy_weight=0.3)[0][0]
    assert other.coverage == 0.0 and other.fuzzy == 0.0


def test_ngram_range_auto_is_per_language() -> None:
    from coretech.matching.matcher import DEFAULT_NGRAMS

    m = Matcher(cache_dir=False, term_min_df=1)
    assert m.get_params()["ngram_range"] == "auto"
    assert m.get_params()["ngram_range_by_lang"] == {"zh": [2, 4], "en": [3, 4]}
    assert m.options_for("zh").ngram_range == DEFAULT_NGRAMS["zh"] == (2, 4)
    assert m.options_for("en").ngram_range == DEFAULT_NGRAMS["en"] == (3, 4)
    fitted = m.fit(bilingual_scheme())
    assert fitted.indexes_["en"].char_vectorizer_.ngram_range == (3, 4)
    assert fitted.indexes_["zh"].char_vectorizer_.ngram_range == (2, 4)
    fixed = Matcher(cache_dir=False, term_min_df=1, ngram_range=(2, 5))
    assert fixed.get_params()["ngram_range"] == [2, 5]
    assert fixed.options_for("en").ngram_range == fixed.options_for("zh").ngram_range == (2, 5)
    with pytest.raises(ValueError, match="ngram_range"):
        Matcher(ngram_range="wide")


def test_vectorised_evidence_words_equal_the_per_pair_reference(zh_matcher: Matcher,
                                                                en_matcher: Matcher) -> None:
    """pair_matched_words (one sparse product) gives matched_words' words, pair by pair."""
    import numpy as np

    from coretech.matching.candidates import build_queries
    from coretech.matching.scoring import matched_words, pair_matched_words

    cases = [(zh_matcher, "zh", ["碳化硅功率器件", "溅射靶材", "神经网络芯片"]),
             (en_matcher, "en", ["insulated gate bipolar transistors", "lithium batteries",
                                 "neural networks", "alloys"])]
    for m, lg, names in cases:
        idx = m.indexes_[lg]
        tok = idx.tokenizer(names if lg == "zh" else None)
        queries = build_queries(names, [[] for _ in names], tok, 0.9)
        qis = np.repeat(np.arange(len(queries)), idx.n_entries)
        rows = np.tile(np.arange(idx.n_entries), len(queries))
        got = pair_matched_words(idx, queries, qis, rows)
        want = [matched_words(queries[q], idx, r) for q, r in zip(qis, rows, strict=True)]
        assert got == want
        assert sum(1 for w in got if w) >= len(names)  # some pairs do match words


def test_match_pauses_the_garbage_collector_and_restores_it(en_matcher: Matcher) -> None:
    import gc

    cat = pd.DataFrame({"tech_id": ["t1"], "name_en": ["transistors"]})
    assert gc.isenabled()
    en_matcher.match(cat)
    assert gc.isenabled()
    gc.disable()
    try:
        en_matcher.match(cat)
        assert not gc.isenabled()
    finally:
        gc.enable()
