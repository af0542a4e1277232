"""Candidate generation: technology queries against a :class:`SchemeIndex`, sparse top-k.

A technology yields one query per text: its name, and each catalogue keyword (keywords widen
the query, they do not dilute it). With s(q, d) the index similarity (index.py), the
technology's retrieval score of entry d is

    s_t(d) = max( s(name_t, d),  w_k · max_j s(keyword_tj, d) )          (w_k = keyword_weight)

and the ``pool`` entries with the largest s_t go to re-ranking. Query-by-entry scores come
from ``sparse_dot_topn.sp_matmul_topn`` (top ``pool`` per query row), never a dense matrix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from coretech.matching.index import SchemeIndex
from coretech.matching.sorting import lexsort
from coretech.matching.tokenize import Tokenizer

# list separators of a name: always (；，、/ ; ,), and words joining items (及 和 与 and),
# which split only when both sides keep at least two characters; a trailing 等 is dropped
_HARD_SEP = re.compile(r"[；;，,、/／]+")
_SOFT_SEP = re.compile(r"(?<=\S{2})(?:及|和|与|以及|\s+and\s+)(?=\S{2})")
_TRAILING_ETC = re.compile(r"(?:等|etc\.?)\s*$")


def split_items(name: str) -> list[str]:
    """The items of a name that lists several (failure class 3 of issue 13).

    ``'太阳能电池封装、模块、零部件等'`` -> ``['太阳能电池封装', '模块', '零部件']``;
    ``'光纤宽带运营服务；新一代移动通信核心网和接入网建设'`` -> ``['光纤宽带运营服务',
    '新一代移动通信核心网', '接入网建设']``. A name that lists nothing gives ``[]`` (the
    name query covers it). Items of fewer than two characters are dropped.
    """
    text = str(name or "").strip()
    parts = []
    for chunk in _HARD_SEP.split(text):
        chunk = _TRAILING_ETC.sub("", chunk.strip()).strip()
        parts.extend(p.strip() for p in _SOFT_SEP.split(chunk))
    items = [p for p in dict.fromkeys(parts) if len(p) >= 2]
    return items if len(items) > 1 else []


@dataclass
class Query:
    """One query row: which technology, from which text, and its tokens."""

    tech: int  # position of the technology in the catalogue
    source: str  # "name", "item" (one item of a name that lists several) or "keyword"
    text: str
    tokens: list[str]  # plain cut (char view, coverage, fuzzy)
    search_tokens: list[str]  # search-mode cut (word view, evidence)
    weight: float


def build_queries(
    names: list[str], keywords: list[list[str]], tok: Tokenizer, keyword_weight: float,
    *, items: bool = True,
) -> list[Query]:
    """Query rows of technologies (``names[i]`` and ``keywords[i]`` of technology i).

    With ``items`` a name that lists several items (:func:`split_items`) also gives one query
    per item, at the name's weight, so that each item is matched on its own words.
    """
    out: list[Query] = []
    for i, (name, kws) in enumerate(zip(names, keywords, strict=True)):
        texts = [("name", name, 1.0)] if name else []
        if items and name:
            texts += [("item", it, 1.0) for it in split_items(name)]
        texts += [("keyword", k, keyword_weight) for k in kws if keyword_weight > 0]
        seen: set[str] = set()
        for source, text, w in texts:
            toks = tok.cut(text)
            if not toks:
                toks = tok.cut(text, keep_stopwords=True)  # a name made only of stop words
            key = " ".join(toks)
            if not toks or key in seen:
                continue
            seen.add(key)
            out.append(Query(i, source, text, toks, tok.cut(text, search=True) or toks, w))
    return out


def top_k_sparse(index: SchemeIndex, queries: list[Query], pool: int):  # -> csr_matrix
    """Queries x entries similarity, keeping the ``pool`` best entries of each query row."""
    from sparse_dot_topn import sp_matmul_topn

    q = index.transform_queries(
        [" ".join(x.tokens) for x in queries], [" ".join(x.search_tokens) for x in queries]
    )
    threads = max(1, min(2, os.cpu_count() or 1))  # rows are independent: same result
    return sp_matmul_topn(q, index.matrix_t_, top_n=pool, threshold=1e-9, sort=True,
                          n_threads=threads)


def pool_candidates(
    index: SchemeIndex, queries: list[Query], n_tech: int, pool: int
) -> dict[int, list[tuple[int, float, int]]]:
    """Per technology: ``[(entry row, s_t, query position)]``, best first, at most ``pool``.

    Ties are broken by scheme order, so the result does not depend on the sparse kernel.
    """
    out: dict[int, list[tuple[int, float, int]]] = {i: [] for i in range(n_tech)}
    if not queries:
        return out
    m = top_k_sparse(index, queries, pool)
    best: dict[int, dict[int, tuple[float, int]]] = {i: {} for i in range(n_tech)}
    indptr, indices, data = m.indptr, m.indices, m.data
    for qi, q in enumerate(queries):
        lo, hi = indptr[qi], indptr[qi + 1]
        b = best[q.tech]
        for j, v in zip(indices[lo:hi], data[lo:hi], strict=True):
            s = float(v) * q.weight
            cur = b.get(int(j))
            if cur is None or s > cur[0] + 1e-12:
                b[int(j)] = (s, qi)
    for t, b in best.items():
        items = sorted(b.items(), key=lambda kv: (-kv[1][0], kv[0]))[:pool]
        out[t] = [(j, s, qi) for j, (s, qi) in items]
    return out


def as_arrays(cands: list[tuple[int, float, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not cands:
        return np.zeros(0, int), np.zeros(0), np.zeros(0, int)
    j, s, q = zip(*cands, strict=True)
    return np.asarray(j), np.asarray(s, dtype=float), np.asarray(q)


@dataclass
class Pairs:
    """Pooled (technology, entry) pairs as parallel arrays, grouped by technology (catalogue
    order) and best first within a technology (s_t descending, then scheme order)."""

    tech: np.ndarray  # int64, technology position
    row: np.ndarray  # int64, entry row in the index
    retrieval: np.ndarray  # float64, s_t(d)
    query: np.ndarray  # int64, position of the query that gave s_t(d)


def pool_pairs(index: SchemeIndex, queries: list[Query], pool: int) -> Pairs:
    """:func:`pool_candidates` as arrays (no per-pair Python work).

    Per (technology, entry) the best weighted query score wins (ties: the earlier query);
    then the ``pool`` best entries of each technology, ties broken by scheme order.
    """
    if not queries:
        z = np.zeros(0, dtype=np.int64)
        return Pairs(z, z.copy(), np.zeros(0), z.copy())
    m = top_k_sparse(index, queries, pool)
    n_q = len(queries)
    qi = np.repeat(np.arange(n_q, dtype=np.int64), np.diff(m.indptr))
    qtech = np.fromiter((q.tech for q in queries), dtype=np.int64, count=n_q)
    qweight = np.fromiter((q.weight for q in queries), dtype=np.float64, count=n_q)
    tech = qtech[qi]
    row = m.indices.astype(np.int64)
    s = m.data.astype(np.float64) * qweight[qi]
    if len(np.unique(qtech)) < n_q:  # (one query per technology: nothing to merge)
        # best query per (technology, entry): sort by tech, entry, -s, query, keep the first
        o = lexsort((qi, -s, row, tech))
        tech, row, s, qi = tech[o], row[o], s[o], qi[o]
        first = np.ones(len(o), dtype=bool)
        first[1:] = (tech[1:] != tech[:-1]) | (row[1:] != row[:-1])
        tech, row, s, qi = tech[first], row[first], s[first], qi[first]
    # the pool best of each technology
    o = lexsort((row, -s, tech))
    tech, row, s, qi = tech[o], row[o], s[o], qi[o]
    start = np.r_[0, np.flatnonzero(tech[1:] != tech[:-1]) + 1]
    pos = np.arange(len(tech)) - np.repeat(start, np.diff(np.r_[start, len(tech)]))
    keep = pos < pool
    return Pairs(tech[keep], row[keep], s[keep], qi[keep])
