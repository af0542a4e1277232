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

from dataclasses import dataclass

import numpy as np

from coretech.matching.candidates import Query
from coretech.matching.index import SchemeIndex
from coretech.matching.normalize import has_cjk


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


def _prepare(q: Query, index: SchemeIndex, vocab: dict[str, int]) -> _QueryWords:
    words = [(w, vocab.get(w, -1), index.idf(w), has_cjk(w)) for w in cover_words(q, vocab)]
    search = [(w, vocab.get(w, -1)) for w in dict.fromkeys(q.search_tokens)]
    return _QueryWords(words, search, sum(x[2] for x in words), " ".join(w for w, *_ in words))


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


def pair_coverage(index: SchemeIndex, prepared: list[_QueryWords], qis: np.ndarray,
                  rows: np.ndarray) -> np.ndarray:
    """``cov(q, d)`` for many (query, entry) pairs at once.

    A Latin word is in the path title when the path's word tokens hold it (a sparse product of
    idf-weighted query rows and binary path rows); a Chinese word when it is a substring of the
    path text (which also catches a word the title's segmentation split differently).
    """
    import scipy.sparse as sp

    n_vocab = len(index.word_vectorizer_.vocabulary_)
    ptr, ind, dat = [0], [], []
    for qw in prepared:
        for _w, j, idf, cjk in qw.words:
            if j >= 0 and not cjk:
                ind.append(j)
                dat.append(idf)
        ptr.append(len(ind))
    qmat = sp.csr_matrix((np.asarray(dat, dtype=np.float64), np.asarray(ind, dtype=np.int32),
                          np.asarray(ptr)), shape=(len(prepared), n_vocab))
    pmat = sp.csr_matrix((np.ones(len(index.path_word_ids_)), index.path_word_ids_,
                          index.path_word_ptr_), shape=(index.n_entries, n_vocab))
    num = np.asarray(qmat[qis].multiply(pmat[rows]).sum(axis=1), dtype=np.float64).ravel()
    if index.norm_paths_ is not None:
        texts = index.norm_paths_
        cjk_words = [[(w, idf) for w, _j, idf, cjk in qw.words if cjk] for qw in prepared]
        for k, (qi, row) in enumerate(zip(qis.tolist(), rows.tolist(), strict=True)):
            ws = cjk_words[qi]
            if ws:
                text = texts[row]
                num[k] += sum(idf for w, idf in ws if w in text)
    total = np.array([qw.total for qw in prepared], dtype=np.float64)[qis]
    return np.divide(num, total, out=np.zeros_like(num), where=total > 0)


def rerank_all(
    index: SchemeIndex,
    queries: list[Query],
    pooled: dict[int, list[tuple[int, float, int]]],
    *,
    fuzzy_weight: float,
) -> dict[int, list[Scored]]:
    """Raw scores of every technology's pooled candidates (module docstring), best first.

    Coverage and rapidfuzz run on all (query, entry) pairs at once. ``score`` is left at 0:
    the calibration needs every language's candidates (matcher.py); ``matched`` is filled
    later, only for rows that are written (:func:`matched_words`).
    """
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    out: dict[int, list[Scored]] = {t: [] for t in pooled}
    flat = [(t, row, s, qi) for t, lst in pooled.items() for row, s, qi in lst]
    if not flat:
        return out
    vocab = index.word_vectorizer_.vocabulary_
    prepared = [_prepare(q, index, vocab) for q in queries]
    rows = np.fromiter((f[1] for f in flat), dtype=np.int64, count=len(flat))
    qis = np.fromiter((f[3] for f in flat), dtype=np.int64, count=len(flat))
    cov = pair_coverage(index, prepared, qis, rows)
    titles = index.norm_titles_
    tsr = process.cpdist([prepared[qi].text for qi in qis.tolist()],
                         [titles[r] for r in rows.tolist()],
                         scorer=fuzz.token_set_ratio, processor=default_process, workers=1)
    fz = np.asarray(tsr, dtype=np.float64) / 100.0 * cov
    for k, (t, row, s, qi) in enumerate(flat):
        c, f = float(cov[k]), float(fz[k])
        out[t].append(Scored(row, s, c, f, (1.0 - fuzzy_weight) * s + fuzzy_weight * f,
                             0.0, qi, []))
    for lst in out.values():
        lst.sort(key=lambda x: (-x.raw, x.row))
    return out


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
