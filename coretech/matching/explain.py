"""``method`` and ``evidence`` of (query, entry) pairs: what a reviewer reads on every row."""

from __future__ import annotations

from typing import Any

import numpy as np

from coretech.matching.index import SchemeIndex
from coretech.matching.scoring import pair_matched_words


def explain_pairs(idx: SchemeIndex, queries: list[Any], qis: np.ndarray, rows: np.ndarray,
                  lang: str) -> tuple[list[str], list[str]]:
    """``method`` and ``evidence`` of (query, entry) pairs: the query's words found in the
    entry's path title (:func:`~coretech.matching.scoring.pair_matched_words`) and the path."""
    words = pair_matched_words(idx, queries, qis, rows)
    paths = idx.path_titles_
    method_of = [f"tfidf+fuzzy:{q.source}:{lang}" for q in queries]
    via = ["name" if q.source == "name" else f"{q.source} '{q.text}'" for q in queries]
    qi_l, row_l = qis.tolist(), rows.tolist()
    method = [method_of[q] for q in qi_l]
    evidence = [f"words: {', '.join(w) if w else '-'} (via {via[q]}) | path: {paths[r]}"
                for w, q, r in zip(words, qi_l, row_l, strict=True)]
    return method, evidence
