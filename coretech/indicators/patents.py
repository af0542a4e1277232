"""Reading patent exports as users have them, into DuckDB, with every bad row accounted for.

Input (INTERFACES.md, "Patent records"): ``patent_id``, ``app_date``, ``grant_date``, ``ipc``,
optional ``main_ipc``, ``city`` or ``applicant_address``, optional ``patent_type``. Chinese
headers of common exports (申请号, 申请日, 授权公告日, IPC分类号, 主分类号, 申请人地址, 专利类型, ...)
are recognised; anything else is mapped with ``columns={"old": "new"}`` (``--columns old=new``).

Files: CSV/TSV in UTF-8 or GBK/GB18030 (detected by :func:`coretech.io.read_table`, or
``encoding``), Excel, Stata .dta, and Parquet (read by DuckDB directly: the fast path for
national-scale files). Dates as exports write them: ``2002-03-06``, ``2002.03.06``,
``2002/3/6``, ``2002年3月6日``, ``20020306``, Excel serial numbers (``37321``), datetime cells.
IPC lists in any notation separated by ``;`` ``,`` ``；`` ``，`` ``、`` or ``|``.

Everything row-wise runs in SQL; Python only normalises the distinct IPC strings.
Row numbers count the header as row 1 (the first data row is row 2), as a spreadsheet shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from coretech.errors import InputError
from coretech.io import read_table
from coretech.ipc import IPCSymbolError, parse

#: Canonical patent columns (INTERFACES.md).
PATENT_COLUMNS = (
    "patent_id",
    "app_date",
    "grant_date",
    "ipc",
    "main_ipc",
    "city",
    "applicant_address",
    "patent_type",
)
#: Headers of Chinese exports (CNIPA, incoPat, Himmpat, CNKI, ...) recognised without --columns.
CHINESE_HEADERS: dict[str, str] = {
    "申请号": "patent_id",
    "专利申请号": "patent_id",
    "申请日": "app_date",
    "申请日期": "app_date",
    "授权公告日": "grant_date",
    "授权日": "grant_date",
    "授权日期": "grant_date",
    "IPC分类号": "ipc",
    "IPC": "ipc",
    "分类号": "ipc",
    "主分类号": "main_ipc",
    "IPC主分类号": "main_ipc",
    "申请人地址": "applicant_address",
    "地址": "applicant_address",
    "城市": "city",
    "地级市": "city",
    "专利类型": "patent_type",
}
#: Cell values meaning "no value" (a missing grant date = not granted).
MISSING_TOKENS = ("", "na", "n/a", "nan", "none", "nat", "null", "-", "--", "—", "无")
#: Patent-type labels -> canonical value.
PATENT_TYPES: dict[str, str] = {
    "invention": "invention", "发明": "invention", "发明专利": "invention", "发明授权": "invention",
    "发明申请": "invention", "1": "invention",
    "utility_model": "utility_model", "utility model": "utility_model", "utility": "utility_model",
    "实用新型": "utility_model", "实用新型专利": "utility_model", "2": "utility_model",
    "design": "design", "外观设计": "design", "外观设计专利": "design", "3": "design",
}
IPC_SEPARATORS = r"[;,；，、|]"
SEPARATOR_CHARS = ",；，、|"  # translated to ';' before splitting


def parse_column_map(items: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``["old=new", ...]`` (``--columns``, repeatable) -> ``{"old": "new"}``."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        pairs = dict(items)
    else:
        pairs = {}
        for item in items:
            if "=" not in item:
                raise InputError(f"--columns expects old=new, got {item!r}")
            old, new = (x.strip() for x in item.split("=", 1))
            pairs[old] = new
    for old, new in pairs.items():
        if new not in PATENT_COLUMNS:
            raise InputError(
                f"--columns {old}={new}: {new!r} is not a patent column; "
                f"expected one of {', '.join(PATENT_COLUMNS)}"
            )
    return pairs


@dataclass
class PatentSource:
    """A patent file opened as the DuckDB view ``src`` (``row`` + canonical columns)."""

    path: Path
    columns: dict[str, str]  # canonical -> column in the file
    types: dict[str, str]  # canonical -> DuckDB type
    n_rows: int
    encoding: str | None
    notes: list[str] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_patents(
    con: Any,
    path: str | Path,
    *,
    encoding: str | None = None,
    columns: Mapping[str, str] | Iterable[str] | None = None,
    sheet: str | int | None = 0,
) -> PatentSource:
    """Open ``path`` as the view ``src`` on the DuckDB connection ``con``.

    Raises :class:`InputError` naming the file and column when a required column is missing
    (``app_date``, ``grant_date``, ``ipc``, and ``city`` or ``applicant_address``) or when a
    ``--columns`` name is not in the file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    mapping = parse_column_map(columns)
    suffix = path.suffix.lower()
    enc_used: str | None = None
    if suffix == ".parquet":
        try:
            desc = con.sql(
                f"DESCRIBE SELECT * FROM read_parquet({_lit(str(path))})"
            ).fetchall()
        except Exception as exc:  # duckdb raises its own error classes
            raise InputError(f"cannot read the Parquet file: {exc}", file=path) from exc
        names = [d[0] for d in desc]
        dtypes = {d[0]: d[1] for d in desc}
        base = f"(SELECT *, file_row_number + 2 AS __row FROM read_parquet({_lit(str(path))}, file_row_number = true))"
    else:
        df = read_table(path, encoding=encoding, sheet=sheet, as_text=suffix not in {".dta"})
        enc_used = df.attrs.get("encoding")
        df = df.reset_index(drop=True)
        names = [str(c) for c in df.columns]
        df.columns = names
        df["__row"] = range(2, len(df) + 2)
        con.register("__src_df", df)
        desc = con.sql("DESCRIBE SELECT * FROM __src_df").fetchall()
        dtypes = {d[0]: d[1] for d in desc}
        base = "__src_df"
    for old in mapping:
        if old not in names:
            raise InputError(
                f"--columns names a column that is not in the file; found {', '.join(names)}",
                file=path, column=old,
            )
    canon: dict[str, str] = {}
    for name in names:
        target = mapping.get(name)
        if target is None and name not in mapping:
            if name in PATENT_COLUMNS:
                target = name
            else:
                target = CHINESE_HEADERS.get(name) or CHINESE_HEADERS.get(name.upper())
        if target is not None and target not in canon:
            canon[target] = name
    # An explicit mapping wins over a same-named column.
    for old, new in mapping.items():
        canon[new] = old
    for req in ("app_date", "grant_date", "ipc"):
        if req not in canon:
            raise InputError(
                f"missing required column {req!r} (or a Chinese header / --columns old={req}); "
                f"found {', '.join(names)}",
                file=path, column=req,
            )
    if "city" not in canon and "applicant_address" not in canon:
        raise InputError(
            "missing a location column: 'city' or 'applicant_address' (申请人地址), or map one "
            f"with --columns old=city; found {', '.join(names)}",
            file=path, column="city",
        )
    select = ["__row AS row"]
    for c in PATENT_COLUMNS:
        if c in canon:
            select.append(f"{_quote(canon[c])} AS {c}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW src AS SELECT {', '.join(select)} FROM {base}")
    n = con.sql("SELECT count(*) FROM src").fetchall()[0][0]
    if n == 0:
        raise InputError("the file has a header but no data rows", file=path)
    return PatentSource(
        path=path,
        columns=canon,
        types={c: dtypes[canon[c]] for c in canon},
        n_rows=int(n),
        encoding=enc_used,
    )


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _missing_sql(expr: str, dtype: str = "VARCHAR") -> str:
    if not dtype.upper().startswith("VARCHAR"):
        return f"({expr} IS NULL)"
    toks = ", ".join(_lit(t) for t in MISSING_TOKENS)
    return f"({expr} IS NULL OR lower(trim(CAST({expr} AS VARCHAR))) IN ({toks}))"


def date_sql(col: str, dtype: str) -> str:
    """SQL giving a DATE from column ``col`` of DuckDB type ``dtype`` (NULL when unreadable)."""
    t = dtype.upper()
    if t.startswith("DATE") or t.startswith("TIMESTAMP"):
        return f"CAST({col} AS DATE)"
    num = f"TRY_CAST({col} AS DOUBLE)"
    if any(t.startswith(k) for k in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                                       "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "DOUBLE",
                                       "FLOAT", "DECIMAL", "REAL")):
        return _numeric_date(num)
    s = f"trim(CAST({col} AS VARCHAR))"
    ymd = (
        f"regexp_extract({s}, '^(\\d{{4}})\\s*[-./年]\\s*(\\d{{1,2}})\\s*[-./月]\\s*(\\d{{1,2}})"
        f"\\s*日?(?:[ T].*)?$', ['y', 'm', 'd'])"
    )
    return (
        "CASE "
        f"WHEN regexp_full_match({s}, '\\d{{8}}(\\.0+)?') THEN "
        f"try(make_date(CAST(substr({s}, 1, 4) AS INT), CAST(substr({s}, 5, 2) AS INT), "
        f"CAST(substr({s}, 7, 2) AS INT))) "
        f"WHEN regexp_full_match({s}, '\\d{{5}}(\\.\\d*)?') THEN "
        f"DATE '1899-12-30' + CAST(floor(CAST({s} AS DOUBLE)) AS INTEGER) "
        f"ELSE (SELECT try(make_date(CAST(r.y AS INT), CAST(r.m AS INT), CAST(r.d AS INT))) "
        f"FROM (SELECT {ymd} AS r)) END"
    )


def _numeric_date(num: str) -> str:
    return (
        f"CASE WHEN {num} BETWEEN 10000101 AND 99991231 THEN "
        f"try(make_date(CAST(floor({num} / 10000) AS INT), CAST(floor({num} / 100) % 100 AS INT), "
        f"CAST(floor({num}) % 100 AS INT))) "
        f"WHEN {num} BETWEEN 10000 AND 99999 THEN DATE '1899-12-30' + CAST(floor({num}) AS INTEGER) "
        "END"
    )


# --------------------------------------------------------------------------- IPC strings
@dataclass
class SymbolMap:
    """Distinct raw IPC strings -> canonical code and its structural keys (or an error)."""

    frame: pd.DataFrame  # raw, code, section, class, subclass, main_group, error


def normalize_symbols(raw: Iterable[str]) -> pd.DataFrame:
    """Map each distinct raw symbol to ``code`` and its section/class/subclass/main group keys.

    Runs once per distinct string (not per patent row). Invalid strings get ``code`` None and
    the reason in ``error``; empty pieces and colon-notation indexing codes get ``skip``.
    """
    out = []
    skip = []
    for r in raw:
        if _CANONICAL_GROUP.match(r):  # fast path: already canonical (what parse() returns)
            out.append((r, r, r[0], r[:3], r[:4], r.split("/", 1)[0] + "/00", None))
            skip.append(False)
            continue
        if not r.strip() or _INDEXING.fullmatch(r.strip()):
            out.append((r, None, None, None, None, None, None))
            skip.append(True)
            continue
        skip.append(False)
        try:
            p = parse(r)
        except IPCSymbolError as exc:
            out.append((r, None, None, None, None, None, exc.reason))
            continue
        k = p.kind
        sub = str(p.truncate("subclass")) if k not in ("section", "class") else None
        mg = str(p.truncate("main_group")) if k in ("main_group", "subgroup") else None
        cl = str(p.truncate("class")) if k != "section" else None
        out.append((r, str(p), p.section, cl, sub, mg, None))
    df = pd.DataFrame(
        out, columns=["raw", "code", "section", "class", "subclass", "main_group", "error"]
    ).astype({c: "object" for c in ["raw", "code", "section", "class", "subclass", "main_group", "error"]})
    df["skip"] = pd.Series(skip, dtype=bool)
    return df


#: An unlinked indexing code in the colon notation of IPC editions 1-7 (``B29L31:52``).
INDEXING_CODE = r"[A-Ha-h]\d{2}[A-Za-z]?\s*\d+\s*:\s*\d+"
_INDEXING = re.compile(INDEXING_CODE)
#: A group symbol exactly as :func:`coretech.ipc.parse` writes it (``H01L29/739``).
_CANONICAL_GROUP = re.compile(r"[A-H][0-9]{2}[A-Z][1-9][0-9]{0,3}/[0-9]{2,6}\Z")


def explode_symbols_sql(src: str = "src", column: str = "ipc", simple: bool = False) -> str:
    """SQL of (row, raw) for every piece of the IPC lists in ``column``.

    Indexing information is not a classification symbol: everything from ``//`` on (CNIPA's
    linked indexing codes, ``A61K33/06;//(A61K33/06,31:045)``) is cut here; empty pieces and
    colon-notation indexing codes (``B29L31:52``) are marked ``skip`` by
    :func:`normalize_symbols`. Rows that carried any are counted (``rows_with_indexing_codes``).
    """
    return (
        f"SELECT row, unnest({parts_sql(column, simple)}) AS raw FROM {src} "
        f"WHERE {column} IS NOT NULL"
    )


def odd_list_sql(column: str = "ipc") -> str:
    """SQL true when a cell needs more than a split on ``;`` (other separators or ``//``)."""
    text = f"CAST({column} AS VARCHAR)"
    return " OR ".join(f"contains({text}, '{c}')" for c in ["//", *SEPARATOR_CHARS])


def parts_sql(column: str = "ipc", simple: bool = False) -> str:
    """SQL list of the pieces of an IPC list cell (split on every separator, cut at ``//``).

    ``simple`` (no cell of the file has another separator or ``//``: checked once per file)
    splits on ``;`` alone; otherwise the cells that need it take the full path. Pieces keep
    their spaces (the distinct pieces are normalised in Python, once each).
    """
    text = f"CAST({column} AS VARCHAR)"
    if simple:
        return f"string_split({text}, ';')"
    odd = odd_list_sql(column)
    return (
        f"(CASE WHEN {odd} THEN string_split(translate(split_part({text}, '//', 1), "
        f"'{SEPARATOR_CHARS}', '{';' * len(SEPARATOR_CHARS)}'), ';') "
        f"ELSE string_split({text}, ';') END)"
    )


def indexing_rows_sql(src: str = "src", column: str = "ipc", where_only: bool = False) -> str:
    """SQL counting rows whose IPC list carries indexing information (dropped, see above):
    a ``//`` part or a colon (only indexing codes have one). ``where_only``: just the
    condition, to fold the count into another pass over the file."""
    text = f"CAST({column} AS VARCHAR)"
    cond = f"contains({text}, '//') OR contains({text}, ':')"
    return cond if where_only else f"SELECT count(*) FROM {src} WHERE {cond}"


def patent_type_sql(col: str | None) -> str:
    if col is None:
        return "NULL"
    cases = " ".join(
        f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in PATENT_TYPES.items()
    )
    s = f"lower(trim(CAST({col} AS VARCHAR)))"
    return f"CASE {s} {cases} ELSE nullif({s}, '') END"
