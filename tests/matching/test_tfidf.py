"""coretech's TF-IDF equals scikit-learn's TfidfVectorizer, fitted and applied (issue 18)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from scheme_fixture import chinese_scheme, english_scheme

from coretech.matching.index import PATH_SEPARATOR, IndexOptions, SchemeIndex, scheme_rows
from coretech.matching.tfidf import char_wb_ngrams, fit_spaces

sk_text = pytest.importorskip("sklearn.feature_extraction.text")

ALPHABET = list("abcxyz AZ09-.") + list("碳化硅芯片功率器件") + ["\u3000", "\t", "\u00a0", "é"]


def _random_strings(rng: random.Random, n: int, max_len: int = 18) -> list[str]:
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, max_len)))
            for _ in range(n)]


def _sklearn(kind: str, ngram_range=(1, 1), max_df=1.0):
    if kind == "char":
        return sk_text.TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range,
                                       sublinear_tf=True, lowercase=False, dtype=np.float32,
                                       max_df=max_df)
    return sk_text.TfidfVectorizer(analyzer="word", tokenizer=str.split, token_pattern=None,
                                   sublinear_tf=True, lowercase=False, dtype=np.float32)


def _check(segments, paths, own, queries, ngram_range, max_df) -> None:
    path_docs = [" ".join(segments[j] for j in p) for p in paths]
    own_docs = [segments[j] for j in own]
    cm, wm, m = fit_spaces(segments, paths, own, ngram_range=ngram_range, max_df=max_df)
    for ours, kind, a, b in ((cm, "char", "c_path", "c_own"), (wm, "word", "w_path", "w_own")):
        ref = _sklearn(kind, ngram_range, max_df)
        want_path = ref.fit_transform(path_docs)
        assert ours.terms_ == list(ref.get_feature_names_out())
        assert ours.idf_.dtype == ref.idf_.dtype and np.array_equal(ours.idf_, ref.idf_)
        for got, want in ((m[a], want_path), (m[b], ref.transform(own_docs)),
                          (ours.transform(queries), ref.transform(queries))):
            assert got.shape == want.shape and got.dtype == want.dtype
            if got.nnz or want.nnz:
                assert abs(got - want).max() <= 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("ngram_range", "max_df"), [((2, 4), 1.0), ((3, 4), 0.3), ((1, 2), 1.0)])
def test_fit_and_transform_equal_sklearn_on_random_strings(seed, ngram_range, max_df) -> None:
    rng = random.Random(seed)
    segments = _random_strings(rng, 120)
    paths = [[rng.randrange(120) for _ in range(rng.randint(1, 5))] for _ in range(200)]
    own = [p[-1] for p in paths]
    _check(segments, paths, own, _random_strings(rng, 100, 30), ngram_range, max_df)


def test_char_wb_ngrams_match_sklearn_analyzer() -> None:
    rng = random.Random(7)
    for lo, hi in ((1, 1), (2, 4), (3, 5)):
        analyzer = _sklearn("char", (lo, hi)).build_analyzer()
        for s in _random_strings(rng, 300, 25):
            assert char_wb_ngrams(s, lo, hi) == analyzer(s)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_index_spaces_equal_sklearn_on_scheme_titles(lang: str) -> None:
    """The fitted index's two spaces on real titles (fixtures), against scikit-learn."""
    scheme = english_scheme() if lang == "en" else chinese_scheme()
    o = IndexOptions(term_min_df=1, ngram_range=(2, 4) if lang == "zh" else (3, 4))
    idx = SchemeIndex(o, lang=lang).fit(scheme)
    rows = scheme_rows(scheme, lang, o.kinds)
    tok = idx.tokenizer()
    path_docs = [" ".join(w for s in p.split(PATH_SEPARATOR) for w in tok.cut(s))
                 for p in rows["path_title"]]
    queries = [" ".join(tok.cut(t)) for t in rows["title"]] + ["bipolar transistor", "碳化硅"]
    for ours, kind in ((idx.char_vectorizer_, "char"), (idx.word_vectorizer_, "word")):
        ref = _sklearn(kind, o.ngram_range)
        ref.fit(path_docs)
        assert ours.vocabulary_ == ref.vocabulary_
        assert abs(ours.transform(queries) - ref.transform(queries)).max() <= 1e-12


def test_transform_equals_sklearn_on_the_real_chinese_titles(shared) -> None:
    df = pd.read_csv(shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv", sep="\t", dtype=str,
                     keep_default_na=False, nrows=6000)
    titles = [t for t in df["title_zh"] if t.strip()]
    segments = [" ".join(t.split()) for t in titles]
    rng = random.Random(3)
    paths = [[rng.randrange(len(segments)) for _ in range(rng.randint(1, 4))]
             for _ in range(3000)]
    _check(segments, paths, [p[-1] for p in paths], titles[::7], (2, 4), 1.0)


def _canonical(m):
    m = m.copy()
    m.sort_indices()
    return m


@pytest.mark.parametrize(("ngram_range", "max_df"), [((2, 4), 1.0), ((3, 4), 0.3)])
def test_unsorted_char_matrices_hold_the_same_values_bit_for_bit(ngram_range, max_df) -> None:
    rng = random.Random(5)
    segments = _random_strings(rng, 150)
    paths = [[rng.randrange(150) for _ in range(rng.randint(1, 6))] for _ in range(300)]
    own = [p[-1] for p in paths]
    _, _, want = fit_spaces(segments, paths, own, ngram_range=ngram_range, max_df=max_df)
    _, _, got = fit_spaces(segments, paths, own, ngram_range=ngram_range, max_df=max_df,
                           sorted_char=False)
    for name in want:
        a, b = _canonical(got[name]), want[name]
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert a.data.dtype == b.data.dtype and np.array_equal(a.data, b.data)


def test_l2_rows_sorts_an_unsorted_matrix_whose_sums_are_not_exact() -> None:
    import scipy.sparse as sp

    from coretech.matching.tfidf import l2_rows

    rng = np.random.default_rng(3)
    data = rng.random(400).astype(np.float32) * np.float32(1e-3)  # squares < 1: not exact
    indptr = np.arange(0, 401, 20)
    cols = np.concatenate([rng.permutation(60)[:20] for _ in range(20)]).astype(np.int32)
    unsorted = sp.csr_matrix((data, cols, indptr), shape=(20, 60))
    assert not unsorted.has_sorted_indices
    want = l2_rows(_canonical(unsorted))
    got = l2_rows(unsorted.copy())
    assert got.has_sorted_indices
    assert np.array_equal(got.indices, want.indices) and np.array_equal(got.data, want.data)
