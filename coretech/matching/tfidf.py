"""TF-IDF in the two spaces of the matcher's index, without scikit-learn at run time.

:class:`TfidfModel` holds a fitted vocabulary (terms in column order) and idf vector as plain
arrays, and transforms documents exactly as scikit-learn's ``TfidfVectorizer`` fitted with
``analyzer="char_wb"`` (or ``"word"`` with ``tokenizer=str.split``), ``lowercase=False``,
``sublinear_tf=True``, ``smooth_idf=True``, ``norm="l2"``, ``dtype=float32`` does
(tests/matching/test_tfidf.py checks it against scikit-learn to 1e-12):

    tf(t, d)  = 1 + ln c(t, d)                   (c: count of t in d; 0 stays 0)
    idf(t)    = 1 + ln((1 + n) / (1 + df(t)))    (n documents, df(t) of them hold t)
    x̂(d)      = tf(·, d) idf / ‖tf(·, d) idf‖₂

Char n-grams (``char_wb``): each whitespace-separated word is padded with one space on each
side and cut into its n-grams, lo <= n <= hi (a padded word shorter than n gives itself once).

:func:`fit_spaces` fits both spaces on the path titles of a scheme and analyses each distinct
word once: the count matrices are products of integer matrices, path x segment (how often a
path holds a title segment), segment x word and word x n-gram, never a re-analysis of a path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp


def char_wb_ngrams(doc: str, lo: int, hi: int) -> list[str]:
    """The ``char_wb`` n-grams of ``doc``, in scikit-learn's order."""
    out: list[str] = []
    append = out.append
    for w in doc.split():
        w = f" {w} "
        n_w = len(w)
        for n in range(lo, hi + 1):
            if n_w <= n:  # a short word counts once, at the first n that covers it
                append(w)
                break
            for i in range(n_w - n + 1):
                append(w[i:i + n])
    return out


#: Squares >= 1 in float32 are multiples of 2**-23; their float64 sums are exact (whatever the
#: order of the terms) while they stay below 2**29 (53 bits from 2**-23).
_EXACT_SUM_LIMIT = float(2 ** 29)


def _row_square_sums(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    d = m.data
    sq = (d * d).astype(np.float64)
    lengths = np.diff(m.indptr)
    nz = lengths > 0
    sums = np.zeros(m.shape[0], dtype=np.float64)
    sums[nz] = np.add.reduceat(sq, m.indptr[:-1][nz])
    return sums, sq


def l2_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit L2 norm in place (zero rows stay zero); float32 data, norms summed
    in float64 (as scikit-learn's ``normalize``), in column order.

    A matrix whose column indices are not sorted is sorted first, unless every square is
    >= 1 and every row's sum of squares < 2**29: then the float64 sums are exact, the same in
    any order, and the rows are scaled as they are (the TF-IDF weights of :func:`fit_spaces`
    are >= 1: sublinear tf >= 1, smooth idf >= 1).
    """
    d = m.data
    if not d.size:
        return m
    sums, sq = _row_square_sums(m)
    if not m.has_sorted_indices and not (sq.min() >= 1.0 and sums.max() < _EXACT_SUM_LIMIT):
        m.sort_indices()
        d = m.data
        sums, sq = _row_square_sums(m)
    del sq
    lengths = np.diff(m.indptr)
    norms = np.sqrt(sums)
    norms[norms == 0] = 1.0
    m.data = (d / np.repeat(norms, lengths)).astype(d.dtype, copy=False)
    return m


def tfidf_from_counts(counts: sp.csr_matrix, idf: np.ndarray, *, copy: bool = True,
                      sort: bool = True) -> sp.csr_matrix:
    """Sublinear tf x idf, L2-normalised rows, from a count matrix (float32 CSR).
    ``copy=False``: ``counts`` (float32 CSR) is overwritten. ``sort=False``: the column
    indices are left in their order (the values are the same, see :func:`l2_rows`)."""
    x = sp.csr_matrix(counts, dtype=np.float32, copy=copy)
    if sort and not x.has_sorted_indices:
        x.sort_indices()
    np.log(x.data, out=x.data)
    x.data += np.float32(1.0)
    x.data *= idf[x.indices]
    return l2_rows(x)


def idf_of(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Smooth idf in float32, computed in scikit-learn's order of operations."""
    d = df.astype(np.float32) + np.float32(1.0)
    idf = np.full_like(d, fill_value=n_docs + 1, dtype=np.float32)
    idf /= d
    np.log(idf, out=idf)
    idf += np.float32(1.0)
    return idf


class TfidfModel:
    """A fitted TF-IDF space: ``terms_`` (column order), ``vocabulary_`` ({term: column}),
    ``idf_`` (float32); ``analyzer`` is ``"char_wb"`` or ``"word"`` (``str.split``)."""

    def __init__(self, analyzer: str, ngram_range: tuple[int, int], terms: Sequence[str],
                 idf: np.ndarray) -> None:
        if analyzer not in ("char_wb", "word"):
            raise ValueError(f"analyzer must be 'char_wb' or 'word', got {analyzer!r}")
        self.analyzer = analyzer
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.terms_ = list(terms)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self._vocab: dict[str, int] | None = None

    @property
    def vocabulary_(self) -> dict[str, int]:
        if self._vocab is None:
            self._vocab = dict(zip(self.terms_, range(len(self.terms_)), strict=True))
        return self._vocab

    def analyze(self, doc: str) -> list[str]:
        if self.analyzer == "word":
            return doc.split()
        return char_wb_ngrams(doc, *self.ngram_range)

    def counts(self, docs: Sequence[str]) -> sp.csr_matrix:
        """Documents x terms counts (terms outside the vocabulary are dropped)."""
        vocab = self.vocabulary_
        indptr = [0]
        indices: list[int] = []
        values: list[int] = []
        for doc in docs:
            row: dict[int, int] = {}
            for t in self.analyze(doc):
                j = vocab.get(t)
                if j is not None:
                    row[j] = row.get(j, 0) + 1
            indices.extend(row)
            values.extend(row.values())
            indptr.append(len(indices))
        m = sp.csr_matrix((np.asarray(values, dtype=np.float32),
                           np.asarray(indices, dtype=np.int32),
                           np.asarray(indptr, dtype=np.int32)),
                          shape=(len(docs), len(self.terms_)))
        m.sort_indices()
        return m

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        """L2-normalised sublinear TF-IDF rows of ``docs`` (float32 CSR)."""
        return tfidf_from_counts(self.counts(docs), self.idf_)


def _restrict(m: sp.csr_matrix, new_id: np.ndarray, n_new: int, *, sort: bool = True
              ) -> sp.csr_matrix:
    """Columns renumbered by ``new_id`` (ascending; -1: dropped), indices sorted (unless
    ``sort=False``: then in the order of ``m``)."""
    m = m.tocsr()
    if n_new == len(new_id) == m.shape[1]:  # nothing dropped: ids are 0..n-1 already
        if sort:
            m.sort_indices()
        return m
    keep = new_id[m.indices] >= 0
    kept_before = np.zeros(m.nnz + 1, dtype=np.int64)
    np.cumsum(keep, out=kept_before[1:])
    indptr = kept_before[m.indptr]
    out = sp.csr_matrix((m.data[keep], new_id[m.indices[keep]].astype(np.int32), indptr),
                        shape=(m.shape[0], n_new))
    if sort:
        out.sort_indices()
    return out


def _sorted_ids(terms: list[str]) -> tuple[list[str], np.ndarray]:
    """``terms`` sorted, and each old id's position in that order."""
    order = sorted(range(len(terms)), key=terms.__getitem__)
    rank = np.empty(len(terms), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(terms))
    return [terms[i] for i in order], rank


def _keep_columns(m: sp.csr_matrix, terms: list[str], df: np.ndarray, max_doc_count: float,
                  *, sort: bool = True) -> tuple[sp.csr_matrix, list[str], np.ndarray]:
    """Columns (already in sorted term order) with 0 < df <= max_doc_count; the matrix is only
    rewritten when some column goes. Returns the matrix, the kept terms and old -> new ids."""
    ok = (df > 0) & (df <= max_doc_count)
    if ok.all():
        return m, terms, np.arange(len(terms))
    new_id = np.full(len(terms), -1, dtype=np.int64)
    new_id[ok] = np.arange(int(ok.sum()))
    return (_restrict(m, new_id, int(ok.sum()), sort=sort),
            [t for t, k in zip(terms, ok, strict=True) if k], new_id)


def fit_spaces(
    segment_docs: Sequence[str],
    path_segments: Sequence[Sequence[int]],
    own_segments: Sequence[int],
    *,
    ngram_range: tuple[int, int],
    max_df: float = 1.0,
    sorted_char: bool = True,
) -> tuple[TfidfModel, TfidfModel, dict[str, sp.csr_matrix]]:
    """Fit the char-n-gram and word spaces on path documents built from title segments.

    ``segment_docs``: the space-joined tokens of each distinct title segment; path document
    i is the segments ``path_segments[i]`` joined by spaces, own document i is segment
    ``own_segments[i]``. Both spaces are fitted on the path documents (char space with
    ``max_df``), exactly as ``TfidfVectorizer.fit_transform(path_docs)`` then
    ``.transform(own_docs)``. Returns the char model, the word model and the four matrices
    ``c_path``, ``c_own``, ``w_path``, ``w_own``. ``sorted_char=False``: the column indices
    of ``c_path`` and ``c_own`` are left in the order of the sparse products (same values;
    sorting them is a third of the work, and a caller that transposes does not need it).
    """
    lo, hi = ngram_range
    f32 = np.float32  # counts are small integers: exact in float32, and half the memory
    # segment x word counts (each distinct word analysed once below)
    word_id: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    for doc in segment_docs:
        for w in doc.split():
            j = word_id.get(w)
            if j is None:
                j = word_id[w] = len(word_id)
            indices.append(j)
        indptr.append(len(indices))
    n_seg, n_words = len(segment_docs), len(word_id)
    words, w_rank = _sorted_ids(list(word_id))  # columns in sorted order from the start
    seg_words = sp.csr_matrix((np.ones(len(indices), dtype=f32),
                               w_rank[np.asarray(indices, dtype=np.int64)],
                               np.asarray(indptr, dtype=np.int64)), shape=(n_seg, n_words))
    seg_words.sum_duplicates()
    p_ptr = np.zeros(len(path_segments) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in path_segments], out=p_ptr[1:])
    p_idx = np.fromiter((j for s in path_segments for j in s), dtype=np.int64, count=int(p_ptr[-1]))
    paths = sp.csr_matrix((np.ones(len(p_idx), dtype=f32), p_idx, p_ptr),
                          shape=(len(path_segments), n_seg))
    paths.sum_duplicates()
    own_idx = np.asarray(own_segments, dtype=np.int64)
    w_path_all = (paths @ seg_words).tocsr()
    w_path_all.sort_indices()
    w_own_all = seg_words[own_idx].tocsr()
    n_docs = len(path_segments)

    def df_of(m: sp.csr_matrix, n_cols: int) -> np.ndarray:
        return np.bincount(m.indices, minlength=n_cols)

    # word space (no max_df)
    w_df = df_of(w_path_all, n_words)
    w_path_c, w_terms, w_new = _keep_columns(w_path_all, words, w_df, float("inf"))
    if not w_terms:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    w_own_c = _restrict(w_own_all, w_new, len(w_terms))
    w_idf = idf_of(w_df[w_new >= 0], n_docs)
    # char space: word x n-gram counts, n-gram columns in sorted order
    gram_id: dict[str, int] = {}
    g_ptr = [0]
    g_idx: list[int] = []
    for w in words:
        for g in char_wb_ngrams(w, lo, hi):
            j = gram_id.get(g)
            if j is None:
                j = gram_id[g] = len(gram_id)
            g_idx.append(j)
        g_ptr.append(len(g_idx))
    grams, g_rank = _sorted_ids(list(gram_id))
    word_grams = sp.csr_matrix((np.ones(len(g_idx), dtype=f32),
                                g_rank[np.asarray(g_idx, dtype=np.int64)],
                                np.asarray(g_ptr, dtype=np.int64)),
                               shape=(n_words, len(gram_id)))
    word_grams.sum_duplicates()
    c_path_all = (w_path_all @ word_grams).tocsr()
    if sorted_char:
        c_path_all.sort_indices()
    c_own_all = (w_own_all @ word_grams).tocsr()
    max_count = float(max_df) * n_docs if isinstance(max_df, float) else float(max_df)
    c_df = df_of(c_path_all, len(grams))
    c_path_c, c_terms, c_new = _keep_columns(c_path_all, grams, c_df, max_count,
                                             sort=sorted_char)
    if not c_terms:
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    c_own_c = _restrict(c_own_all, c_new, len(c_terms), sort=sorted_char)
    c_idf = idf_of(c_df[c_new >= 0], n_docs)
    cm = TfidfModel("char_wb", (lo, hi), c_terms, c_idf)
    wm = TfidfModel("word", (1, 1), w_terms, w_idf)
    # the char count matrices are this function's own: overwritten in place
    mats = {"c_path": tfidf_from_counts(c_path_c, c_idf, copy=False, sort=sorted_char),
            "c_own": tfidf_from_counts(c_own_c, c_idf, copy=False, sort=sorted_char),
            "w_path": tfidf_from_counts(w_path_c, w_idf), "w_own": tfidf_from_counts(w_own_c, w_idf)}
    return cm, wm, mats
