"""Two-column code/title tables (CSV/TSV/Excel/Parquet/Stata), any notation, Chinese or English.

The code column is the first of ``code, symbol, ipc, ipc_code, 分类号, IPC分类号, 代码, 编码``
(case-insensitive) and the title column the first of ``title, title_en, title_zh,
description, name, 标题, 名称, 含义, 描述, 类名``; a table with exactly two columns and other
headers uses them in order, and one whose header row is itself a code and a title is read as
having no header. Language: ``title_zh``/``title_en`` say it, else the script of the titles
(``zh`` when most contain Han characters), unless ``lang`` is given.

A title that starts with dots (``. 锹；铲``, ``.. with teeth``) gives the entry's depth; when the
table has such dots, parents follow them (``depth_source='scheme'``), else a subgroup's parent
is its main group (``inferred``).
"""

from __future__ import annotations

import re

import pandas as pd

from coretech.errors import InputError
from coretech.ipc.readers.common import count_cleaning, finish, make_row
from coretech.ipc.readers.result import Collector, ReadResult, structural_parent
from coretech.ipc.readers.text import clean_title, detect_lang
from coretech.ipc.symbols import IPCSymbolError, parse, try_normalize

CODE_NAMES = ("code", "symbol", "ipc", "ipc_code", "ipccode", "分类号", "ipc分类号", "代码", "编码")
TITLE_NAMES = ("title", "title_en", "title_zh", "description", "desc", "name", "标题", "名称",
               "含义", "描述", "类名")
_LEAD_DOTS = re.compile(r"^\s*((?:[.．·•]\s*)+)")


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    low = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in low:
            return low[n]
    return None


def read_code_title_table(
    df: pd.DataFrame,
    *,
    source: str,
    lang: str | None = None,
    edition: str | None = None,
    strict: bool = False,
) -> ReadResult:
    """Read a code/title table (see the module docstring) into a scheme table.

    A row whose code is no IPC symbol is rejected with a reason naming its row and column
    (``strict``: raise :class:`InputError` instead); so is a row with an empty title.
    Raises :class:`InputError` (row 1) when no code and title columns can be told apart.
    """
    cols = [str(c) for c in df.columns]
    code_col, title_col = _find(cols, CODE_NAMES), _find(cols, TITLE_NAMES)
    header_is_data = False
    if code_col is None or title_col is None:
        if len(cols) == 2:
            if try_normalize(cols[0]) is not None and code_col is None:
                header_is_data = True
            code_col, title_col = cols[0], cols[1]
        else:
            raise InputError(
                "expected a code column (one of: code, symbol, ipc, 分类号 ...) and a title "
                f"column (title, title_zh, title_en, description, 名称 ...); found {', '.join(cols)}",
                file=source, row=1,
            )
    codes = df[code_col].astype(object).where(df[code_col].notna(), "").astype(str).tolist()
    titles = df[title_col].astype(object).where(df[title_col].notna(), "").astype(str).tolist()
    first_row = 2
    if header_is_data:
        codes.insert(0, cols[0])
        titles.insert(0, re.sub(r"\.\d+$", "", cols[1]))
        first_row = 1
    if not codes:
        raise InputError("the table has a header but no rows", file=source, row=2)
    if lang is None:
        low = str(title_col).lower()
        lang = "zh" if low.endswith("_zh") else "en" if low.endswith("_en") else detect_lang(titles[:2000])
    col = Collector(source)
    items = []
    for i, (code, title) in enumerate(zip(codes, titles, strict=True)):
        row = i + first_row
        raw = f"{code}\t{title}"
        if not code.strip() and not title.strip():
            col.stats["blank_rows"] += 1
            continue
        try:
            sym = parse(code)
        except IPCSymbolError as exc:
            if strict:
                raise InputError(exc.message, file=source, row=row, column=code_col) from None
            col.reject(row, raw, f"row {row}, column '{code_col}': {exc.message}", "invalid_symbols")
            continue
        m = _LEAD_DOTS.match(title)
        dots = sum(ch in ".．·•" for ch in m.group(1)) if m else 0
        if m:
            title = title[m.end():]
        items.append((row, raw, sym, dots, title))
    has_dots = any(d for *_, d, _ in items)
    seen: dict[str, int] = {}
    stack: list[str] = []
    for row, raw, sym, dots, title in items:
        code = str(sym)
        if code in seen:
            col.reject(row, raw, f"row {row}: repeated code {code} (row {seen[code]} kept)",
                       "repeated_codes")
            continue
        cleaned = clean_title(title)
        count_cleaning(col, cleaned)
        if not cleaned.title:
            col.reject(row, raw, f"row {row}, column '{title_col}': empty title", "empty_titles")
            continue
        seen[code] = row
        kind = sym.kind
        parent = structural_parent(sym)
        depth: int | None = None
        ds = "scheme" if has_dots else "inferred"
        if kind == "main_group":
            depth, stack = 0, [code]
        elif kind == "subgroup":
            if has_dots and dots:
                main = str(sym.truncate("main_group"))
                if not stack or stack[0] != main:
                    stack = [main]
                depth = dots
                if len(stack) < dots:
                    col.defects["depth_jumps"] += 1
                parent = stack[min(dots, len(stack)) - 1]
                stack = stack[:dots] + [code]
            elif has_dots:
                col.defects["subgroups_without_dots"] += 1
                ds = "inferred"
        col.rows.append(make_row(sym, depth=depth, depth_source=ds, parent=parent,
                                 cleaned=cleaned, lang=lang, edition=edition, source=source))
    if not col.rows and col.rejects:
        first = col.rejects[0]
        raise InputError(
            f"no usable row: every code is rejected (first: {first['reason']})",
            file=source, row=first["line"], column=code_col,
        )
    return finish(col)
