"""Evidence-bound scores: how specific the shared words are, and the calibrated probability.

Failure classes 1 and 2 of issue 13: a code whose path title shares no content word with the
name (``干熄焦技术`` → G16Y10/75 on 技术 alone) or only a generic head (``光热转换`` → H03M1/74
on 转换) must not score high. Generic-ness is derived from data, never from a hand list:

* **scheme spread** — the subclass-level idf of a word over the scheme,
  ``idf_S(w) = ln((1 + N_S) / (1 + df_S(w))) + 1`` with N_S subclasses and df_S(w) the number
  of subclasses whose path titles use w (装置, 方法, 系统, 转换 appear in hundreds of
  subclasses; 光热, 焦炭 in a few);
* **catalogue spread** — in a catalogue of at least ``MIN_CATALOGUE`` names, a word used by
  many names is a catalogue head (技术, 系统, 设备): ``g_C(w) = 1 / (1 + df_C(w) / (0.05 N_C))``
  (a word in 5 % of the names weighs half).

The weight of a query word is ``v(w) = idf_S(w) · g_C(w)`` and the **specific coverage** of a
(query, entry) pair is the v-weighted share of the query's words found in the entry's path
title, ``spec(q, d) = Σ_{w ∈ q ∩ path(d)} v(w) / Σ_{w ∈ q} v(w)`` (the same substring / word
tests as the coverage of scoring.py).

The **calibrated score** is a logistic model of the pair's features (:data:`FEATURES`),
``p = 1 / (1 + exp(−(b + Σ_i β_i x_i)))``, fitted on fold-held-out gold pairs by
``bench/matching.py`` so that among accepted codes a score p means a subclass precision ≈ p
(reliability table in docs/matching.md). The fitted numbers ship as plain JSON
(``coretech/data/matching_calibration.json``). A pair with no shared content word and no prior
support is capped at ``NO_EVIDENCE_CAP``: it can be a candidate for the reviewer, never a
high score.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

FEATURES: tuple[str, ...] = ("score_rel", "spec", "no_evidence", "retrieval", "inv_rank",
                             "prior", "from_prior", "cov", "raw", "is_subclass",
                             "is_main_group", "sub_n", "sub_max_spec", "sub_max_score",
                             "sub_share", "sub_max_prior", "spec2", "score_x_spec",
                             "best_spec_tech")
#: candidates per technology (by the relative score) over which subclass aggregates are taken
AGG_TOP = 50
#: subclass-repeat discount of the relative rank the features read (the list's own rank uses
#: the matcher's ``diversity``)
FEATURE_DIVERSITY = 0.5
NO_EVIDENCE_CAP = 0.05
MIN_CATALOGUE = 20
CALIBRATION_FILE = "matching_calibration.json"

_SUBCLASS_IDF: dict[int, tuple[Any, np.ndarray]] = {}


def subclass_idf(index: Any) -> np.ndarray:
    """``idf_S`` of every word of ``index``'s word space (module docstring), computed from the
    index's path-word presence and subclass ids; kept in memory per index object."""
    import scipy.sparse as sp

    hit = _SUBCLASS_IDF.get(id(index))
    if hit is not None and hit[0] is index:
        return hit[1]
    pres = index.path_presence()
    sub = np.asarray(index.subclass_ids_, dtype=np.int64)
    n_sub = int(sub.max()) + 1 if len(sub) else 1
    agg = sp.csr_matrix((np.ones(len(sub)), (sub, np.arange(len(sub)))),
                        shape=(n_sub, pres.shape[0])) @ pres
    df = np.asarray((agg > 0).sum(axis=0), dtype=np.float64).ravel()
    idf = np.log((1.0 + n_sub) / (1.0 + df)) + 1.0
    _SUBCLASS_IDF.clear()  # one index at a time is plenty (a few MB)
    _SUBCLASS_IDF[id(index)] = (index, idf)
    return idf


def catalogue_spread(token_lists: list[list[str]]) -> dict[str, float]:
    """``g_C(w)`` of the words of a catalogue's names (each name's distinct words once);
    empty (every weight 1) for a catalogue of fewer than :data:`MIN_CATALOGUE` names."""
    n = len(token_lists)
    if n < MIN_CATALOGUE:
        return {}
    df: dict[str, int] = {}
    for toks in token_lists:
        for w in set(toks):
            df[w] = df.get(w, 0) + 1
    half = 0.05 * n
    return {w: 1.0 / (1.0 + (k - 1) / half) for w, k in df.items() if k > 1}


def word_weight(word: str, vocab: dict[str, int], idf_s: np.ndarray,
                spread: dict[str, float]) -> float:
    """``v(w) = idf_S(w) · g_C(w)``; a word the scheme never uses gets the largest idf_S."""
    j = vocab.get(word)
    base = float(idf_s[j]) if j is not None else float(idf_s.max()) if len(idf_s) else 1.0
    return base * spread.get(word, 1.0)


# ---------------------------------------------------------------------- calibration
def default_calibration() -> dict[str, Any]:
    """The shipped calibration (plain numbers; ``coretech/data/matching_calibration.json``)."""
    return _load_default()


@lru_cache(maxsize=1)
def _load_default() -> dict[str, Any]:
    text = resources.files("coretech.data").joinpath(CALIBRATION_FILE).read_text("utf-8")
    return validate_calibration(json.loads(text))


def read_calibration(value: str | Path | dict | None) -> dict[str, Any] | None:
    """A calibration given as a dict, a JSON file path, ``"default"``/None (the shipped one)
    or ``"none"`` (no model: the score is the technology-relative score of scoring.py)."""
    if value is None or (isinstance(value, str) and value == "default"):
        return default_calibration()
    if isinstance(value, str) and value == "none":
        return None
    if isinstance(value, dict):
        return validate_calibration(value)
    from coretech.errors import InputError

    path = Path(value)
    try:
        return validate_calibration(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a calibration file: {exc}", file=path) from exc


def validate_calibration(cal: dict[str, Any]) -> dict[str, Any]:
    """Check a calibration record: ``features`` (names from :data:`FEATURES`), ``coef`` (one
    per feature), ``intercept``; optional ``threshold``, ``floor``. Or two such records,
    ``{"without_prior": …, "with_prior": …}`` (the second used when a prior is given; see
    :func:`select_model`). Raises ValueError."""
    if not isinstance(cal, dict):
        raise ValueError("a calibration is a JSON object")
    if "without_prior" in cal or "with_prior" in cal:
        if not ("without_prior" in cal and "with_prior" in cal):
            raise ValueError("a two-model calibration needs both 'without_prior' and "
                             "'with_prior'")
        validate_calibration(cal["without_prior"])
        validate_calibration(cal["with_prior"])
        return cal
    feats = cal.get("features")
    coef = cal.get("coef")
    if not isinstance(feats, list) or not all(f in FEATURES for f in feats):
        raise ValueError(f"calibration 'features' must be a list of {', '.join(FEATURES)}")
    if not isinstance(coef, list) or len(coef) != len(feats):
        raise ValueError("calibration 'coef' must hold one number per feature")
    if not all(isinstance(c, (int, float)) and math.isfinite(c) for c in coef):
        raise ValueError("calibration 'coef' must be finite numbers")
    if not isinstance(cal.get("intercept"), (int, float)):
        raise ValueError("calibration 'intercept' must be a number")
    for k in ("threshold", "floor"):
        if k in cal and not (isinstance(cal[k], (int, float)) and 0 <= cal[k] <= 1):
            raise ValueError(f"calibration {k!r} must be in [0, 1]")
    return cal


def pair_features(tech: np.ndarray, sub: np.ndarray, rank_rel: np.ndarray,
                  base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add the subclass aggregates and interactions of :data:`FEATURES` to ``base`` (which holds
    ``score_rel``, ``spec``, ``prior`` per pair). Over a technology's :data:`AGG_TOP` best
    candidates by the relative score (``rank_rel``), for the pair's subclass S: ``sub_n`` =
    |S ∩ top| / AGG_TOP, ``sub_max_spec`` / ``sub_max_score`` / ``sub_max_prior`` = the largest
    spec / score_rel / prior in S, ``sub_share`` = Σ_S score_rel / Σ score_rel; and
    ``best_spec_tech`` = the technology's largest spec; ``spec2`` = spec², ``score_x_spec``."""
    n = len(tech)
    out = dict(base)
    if n == 0:
        for k in ("sub_n", "sub_max_spec", "sub_max_score", "sub_share", "sub_max_prior",
                  "spec2", "score_x_spec", "best_spec_tech"):
            out[k] = np.zeros(0)
        return out
    top = rank_rel <= AGG_TOP
    key = tech.astype(np.int64) * (int(sub.max()) + 1) + sub.astype(np.int64)
    gid = np.unique(key, return_inverse=True)[1].ravel()  # dense (technology, subclass) ids
    n_g = int(gid.max()) + 1
    n_t = int(tech.max()) + 1
    sr, spec, prior = base["score_rel"], base["spec"], base["prior"]
    cnt = np.bincount(gid[top], minlength=n_g).astype(np.float64)
    out["sub_n"] = cnt[gid] / AGG_TOP
    for name, v in (("sub_max_spec", spec), ("sub_max_score", sr), ("sub_max_prior", prior)):
        m = np.zeros(n_g)
        np.maximum.at(m, gid[top], v[top])
        out[name] = m[gid]
    s_g = np.bincount(gid[top], weights=sr[top], minlength=n_g)
    s_t = np.bincount(tech[top], weights=sr[top], minlength=n_t)
    out["sub_share"] = np.divide(s_g[gid], s_t[tech], out=np.zeros(n), where=s_t[tech] > 0)
    bt = np.zeros(n_t)
    np.maximum.at(bt, tech[top], spec[top])
    out["best_spec_tech"] = bt[tech]
    out["spec2"] = spec ** 2
    out["score_x_spec"] = sr * spec
    return out


def select_model(cal: dict[str, Any], with_prior: bool) -> dict[str, Any]:
    """The model of a calibration for a match with or without a prior concordance."""
    if "without_prior" in cal:
        return cal["with_prior" if with_prior else "without_prior"]
    return cal


def feature_matrix(feats: dict[str, np.ndarray], names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Rows = pairs, columns = ``names`` (from the feature dict the matcher builds)."""
    return np.column_stack([np.asarray(feats[n], dtype=np.float64) for n in names]) \
        if len(names) else np.zeros((len(next(iter(feats.values()))), 0))


def apply_calibration(cal: dict[str, Any], feats: dict[str, np.ndarray]) -> np.ndarray:
    """``p = σ(b + Σ β_i x_i)``, capped at :data:`NO_EVIDENCE_CAP` where the pair has no shared
    content word (``spec`` = 0) and no prior support (``prior`` = 0)."""
    x = feature_matrix(feats, cal["features"])
    z = float(cal["intercept"]) + x @ np.asarray(cal["coef"], dtype=np.float64)
    p = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
    bare = (np.asarray(feats["spec"]) <= 0) & (np.asarray(feats["prior"]) <= 0)
    return np.where(bare, np.minimum(p, NO_EVIDENCE_CAP), p)
