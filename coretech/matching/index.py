"""A TF-IDF index of one language of an IPC scheme, over path titles, built once and cached.

Documents. Entry *d* (a subclass, main group or subgroup) has its own title ``t_d`` and its
path title ``p_d`` (subclass title > main-group title > ... > own title, column ``path_title``
of the scheme table), because a subgroup's own title is often a fragment whose meaning is in
its parents (METHODS.md §1: H01L29/739 is "controlled by field effect" under "Bipolar junction
transistors"). Both are normalised and tokenised (:mod:`coretech.matching.tokenize`).

Two TF-IDF spaces, each fitted on the path titles (scikit-learn ``TfidfVectorizer``,
``sublinear_tf``: tf -> 1 + ln tf, smooth idf, rows L2-normalised):

* ``C``: character n-grams within words (``char_wb``, ``ngram_range``; the matcher's default
  is 2-4 for Chinese and 3-4 for English, ``coretech.matching.matcher.DEFAULT_NGRAMS``),
* ``W``: jieba / English word tokens.

With ``x̂`` the L2-normalised TF-IDF row, the index matrix has, for entry d, the row

    D_d = [ β (α Ĉ(t_d) + (1-α) Ĉ(p_d)),  (1-β) (α Ŵ(t_d) + (1-α) Ŵ(p_d)) ]

(α = ``own_title_weight``, β = ``char_weight``), so that for a query q with rows
``[Ĉ(q), Ŵ(q)]`` one sparse product gives exactly

    s(q, d) = β [α cos_C(q, t_d) + (1-α) cos_C(q, p_d)] + (1-β) [α cos_W(q, t_d) + (1-α) cos_W(q, p_d)]

in [0, 1]. The top k per query come from ``sparse_dot_topn.sp_matmul_topn`` (never a dense
query x scheme matrix).

Both spaces are fitted by :func:`coretech.matching.tfidf.fit_spaces` (equal to scikit-learn's
``TfidfVectorizer``, which is not imported at all): each distinct title segment is tokenised
once and each distinct word cut into n-grams once; a path's counts are sums of its segments'.

Disk cache (:func:`cached_index`): the fitted index is stored as one ``.npz`` of plain arrays
(read with ``allow_pickle=False``) and a JSON manifest written last with the array file's
SHA-256, under a key made of the SHA-256 of the scheme rows of its language and kinds
(:func:`source_hash`, as given, so a cache hit needs no cleaning), the index options, the
versions of the packages that shape it (from package metadata) and the code that builds it.
Folder and files are checked before use (:mod:`coretech.ipc.cache`); an entry that fails a
check is rebuilt. Writes are atomic, so concurrent runs cannot leave a half-written file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from coretech.errors import InputError
from coretech.matching.buildutil import cut_texts, gc_paused, npz_arrays
from coretech.matching.dictionary import SchemeCounts, main_group_of
from coretech.matching.normalize import DEFAULT_STOPWORDS, normalize_text
from coretech.matching.tfidf import TfidfModel, fit_spaces, l2_rows
from coretech.matching.tokenize import Tokenizer, title_terms

INDEX_FORMAT = 7
DEFAULT_KINDS = ("subclass", "main_group", "subgroup")
PATH_SEPARATOR = " > "


@dataclass(frozen=True)
class IndexOptions:
    """Options that change the fitted index (part of its cache key)."""

    ngram_range: tuple[int, int] = (2, 4)
    char_weight: float = 0.5
    own_title_weight: float = 0.35
    kinds: tuple[str, ...] = DEFAULT_KINDS
    term_min_df: int = 5
    max_df: float = 1.0
    stopwords: tuple[str, ...] = field(default_factory=lambda: tuple(sorted(DEFAULT_STOPWORDS)))

    def validate(self) -> IndexOptions:
        lo, hi = self.ngram_range
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= 8):
            raise ValueError(f"ngram_range must be (lo, hi) with 1 <= lo <= hi <= 8, got {self.ngram_range}")
        for name in ("char_weight", "own_title_weight"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
        bad = [k for k in self.kinds if k not in ("section", "class", *DEFAULT_KINDS)]
        if bad or not self.kinds:
            raise ValueError(f"kinds must be a non-empty subset of IPC kinds, got {self.kinds}")
        if not (isinstance(self.max_df, (int, float)) and 0.0 < self.max_df <= 1.0):
            raise ValueError(f"max_df must be in (0, 1], got {self.max_df!r}")
        if not (isinstance(self.term_min_df, int) and self.term_min_df >= 1):
            raise ValueError(f"term_min_df must be an integer >= 1, got {self.term_min_df!r}")
        return self

    def key(self) -> dict[str, Any]:
        d = asdict(self)
        d["stopwords"] = hashlib.sha256("\n".join(self.stopwords).encode()).hexdigest()[:16]
        return d


def scheme_rows(scheme: pd.DataFrame, lang: str, kinds: tuple[str, ...]) -> pd.DataFrame:
    """The rows of ``scheme`` in ``lang`` and ``kinds`` with a title, in the scheme's order."""
    need = {"code", "kind", "title", "path_title", "lang"}
    missing = need - set(scheme.columns)
    if missing:
        raise InputError(
            f"the IPC scheme table lacks column(s) {', '.join(sorted(missing))} "
            "(build it with `coretech ipc load`)",
            file=scheme.attrs.get("source"),
        )
    df = scheme[(scheme["lang"] == lang) & scheme["kind"].isin(kinds)]

    def text(col: str) -> list[str]:
        return [x.strip() if isinstance(x, str) else "" for x in df[col].tolist()]

    title, path = text("title"), text("path_title")
    path = [p or t for p, t in zip(path, title, strict=True)]
    codes = [str(c) for c in df["code"].tolist()]
    # one row per code (a source may repeat a code): keep the first one with a title or path
    seen: set[str] = set()
    keep = []
    for i, (c, t, p) in enumerate(zip(codes, title, path, strict=True)):
        if (t or p) and c not in seen:
            seen.add(c)
            keep.append(i)
    cols = {"code": codes, "kind": [str(k) for k in df["kind"].tolist()], "title": title,
            "path_title": path}
    # object columns: no round trip through pandas' string arrays (this runs on every fit)
    return pd.DataFrame({k: np.array([v[i] for i in keep], dtype=object) for k, v in cols.items()},
                        dtype=object)


def _columns_hash(df: pd.DataFrame) -> str:
    """SHA-256 of the code, kind, title and path-title columns of ``df`` (missing values and
    empty strings differ)."""
    h = hashlib.sha256()
    for col in ("code", "kind", "title", "path_title"):
        vals = df[col].to_numpy(dtype=object)
        is_str = np.fromiter(map(str.__instancecheck__, vals), dtype=bool, count=len(vals))
        if not is_str.all():
            vals = vals.copy()
            vals[~is_str] = "\x00"
        h.update("\x1e".join(vals.tolist()).encode("utf-8"))
        h.update(b"\x1d")
    return h.hexdigest()


def scheme_hash(rows: pd.DataFrame) -> str:
    """SHA-256 of the rows an index is built from (code, kind, title, path title)."""
    return _columns_hash(rows)


def source_hash(scheme: pd.DataFrame, lang: str, kinds: tuple[str, ...]) -> str:
    """SHA-256 of the scheme rows of ``lang`` and ``kinds`` as given (before cleaning): the
    cache key, cheaper than :func:`scheme_rows` on every run; same content, same key."""
    missing = {"code", "kind", "title", "path_title", "lang"} - set(scheme.columns)
    if missing:
        scheme_rows(scheme, lang, kinds)  # raises the error that names the columns
    return _columns_hash(scheme[(scheme["lang"] == lang) & scheme["kind"].isin(kinds)])


def _segment_key(unique: list[str], lang: str, o: IndexOptions) -> str:
    from importlib import metadata

    h = hashlib.sha256()
    h.update("\x00".join(unique).encode("utf-8"))
    here = Path(__file__).parent
    for name in ("tokenize.py", "normalize.py"):
        f = here / name
        h.update(f.read_bytes() if f.is_file() else b"")
    try:
        jieba_version = metadata.version("jieba")
    except metadata.PackageNotFoundError:  # pragma: no cover - a core dependency
        jieba_version = ""
    h.update(json.dumps([lang, o.term_min_df, sorted(o.stopwords), jieba_version]).encode())
    return h.hexdigest()[:24]


def cached_segments(unique: list[str], lang: str, o: IndexOptions, folder: Path | None,
                    norms: list[str] | None = None) -> tuple[list[list[str]], dict[str, int]]:
    """Tokens of each distinct title segment and the user dictionary ({word: frequency}).
    ``norms``: the segments already normalised (``normalize_text``), if the caller has them.

    Tokenised here (:func:`cut_texts`) or read from ``folder`` (``ipc-segments-*.npz`` with a
    JSON manifest and its SHA-256, as the index; keyed by the segments, the tokenizer's code,
    jieba's version and the options that change tokens).
    """
    from coretech.ipc.cache import (
        CacheError,
        load_npz,
        npz_bytes,
        pack_strings,
        read_entry,
        unpack_strings,
        write_entry,
    )

    key = _segment_key(unique, lang, o) if folder is not None else ""
    name = f"ipc-segments-{lang}-{key}"
    if folder is not None:
        try:
            files, _ = read_entry(folder, f"{name}.json", {"key": key})
            a = load_npz(files[f"{name}.npz"])
            flat = unpack_strings(a["tokens.text"], a["tokens.offsets"])
            bounds = np.concatenate([[0], np.cumsum(a["counts"])]).tolist()
            if len(bounds) != len(unique) + 1 or bounds[-1] != len(flat):
                raise CacheError(f"{folder / name}.npz: does not fit the segments")
            words = unpack_strings(a["user.text"], a["user.offsets"])
            return ([flat[x:y] for x, y in zip(bounds[:-1], bounds[1:], strict=True)],
                    dict(zip(words, a["user.freq"].tolist(), strict=True)))
        except (CacheError, KeyError, ValueError, OSError):
            pass  # tokenised below
    if norms is None and lang == "zh":
        norms = [normalize_text(x) for x in unique]
    terms = title_terms(norms, min_df=o.term_min_df, normalized=True) if norms is not None else []
    tok = Tokenizer(terms, stopwords=frozenset(o.stopwords))
    # English: normalised inside the (forked) tokenizer runs
    cut = cut_texts(tok, unique) if norms is None else cut_texts(tok, norms, normalized=True)
    user = tok.word_frequencies() if lang == "zh" else {}
    if folder is not None:
        words = sorted(user)
        arrays = {"counts": np.array([len(c) for c in cut], dtype=np.int64),
                  "user.freq": np.array([user[w] for w in words], dtype=np.int64)}
        arrays["tokens.text"], arrays["tokens.offsets"] = pack_strings(
            [t for c in cut for t in c])
        arrays["user.text"], arrays["user.offsets"] = pack_strings(words)
        try:
            write_entry(folder, f"{name}.json", {f"{name}.npz": npz_bytes(arrays)},
                        {"key": key, "lang": lang, "segments": len(unique)})
        except OSError:
            pass  # a read-only cache only costs time
    return cut, user


def _l2(m: sp.csr_matrix) -> sp.csr_matrix:
    return l2_rows(m)


class SchemeIndex:
    """TF-IDF index of one language of a scheme (see the module docstring for the math).

    Fitted attributes: ``codes_``, ``kinds_``, ``titles_``, ``path_titles_`` (arrays in scheme
    order), ``path_tokens_`` (word tokens of each path title, for evidence),
    ``char_vectorizer_``, ``word_vectorizer_``, ``matrix_t_`` (features x entries, CSR, the
    transposed D), ``path_word_ptr_`` / ``path_word_ids_`` (CSR of the word ids in each path
    title, for coverage and evidence), ``fuzzy_titles_`` (normalised own titles through
    rapidfuzz's ``default_process``, for fuzzy agreement; processed once here, not per pair), ``norm_paths_`` (Chinese only: normalised path text without spaces, for
    substring coverage), ``user_words_`` (jieba user dictionary {word: frequency}),
    ``scheme_hash_``, ``subclass_ids_`` (entry -> id of its subclass), ``main_groups_`` (entry -> its main group,
    "" for a subclass), ``counts_`` (:class:`~coretech.matching.dictionary.SchemeCounts` of the
    codes, for the roll-up).
    """

    def __init__(self, options: IndexOptions | None = None, *, lang: str = "en") -> None:
        self.options = (options or IndexOptions()).validate()
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        self.lang = lang

    # ------------------------------------------------------------------ fitting
    def fit(self, scheme: pd.DataFrame, *, segment_cache: Path | None = None) -> SchemeIndex:
        """Fit on the ``lang`` rows of ``scheme``. ``segment_cache``: a (checked) cache folder
        where the tokens of the distinct title segments are kept (:func:`cached_segments`),
        so that a refit with other weights or n-grams skips the tokenizer."""
        with gc_paused():
            return self._fit(scheme, segment_cache)

    def _fit(self, scheme: pd.DataFrame, segment_cache: Path | None) -> SchemeIndex:
        o = self.options
        rows = scheme_rows(scheme, self.lang, o.kinds)
        if rows.empty:
            raise InputError(
                f"the IPC scheme table has no {self.lang!r} titles of kind "
                f"{', '.join(o.kinds)}", file=scheme.attrs.get("source"),
            )
        self.scheme_hash_ = scheme_hash(rows)
        segments_of = [p.split(PATH_SEPARATOR) for p in rows["path_title"]]
        unique = sorted({s for segs in segments_of for s in segs} | set(rows["title"]))
        seg_id = {s: i for i, s in enumerate(unique)}
        # each distinct segment normalised once (tokens, user terms, Chinese substring text)
        norms = [normalize_text(x) for x in unique] if self.lang == "zh" else None
        cut, self.user_words_ = cached_segments(unique, self.lang, o, segment_cache, norms)
        own_ids = [seg_id[t] for t in rows["title"]]
        path_ids = [[seg_id[s] for s in segs] for segs in segments_of]
        own_tokens = [cut[i] for i in own_ids]
        cv, wv, m = fit_spaces([" ".join(t) for t in cut], path_ids, own_ids,
                               ngram_range=o.ngram_range, max_df=float(o.max_df),
                               sorted_char=False)
        c_path, c_own, w_path, w_own = m["c_path"], m["c_own"], m["w_path"], m["w_own"]
        a, b = float(o.own_title_weight), float(o.char_weight)
        c_mix = (a * c_own + (1 - a) * c_path) * b
        del c_own, c_path, m
        w_mix = (a * w_own + (1 - a) * w_path) * (1 - b)
        # D^T = [C_mix^T; W_mix^T]: each block transposed (CSC of the block, column indices
        # sorted whatever their order in the block), then stacked row-wise (a concatenation)
        self.matrix_t_ = sp.vstack([c_mix.T.tocsr(), w_mix.T.tocsr()], format="csr",
                                   dtype=np.float32)
        del c_mix
        self.matrix_t_.sort_indices()
        self.char_vectorizer_ = cv
        self.word_vectorizer_ = wv
        self.codes_ = rows["code"].to_numpy(dtype=object)
        self.counts_ = SchemeCounts(self.codes_.tolist())
        self.subclass_ids_ = pd.factorize(np.array([c[:4] for c in self.codes_], dtype=object))[0]
        self.main_groups_ = np.array([main_group_of(c) for c in self.codes_], dtype=object)
        self.kinds_ = rows["kind"].to_numpy(dtype=object)
        self.titles_ = rows["title"].to_numpy(dtype=object)
        self.path_titles_ = rows["path_title"].to_numpy(dtype=object)
        self._row_of = None
        presence = w_path.tocsr()
        presence.sort_indices()
        self.path_word_ptr_ = presence.indptr.astype(np.int64)
        self.path_word_ids_ = presence.indices.astype(np.int32)
        from rapidfuzz.utils import default_process

        self.fuzzy_titles_ = [default_process(" ".join(t)) for t in own_tokens]
        if norms is not None:  # Chinese
            norm = [x.replace(" ", "") for x in norms]
            self.norm_paths_ = ["".join(norm[i] for i in ids) for ids in path_ids]
        else:
            self.norm_paths_ = None
        return self

    @property
    def row_of_(self) -> dict[str, int]:
        """``{code: row}`` (built on first use; not stored in the cache file)."""
        if getattr(self, "_row_of", None) is None:
            self._row_of = {c: i for i, c in enumerate(self.codes_)}
        return self._row_of

    def path_presence(self) -> sp.csr_matrix:
        """Entries x word-space ids, 1 where the word is in the entry's path title."""
        n_vocab = len(self.word_vectorizer_.vocabulary_)
        return sp.csr_matrix((np.ones(len(self.path_word_ids_)), self.path_word_ids_,
                              self.path_word_ptr_), shape=(self.n_entries, n_vocab))

    def path_word_ids(self, row: int) -> set[int]:
        """Word-space ids of the words in entry ``row``'s path title."""
        lo, hi = self.path_word_ptr_[row], self.path_word_ptr_[row + 1]
        return set(self.path_word_ids_[lo:hi].tolist())

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_row_of", None)
        return state

    @property
    def n_entries(self) -> int:
        return len(self.codes_)

    def tokenizer(self, extra_words: list[str] | None = None) -> Tokenizer:
        """A tokenizer with this index's user dictionary, plus ``extra_words`` (catalogue terms);
        it reads jieba's general dictionary on demand (``lazy=True``: same tokens)."""
        tok = Tokenizer(dict(self.user_words_), stopwords=frozenset(self.options.stopwords),
                        lazy=True)
        if extra_words:
            tok.add_words(extra_words)
        return tok

    def transform_queries(self, char_docs: list[str], word_docs: list[str]) -> sp.csr_matrix:
        """Rows ``[Ĉ(q), Ŵ(q)]`` for space-joined token strings (char and word views)."""
        c = _l2(self.char_vectorizer_.transform(char_docs))
        w = _l2(self.word_vectorizer_.transform(word_docs))
        return sp.hstack([c, w], format="csr", dtype=np.float32)

    def idf(self, token: str) -> float:
        """The word space's idf of ``token`` (the largest idf for a token never seen)."""
        wv = self.word_vectorizer_
        j = wv.vocabulary_.get(token)
        return float(wv.idf_[j] if j is not None else wv.idf_.max())


# ---------------------------------------------------------------------- the disk cache
def default_cache_dir() -> Path | None:
    """coretech's one disk-cache folder (:func:`coretech.ipc.scheme.cache_dir`):
    ``$CORETECH_CACHE_DIR``, else ``$XDG_CACHE_HOME/coretech`` or ``~/.cache/coretech``;
    None when ``CORETECH_CACHE_DIR=off``."""
    from coretech.ipc.scheme import cache_dir

    return cache_dir()


#: Modules whose code shapes a fitted index (their bytes are part of the cache key).
_KEY_MODULES = ("index.py", "tfidf.py", "tokenize.py", "normalize.py")
#: Packages whose versions shape a fitted index (read from package metadata, not imported).
_KEY_PACKAGES = ("numpy", "scipy", "jieba", "rapidfuzz")


def _code_digest() -> str:
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in _KEY_MODULES:
        f = here / name
        h.update(f.read_bytes() if f.is_file() else b"")
    return h.hexdigest()[:16]


def cache_key(rows_hash: str, lang: str, options: IndexOptions) -> str:
    from importlib import metadata

    from coretech import __version__

    versions = {}
    for name in _KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    blob = json.dumps(
        {"format": INDEX_FORMAT, "scheme": rows_hash, "lang": lang, "options": options.key(),
         "coretech": __version__, "code": _code_digest(), "packages": versions},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


# attributes of a fitted index, by how they are stored (every attribute must be listed)
_NUMERIC = ("matrix_t_", "subclass_ids_", "path_word_ptr_", "path_word_ids_")
_TEXT_ARRAYS = ("codes_", "kinds_", "titles_", "path_titles_", "main_groups_")
_TEXT_LISTS = ("fuzzy_titles_", "norm_paths_")
_MODELS = ("char_vectorizer_", "word_vectorizer_")
_DERIVED = ("counts_", "_row_of")  # rebuilt on load


def _index_arrays(idx: SchemeIndex) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Plain arrays and JSON values that hold a fitted index (no Python objects)."""
    from coretech.ipc.cache import pack_strings

    known = {*_NUMERIC, *_TEXT_ARRAYS, *_TEXT_LISTS, *_MODELS, *_DERIVED,
             "options", "lang", "scheme_hash_", "user_words_"}
    extra = sorted(set(vars(idx)) - known)
    if extra:
        raise TypeError(f"SchemeIndex attribute(s) {', '.join(extra)} have no cache format "
                        "(add them to coretech.matching.index._index_arrays)")
    arrays: dict[str, np.ndarray] = {}
    m = idx.matrix_t_
    arrays.update({"matrix_t_.data": m.data, "matrix_t_.indices": m.indices,
                   "matrix_t_.indptr": m.indptr, "matrix_t_.shape": np.array(m.shape, np.int64)})
    for name in _NUMERIC[1:]:
        arrays[name] = np.asarray(getattr(idx, name))
    for name in (*_TEXT_ARRAYS, *_TEXT_LISTS):
        val = getattr(idx, name)
        if val is None:
            continue
        arrays[f"{name}.text"], arrays[f"{name}.offsets"] = pack_strings(list(val))
    for name in _MODELS:
        model: TfidfModel = getattr(idx, name)
        arrays[f"{name}.text"], arrays[f"{name}.offsets"] = pack_strings(model.terms_)
        arrays[f"{name}.idf"] = model.idf_
    words = sorted(idx.user_words_)
    arrays["user_words_.text"], arrays["user_words_.offsets"] = pack_strings(words)
    arrays["user_words_.freq"] = np.array([idx.user_words_[w] for w in words], dtype=np.int64)
    info = {"lang": idx.lang, "scheme_hash": idx.scheme_hash_,
            "options": idx.options.key(), "options_full": _options_json(idx.options),
            "models": {n: {"analyzer": getattr(idx, n).analyzer,
                           "ngram_range": list(getattr(idx, n).ngram_range)} for n in _MODELS},
            "none": [n for n in _TEXT_LISTS if getattr(idx, n) is None]}
    return arrays, info


def _options_json(o: IndexOptions) -> dict[str, Any]:
    d = asdict(o)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _scheme_counts(codes: np.ndarray, main_groups: np.ndarray) -> SchemeCounts:
    """``SchemeCounts(codes)`` from the stored main group of each code (``main_group_of``),
    counted with ``collections.Counter`` instead of a loop over every code."""
    from collections import Counter, defaultdict

    codes_l = codes.tolist()
    mains = main_groups.tolist()
    has_slash = ["/" in c for c in codes_l]
    out = SchemeCounts(())
    out.codes = set(codes_l)
    out.per_main = defaultdict(int, Counter(
        m for m, s in zip(mains, has_slash, strict=True) if s))
    out.mains_per_subclass = defaultdict(int, Counter(
        c[:4] for c, s in zip(codes_l, has_slash, strict=True) if s and c.endswith("/00")))
    return out


def _index_from_arrays(arrays: dict[str, np.ndarray], info: dict[str, Any]) -> SchemeIndex:
    from coretech.ipc.cache import unpack_strings

    o = info["options_full"]
    options = IndexOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in o.items()})
    idx = SchemeIndex(options, lang=info["lang"])
    idx.scheme_hash_ = info["scheme_hash"]
    shape = tuple(int(x) for x in arrays["matrix_t_.shape"])
    idx.matrix_t_ = sp.csr_matrix((arrays["matrix_t_.data"], arrays["matrix_t_.indices"],
                                   arrays["matrix_t_.indptr"]), shape=shape)
    for name in _NUMERIC[1:]:
        setattr(idx, name, arrays[name])

    def text(name: str) -> list[str]:
        return unpack_strings(arrays[f"{name}.text"], arrays[f"{name}.offsets"])

    for name in _TEXT_ARRAYS:
        vals = text(name)
        arr = np.empty(len(vals), dtype=object)
        arr[:] = vals
        setattr(idx, name, arr)
    for name in _TEXT_LISTS:
        setattr(idx, name, None if name in info["none"] else text(name))
    for name in _MODELS:
        spec = info["models"][name]
        setattr(idx, name, TfidfModel(spec["analyzer"], tuple(spec["ngram_range"]), text(name),
                                      arrays[f"{name}.idf"]))
    idx.user_words_ = dict(zip(text("user_words_"), arrays["user_words_.freq"].tolist(),
                               strict=True))
    idx.counts_ = _scheme_counts(idx.codes_, idx.main_groups_)
    idx._row_of = None
    if idx.matrix_t_.shape[1] != len(idx.codes_) or len(idx.path_word_ptr_) != len(idx.codes_) + 1:
        raise ValueError("inconsistent index arrays")
    return idx


def save_index(idx: SchemeIndex, folder: Path, key: str) -> Path:
    """Write ``idx`` to ``folder`` as ``ipc-index-<lang>-<key>.npz`` and its manifest
    (``.json``, written last, with the SHA-256 of the ``.npz``). Returns the ``.npz`` path."""
    from coretech.ipc.cache import npz_bytes, write_entry

    arrays, info = _index_arrays(idx)
    name = f"ipc-index-{idx.lang}-{key}"
    write_entry(folder, f"{name}.json", {f"{name}.npz": npz_bytes(arrays)},
                {**info, "key": key, "format": INDEX_FORMAT})
    return folder / f"{name}.npz"


def load_index(folder: Path, lang: str, key: str) -> SchemeIndex:
    """The index stored under ``key`` in ``folder``, after checking folder, files and the
    SHA-256 in the manifest (raises :class:`coretech.ipc.cache.CacheError` otherwise)."""
    from coretech.ipc.cache import CacheError, read_entry

    name = f"ipc-index-{lang}-{key}"
    payloads, info = read_entry(folder, f"{name}.json",
                                {"key": key, "format": INDEX_FORMAT, "lang": lang})
    if set(payloads) != {f"{name}.npz"}:
        raise CacheError(f"{folder / name}.json names unexpected files {sorted(payloads)}")
    try:
        with gc_paused():
            return _index_from_arrays(npz_arrays(payloads[f"{name}.npz"]), info)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise CacheError(f"{folder / name}.npz: {exc}") from exc


def cached_index(
    scheme: pd.DataFrame, lang: str, options: IndexOptions, cache_dir: str | Path | None | bool
) -> tuple[SchemeIndex, dict[str, Any]]:
    """Load the index of (scheme, lang, options) from the cache, or fit and store it.

    ``cache_dir=False`` turns the cache off; ``None`` means :func:`default_cache_dir`. A
    folder another user could write to is not used (:func:`coretech.ipc.cache.safe_cache_dir`
    warns and falls back to the user's private folder). Returns the index and a record
    ``{"key", "path", "hit"}``. A cache entry that is damaged, changed after it was written
    or not owned by the user is rebuilt, never trusted.
    """
    from coretech.ipc.cache import CacheError, safe_cache_dir

    key = cache_key(source_hash(scheme, lang, options.kinds), lang, options)
    if cache_dir is False:
        base = None
    elif cache_dir in (None, True):
        base = default_cache_dir()
    else:
        base = safe_cache_dir(Path(cache_dir))  # type: ignore[arg-type]
    if base is None:
        return SchemeIndex(options, lang=lang).fit(scheme), {"key": key, "path": None, "hit": False}
    path = base / f"ipc-index-{lang}-{key}.npz"
    try:
        idx = load_index(base, lang, key)
        return idx, {"key": key, "path": str(path), "hit": True}
    except CacheError:
        pass  # missing, damaged or not trusted: rebuilt below
    idx = SchemeIndex(options, lang=lang).fit(scheme, segment_cache=base)
    try:
        save_index(idx, base, key)
    except OSError as exc:
        raise InputError(f"cannot write the index cache: {exc}", file=path) from exc
    return idx, {"key": key, "path": str(path), "hit": False}
