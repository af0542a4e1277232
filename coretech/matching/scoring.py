"""Re-ranking of the pooled candidates and the one calibrated score.

For technology t, candidate entry d proposed by query q (its name or a keyword, see
candidates.py) with retrieval score s_t(d):

* coverage (the guard against short titles): the idf-weighted share of the query's words that
  occur in d's path title,

      cov(q, d) = Σ_{w ∈ q, w ∈ path(d)} idf(w) / Σ_{w ∈ q} idf(w);

  a one-word title such as "Bearings" inside a three-word query covers a third of it at most,
  so it cannot tie with a title that says all three words;
* fuzzy agreement, rapidfuzz ``token_set_ratio`` of the normalised query and d's own title with
  the explicit processor ``rapidfuzz.utils.default_process``, on [0, 1], guarded by coverage:
  f(q, d) = token_set_ratio(q, t_d) / 100 · cov(q, d);
* the raw score r_t(d) = (1 − w_f) s_t(d) + w_f f(q, d)   (w_f = ``fuzzy_weight``).

Raw scores of long and short names are on different scales (a long name spreads its TF-IDF
mass over more words), so one threshold would mean different things for different
technologies. The final score is a geometric mix of the absolute and the technology-relative
score,

      score_t(d) = r_t(d)^(1−γ) · ( r_t(d) / max_e r_t(e) )^γ = r_t(d) · (max_e r_t(e))^(−γ)

(γ = ``calibration``, in [0, 1]; γ = 0: absolute raw score, γ = 1: share of the technology's best).
It lies in [0, 1], is monotone in r within a technology (the ranking is unchanged), and a
threshold on it reads "at least this strong, relative to how well this technology matches at
all". The defaults were chosen on the gold sets by bench/matching.py (docs/matching.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from coretech.matching.candidates import Query
from coretech.matching.index import SchemeIndex
from coretech.matching.normalize import has_cjk
from coretech.matching.sorting import lexsort, position_in_group

_WORKERS = max(1, min(2, os.cpu_count() or 1))  # pairs are independent: same result


@dataclass
class Scored:
    """A re-ranked candidate of one technology."""

    row: int  # entry row in the index
    retrieval: float
    coverage: float
    fuzzy: float
    raw: float
    score: float
    query: int  # position in the query list
    matched: list[str]


@dataclass
class _QueryWords:
    """A query's words prepared once: (word, word-space id or -1, idf, is Chinese)."""

    words: list[tuple[str, int, float, bool]]
    search: list[tuple[str, int]]
    total: float
    text: str
    #: Chinese compound words (position in ``words``) -> their parts ``(part, offset in word)``
    parts: dict[int, list[tuple[str, int]]] = field(default_factory=dict)


def cover_words(q: Query, vocab: dict[str, int]) -> list[str]:
    """The words coverage counts: a Chinese word the titles never use (a catalogue term kept
    whole, e.g. 智能网联汽车) is replaced by its dictionary parts from the search-mode cut."""
    out: list[str] = []
    for w in q.tokens:
        if has_cjk(w) and w not in vocab and len(w) > 2:
            parts = [p for p in q.search_tokens if p != w and p in w and p in vocab]
            if parts:
                out.extend(parts)
                continue
        out.append(w)
    return list(dict.fromkeys(out))


def word_parts(q: Query, word: str) -> list[tuple[str, int]]:
    """The parts of a Chinese compound word that the query's search-mode cut gives (words of
    two or more characters inside it, with their offset): ``图像增强`` -> ``[('图像', 0),
    ('增强', 2)]``. Empty for a word of two characters or none."""
    if len(word) <= 2 or not has_cjk(word):
        return []
    return [(p, word.find(p)) for p in dict.fromkeys(q.search_tokens)
            if p != word and len(p) >= 2 and p in word]


def _prepare(q: Query, index: SchemeIndex, vocab: dict[str, int]) -> _QueryWords:
    words = [(w, vocab.get(w, -1), index.idf(w), has_cjk(w)) for w in cover_words(q, vocab)]
    search = [(w, vocab.get(w, -1)) for w in dict.fromkeys(q.search_tokens)]
    parts = {k: ps for k, (w, _j, _i, cjk) in enumerate(words) if cjk and (ps := word_parts(q, w))}
    return _QueryWords(words, search, sum(x[2] for x in words), " ".join(w for w, *_ in words),
                       parts)


def matched_words(q: Query, index: SchemeIndex, row: int) -> list[str]:
    """The query's words found in entry ``row``'s path title, in query order (for evidence):
    search-mode words among the path's words, else (Chinese) words inside the path text."""
    vocab = index.word_vectorizer_.vocabulary_
    ids = index.path_word_ids(row)
    matched = [w for w in dict.fromkeys(q.search_tokens) if vocab.get(w, -1) in ids]
    if not matched and index.norm_paths_ is not None:
        text = index.norm_paths_[row]
        matched = [w for w in dict.fromkeys(q.tokens) if has_cjk(w) and w in text]
    return matched


def _path_hits(index: SchemeIndex, words: list[list[tuple[int, float]]], qis: np.ndarray,
               rows: np.ndarray):  # -> csr_matrix
    """Pairs x word ids: the value a query gives a word (``words[q]``: ``(word id, value)``,
    id -1 for a word the titles never use) where the pair's entry has that word in its path."""
    import scipy.sparse as sp

    ptr, ind, dat = [0], [], []
    for ws in words:
        for j, v in ws:
            if j >= 0:
                ind.append(j)
                dat.append(v)
        ptr.append(len(ind))
    pmat = index.path_presence()
    qmat = sp.csr_matrix((np.asarray(dat, dtype=np.float64), np.asarray(ind, dtype=np.int32),
                          np.asarray(ptr)), shape=(len(words), pmat.shape[1]))
    return sp.csr_matrix(qmat[qis].multiply(pmat[rows]))


def pair_matched_words(index: SchemeIndex, queries: list[Query], qis: np.ndarray,
                       rows: np.ndarray) -> list[list[str]]:
    """:func:`matched_words` of many (query, entry) pairs at once (the same words, in the same
    order): one sparse product of query-word positions and the paths' word presence."""
    if len(qis) == 0:
        return []
    vocab = index.word_vectorizer_.vocabulary_
    search = [list(dict.fromkeys(q.search_tokens)) for q in queries]
    hit = _path_hits(index, [[(vocab.get(w, -1), float(pos)) for pos, w in enumerate(ws, start=1)]
                             for ws in search], qis, rows)
    pair = np.repeat(np.arange(len(qis)), np.diff(hit.indptr))
    hp, hd = hit.indptr.tolist(), hit.data[lexsort((hit.data, pair))].astype(np.int64).tolist()
    out: list[list[str]] = []
    texts = index.norm_paths_
    for k, (qi, row) in enumerate(zip(qis.tolist(), rows.tolist(), strict=True)):
        lo, hi = hp[k], hp[k + 1]
        if hi > lo:
            ws = search[qi]
            out.append([ws[pos - 1] for pos in hd[lo:hi]])  # query order
        elif texts is not None:
            text = texts[row]
            out.append([w for w in dict.fromkeys(queries[qi].tokens) if has_cjk(w) and w in text])
        else:
            out.append([])
    return out


def pair_coverage(index: SchemeIndex, prepared: list[_QueryWords], qis: np.ndarray,
                  rows: np.ndarray, also: list[_QueryWords] | None = None):
    """``cov(q, d)`` for many (query, entry) pairs at once.

    A Latin word is in the path title when the path's word tokens hold it (a sparse product of
    idf-weighted query rows and binary path rows); a Chinese word when it is a substring of the
    path text (which also catches a word the title's segmentation split differently); a
    Chinese compound word that the path holds only in parts (``图像增强`` in "图像的增强或复原")
    counts for the share of its characters those parts cover (:func:`_parts_credit`).
    ``also``: the same words under other weights (e.g. the specific weights of
    :func:`specific_weights`); then both coverages are returned, the substring tests done once.
    """
    sets = [prepared] if also is None else [prepared, also]
    nums = []
    for ps in sets:
        weighted = [[(j, idf) for _w, j, idf, cjk in qw.words if not cjk] for qw in ps]
        nums.append(np.asarray(_path_hits(index, weighted, qis, rows).sum(axis=1),
                               dtype=np.float64).ravel())
    if index.norm_paths_ is not None:  # Chinese words: substring tests, query by query
        texts = index.norm_paths_
        order = np.argsort(qis, kind="stable")
        bounds = np.searchsorted(qis[order], np.arange(len(prepared) + 1)).tolist()
        rows_by_q = rows[order].tolist()
        for qi, qw in enumerate(prepared):
            lo, hi = bounds[qi], bounds[qi + 1]
            ws = [(k, w) for k, (w, _j, _idf, cjk) in enumerate(qw.words) if cjk]
            if not ws or lo == hi:
                continue
            sel = order[lo:hi]
            paths = [texts[r] for r in rows_by_q[lo:hi]]
            for k, w in ws:
                hit = np.fromiter((w in t for t in paths), dtype=bool, count=hi - lo)
                credit = None
                if k in qw.parts and not hit.all():
                    credit = _parts_credit(w, qw.parts[k], paths, hit)
                    if not credit.any():
                        continue
                elif not hit.any():
                    continue
                # per pair: 0 + idf(w1) + idf(w2) ..., in query word order
                for num, ps in zip(nums, sets, strict=True):
                    if credit is None:
                        num[sel[hit]] += ps[qi].words[k][2]
                    else:
                        got = credit > 0
                        num[sel[got]] += ps[qi].words[k][2] * credit[got]
    out = []
    for num, ps in zip(nums, sets, strict=True):
        total = np.array([qw.total for qw in ps], dtype=np.float64)[qis]
        out.append(np.divide(num, total, out=np.zeros_like(num), where=total > 0))
    return out[0] if also is None else (out[0], out[1])


def _parts_credit(word: str, parts: list[tuple[str, int]], paths: list[str],
                  hit: np.ndarray) -> np.ndarray:
    """Per path: 1 where the compound ``word`` is in it, else the share of its characters that
    parts found in the path cover (``图像增强`` in "图像的增强或复原": both parts, 1.0; a path
    with only 图像: 0.5). A title says the same thing with its words apart."""
    covered = np.zeros((len(paths), len(word)), dtype=bool)
    miss = np.flatnonzero(~hit)
    miss_paths = [paths[i] for i in miss.tolist()]
    for p, off in parts:
        found = np.fromiter((p in t for t in miss_paths), dtype=bool, count=len(miss))
        covered[miss[found], off:off + len(p)] = True
    credit = covered.mean(axis=1)
    credit[hit] = 1.0
    return credit


def specific_weights(index: SchemeIndex, queries: list[Query],
                     spread: dict[str, float]) -> list[_QueryWords]:
    """The coverage words of each query (:func:`cover_words`, in the same order as
    :func:`_prepare`) weighted by ``v(w) = idf_S(w) · g_C(w)`` (coretech.matching.evidence:
    subclass-level idf over the scheme times the catalogue spread) instead of the entry idf;
    coverage under these weights is the specific coverage ``spec(q, d)``."""
    from coretech.matching.evidence import subclass_idf, word_weight

    vocab = index.word_vectorizer_.vocabulary_
    idf_s = subclass_idf(index)
    prepared = []
    for q in queries:
        words = [(w, vocab.get(w, -1), word_weight(w, vocab, idf_s, spread), has_cjk(w))
                 for w in cover_words(q, vocab)]
        parts = {k: ps for k, (w, _j, _v, cjk) in enumerate(words)
                 if cjk and (ps := word_parts(q, w))}
        prepared.append(_QueryWords(words, [], sum(x[2] for x in words), "", parts))
    return prepared


def specific_coverage(index: SchemeIndex, queries: list[Query], qis: np.ndarray,
                      rows: np.ndarray, spread: dict[str, float]) -> np.ndarray:
    """``spec(q, d)`` of (query, entry) pairs (see :func:`specific_weights`)."""
    if len(rows) == 0:
        return np.zeros(0)
    return pair_coverage(index, specific_weights(index, queries, spread), qis, rows)


def rerank_pairs(
    index: SchemeIndex, queries: list[Query], rows: np.ndarray, qis: np.ndarray, retrieval: np.ndarray,
    *, fuzzy_weight: float, spread: dict[str, float] | None = None,
):
    """Coverage, guarded fuzzy agreement and raw score (module docstring) of (query, entry)
    pairs given as arrays: ``(cov, f, r)``, all float64, computed for all pairs at once.
    With ``spread`` (the catalogue spread of coretech.matching.evidence) also the specific
    coverage: ``(cov, f, r, spec)``."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    if len(rows) == 0:
        z = np.zeros(0)
        return (z, z.copy(), z.copy()) if spread is None else (z, z.copy(), z.copy(), z.copy())
    vocab = index.word_vectorizer_.vocabulary_
    prepared = [_prepare(q, index, vocab) for q in queries]
    spec = None
    if spread is None:
        cov = pair_coverage(index, prepared, qis, rows)
    else:
        cov, spec = pair_coverage(index, prepared, qis, rows,
                                  also=specific_weights(index, queries, spread))
    # the processor (default_process) is applied once per string, not once per pair
    titles = index.fuzzy_titles_
    texts = [default_process(p.text) for p in prepared]
    # f = tsr · cov is 0 where no query word is in the path: compare only the other pairs
    some = np.flatnonzero(cov > 0)
    tsr = np.zeros(len(cov))
    if len(some):
        tsr[some] = process.cpdist([texts[qi] for qi in qis[some].tolist()],
                                   [titles[r] for r in rows[some].tolist()],
                                   scorer=fuzz.token_set_ratio, processor=None,
                                   workers=_WORKERS)
    fz = tsr / 100.0 * cov
    raw = (1.0 - fuzzy_weight) * retrieval + fuzzy_weight * fz
    return (cov, fz, raw) if spec is None else (cov, fz, raw, spec)


def rerank_all(
    index: SchemeIndex,
    queries: list[Query],
    pooled: dict[int, list[tuple[int, float, int]]],
    *,
    fuzzy_weight: float,
) -> dict[int, list[Scored]]:
    """Raw scores of every technology's pooled candidates (module docstring), best first.

    ``pooled`` as :func:`~coretech.matching.candidates.pool_candidates` gives it; the matcher
    itself uses the array form :func:`rerank_pairs`. ``score`` is left at 0 and ``matched``
    empty (:func:`matched_words` fills evidence for written rows only).
    """
    out: dict[int, list[Scored]] = {t: [] for t in pooled}
    flat = [(t, row, s, qi) for t, lst in pooled.items() for row, s, qi in lst]
    if not flat:
        return out
    rows = np.fromiter((f[1] for f in flat), dtype=np.int64, count=len(flat))
    qis = np.fromiter((f[3] for f in flat), dtype=np.int64, count=len(flat))
    ret = np.fromiter((f[2] for f in flat), dtype=np.float64, count=len(flat))
    cov, fz, raw = rerank_pairs(index, queries, rows, qis, ret, fuzzy_weight=fuzzy_weight)
    for k, (t, row, s, qi) in enumerate(flat):
        out[t].append(Scored(row, s, float(cov[k]), float(fz[k]), float(raw[k]), 0.0, qi, []))
    for lst in out.values():
        lst.sort(key=lambda x: (-x.raw, x.row))
    return out


def _group_ids(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense ids of the distinct pairs ``(a, b)`` (non-negative integer arrays of equal length),
    numbered in lexicographic order of the pairs."""
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64)
    key = a.astype(np.int64) * (int(b.max()) + 1) + b.astype(np.int64)
    return np.unique(key, return_inverse=True)[1].ravel()


def final_scores(
    tech: np.ndarray, sub: np.ndarray, raw: np.ndarray, retrieval: np.ndarray, order: np.ndarray,
    *, support_weight: float, support_top: int, calibration: float, decimals: int,
    diversity: float,
) -> tuple[list[float], np.ndarray]:
    """Calibrated, rounded scores and ranks of all candidates of all technologies at once.

    Same arithmetic, in the same order, as :func:`with_support`, :func:`calibrate` and
    :func:`diversify` applied per technology (so outputs do not change): ``tech`` and ``sub``
    (subclass id) are integer arrays, ``order`` the tie-breaking key (scheme order). Returns
    (scores rounded to ``decimals``, rank within the technology, 1 = first).
    """
    n = len(tech)
    if n == 0:
        return [], np.zeros(0, dtype=np.int64)
    n_tech = int(tech.max()) + 1
    r = raw
    if support_weight > 0:
        gid = _group_ids(tech, sub)
        n_g = int(gid.max()) + 1
        o = lexsort((-retrieval, gid))
        g_sorted = gid[o]
        start = np.r_[0, np.flatnonzero(g_sorted[1:] != g_sorted[:-1]) + 1]
        pos = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
        mass = np.zeros(n_g)
        for k in range(support_top):  # sequential sum of the top values, largest first
            sel = o[pos == k]
            mass[gid[sel]] += retrieval[sel]
        g_tech = np.zeros(n_g, dtype=np.int64)
        g_tech[gid] = tech
        best = np.full(n_tech, -np.inf)
        np.maximum.at(best, g_tech, mass)
        b = best[tech]
        sup = np.divide(mass[gid], b, out=np.zeros(n), where=b > 0)
        r = (1.0 - support_weight) * raw + support_weight * sup
    top = np.full(n_tech, -np.inf)
    np.maximum.at(top, tech, r)
    scale = np.array([t ** (-calibration) if t > 0 else 0.0 for t in top.tolist()])
    score = np.minimum(1.0, r * scale[tech])
    sr = np.round(score, decimals)
    return sr.tolist(), rank_scores(tech, sub, sr, order, diversity=diversity)


def rank_scores(tech: np.ndarray, sub: np.ndarray, sr: np.ndarray, order: np.ndarray, *,
                diversity: float) -> np.ndarray:
    """Rank (1 = first) of each candidate within its technology: score order, with the j-th
    code of a subclass discounted by (1 − δ)^j (:func:`diversify`); ties by ``order``."""
    n = len(tech)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    o = lexsort((order, -sr, tech))
    if diversity > 0:
        ot, os_ = tech[o], sub[o]
        j = position_in_group(_group_ids(ot, os_))
        fac = np.array([(1.0 - diversity) ** k for k in range(int(j.max()) + 1)])
        key = np.empty(n)
        key[o] = -np.round(sr[o] * fac[j], 9)
        o = lexsort((order, key, tech))
    ts = tech[o]
    start = np.r_[0, np.flatnonzero(ts[1:] != ts[:-1]) + 1]
    rank = np.empty(n, dtype=np.int64)
    rank[o] = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n])) + 1
    return rank


def calibrate(raw: dict[str, float], calibration: float) -> dict[str, float]:
    """The calibrated score ``r · (max r)^(−γ)`` (capped at 1) of one technology's raw scores."""
    top = max(raw.values()) if raw else 0.0
    if top <= 0:
        return {c: 0.0 for c in raw}
    scale = top ** (-calibration)
    return {c: min(1.0, r * scale) for c, r in raw.items()}


def with_support(raw: dict[str, float], retrieval: dict[str, float], weight: float,
                 top: int) -> dict[str, float]:
    """r' = (1 − w_s) r + w_s sup(d)  (w_s = ``support_weight``; sup: :func:`subclass_support`)."""
    if weight <= 0:
        return dict(raw)
    sup = subclass_support(retrieval, top)
    return {c: (1.0 - weight) * r + weight * sup[c] for c, r in raw.items()}


def subclass_of(code: str) -> str:
    """Subclass of a canonical symbol of subclass level or below (``H01L29/739`` -> ``H01L``)."""
    return code[:4]


def subclass_support(retrieval: dict[str, float], top: int) -> dict[str, float]:
    """Support of each candidate's subclass among a technology's pooled candidates.

    With S(d) the subclass of d and s_t the retrieval score, the mass of subclass S is the sum
    of the ``top`` largest s_t(e) over pooled e in S; sup(d) = mass(S(d)) / max_S mass(S), in
    [0, 1]. A subclass in which many entries match the technology supports each of them.
    """
    by_sub: dict[str, list[float]] = {}
    sub_of = {}
    for c, s in retrieval.items():
        sc = subclass_of(c)
        sub_of[c] = sc
        by_sub.setdefault(sc, []).append(s)
    mass = {sc: sum(sorted(v, reverse=True)[:top]) for sc, v in by_sub.items()}
    best = max(mass.values()) if mass else 0.0
    if best <= 0:
        return {c: 0.0 for c in retrieval}
    return {c: mass[sub_of[c]] / best for c in retrieval}


def diversify(rows: list[dict], diversity: float) -> list[dict]:
    """Order candidates for the list (``rank``) with repeats of a subclass discounted.

    The j-th candidate (j = 0, 1, ...) of a subclass, in score order, is ranked by
    score · (1 − δ)^j (δ = ``diversity``, an MMR-like discount); ``score`` itself is left
    unchanged, so the dictionary's threshold still reads the calibrated score. A reviewer
    (and recall@10) sees the different subclasses a technology touches near the top.
    """
    seen: dict[str, int] = {}
    keyed = []
    for r in rows:
        sc = subclass_of(r["ipc_code"])
        j = seen.get(sc, 0)
        seen[sc] = j + 1
        keyed.append((-round(r["score"] * (1.0 - diversity) ** j, 9), r["_o"], r))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [k[2] for k in keyed]
