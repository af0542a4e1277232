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


def _prepare(q: Query, index: SchemeIndex, vocab: dict[str, int]) -> _QueryWords:
    words = [(w, vocab.get(w, -1), index.idf(w), has_cjk(w)) for w in dict.fromkeys(q.tokens)]
    search = [(w, vocab.get(w, -1)) for w in dict.fromkeys(q.search_tokens)]
    return _QueryWords(words, search, sum(x[2] for x in words), " ".join(q.tokens))


def coverage(qw: _QueryWords, index: SchemeIndex, row: int) -> tuple[float, list[str]]:
    """``cov(q, d)`` and the matched words (query order, search-mode words included).

    A word is in the path title when the path's word tokens hold it, or (a Chinese word that
    the title's segmentation split differently) when it is a substring of the path text.
    """
    ids = index.path_word_ids(row)
    path_text = index.norm_paths_[row] if index.norm_paths_ is not None else None
    covered = 0.0
    for w, j, weight, cjk in qw.words:
        if j in ids or (cjk and path_text is not None and w in path_text):
            covered += weight
    matched = [w for w, j in qw.search if j in ids]
    if not matched and path_text is not None:
        matched = [w for w, _, _, cjk in qw.words if cjk and w in path_text]
    return (covered / qw.total if qw.total > 0 else 0.0), matched


def rerank(
    index: SchemeIndex,
    queries: list[Query],
    pooled: list[tuple[int, float, int]],
    *,
    fuzzy_weight: float,
    prepared: dict[int, _QueryWords] | None = None,
) -> list[Scored]:
    """Raw scores of one technology's pooled candidates (module docstring), best first.

    ``score`` is left at 0: the calibration needs every language's candidates (matcher.py).
    """
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    vocab = index.word_vectorizer_.vocabulary_
    prepared = {} if prepared is None else prepared
    titles = index.norm_titles_
    out: list[Scored] = []
    qws = []
    for _row, _s, qi in pooled:
        qw = prepared.get(qi)
        if qw is None:
            qw = prepared[qi] = _prepare(queries[qi], index, vocab)
        qws.append(qw)
    # rapidfuzz on all pairs at once (element-wise, in C), explicit processor
    tsr = process.cpdist([qw.text for qw in qws], [titles[row] for row, _, _ in pooled],
                         scorer=fuzz.token_set_ratio, processor=default_process, workers=1)
    for (row, s, qi), qw, t in zip(pooled, qws, tsr, strict=True):
        cov, matched = coverage(qw, index, row)
        f = float(t) / 100.0 * cov
        raw = (1.0 - fuzzy_weight) * s + fuzzy_weight * f
        out.append(Scored(row, s, cov, f, raw, 0.0, qi, matched))
    out.sort(key=lambda x: (-x.raw, x.row))
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
