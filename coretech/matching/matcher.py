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
   against short titles); calibrated score = r · (max r)^(−γ);
4. decision (dictionary.py): threshold, roll-up, cap; overrides from a reviewed dictionary.

With ``lang="auto"`` a technology is matched in each language in which it has a name *and* the
scheme has titles (both: the better score per code wins); ``"zh"`` / ``"en"`` use only that
name column. A language the catalogue needs and the scheme lacks is an error that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from coretech.errors import InputError, data_row
from coretech.matching.candidates import build_queries, pool_candidates
from coretech.matching.catalogue import split_keywords, validate_catalogue
from coretech.matching.dictionary import (
    OUTPUT_COLUMNS,
    DecisionRule,
    SchemeCounts,
    apply_overrides,
    decide,
    order_rows,
)
from coretech.matching.index import DEFAULT_KINDS, IndexOptions, SchemeIndex, cached_index
from coretech.matching.normalize import normalize_stopwords
from coretech.matching.scoring import Scored, rerank

LANG_NAMES = {"zh": "Chinese", "en": "English"}
NAME_COLUMN = {"zh": "name_zh", "en": "name_en"}


@dataclass
class MatchResult:
    """What :meth:`Matcher.match` returns: the dictionary, the top-k candidates, counts."""

    dictionary: pd.DataFrame
    candidates: pd.DataFrame
    counts: dict[str, Any] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)  # tech_id -> "zh", "en" or "zh+en"


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
    char_weight, own_title_weight, ngram_range, kinds, term_min_df, stopwords : index options.
    decimals : scores are rounded to this many decimals (byte-identical outputs).
    cache_dir : where fitted indexes are cached (None: $CORETECH_CACHE or ~/.cache/coretech;
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
        top_k: int = 50,
        pool: int = 200,
        keyword_weight: float = 0.9,
        fuzzy_weight: float = 0.3,
        calibration: float = 0.5,
        char_weight: float = 0.5,
        own_title_weight: float = 0.35,
        ngram_range: tuple[int, int] = (2, 4),
        kinds: tuple[str, ...] = DEFAULT_KINDS,
        term_min_df: int = 5,
        stopwords: list[str] | None = None,
        decimals: int = 4,
        cache_dir: str | Path | None | bool = None,
    ) -> None:
        if lang not in ("auto", "zh", "en"):
            raise ValueError(f"lang must be 'auto', 'zh' or 'en', got {lang!r}")
        self.lang = lang
        self.rule = DecisionRule(threshold, max_codes, min_codes, rollup, rollup_share,
                                 rollup_min).validate()
        for name, v, lo in (("top_k", top_k, 1), ("pool", pool, 1), ("decimals", decimals, 1)):
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= lo):
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        if pool < top_k:
            raise ValueError(f"pool ({pool}) must be at least top_k ({top_k})")
        for name, v in (("keyword_weight", keyword_weight), ("fuzzy_weight", fuzzy_weight),
                        ("calibration", calibration)):
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
        self.top_k, self.pool, self.decimals = top_k, pool, decimals
        self.keyword_weight = float(keyword_weight)
        self.fuzzy_weight = float(fuzzy_weight)
        self.calibration = float(calibration)
        self.index_options = IndexOptions(
            ngram_range=tuple(ngram_range), char_weight=float(char_weight),
            own_title_weight=float(own_title_weight), kinds=tuple(kinds),
            term_min_df=term_min_df,
            stopwords=tuple(sorted(normalize_stopwords(stopwords))),
        ).validate()
        self.cache_dir = cache_dir

    def get_params(self) -> dict[str, Any]:
        """Every option, JSON-ready (the provenance record holds this)."""
        o = self.index_options
        return {
            "lang": self.lang, "threshold": self.rule.threshold, "max_codes": self.rule.max_codes,
            "min_codes": self.rule.min_codes, "rollup": self.rule.rollup,
            "rollup_share": self.rule.rollup_share, "rollup_min": self.rule.rollup_min,
            "top_k": self.top_k, "pool": self.pool, "keyword_weight": self.keyword_weight,
            "fuzzy_weight": self.fuzzy_weight, "calibration": self.calibration,
            "char_weight": o.char_weight, "own_title_weight": o.own_title_weight,
            "ngram_range": list(o.ngram_range), "kinds": list(o.kinds),
            "term_min_df": o.term_min_df, "stopwords_sha256": o.key()["stopwords"],
            "decimals": self.decimals,
        }

    # ------------------------------------------------------------------ fit
    def fit(self, scheme: pd.DataFrame) -> Matcher:
        """Build (or load from the cache) the index of each language the matcher may need."""
        if "lang" not in scheme.columns:
            raise InputError("the IPC scheme table has no 'lang' column (build it with "
                             "`coretech ipc load`)", file=scheme.attrs.get("source"))
        present = sorted({str(x) for x in scheme["lang"].dropna().unique()} & {"zh", "en"})
        self.scheme_langs_ = present
        wanted = present if self.lang == "auto" else [self.lang]
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
            idx, rec = cached_index(scheme, lg, self.index_options, self.cache_dir)
            self.indexes_[lg] = idx
            self.cache_[lg] = rec
        codes = sorted({c for idx in self.indexes_.values() for c in idx.codes_})
        self.counts_ = SchemeCounts(codes)
        self.path_title_ = {}
        for lg in wanted:
            for c, p in zip(self.indexes_[lg].codes_, self.indexes_[lg].path_titles_, strict=True):
                self.path_title_.setdefault(c, p)
        return self

    # ------------------------------------------------------------------ languages
    def _languages(self, cat: pd.DataFrame) -> list[list[str]]:
        src = cat.attrs.get("source")
        out = []
        for i, rec in enumerate(cat[["tech_id", "name_zh", "name_en"]].itertuples(index=False)):
            has = [lg for lg in ("zh", "en") if getattr(rec, NAME_COLUMN[lg])]
            if self.lang != "auto":
                if self.lang not in has:
                    raise InputError(
                        f"technology {rec.tech_id!r} has no {NAME_COLUMN[self.lang]}, needed "
                        f"with --lang {self.lang}", file=src, row=data_row(i),
                        column=NAME_COLUMN[self.lang])
                out.append([self.lang])
                continue
            use = [lg for lg in has if lg in self.indexes_]
            if not use:
                need = LANG_NAMES[has[0]]
                raise InputError(
                    f"technology {rec.tech_id!r} has only a {need} name, and the IPC scheme has "
                    f"no {need} titles (it has: "
                    f"{', '.join(LANG_NAMES[x] for x in self.indexes_)}); load a {need} scheme "
                    f"with `coretech ipc load` or add {NAME_COLUMN['en' if need == 'Chinese' else 'zh']}",
                    file=src, row=data_row(i), column=NAME_COLUMN[has[0]])
            out.append(use)
        return out

    # ------------------------------------------------------------------ match
    def match(self, catalogue: pd.DataFrame, overrides: pd.DataFrame | None = None) -> MatchResult:
        """Candidates and dictionary of every technology of ``catalogue`` (validated here)."""
        if not hasattr(self, "indexes_"):
            raise RuntimeError("call fit(scheme) before match(catalogue)")
        cat = validate_catalogue(catalogue)
        tech_ids = list(cat["tech_id"])
        langs = self._languages(cat)
        keywords = [split_keywords(k) for k in cat["keywords"]]
        merged: list[dict[str, tuple[Scored, str, Any]]] = [{} for _ in tech_ids]
        for lg, idx in self.indexes_.items():
            sel = [i for i, use in enumerate(langs) if lg in use]
            if not sel:
                continue
            names = [cat[NAME_COLUMN[lg]].iat[i] for i in sel]
            kws = [keywords[i] for i in sel]
            extra = [*names, *(k for ks in kws for k in ks)] if lg == "zh" else None
            tok = idx.tokenizer(extra)
            queries = build_queries(names, kws, tok, self.keyword_weight)
            pooled = pool_candidates(idx, queries, len(sel), self.pool)
            idf: dict[str, float] = {}
            for local, i in enumerate(sel):
                scored = rerank(idx, queries, pooled[local], fuzzy_weight=self.fuzzy_weight,
                                calibration=0.0, idf=idf)
                m = merged[i]
                for s in scored:
                    code = idx.codes_[s.row]
                    cur = m.get(code)
                    if cur is None or s.raw > cur[0].raw + 1e-12:
                        m[code] = (s, lg, queries[s.query])
        cand_rows = []
        dict_parts = []
        for i, tid in enumerate(tech_ids):
            m = merged[i]
            if not m:
                continue
            top = max(x[0].raw for x in m.values())
            scale = top ** (-self.calibration) if top > 0 else 0.0
            rows = []
            for code, (s, lg, q) in m.items():
                idx = self.indexes_[lg]
                score = round(min(1.0, s.raw * scale), self.decimals)
                src = "name" if q.source == "name" else f"keyword '{q.text}'"
                words = ", ".join(s.matched) if s.matched else "-"
                rows.append({
                    "tech_id": tid, "ipc_code": code, "kind": idx.kinds_[s.row], "score": score,
                    "method": f"tfidf+fuzzy:{q.source}:{lg}",
                    "evidence": f"words: {words} (via {src}) | path: {idx.path_titles_[s.row]}",
                    "_o": (idx.row_of_.get(code, 0), lg),
                })
            rows.sort(key=lambda r: (-r["score"], r["_o"]))
            for r, row in enumerate(rows, start=1):
                row["rank"] = r
                del row["_o"]
            tech = pd.DataFrame(rows, columns=[c for c in OUTPUT_COLUMNS if c != "decision"])
            tech["decision"] = ""
            dict_parts.append(decide(tech, self.rule, self.counts_))
            cand_rows.append(tech.head(self.top_k))
        empty = pd.DataFrame({c: [] for c in OUTPUT_COLUMNS})
        cands = pd.concat(cand_rows, ignore_index=True) if cand_rows else empty.copy()
        dic = pd.concat(dict_parts, ignore_index=True) if dict_parts else empty.copy()
        accepted = set(zip(dic["tech_id"], dic["ipc_code"], strict=True))
        cands["decision"] = ["auto" if k in accepted else ""
                             for k in zip(cands["tech_id"], cands["ipc_code"], strict=True)]
        counts: dict[str, Any] = {}
        if overrides is not None and len(overrides):
            dic, cands, counts = apply_overrides(dic, cands, overrides, tech_ids, self.path_title_)
        dic = order_rows(dic, tech_ids)
        cands = order_rows(cands, tech_ids)
        with_code = set(dic["tech_id"])
        counts.update({
            "technologies": len(tech_ids),
            "technologies_without_code": sum(1 for t in tech_ids if t not in with_code),
            "dictionary_rows": len(dic), "candidate_rows": len(cands),
            "distinct_codes": int(dic["ipc_code"].nunique()),
        })
        return MatchResult(dic, cands, counts,
                           {t: "+".join(u) for t, u in zip(tech_ids, langs, strict=True)})
