"""WIPO master files: the scheme XML zip, and on request the catchword index and concordance.

URLs: ``<base>/<YYYYMMDD>/<file>`` with ``<file>`` by default

* ``MasterFiles/ipc_scheme_<YYYYMMDD>.zip`` (``EN_ipc_scheme_<YYYYMMDD>.xml`` inside),
* ``MasterFiles/ipc_catchwordindex_<YYYYMMDD>.zip`` (``--catchwords``),
* ``MasterFiles/ipc_concordancelist_<YYYYMMDD>.zip`` (``--concordance``; the list of changes
  from the previous edition, ``ipc_concordancelist_<YYYYMMDD>.xml`` inside).

The scheme XML is parsed by the spine's reader :func:`coretech.ipc.readers.read_wipo_xml`;
the other two files are validated (zip CRCs) and kept beside the output.
"""

from __future__ import annotations

import io
import re
from typing import Any

from coretech.crawler.items import EntryBatch, PageDone, Problem, SchemeEntry
from coretech.crawler.spiders.base import CoretechSpider, plain
from coretech.errors import InputError

#: WIPO's download area for recent editions, and the older one (still serving old editions).
WIPO_BASE_URL = "https://www.wipo.int/classifications/data/ipc/ITSupport_and_download_area"
WIPO_OLD_BASE_URL = "https://www.wipo.int/ipc/itos4ipc/ITSupport_and_download_area"

#: Entries per item (see :class:`coretech.crawler.items.EntryBatch`).
BATCH = 500
ENTRY_FIELDS = (
    "code", "kind", "depth", "depth_source", "parent", "title", "path_title",
    "references", "lang", "edition", "source",
)


def edition_date(edition: str) -> str:
    """``2026.01`` (or ``20260101``) -> ``20260101``; an InputError otherwise."""
    e = str(edition).strip()
    if m := re.fullmatch(r"(\d{4})\.(\d{2})", e):
        y, mth = m.groups()
    elif m := re.fullmatch(r"(\d{4})(\d{2})01", e):
        y, mth = m.groups()
    else:
        raise InputError(
            f"--edition must read like 2026.01 (year.month of the IPC edition), got {edition!r}"
        )
    if not 1 <= int(mth) <= 12:
        raise InputError(f"--edition month must be 01-12, got {edition!r}")
    return f"{y}{mth}01"


def entry_from_row(row: dict[str, Any], *, page: str, seq: int, **more: Any) -> SchemeEntry:
    core = {k: plain(row.get(k)) for k in ENTRY_FIELDS}
    if core["depth"] is not None:
        core["depth"] = int(core["depth"])
    extra = {k: plain(v) for k, v in row.items() if k not in ENTRY_FIELDS}
    return SchemeEntry(**core, page=page, seq=seq, extra=extra, **more)


def result_items(res: Any, *, page: str, lines: list[str] | None = None, section: str = ""):  # noqa: ANN201
    """Items of a reader's ReadResult: one SchemeEntry per row, a Problem per rejected row."""
    table = getattr(res, "table", res)
    where = line_index(lines) if lines is not None else {}
    batch: list[SchemeEntry] = []
    for i, row in enumerate(table.to_dict("records")):
        _, line = where.get(str(row.get("code")), (None, ""))
        batch.append(entry_from_row(row, page=page, seq=i, line=line, expected_section=section))
        if len(batch) >= BATCH:
            yield EntryBatch(page=page, entries=batch)
            batch = []
    if batch:
        yield EntryBatch(page=page, entries=batch)
    rejects = getattr(res, "rejects", None)
    if rejects is not None:
        for rej in rejects.to_dict("records"):
            line_no = plain(rej.get("line"))
            yield Problem(
                url=page, kind="validation", message=str(rej.get("reason")),
                line_no=None if line_no is None else int(line_no),
                line=str(plain(rej.get("raw")) or ""),
            )


def line_index(lines: list[str]) -> dict[str, tuple[int, str]]:
    """Code -> (1-based line number, line) for lines that start with a symbol."""
    from coretech.ipc.symbols import try_normalize

    out: dict[str, tuple[int, str]] = {}
    for i, ln in enumerate(lines, start=1):
        parts = ln.split()
        code = try_normalize(parts[0]) if parts else None
        if code is not None and code not in out:
            out[code] = (i, ln)
    return out


class WipoSpider(CoretechSpider):
    name = "wipo"

    def file_urls(self) -> list[tuple[str, str]]:
        """(role, URL) of every file this crawl fetches."""
        date = edition_date(self.opts["edition"])
        base = (self.opts.get("base_url") or WIPO_BASE_URL).rstrip("/")
        files = [("scheme", self.opts["scheme_file"])]
        if self.opts.get("catchwords"):
            files.append(("catchwords", self.opts["catchword_file"]))
        if self.opts.get("concordance"):
            files.append(("concordance", self.opts["concordance_file"]))
        return [(role, f"{base}/{date}/{tpl.format(date=date)}") for role, tpl in files]

    async def start(self):  # noqa: ANN201 - async generator of requests
        for role, url in self.file_urls():
            expect = "zip" if url.lower().endswith(".zip") else "xml"
            req = self.page_request(url, self.parse_file, expect=expect, role=role)
            if req is not None:
                yield req

    def parse_file(self, response: Any):  # noqa: ANN201 - generator of items
        url = response.meta["page_url"]
        role = response.meta["role"]
        yield self.downloaded(response, role)
        n = 0
        if role == "scheme":
            from coretech.ipc.readers import read_wipo_xml

            try:
                res = read_wipo_xml(io.BytesIO(response.body), source_name=url)
            except InputError as exc:
                yield Problem(url=url, kind="unreadable", message=str(exc))
                return
            for item in result_items(res, page=url):
                n += len(item.entries) if isinstance(item, EntryBatch) else 0
                yield item
        yield PageDone(url=url, n_items=n)
