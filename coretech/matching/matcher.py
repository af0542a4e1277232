"""The matcher: fit on an IPC scheme table, then match technology catalogues to IPC codes.

    m = Matcher(threshold=0.5, max_codes=20).fit(scheme)      # scheme: coretech.ipc scheme table
    res = m.match(catalogue)                                 # catalogue: read_catalogue(path)
    res.dictionary, res.candidates                           # INTERFACES.md columns

Pipeline (METHODS.md §1 leaves the matcher open; every choice here is an option):

1. index (index.py): per language, TF-IDF over *path titles* in a character-n-gram space and
   a word space, s(q, d) = β[α cos_C(q, t_d) + (1−α) cos_C(q, p_d)] + (1−β)[α cos_W(q, t_d)
   + (1−α) cos_W(q, p_d)];
2. candidates (candidates.py): one query for the name and one per keyword,
   s_t(d) = max(s(name, d), w_k · max_j s(keyword_j, d)); sparse top-``pool`` per query;
3. re-ranking (scoring.py): r = (1 − w_f) s_t + w_f · token_set_ratio/100 · cov (coverage guard
   against short titles); subclass support r' = (1 − w_s) r + w_s sup(d); calibrated score =
   r' · (max r')^(−γ); the candidates' rank discounts repeats of a subclass by (1 − δ)^j;
4. decision (dictionary.py): threshold, roll-up, per-subclass cap, cap; overrides from a
   reviewed dictionary.

Defaults were chosen on the two shared gold sets with bench/matching.py (docs/matching.md).

With ``lang="auto"`` a technology is matched in each language in which it has a name *and* the
scheme has titles (both: the better score per code wins); ``"zh"`` / ``"en"`` use only that
name column. A language the catalogue needs and the scheme lacks is an error that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.matching.buildutil import gc_paused
from coretech.matching.candidates import build_queries, pool_pairs
from coretech.matching.catalogue import split_keywords, validate_catalogue
from coretech.matching.dictionary import (
    OUTPUT_COLUMNS,
    DecisionRule,
    SchemeCounts,
    apply_overrides,
    decide,
    decide_sorted,
    order_rows,
)
from coretech.matching.evidence import (
    FEATURE_DIVERSITY,
    apply_calibration,
    catalogue_spread,
    pair_features,
    select_model,
)
from coretech.matching.explain import explain_pairs
from coretech.matching.index import DEFAULT_KINDS, IndexOptions, SchemeIndex, cached_index
from coretech.matching.languages import (  # noqa: F401 - re-exported (cli, tests)
    LANG_NAMES,
    NAME_COLUMN,
    assign_languages,
    scheme_languages,
)
from coretech.matching.normalize import normalize_stopwords
from coretech.matching.scoring import (
    final_scores,
    rank_scores,
    rerank_pairs,
)
from coretech.matching.sorting import lexsort

DEFAULT_NGRAMS: dict[str, tuple[int, int]] = {"zh": (2, 4), "en": (3, 4)}


@dataclass
class MatchResult:
    """What :meth:`Matcher.match` returns: the dictionary, the top-k candidates, counts."""

    dictionary: pd.DataFrame
    candidates: pd.DataFrame
    counts: dict[str, Any] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)  # tech_id -> "zh", "en" or "zh+en"
    features: pd.DataFrame | None = None  # per candidate row, with Matcher(keep_features=True)


class Matcher:
    """Match technology names to IPC codes (module docstring for the math).

    Parameters (all validated here)
    ----------
    lang : "auto", "zh" or "en".
    threshold : accept candidates with calibrated score >= threshold (0..1).
    max_codes, min_codes : cap and floor on codes per technology.
    rollup, rollup_share, rollup_min : roll-up of a subtree ("none", "main_group", "subclass").
    top_k : candidates kept per technology in ``candidates`` (INTERFACES: 50).
    pool : candidates per query taken from the sparse product for re-ranking (>= top_k).
    keyword_weight : w_k, weight of a keyword query relative to the name (0 ignores keywords).
    fuzzy_weight : w_f, weight of the guarded rapidfuzz agreement in the raw score.
    calibration : γ of the calibrated score.
    support_weight, support_top : w_s and the number of entries summed in a subclass's support.
    diversity : δ of the subclass-repeat discount in the candidates' rank (0: rank = score order).
    max_per_subclass : at most this many codes of one subclass per technology (0: no limit).
    cap_best_subclass : apply that cap to the subclass of the best candidate too (False: the
        best subclass may hold up to ``max_codes``; trades breadth for concentration);
        default True (no technology saturates at ``max_codes``: issue 13); ``"auto"``: True
        for a technology matched in Chinese, False for one matched in English only
        (:meth:`DecisionRule.for_languages`), the default of earlier versions.
    ngram_range : character n-gram lengths of the index, ``(lo, hi)``, or ``"auto"`` (default):
        (2, 4) for Chinese, where a word is mostly two characters, and (3, 4) for English, where
        two-letter fragments ("in", "an") carry no subject yet are two thirds of the sparse
        product's work (:data:`DEFAULT_NGRAMS`; measured in docs/matching.md).
    char_weight, own_title_weight, kinds, term_min_df, stopwords : index options.
    max_df : character n-grams in more than this share of the entries are left out of the
        index (1.0 keeps all; lower is faster, the dropped n-grams carry little idf weight).
    decimals : scores are rounded to this many decimals (byte-identical outputs).
    calibration_model : the calibrated score (coretech.matching.evidence): "default" (the
        shipped JSON, a model without and one with a prior), "none" (the technology-relative
        score of earlier versions, no evidence bound), a dict or a JSON file path.
    floor : ``min_codes`` applies only to eligible candidates scoring at least this (None: the
        calibration's ``floor``); a technology without one gets no code and ``needs_review``.
    items : also match each item of a name that lists several (candidates.split_items).
    prior_top, prior_min_similarity : a technology takes at most ``prior_top`` prior names
        with similarity >= ``prior_min_similarity`` (coretech.matching.prior).
    keep_features : keep the candidate rows' score features in ``MatchResult.features``.
    cache_dir : where fitted indexes are cached (None: $CORETECH_CACHE_DIR or ~/.cache/coretech;
        False: no cache).
    """

    def __init__(
        self,
        *,
        lang: str = "auto",
        threshold: float = 0.5,
        max_codes: int = 20,
        min_codes: int = 1,
        rollup: str = "main_group",
        rollup_share: float = 0.5,
        rollup_min: int = 2,
        max_per_subclass: int = 2,
        cap_best_subclass: bool | str = True,
        min_coverage: float = 0.0,
        top_k: int = 50,
        pool: int = 200,
        keyword_weight: float = 0.9,
        fuzzy_weight: float = 0.3,
        calibration: float = 0.5,
        support_weight: float = 0.5,
        support_top: int = 5,
        diversity: float = 0.9,
        char_weight: float = 0.5,
        own_title_weight: float = 0.35,
        ngram_range: tuple[int, int] | str = "auto",
        kinds: tuple[str, ...] = DEFAULT_KINDS,
        term_min_df: int = 5,
        max_df: float = 1.0,
        stopwords: list[str] | None = None,
        decimals: int = 4,
        cache_dir: str | Path | None | bool = None,
        calibration_model: str | Path | dict | None = "default",
        floor: float | None = None,
        items: bool = True,
        prior_top: int = 3,
        prior_min_similarity: float = 0.3,
        keep_features: bool = False,
    ) -> None:
        if lang not in ("auto", "zh", "en"):
            raise ValueError(f"lang must be 'auto', 'zh' or 'en', got {lang!r}")
        self.lang = lang
        self.rule = DecisionRule(threshold, max_codes, min_codes, rollup, rollup_share,
                                 rollup_min, max_per_subclass,
                                 cap_best_subclass, float(min_coverage)).validate()
        for name, v, lo in (("top_k", top_k, 1), ("pool", pool, 1), ("decimals", decimals, 1)):
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= lo):
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        if pool < top_k:
            raise ValueError(f"pool ({pool}) must be at least top_k ({top_k})")
        for name, v in (("keyword_weight", keyword_weight), ("fuzzy_weight", fuzzy_weight),
                        ("calibration", calibration), ("support_weight", support_weight),
                        ("diversity", diversity)):
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
        self.top_k, self.pool, self.decimals = top_k, pool, decimals
        self.keyword_weight = float(keyword_weight)
        self.fuzzy_weight = float(fuzzy_weight)
        self.calibration = float(calibration)
        if not (isinstance(support_top, int) and support_top >= 1):
            raise ValueError(f"support_top must be an integer >= 1, got {support_top!r}")
        self.support_weight = float(support_weight)
        self.support_top = support_top
        self.diversity = float(diversity)
        if isinstance(ngram_range, str) and ngram_range != "auto":
            raise ValueError(f"ngram_range must be (lo, hi) or 'auto', got {ngram_range!r}")
        self.ngram_range = "auto" if isinstance(ngram_range, str) else tuple(ngram_range)
        self.index_options = IndexOptions(
            ngram_range=DEFAULT_NGRAMS["zh"] if self.ngram_range == "auto" else self.ngram_range,
            char_weight=float(char_weight),
            own_title_weight=float(own_title_weight), kinds=tuple(kinds),
            term_min_df=term_min_df, max_df=float(max_df),
            stopwords=tuple(sorted(normalize_stopwords(stopwords))),
        ).validate()
        self.cache_dir = cache_dir
        from coretech.matching.evidence import read_calibration

        self.calibration_model = calibration_model
        self.cal_ = read_calibration(calibration_model)
        if floor is not None and not (isinstance(floor, (int, float)) and 0.0 <= floor <= 1.0):
            raise ValueError(f"floor must be a number in [0, 1], got {floor!r}")
        self.floor = None if floor is None else float(floor)
        self.items = bool(items)
        if not (isinstance(prior_top, int) and prior_top >= 1):
            raise ValueError(f"prior_top must be an integer >= 1, got {prior_top!r}")
        if not (isinstance(prior_min_similarity, (int, float)) and 0 <= prior_min_similarity <= 1):
            raise ValueError("prior_min_similarity must be a number in [0, 1], got "
                             f"{prior_min_similarity!r}")
        self.prior_top, self.prior_min_similarity = prior_top, float(prior_min_similarity)
        self.keep_features = bool(keep_features)

    def get_params(self) -> dict[str, Any]:
        """Every option, JSON-ready (the provenance record holds this)."""
        o = self.index_options
        return {
            "lang": self.lang, "threshold": self.rule.threshold, "max_codes": self.rule.max_codes,
            "min_codes": self.rule.min_codes, "rollup": self.rule.rollup,
            "rollup_share": self.rule.rollup_share, "rollup_min": self.rule.rollup_min,
            "max_per_subclass": self.rule.max_per_subclass,
            "cap_best_subclass": self.rule.cap_best_subclass,
            "min_coverage": self.rule.min_coverage,
            "top_k": self.top_k, "pool": self.pool, "keyword_weight": self.keyword_weight,
            "fuzzy_weight": self.fuzzy_weight, "calibration": self.calibration,
            "support_weight": self.support_weight, "support_top": self.support_top,
            "diversity": self.diversity,
            "char_weight": o.char_weight, "own_title_weight": o.own_title_weight,
            "ngram_range": (self.ngram_range if self.ngram_range == "auto"
                            else list(self.ngram_range)),
            "ngram_range_by_lang": {lg: list(self.options_for(lg).ngram_range)
                                    for lg in ("zh", "en")},
            "kinds": list(o.kinds),
            "term_min_df": o.term_min_df, "max_df": o.max_df,
            "stopwords_sha256": o.key()["stopwords"],
            "decimals": self.decimals,
            "calibration_model": (str(self.calibration_model) if isinstance(
                self.calibration_model, (str, Path)) or self.calibration_model is None
                else "given"),
            "calibration_coef": self.cal_,
            "floor": self.floor, "items": self.items, "prior_top": self.prior_top,
            "prior_min_similarity": self.prior_min_similarity,
        }

    # ------------------------------------------------------------------ fit
    def fit(self, scheme: pd.DataFrame, *, languages: list[str] | None = None) -> Matcher:
        """Build (or load from the cache) the index of each language the matcher may need.

        ``languages`` restricts the indexes to those (e.g. the languages a catalogue needs, see
        :func:`assign_languages`); by default every language of the scheme (``lang="auto"``).
        """
        if "lang" not in scheme.columns:
            raise InputError("the IPC scheme table has no 'lang' column (build it with "
                             "`coretech ipc load`)", file=scheme.attrs.get("source"))
        present = sorted({str(x) for x in scheme["lang"].dropna().unique()} & {"zh", "en"})
        self.scheme_langs_ = present
        wanted = present if self.lang == "auto" else [self.lang]
        if languages is not None:
            wanted = [lg for lg in wanted if lg in languages] or wanted[:1]
        if self.lang != "auto" and self.lang not in present:
            raise InputError(
                f"--lang {self.lang}: the IPC scheme has no {LANG_NAMES[self.lang]} titles "
                f"(it has: {', '.join(LANG_NAMES[x] for x in present) or 'no titles'}); "
                f"load a {LANG_NAMES[self.lang]} scheme with `coretech ipc load` or choose "
                "another --lang", file=scheme.attrs.get("source"),
            )
        if not wanted:
            raise InputError("the IPC scheme table has no 'zh' or 'en' rows",
                             file=scheme.attrs.get("source"))
        self.indexes_: dict[str, SchemeIndex] = {}
        self.cache_: dict[str, dict[str, Any]] = {}
        for lg in wanted:
            idx, rec = cached_index(scheme, lg, self.options_for(lg), self.cache_dir)
            self.indexes_[lg] = idx
            self.cache_[lg] = rec
        if len(self.indexes_) == 1:
            self.counts_ = next(iter(self.indexes_.values())).counts_
        else:
            self.counts_ = SchemeCounts(sorted({c for idx in self.indexes_.values()
                                                for c in idx.codes_}))
        return self

    @property
    def path_title_(self) -> dict[str, str]:
        """``{code: path title}`` over the fitted languages (the first language wins)."""
        out: dict[str, str] = {}
        for idx in self.indexes_.values():
            for c, p in zip(idx.codes_.tolist(), idx.path_titles_.tolist(), strict=True):
                out.setdefault(c, p)
        return out

    def options_for(self, lang: str) -> IndexOptions:
        """The index options of ``lang`` (``ngram_range="auto"`` resolved)."""
        if self.ngram_range == "auto":
            return replace(self.index_options, ngram_range=DEFAULT_NGRAMS[lang])
        return self.index_options

    def _languages(self, cat: pd.DataFrame) -> list[list[str]]:
        return assign_languages(cat, list(self.indexes_), self.lang)

    def _explain(self, f: dict[str, np.ndarray], ks: np.ndarray,
                 queries_of: dict[str, list[Any]], lang_list: list[str]
                 ) -> tuple[list[str], list[str]]:
        """``method`` and ``evidence`` of the pooled rows ``ks`` (positions in ``f``)."""
        method: list[str] = [""] * len(ks)
        evidence: list[str] = [""] * len(ks)
        lang_k = f["lang"][ks]
        for li, lg in enumerate(lang_list):
            pos = np.flatnonzero(lang_k == li)
            if len(pos) == 0:
                continue
            sel = ks[pos]
            m_, e_ = explain_pairs(self.indexes_[lg], queries_of[lg], f["query"][sel],
                                   f["row"][sel], lg)
            for p, a, b in zip(pos.tolist(), m_, e_, strict=True):
                method[p], evidence[p] = a, b
        return method, evidence

    # ------------------------------------------------------------------ match
    def match(self, catalogue: pd.DataFrame, overrides: pd.DataFrame | None = None,
              prior: Any = None) -> MatchResult:
        """Candidates and dictionary of every technology of ``catalogue`` (validated here).

        ``prior``: a :class:`~coretech.matching.prior.Prior` (earlier expert concordances);
        a name resembling a prior name inherits its patterns as candidates.
        """
        if not hasattr(self, "indexes_"):
            raise RuntimeError("call fit(scheme) before match(catalogue)")
        with gc_paused():  # ~10^5 short-lived rows; the index is large and long-lived
            return self._match(catalogue, overrides, prior)

    def _match(self, catalogue: pd.DataFrame, overrides: pd.DataFrame | None,
               prior: Any = None) -> MatchResult:
        cat = validate_catalogue(catalogue)
        tech_ids = list(cat["tech_id"])
        cal = None if self.cal_ is None else select_model(self.cal_, prior is not None)
        floor = (self.floor if self.floor is not None
                 else float(cal.get("floor", 0.0)) if cal is not None else 0.0)
        langs = self._languages(cat)
        keywords = [split_keywords(k) for k in cat["keywords"]]
        lang_list = list(self.indexes_)
        parts: list[dict[str, Any]] = []
        queries_of: dict[str, list[Any]] = {}
        for li, (lg, idx) in enumerate(self.indexes_.items()):
            sel = [i for i, use in enumerate(langs) if lg in use]
            if not sel:
                continue
            col = cat[NAME_COLUMN[lg]].tolist()
            names = [col[i] for i in sel]
            kws = [keywords[i] for i in sel]
            extra = [*names, *(k for ks in kws for k in ks)] if lg == "zh" else None
            tok = idx.tokenizer(extra)
            queries = build_queries(names, kws, tok, self.keyword_weight, items=self.items)
            queries_of[lg] = queries
            pairs = pool_pairs(idx, queries, self.pool)
            n_pool = len(pairs.row)
            if prior is not None:
                pairs, p_sim, p_src = prior.support(
                    idx, tok, names, queries, pairs, top=self.prior_top,
                    min_similarity=self.prior_min_similarity)
            else:
                p_sim = np.zeros(n_pool)
                p_src = np.full(n_pool, -1, dtype=np.int64)
            from_prior = np.zeros(len(pairs.row))
            from_prior[n_pool:] = 1.0
            spread = catalogue_spread([q.tokens for q in queries if q.source == "name"])
            cov, _fz, raw, spec = rerank_pairs(idx, queries, pairs.row, pairs.query,
                                               pairs.retrieval, fuzzy_weight=self.fuzzy_weight,
                                               spread=spread)
            codes = idx.codes_[pairs.row]
            parts.append({"tech": np.asarray(sel, dtype=np.int64)[pairs.tech], "code": codes,
                          "row": pairs.row, "lang": np.full(len(codes), li, dtype=np.int64),
                          "retrieval": pairs.retrieval, "query": pairs.query, "cov": cov,
                          "raw": raw, "spec": spec, "prior": p_sim, "psrc": p_src,
                          "from_prior": from_prior})
        if parts:
            f = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        else:
            f = {k: np.zeros(0, dtype=object if k == "code" else
                             np.int64 if k in ("tech", "row", "lang", "query") else float)
                 for k in ("tech", "code", "row", "lang", "retrieval", "query", "cov", "raw",
                           "spec", "prior", "psrc", "from_prior")}
        if len(parts) > 1:  # a code proposed in two languages: the better raw score wins
            code_id = pd.factorize(f["code"])[0]
            o = lexsort((f["lang"], -f["raw"], code_id, f["tech"]))
            t_o, c_o = f["tech"][o], code_id[o]
            first = np.ones(len(o), dtype=bool)
            first[1:] = (t_o[1:] != t_o[:-1]) | (c_o[1:] != c_o[:-1])
            f = {k: v[o[first]] for k, v in f.items()}
        if len(parts) == 1 and len(f["lang"]):  # the index's subclass ids, else the codes'
            sub = self.indexes_[lang_list[int(f["lang"][0])]].subclass_ids_[f["row"]]
        else:
            sub = pd.factorize(np.array([c[:4] for c in f["code"]], dtype=object))[0]
        score, rank = final_scores(
            f["tech"], sub, f["raw"], f["retrieval"], f["row"] * len(lang_list) + f["lang"],
            support_weight=self.support_weight, support_top=self.support_top,
            calibration=self.calibration, decimals=self.decimals,
            diversity=FEATURE_DIVERSITY)
        feats: dict[str, np.ndarray] = {}
        kind_f = np.empty(len(f["row"]), dtype=object)
        for li, lg in enumerate(lang_list):
            m_l = f["lang"] == li
            kind_f[m_l] = self.indexes_[lg].kinds_[f["row"][m_l]]
        if len(f["tech"]):
            feats = {"score_rel": np.asarray(score, dtype=np.float64), "spec": f["spec"],
                     "no_evidence": (f["spec"] <= 0).astype(np.float64),
                     "retrieval": f["retrieval"], "inv_rank": 1.0 / rank,
                     "prior": f["prior"], "from_prior": f["from_prior"], "cov": f["cov"],
                     "raw": f["raw"], "is_subclass": (kind_f == "subclass").astype(np.float64),
                     "is_main_group": (kind_f == "main_group").astype(np.float64)}
            feats = pair_features(f["tech"], sub, rank, feats)
        if len(f["tech"]):  # the list's rank: the final score, the list's own diversity
            p = (np.round(apply_calibration(cal, feats), self.decimals)
                 if cal is not None else np.asarray(score, dtype=np.float64))
            score = p.tolist()
            scheme_order = f["row"] * len(lang_list) + f["lang"]
            if cal is not None:
                # a subclass is placed by its best calibrated score (the model's label is the
                # subclass); inside it, codes follow the relative score, which weighs the
                # specific words of the code's own path (ties: scheme order)
                gid = pd.factorize(f["tech"] * (int(sub.max()) + 1) + sub)[0]
                best_p = np.zeros(int(gid.max()) + 1)
                np.maximum.at(best_p, gid, p)
                within = np.empty(len(p), dtype=np.int64)
                within[lexsort((scheme_order, -feats["score_rel"]))] = np.arange(len(p))
                rank = rank_scores(f["tech"], sub, best_p[gid], within, diversity=self.diversity)
            elif self.diversity != FEATURE_DIVERSITY:
                rank = rank_scores(f["tech"], sub, p, scheme_order, diversity=self.diversity)
        # per technology, rows in rank order
        o = lexsort((rank, f["tech"]))
        tech_o = f["tech"][o]
        bounds = np.searchsorted(tech_o, np.arange(len(tech_ids) + 1)).tolist()
        kind = np.empty(len(f["row"]), dtype=object)
        main_group = np.empty(len(f["row"]), dtype=object)
        for li, lg in enumerate(lang_list):
            m = f["lang"] == li
            kind[m] = self.indexes_[lg].kinds_[f["row"][m]]
            main_group[m] = self.indexes_[lg].main_groups_[f["row"][m]]
        code_l, kind_l = f["code"].tolist(), kind.tolist()
        cov_l, rank_l = f["cov"].tolist(), rank.tolist()
        o_l = o.tolist()
        thr, min_codes = self.rule.threshold, self.rule.min_codes
        min_cov = self.rule.min_coverage

        def row_of(k: int, tid: str) -> dict:
            return {"tech_id": tid, "ipc_code": code_l[k], "kind": kind_l[k], "score": score[k],
                    "method": None, "evidence": None, "decision": "", "rank": rank_l[k],
                    "_cov": cov_l[k], "_k": k}

        dict_rows: list[dict] = []
        accepted: set[tuple[int, str]] = set()
        rules = {lg: self.rule.for_languages(lg.split("+")) for lg in
                 {"+".join(u) for u in langs}}
        # the decision rule only reads the best rows by (score, rank): pass that prefix
        score_a = np.asarray(score, dtype=np.float64)
        keep = f["cov"] >= min_cov if min_cov > 0 else np.ones(len(score_a), dtype=bool)
        if cal is not None:  # evidence-bound: a shared content word or a prior, and
            keep &= (f["spec"] > 0) | (f["prior"] > 0)  # at least the floor
            keep &= score_a >= floor
        o_s = lexsort((rank, -score_a, f["tech"]))
        o_s = o_s[keep[o_s]]
        t_s = f["tech"][o_s]
        b_s = np.searchsorted(t_s, np.arange(len(tech_ids) + 1)).tolist()
        n_pass_of = np.bincount(t_s[score_a[o_s] >= thr], minlength=len(tech_ids)).tolist()
        o_s_l = o_s.tolist()
        tech_rule = [rules["+".join(u)] for u in langs]
        # technologies whose rule the array form decides (all, unless a floor or a subclass
        # roll-up needs the row-by-row form)
        has_rows = np.diff(np.asarray(b_s)) > 0
        fast = has_rows & (np.asarray(n_pass_of) >= min_codes)
        if self.rule.rollup == "subclass":
            fast[:] = False
        if fast.any():
            passing = o_s[(score_a[o_s] >= thr) & fast[t_s]]
            best_sub = [code_l[o_s_l[b_s[i]]][:4] if has_rows[i] else ""
                        for i in range(len(tech_ids))]
            exempt = np.array([r.cap_best_subclass is False for r in tech_rule], dtype=bool)
            got = decide_sorted(f["tech"][passing], [code_l[k] for k in passing.tolist()],
                                score_a[passing], rank[passing], best_sub, exempt, self.rule,
                                self.counts_, main_group=main_group[passing].tolist())
            src = passing[got.src].tolist()
            for t, k, c, sc, rk, rl in zip(got.tech.tolist(), src, got.code, got.score.tolist(),
                                           got.rank.tolist(), got.rolled, strict=True):
                r = {"tech_id": tech_ids[t], "ipc_code": c, "score": sc, "rank": rk,
                     "kind": "main_group" if rl else kind_l[k], "method": None,
                     "evidence": None, "decision": "auto", "_k": k}
                if rl:
                    r["_rolled"] = rl
                dict_rows.append(r)
                accepted.add((t, c))
        for i in np.flatnonzero(has_rows & ~fast).tolist():  # the row-by-row form
            tid = tech_ids[i]
            by_score = o_s_l[b_s[i]:b_s[i + 1]]
            head = [row_of(k, tid) for k in by_score[: max(n_pass_of[i], min_codes, 1)]]
            acc = decide(head, tech_rule[i], self.counts_, copy=False, presorted=True)
            rolled = [r for r in acc if "_rolled" in r]
            if rolled:
                code_k = {code_l[k]: k for k in o_l[bounds[i]:bounds[i + 1]]}
                for r in rolled:  # a rolled-up row is explained by its best member
                    r["_k"] = code_k[r["_best"]]
            acc.sort(key=lambda r: r["rank"])
            dict_rows.extend(acc)
            accepted.update((i, r["ipc_code"]) for r in acc)
        # candidates: the top_k of each technology, in rank order (``o`` sorts by tech, rank)
        cand_k = o[rank[o] <= self.top_k]
        need = np.unique(np.concatenate([cand_k, np.fromiter(
            (r["_k"] for r in dict_rows), dtype=np.int64, count=len(dict_rows))]))
        method, evidence = self._explain(f, need, queries_of, lang_list)
        if prior is not None:  # rows a prior supports name the prior's name and source
            psrc = f["psrc"][need]
            for p_, s_ in enumerate(psrc.tolist()):
                if s_ >= 0:
                    method[p_] = f"prior+{method[p_]}"
                    evidence[p_] = f"{prior.describe(s_)} | {evidence[p_]}"
        ev_of = dict(zip(need.tolist(), zip(method, evidence, strict=True), strict=True))
        for r in dict_rows:
            m_, e_ = ev_of[r["_k"]]
            if "_rolled" in r:
                m_, e_ = r["_rolled"][0] + m_, r["_rolled"][1] + e_
            r["method"], r["evidence"] = m_, e_
        ck = cand_k.tolist()
        c_tech = f["tech"][cand_k].tolist()
        cands = pd.DataFrame({
            "tech_id": [tech_ids[t] for t in c_tech],
            "ipc_code": [code_l[k] for k in ck],
            "kind": [kind_l[k] for k in ck],
            "score": [score[k] for k in ck],
            "rank": [rank_l[k] for k in ck],
            "method": [ev_of[k][0] for k in ck],
            "evidence": [ev_of[k][1] for k in ck],
            "decision": ["auto" if (t, code_l[k]) in accepted else ""
                         for t, k in zip(c_tech, ck, strict=True)],
        }, columns=OUTPUT_COLUMNS)
        dic = pd.DataFrame({c: [r[c] for r in dict_rows] for c in OUTPUT_COLUMNS},
                           columns=OUTPUT_COLUMNS)
        # needs_review: no accepted code, or none at the threshold (weak or no evidence)
        best = np.zeros(len(tech_ids))
        if keep.any():
            np.maximum.at(best, f["tech"][keep], score_a[keep])
        n_acc = np.bincount(np.fromiter((t for t, _ in accepted), dtype=np.int64,
                                        count=len(accepted)), minlength=len(tech_ids))
        review = [bool(n_acc[i] == 0 or best[i] < thr) for i in range(len(tech_ids))]
        review_of = dict(zip(tech_ids, review, strict=True))
        features = None
        if self.keep_features and feats:
            features = pd.DataFrame({"tech_id": [tech_ids[t] for t in c_tech],
                                     "ipc_code": [code_l[k] for k in ck],
                                     **{n: np.asarray(v)[cand_k] for n, v in feats.items()},
                                     "score": [score[k] for k in ck]})
        counts: dict[str, Any] = {}
        if overrides is not None and len(overrides):
            dic, cands, counts = apply_overrides(dic, cands, overrides, tech_ids, self.path_title_)
        dic = order_rows(dic, tech_ids)
        cands = order_rows(cands, tech_ids)
        cands["needs_review"] = [review_of.get(t, True) for t in cands["tech_id"]]
        with_code = set(dic["tech_id"])
        counts.update({
            "technologies": len(tech_ids),
            "technologies_without_code": sum(1 for t in tech_ids if t not in with_code),
            "dictionary_rows": len(dic), "candidate_rows": len(cands),
            "distinct_codes": int(dic["ipc_code"].nunique()),
            "technologies_needing_review": int(sum(review)),
            "needs_review": [t for t, r in zip(tech_ids, review, strict=True) if r],
        })
        out = MatchResult(dic, cands, counts,
                          {t: "+".join(u) for t, u in zip(tech_ids, langs, strict=True)})
        out.features = features
        return out
