"""Typed items the spiders yield; pipelines validate and store them.

* :class:`SchemeEntry` -- one row of the IPC scheme table (INTERFACES.md columns) plus where
  it came from (``page`` URL, ``seq`` position on that page, ``line`` text for CNIPA) and
  what the page says it holds (``expected_section``).
* :class:`EntryBatch` -- consecutive entries of one page (the unit the spiders yield).
* :class:`DownloadedFile` -- a file the crawl keeps (WIPO zips, CNIPA PDFs) with its hash.
* :class:`PageDone` -- marker: every item of ``url`` has been yielded (resume skips the page).
* :class:`Problem` -- something wrong with a page (validation failure, unreadable body).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from coretech.ipc.scheme import SCHEME_COLUMNS

#: Columns of the scheme table, in order (the spine's ``SCHEME_COLUMNS``).
ENTRY_COLUMNS: tuple[str, ...] = tuple(SCHEME_COLUMNS)


@dataclass
class SchemeEntry:
    """One scheme-table row as crawled. ``depth`` is None above main-group level."""

    code: str
    kind: str
    depth: int | None
    depth_source: str | None
    parent: str | None
    title: str | None
    path_title: str | None
    references: str | None
    lang: str | None
    edition: str | None
    source: str | None
    page: str = ""
    seq: int = 0
    line: str = ""
    expected_section: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The scheme-table row (SCHEME_COLUMNS, then the reader's extra columns)."""
        out = {c: getattr(self, c) for c in ENTRY_COLUMNS}
        out.update(self.extra)
        return out

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, self.lang)


@dataclass
class EntryBatch:
    """Consecutive entries of one page, in page order (one item instead of hundreds: Scrapy's
    per-item cost is about a millisecond). ``problems`` is filled by the validation pipeline."""

    page: str
    entries: list[SchemeEntry]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class DownloadedFile:
    """A downloaded file to keep beside the output. ``body`` is dropped once stored."""

    url: str
    role: str  # "scheme", "catchwords", "concordance", "cnipa_pdf"
    filename: str
    sha256: str
    size: int
    body: bytes = field(default=b"", repr=False)


@dataclass
class PageDone:
    """All items of ``url`` were yielded; ``n_items`` entries, ``n_lines`` text lines read."""

    url: str
    n_items: int
    n_lines: int = 0
    pdf_pages: int = 0
    links: list[str] = field(default_factory=list)  # an index page: the pages it lists


@dataclass
class Problem:
    """A problem with a page: ``kind`` is ``validation``, ``unreadable``, ``failed`` ..."""

    url: str
    kind: str
    message: str
    line_no: int | None = None
    line: str = ""


def to_record(item: Any) -> dict[str, Any]:
    """A JSON-ready record of an item (``t`` names its type; file bodies left out)."""
    rec = {f.name: getattr(item, f.name) for f in fields(item) if f.name != "body"}
    rec["t"] = type(item).__name__
    return rec


ITEM_TYPES = {c.__name__: c for c in (SchemeEntry, DownloadedFile, PageDone, Problem)}


def from_record(rec: dict[str, Any]) -> Any:
    rec = dict(rec)
    cls = ITEM_TYPES[rec.pop("t")]
    return cls(**rec)
