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
from coretech.matching.normalize import has_cjk, normalize_text


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


def coverage(q: Query, index: SchemeIndex, row: int, idf: dict[str, float]) -> tuple[float, list[str]]:
    """``cov(q, d)`` and the matched words (query order, search-mode words included)."""
    path_tokens = index.path_tokens_[row]
    path_text = None
    total = covered = 0.0
    for w in dict.fromkeys(q.tokens):
        weight = idf[w]
        total += weight
        if w in path_tokens:
            covered += weight
        elif has_cjk(w):
            if path_text is None:
                path_text = normalize_text(index.path_titles_[row]).replace(" ", "")
            if w in path_text:
                covered += weight
    matched = [w for w in dict.fromkeys(q.search_tokens) if w in path_tokens]
    if not matched and path_text:
        matched = [w for w in dict.fromkeys(q.tokens) if has_cjk(w) and w in path_text]
    return (covered / total if total > 0 else 0.0), matched


def rerank(
    index: SchemeIndex,
    queries: list[Query],
    pooled: list[tuple[int, float, int]],
    *,
    fuzzy_weight: float,
    calibration: float,
    idf: dict[str, float],
) -> list[Scored]:
    """Score one technology's pooled candidates (formulas in the module docstring), best first."""
    from rapidfuzz import fuzz
    from rapidfuzz.utils import default_process

    out: list[Scored] = []
    qtext = {}
    for row, s, qi in pooled:
        q = queries[qi]
        for w in q.tokens:
            if w not in idf:
                idf[w] = index.idf(w)
        cov, matched = coverage(q, index, row, idf)
        if qi not in qtext:
            qtext[qi] = " ".join(q.tokens)
        title = index.titles_[row] or index.path_titles_[row].rsplit(" > ", 1)[-1]
        tsr = fuzz.token_set_ratio(qtext[qi], normalize_text(title), processor=default_process)
        f = tsr / 100.0 * cov
        raw = (1.0 - fuzzy_weight) * s + fuzzy_weight * f
        out.append(Scored(row, s, cov, f, raw, 0.0, qi, matched))
    if not out:
        return out
    top = max(x.raw for x in out)
    if top > 0:
        scale = top ** (-calibration)
        for x in out:
            x.score = min(1.0, x.raw * scale)
    out.sort(key=lambda x: (-round(x.score, 9), x.row))
    return out


def calibrated(raw: np.ndarray, calibration: float) -> np.ndarray:
    """``r · max(r)^(−γ)`` of one technology's raw scores (module docstring)."""
    raw = np.asarray(raw, dtype=float)
    if raw.size == 0 or raw.max() <= 0:
        return np.zeros_like(raw)
    return np.minimum(1.0, raw * raw.max() ** (-calibration))
