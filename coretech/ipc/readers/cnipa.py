"""CNIPA (Chinese) sources: dotted text lines from the PDFs, and the flat Chinese table.

Text lines, as extracted from CNIPA's scheme PDFs::

    A01B1/00        手动工具（草坪修整机入A01G3/06）
    A01B1/02   .     锹；铲[2006.01]
    A01B1/04   . .   带齿的

The dots after the symbol are the subgroup's depth (a main group has none), the bracket at the
end is the entry's edition. :func:`parse_cnipa_lines` gives each subgroup the nearest entry
above it with one dot fewer as parent (``depth_source='scheme'``).

The flat table ``ipc_zh_2026_flat.tsv`` (columns ``code, level, main_group, subclass_dir,
title_zh``) has no dots: a subgroup's parent is its main group and ``depth_source`` is
``inferred`` (:func:`read_cnipa_flat`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.ipc.readers.common import count_cleaning, finish, make_row, row_frame
from coretech.ipc.readers.result import (
    Collector,
    ReadResult,
    canonical_symbol,
    structural_parent,
)
from coretech.ipc.readers.text import clean_title, clean_titles, detect_lang
from coretech.ipc.symbols import IPCSymbolError, parse

_FULLWIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)},
     **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
     **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
     "／": "/", "\u3000": " "}
)
# a line that starts like an IPC symbol (maybe a broken one): letter, 2 digits, letter ...
_LEAD = re.compile(
    r"^\s*(?P<sym>[A-Za-z]\d{2}[A-Za-z](?:\s*\d+\s*/\s*[0-9A-Za-z]+|\s*\d+(?=\s|$))?"
    r"|[A-H]\d{2}(?=\s|$))"
    r"(?P<rest>.*)$"
)
_SECTION_LINE = re.compile(r"^\s*([A-H])\s*部\s*[—\-–―:：\s]*(\S.*)$")
_DOTS = re.compile(r"^[\s.．·•・。]*")
_DOT_CHARS = set(".．·•・。")
_END_STAMP = re.compile(r"[\[［〔]\s*(\d{4}\.\d{2}|\d{8})\s*[\]］〕]\s*$")
#: junk titles: empty, digits, dots (PDF page numbers and leader dots)
JUNK_TITLE = re.compile(r"[\s\d.．。·…\-]*")


def parse_cnipa_lines(
    lines: Iterable[str],
    *,
    source_name: str,
    edition: str | None = None,
    lang: str | None = None,
    first_line: int = 1,
) -> ReadResult:
    """Parse CNIPA-style text lines (``A01B1/02   .     锹；铲[2006.01]``) into a scheme table.

    Lines that do not start with a symbol (page headers, blank lines, a subclass symbol
    alone) are skipped and counted (``stats``: ``skipped_lines``). Lines that start like an
    entry but cannot be used (not an IPC symbol, no title, a repeated code) go to ``rejects``
    with the reason. ``edition`` (e.g. ``2026.01``) fills the ``edition`` column; without
    it, the entry's own bracket stamp does (the stamp is kept in ``entry_edition`` either way).
    """
    col = Collector(source_name)
    parsed: list[tuple[int, str, object, int, str]] = []  # line, raw, sym, dots, title
    for lineno, raw in enumerate(lines, first_line):
        raw = raw.rstrip("\r\n")
        if not raw.strip():
            col.stats["skipped_lines"] += 1
            col.stats["skipped_blank"] += 1
            continue
        m = _LEAD.match(raw.translate(_FULLWIDTH))
        if not m:
            sec = _SECTION_LINE.match(raw.translate(_FULLWIDTH))
            if sec and len(raw) < 80:  # "A部——人类生活必需": the section's title
                parsed.append((lineno, raw, parse(sec.group(1)), 0, raw[sec.start(2):].strip()))
                continue
            col.stats["skipped_lines"] += 1
            continue
        sym_text, rest = m.group("sym"), m.group("rest")
        try:
            sym = parse(sym_text)
        except IPCSymbolError as exc:
            col.reject(lineno, raw, f"line {lineno}: {exc.message}", "invalid_symbols")
            continue
        # the rest of the original line (untranslated: keep full-width punctuation)
        rest_orig = raw[len(raw) - len(rest):] if rest else ""
        lead = _DOTS.match(rest_orig).group(0)  # type: ignore[union-attr]
        dots = sum(1 for ch in lead if ch in _DOT_CHARS)
        title = rest_orig[len(lead):].strip()
        if not title:
            if sym.kind in {"section", "class", "subclass"}:
                col.stats["skipped_lines"] += 1  # a running header: the symbol alone
                continue
            col.reject(lineno, raw, f"line {lineno}: {sym} has no title", "empty_titles")
            continue
        if JUNK_TITLE.fullmatch(title):
            col.reject(lineno, raw, f"line {lineno}: {sym} has a numeric title {title!r}",
                       "empty_or_numeric_titles")
            continue
        parsed.append((lineno, raw, sym, dots, title))

    if lang is None:
        lang = detect_lang([p[4] for p in parsed[:2000]]) if parsed else "zh"
    seen: dict[str, int] = {}
    stack: list[str] = []  # stack[d] = code of the latest entry at depth d (current main group)
    for lineno, raw, sym, dots, title in parsed:
        code = str(sym)
        if code in seen:
            col.reject(lineno, raw,
                       f"line {lineno}: repeated code {code} (first at line {seen[code]}, kept)",
                       "repeated_codes")
            continue
        seen[code] = lineno
        cleaned = clean_title(title)
        count_cleaning(col, cleaned)
        if not cleaned.title:
            col.reject(lineno, raw, f"line {lineno}: {code} has an empty title once cleaned",
                       "empty_titles")
            continue
        kind = sym.kind  # type: ignore[attr-defined]
        depth: int | None
        source_kind = "scheme"
        if kind == "main_group":
            if dots:
                col.defects["main_groups_with_dots"] += 1
            depth, parent = 0, structural_parent(sym)  # type: ignore[arg-type]
            stack = [code]
        elif kind == "subgroup":
            main = str(sym.truncate("main_group"))  # type: ignore[attr-defined]
            if not stack or stack[0] != main:
                stack = [main]
            if dots == 0:
                col.defects["subgroups_without_dots"] += 1
                depth, parent, source_kind = None, main, "inferred"
            else:
                depth = dots
                if len(stack) < dots:
                    col.defects["depth_jumps"] += 1
                parent = stack[min(dots, len(stack)) - 1]
                stack = stack[:dots] + [code]
        else:
            depth, parent = None, structural_parent(sym)  # type: ignore[arg-type]
        col.rows.append(
            make_row(sym, depth=depth, depth_source=source_kind, parent=parent,  # type: ignore[arg-type]
                     cleaned=cleaned, lang=lang, edition=edition, source=source_name)
        )
    return finish(col)


def read_cnipa_text(
    path: str | Path, *, text: str | None = None, edition: str | None = None,
    lang: str | None = None, source_name: str | None = None,
) -> ReadResult:
    """:func:`parse_cnipa_lines` on a text file (encoding detected)."""
    from coretech.io import read_text

    name = source_name or str(path)
    if text is None:
        text, _ = read_text(path)
    if not text.strip():
        raise InputError("the file is empty", file=name, row=1)
    res = parse_cnipa_lines(text.split("\n"), source_name=name, edition=edition, lang=lang)
    if res.table.empty and res.rejects.empty:
        raise InputError("no CNIPA entry line (symbol, dots, title) found", file=name, row=1)
    return res


FLAT_COLUMNS = ("code", "level", "main_group", "subclass_dir", "title_zh")
_LEVELS = {"section": "section", "class": "class", "subclass": "subclass",
           "maingroup": "main_group", "main_group": "main_group", "subgroup": "subgroup"}


_GROUP_RE2 = r"^(?P<sc>[A-H][0-9]{2}[A-Z])(?P<main>[1-9][0-9]{0,3})/(?P<sub>[0-9]{2,6})$"


def _group_symbols(codes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code, kind, parent) object arrays: :func:`canonical_symbol` of each code already in
    canonical group form (``H01L29/739``) by one pyarrow regex pass, None for every other code."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(codes)
    if not n:
        e = np.empty(0, dtype=object)
        return e, e.copy(), e.copy()
    try:
        arr = pa.array(codes, type=pa.string())
    except (pa.ArrowException, UnicodeEncodeError):  # e.g. a lone surrogate: all row by row
        e = np.full(n, None, dtype=object)
        return e, e.copy(), e.copy()
    parts = pc.extract_regex(arr, pattern=_GROUP_RE2)
    sc, main, sub = (pc.struct_field(parts, k) for k in ("sc", "main", "sub"))
    is_main = pc.equal(sub, "00")
    kind = pc.if_else(is_main, "main_group", "subgroup")
    parent = pc.if_else(is_main, sc, pc.binary_join_element_wise(sc, main, "/00", ""))
    code = pc.if_else(parts.is_valid(), arr, pa.scalar(None, pa.string()))
    return (np.array(code.to_pylist(), dtype=object), np.array(kind.to_pylist(), dtype=object),
            np.array(parent.to_pylist(), dtype=object))



def _flat_columns(
    df: pd.DataFrame, source: str
) -> tuple[Collector, int, list[str], list[str], list[str], list[str], list[str]]:
    """The flat table's columns as lists (code, title, level, main group, subclass folder;
    absent optional columns as empty strings) and a collector with the repeated-code count;
    a missing ``code`` or ``title_zh`` column is an error naming the file."""
    missing = [c for c in ("code", "title_zh") if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}",
            file=source, row=1,
        )
    col = Collector(source)
    n = len(df)
    codes = df["code"].astype(str).str.strip().tolist()
    titles = df["title_zh"].astype(str).tolist()
    levels = df["level"].astype(str).str.strip().tolist() if "level" in df.columns else [""] * n
    mains = df["main_group"].astype(str).str.strip().tolist() if "main_group" in df.columns else [""] * n
    dirs = df["subclass_dir"].astype(str).str.strip().tolist() if "subclass_dir" in df.columns else [""] * n
    counts = pd.Series([c for c in codes if c]).value_counts()
    col.defects["repeated_codes"] = int((counts > 1).sum())
    return col, n, codes, titles, levels, mains, dirs


def read_cnipa_flat(
    df: pd.DataFrame, *, source: str, edition: str | None = None, lang: str = "zh"
) -> ReadResult:
    """Read the flat Chinese table (``code, level, main_group, subclass_dir, title_zh``).

    Defect classes counted (a row may have several): ``missing_code``, ``invalid_symbols``,
    ``empty_or_numeric_titles``, ``repeated_codes`` (distinct codes listed more than once),
    ``repeated_code_rows_rejected`` (the later usable copies), ``level_disagrees_with_code``,
    ``main_group_column_disagrees``, ``subclass_dir_disagrees``, ``edition_stamps_removed``,
    ``cjk_line_break_spaces_removed``. Unusable rows go to ``rejects`` with the reason;
    among the usable copies of a repeated code the first is kept.

    Symbols already canonical and ordinary titles take a fast path (no full parse, no full
    cleaning); the result equals :func:`read_cnipa_flat_rows`, the plain per-row reading,
    row for row (tested on the real table).
    """
    col, n, codes, titles, levels, mains, dirs = _flat_columns(df, source)
    junk = pd.Series(titles, dtype=object).str.fullmatch(JUNK_TITLE.pattern).to_numpy(dtype=bool)

    # canonical group codes (nearly all) in one pyarrow regex pass; the rest row by row
    s_code, s_kind, s_parent = _group_symbols(codes)
    bad = np.flatnonzero((s_code == None) | junk).tolist()  # noqa: E711 - elementwise
    for i in bad:
        code = codes[i]
        reasons = []
        if not code:
            col.defects["missing_code"] += 1
            reasons.append("no code")
        else:
            try:
                s_code[i], s_kind[i], s_parent[i] = canonical_symbol(code)
            except IPCSymbolError as exc:
                col.defects["invalid_symbols"] += 1
                reasons.append(exc.message)
        if junk[i]:
            title = titles[i]
            col.defects["empty_or_numeric_titles"] += 1
            reasons.append("empty title" if not title.strip() else f"numeric title {title.strip()!r}")
        if reasons:
            line = data_row(i)
            raw = "\t".join([code, levels[i], mains[i], dirs[i], titles[i]])
            col.reject(line, raw, f"row {line}: " + "; ".join(reasons))
            s_code[i] = None  # not usable

    # repeated codes: the first usable copy is kept (also when its title then cleans empty)
    u_rows = np.flatnonzero(s_code != None)  # noqa: E711 - elementwise
    u_code_a, u_kind_a, u_parent_a = s_code[u_rows], s_kind[u_rows], s_parent[u_rows]
    u_code = u_code_a.tolist()
    dup = pd.Series(u_code, dtype=object).duplicated(keep="first").to_numpy()
    dup_codes = set(u_code_a[dup].tolist())
    first_line: dict[str, int] = {}
    for k in np.flatnonzero(~dup).tolist():
        if u_code[k] in dup_codes:
            first_line[u_code[k]] = data_row(int(u_rows[k]))
    keep = np.flatnonzero(~dup)
    k_rows = u_rows[keep]
    titles_a = np.array(titles, dtype=object)
    cleaned_titles, slow = clean_titles(titles_a[k_rows].tolist())
    # checks of the kept rows against the level, main_group and subclass_dir columns
    k_kind, k_parent, k_code = u_kind_a[keep], u_parent_a[keep], u_code_a[keep]
    k_lv = np.array(levels, dtype=object)[k_rows]
    k_main = np.array(mains, dtype=object)[k_rows]
    k_dir = np.array(dirs, dtype=object)[k_rows]
    lv_kind = np.array([_LEVELS.get(x) for x in k_lv.tolist()], dtype=object)
    col.defects["level_disagrees_with_code"] += int(((k_lv != "") & (lv_kind != k_kind)).sum())
    col.defects["main_group_column_disagrees"] += int(
        ((k_kind == "subgroup") & (k_main != "") & (k_main != k_parent)).sum())
    heads = np.array([c[:4] for c in k_code.tolist()], dtype=object)
    col.defects["subclass_dir_disagrees"] += int(
        ((k_dir != "") & (k_kind != "section") & (k_kind != "class") & (k_dir != heads)).sum())
    for c in slow.values():
        count_cleaning(col, c)
    late: list[tuple[int, str, str, str]] = []  # (row, raw, reason, defect), in row order
    for k in np.flatnonzero(dup).tolist():
        i, code = int(u_rows[k]), u_code[k]
        line = data_row(i)
        late.append((i, "\t".join([codes[i], levels[i], mains[i], dirs[i], titles[i]]),
                     f"row {line}: repeated code {code} (row {first_line[code]} kept)",
                     "repeated_code_rows_rejected"))
    empty = [j for j, t in enumerate(cleaned_titles) if not t]
    for j in empty:
        i = int(u_rows[keep[j]])
        late.append((i, titles[i], f"row {data_row(i)}: empty title once references are moved out",
                     "empty_titles"))
    for i, raw, reason, defect in sorted(late, key=lambda r: r[0]):
        col.reject(data_row(i), raw, reason, defect)
    ok = np.ones(len(keep), dtype=bool)
    ok[empty] = False
    stamps: list[str | None] = [None] * len(keep)
    refs: list[str | None] = [None] * len(keep)
    for j, c in slow.items():
        stamps[j], refs[j] = c.stamp, "; ".join(c.references) or None
    stamps_ok = np.array(stamps, dtype=object)[ok].tolist()
    out: dict[str, list] = {
        "code": k_code[ok].tolist(),
        "kind": k_kind[ok].tolist(),
        "depth": [0 if k == "main_group" else None for k in k_kind[ok].tolist()],
        "parent": k_parent[ok].tolist(),
        "title": np.array(cleaned_titles, dtype=object)[ok].tolist(),
        "references": np.array(refs, dtype=object)[ok].tolist(),
        "edition": [edition or s for s in stamps_ok],
        "entry_edition": stamps_ok,
    }
    m = len(out["code"])
    out.update(depth_source=["inferred"] * m, lang=[lang] * m, source=[source] * m)
    return finish(col, row_frame(out))


def read_cnipa_flat_rows(
    df: pd.DataFrame, *, source: str, edition: str | None = None, lang: str = "zh"
) -> ReadResult:
    """:func:`read_cnipa_flat` row by row with the full parser and cleaner: the reference its
    fast path is tested against."""
    col, n, codes, titles, levels, mains, dirs = _flat_columns(df, source)

    usable: list[tuple[int, object, str]] = []
    for i in range(n):
        line = data_row(i)
        code, title = codes[i], titles[i]
        raw = "\t".join([code, levels[i], mains[i], dirs[i], title])
        reasons = []
        sym = None
        if not code:
            col.defects["missing_code"] += 1
            reasons.append("no code")
        else:
            try:
                sym = parse(code)
            except IPCSymbolError as exc:
                col.defects["invalid_symbols"] += 1
                reasons.append(exc.message)
        if JUNK_TITLE.fullmatch(title):
            col.defects["empty_or_numeric_titles"] += 1
            reasons.append("empty title" if not title.strip() else f"numeric title {title.strip()!r}")
        if reasons:
            col.reject(line, raw, f"row {line}: " + "; ".join(reasons))
            continue
        usable.append((i, sym, title))

    seen: dict[str, int] = {}
    for i, sym, title in usable:
        line = data_row(i)
        code = str(sym)
        if code in seen:
            col.reject(line, "\t".join([codes[i], levels[i], mains[i], dirs[i], title]),
                       f"row {line}: repeated code {code} (row {seen[code]} kept)",
                       "repeated_code_rows_rejected")
            continue
        seen[code] = line
        kind = sym.kind  # type: ignore[attr-defined]
        lv = _LEVELS.get(levels[i])
        if levels[i] and lv != kind:
            col.defects["level_disagrees_with_code"] += 1
        parent = structural_parent(sym)  # type: ignore[arg-type]
        if kind == "subgroup" and mains[i] and mains[i] != parent:
            col.defects["main_group_column_disagrees"] += 1
        if dirs[i] and kind not in {"section", "class"} and dirs[i] != str(sym.truncate("subclass")):  # type: ignore[attr-defined]
            col.defects["subclass_dir_disagrees"] += 1
        cleaned = clean_title(title)
        count_cleaning(col, cleaned)
        if not cleaned.title:
            col.reject(line, title, f"row {line}: empty title once references are moved out",
                       "empty_titles")
            continue
        col.rows.append(
            make_row(sym, depth=0 if kind == "main_group" else None,  # type: ignore[arg-type]
                     depth_source="inferred", parent=parent, cleaned=cleaned, lang=lang,
                     edition=edition, source=source)
        )
    return finish(col)
