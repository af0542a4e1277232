"""The WIPO IPC scheme XML master file (``ipc_scheme_*.xml``), with its true dot levels.

Format (namespace ``http://www.wipo.int/classifications/ipc/masterfiles``)::

    <IPCScheme lang="EN" edition="20260101">
      <ipcEntry kind="s" symbol="H" entryType="K">
        <textBody><title><titlePart><text>ELECTRICITY</text></titlePart></title></textBody>
        <ipcEntry kind="c" symbol="H01"> ... <ipcEntry kind="u" symbol="H01L"> ...
          <ipcEntry kind="g" symbol="H01L0029000000" endSymbol="..."> heading </ipcEntry>
          <ipcEntry kind="m" symbol="H01L0029000000">
            <ipcEntry kind="1" symbol="H01L0029020000"> ...

``kind``: ``s`` section, ``c`` class, ``u`` subclass, ``m`` main group, ``1``-``9`` a subgroup
with that many dots; ``t`` (subsection title), ``g`` (guidance heading), ``i`` (index) and
``n`` (note) do not classify, but the reader walks into them (entries nested in them belong
to the nearest classifying ancestor). Titles: ``textBody/title/titlePart/text``; several
title parts are joined with ``; ``; ``entryReference`` (and ``sref``/``mref`` anywhere in a
title part) are cross-references: their symbols go to ``references`` and their text stays out
of ``title``. A guidance heading (``g``) is put in the ``heading`` column of the main groups
from its ``symbol`` to its ``endSymbol`` (and before their title in ``path_title``).

The file is streamed with :func:`xml.etree.ElementTree.iterparse` and each entry is freed
once read, so the full ~100 MB master file is read in bounded memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

from coretech.errors import InputError
from coretech.ipc.readers.common import count_cleaning, finish, make_row
from coretech.ipc.readers.result import Collector, ReadResult, fast_symbol
from coretech.ipc.readers.text import clean_title, edition_of
from coretech.ipc.symbols import IPCSymbolError, sort_key

NS = "http://www.wipo.int/classifications/ipc/masterfiles"
_Q = f"{{{NS}}}"
CLASSIFYING = {"s", "c", "u", "m", *"123456789"}
NON_CLASSIFYING = {"t", "g", "i", "n"}
_KIND_OF = {"s": "section", "c": "class", "u": "subclass", "m": "main_group"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _open_source(source: Any, source_name: str | None) -> tuple[IO[bytes], str, list[Any]]:
    """A binary stream of the XML (a .zip's first .xml member), its name, handles to close."""
    closers: list[Any] = []
    if isinstance(source, (bytes, bytearray)):
        name = source_name or "<bytes>"
        raw: IO[bytes] = io.BytesIO(bytes(source))
    elif isinstance(source, (str, Path)):
        path = Path(source)
        name = source_name or str(path)
        if not path.exists():
            raise InputError("file not found", file=name)
        if path.stat().st_size == 0:
            raise InputError("the file is empty", file=name, row=1)
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
        closers.append(raw)
    elif hasattr(source, "read"):
        name = source_name or getattr(source, "name", "<stream>")
        raw = source
    else:
        raise InputError(f"cannot read XML from a {type(source).__name__}", file=source_name)
    head = raw.read(4)
    raw.seek(0)
    if head[:2] == b"PK":
        zf = zipfile.ZipFile(raw)
        closers.append(zf)
        members = [m for m in zf.namelist() if m.lower().endswith(".xml")]
        if not members:
            raise InputError(
                f"the zip archive holds no .xml file (found {', '.join(zf.namelist()) or 'nothing'})",
                file=name,
            )
        member = zf.open(sorted(members)[0])
        closers.append(member)
        return member, f"{name}!{sorted(members)[0]}", closers
    if not head:
        raise InputError("the file is empty", file=name, row=1)
    return raw, name, closers


def _render(elem: ET.Element, refs: list[str]) -> str:
    """Text of a ``text`` element; sref/mref inside it become canonical symbols."""
    parts = [elem.text or ""]
    for child in elem:
        tag = _local(child.tag)
        if tag in {"sref", "mref"}:
            sym = _ref_symbol(child)
            if sym:
                refs.append(sym)
                parts.append(sym)
        else:
            parts.append(_render(child, refs))
        parts.append(child.tail or "")
    return "".join(parts)


def _ref_symbol(elem: ET.Element) -> str | None:
    a = elem.get("ref")
    if not a:
        return None
    try:
        ca = fast_symbol(a)[0]
        b = elem.get("endRef")
        return f"{ca}-{fast_symbol(b)[0]}" if b else ca
    except IPCSymbolError:
        return None


def _title_of(title: ET.Element) -> tuple[str, list[str]]:
    """(title text, references) of a ``title`` element."""
    refs: list[str] = []
    parts: list[str] = []
    for tp in title:
        if _local(tp.tag) != "titlePart":
            continue
        texts = []
        for child in tp:
            tag = _local(child.tag)
            if tag == "text":
                texts.append(_render(child, refs))
            else:  # entryReference, sref, mref ...: references, out of the title
                for r in child.iter():
                    if _local(r.tag) in {"sref", "mref"}:
                        sym = _ref_symbol(r)
                        if sym:
                            refs.append(sym)
        t = " ".join(" ".join(texts).split())
        if t:
            parts.append(t)
    return "; ".join(parts), refs


def read_wipo_xml(
    source: Any,
    *,
    source_name: str | None = None,
    lang: str | None = None,
    edition: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReadResult:
    """Read a WIPO IPC scheme XML master file (path, bytes, binary file object, or a .zip).

    Returns a :class:`ReadResult` whose table has the source's dot levels
    (``depth_source='scheme'``), parents from the XML nesting and ``path_title`` built from
    them. ``lang`` defaults to the root's ``lang`` attribute, ``edition`` to its ``edition``.
    ``progress`` is called with the number of entries read, every 10,000 entries.
    """
    stream, name, closers = _open_source(source, source_name)
    col = Collector(name)
    try:
        _walk(stream, col, lang=lang, edition=edition, progress=progress)
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputError(f"not well-formed XML: {exc}", file=name, row=line) from None
    except zipfile.BadZipFile as exc:
        raise InputError(f"not a readable zip archive: {exc}", file=name) from None
    finally:
        for c in reversed(closers):
            c.close()
    if not col.rows and not col.rejects:
        raise InputError(
            f"no ipcEntry element of namespace {NS} found: not an IPC scheme master file",
            file=name,
        )
    return finish(col)


_ENTRY = {f"{_Q}ipcEntry", "ipcEntry"}
_TITLE = {f"{_Q}title", "title"}
_BODY = {f"{_Q}textBody", "textBody"}


def _walk(
    stream: IO[bytes], col: Collector, *, lang: str | None, edition: str | None,
    progress: Callable[[int], None] | None = None,
) -> None:
    tags: list[str] = []  # open elements (full tags)
    # stack of open ipcEntry: dict(kind, symbol, code, ckind, title, refs, parent ...)
    entries: list[dict[str, Any]] = []
    headings: list[tuple[tuple, tuple, str]] = []  # (start key, end key, text) in this subclass
    root_seen = False
    order: list[Any] = []  # document (pre-)order of entries; rows are emitted at their end
    for event, elem in ET.iterparse(stream, events=("start", "end")):
        tag = elem.tag
        if event == "start":
            if not root_seen:
                root_seen = True
                if lang is None:
                    lang = (elem.get("lang") or "en").lower()[:2]
                    if lang not in ("en", "zh"):
                        raise InputError(
                            f"the scheme is in language {elem.get('lang')!r}; the scheme table "
                            "holds en or zh (give lang= / --lang to override)", file=col.source,
                        )
                if edition is None and elem.get("edition"):
                    edition = edition_of(elem.get("edition", "")) or elem.get("edition")
            tags.append(tag)
            if tag not in _ENTRY:
                continue
            kind = elem.get("kind", "")
            symbol = elem.get("symbol", "")
            e: dict[str, Any] = {"kind": kind, "symbol": symbol, "title": None, "refs": [],
                                 "code": None, "edition": elem.get("edition"),
                                 "end_symbol": elem.get("endSymbol"), "order": len(order)}
            order.append(None)
            if kind in CLASSIFYING:
                try:
                    e["code"], e["ckind"], _ = fast_symbol(symbol)
                except IPCSymbolError as exc:
                    col.reject(None, f'<ipcEntry kind="{kind}" symbol="{symbol}">',
                               f"entry {symbol!r}: {exc.message}", "invalid_symbols")
                if e["code"] is not None and e["ckind"] == "subclass":
                    headings = []
            elif kind not in NON_CLASSIFYING:
                col.defects["unknown_kinds"] += 1
            if e["code"] is not None:
                parent = next((x for x in reversed(entries) if x["code"] is not None), None)
                e["parent"] = parent["code"] if parent else None
                if kind == "m" and headings:
                    key = sort_key(e["code"])
                    e["heading"] = next(
                        (h for s, end, h in reversed(headings) if s <= key <= end), None
                    )
            entries.append(e)
            if progress is not None and len(order) % 10_000 == 0:
                progress(len(order))
            continue
        # end events
        tags.pop()
        if tag in _TITLE and len(tags) >= 2 and tags[-1] in _BODY and tags[-2] in _ENTRY:
            cur = entries[-1]
            if cur["title"] is None:
                cur["title"], cur["refs"] = _title_of(elem)
                if cur["kind"] == "g":
                    _add_heading(headings, cur, elem)
        elif tag in _ENTRY:
            cur = entries.pop()
            if cur["code"] is not None:
                _emit(col, cur, lang=lang or "en", edition=edition)
                order[cur["order"]] = col.rows.pop()
            elem.clear()
    col.rows = [r for r in order if r is not None]


def _add_heading(headings: list, cur: dict[str, Any], elem: ET.Element) -> None:
    text = clean_title(cur["title"]).title
    if not text:
        return
    try:
        start = sort_key(cur["symbol"])
        end = sort_key(cur.get("end_symbol") or cur["symbol"])
    except IPCSymbolError:
        return
    headings.append((start, end, text))


def _emit(col: Collector, cur: dict[str, Any], *, lang: str, edition: str | None) -> None:
    kind = cur["kind"]
    expected = _KIND_OF.get(kind, "subgroup")
    if cur["ckind"] != expected:
        col.defects["kind_disagrees_with_symbol"] += 1
    cleaned = clean_title(cur["title"] or "")
    count_cleaning(col, cleaned)
    if cur["refs"]:
        cleaned.references = list(dict.fromkeys([*cur["refs"], *cleaned.references]))
    if not cleaned.title:
        col.defects["empty_titles"] += 1
    if cur.get("edition") and not cleaned.stamp:
        cleaned.stamp = edition_of(cur["edition"]) or cur["edition"]
    depth = 0 if kind == "m" else (int(kind) if kind.isdigit() else None)
    col.rows.append(
        make_row(
            (cur["code"], cur["ckind"]),
            depth=depth,
            depth_source="scheme",
            parent=cur.get("parent"),
            cleaned=cleaned,
            lang=lang,
            edition=edition,
            source=col.source,
            heading=cur.get("heading"),
        )
    )
