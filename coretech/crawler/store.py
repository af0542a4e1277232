"""Append-only item store inside the job folder: what survives a killed crawl.

Each item is one JSON line in ``<job>/items.jsonl``, flushed to the operating system as soon
as it is written (so a killed process loses nothing it has yielded) and fsync'ed at each
page-done marker and on close (so a machine crash loses at most the page in progress). A
torn last line (the process died mid-write) is ignored and counted. The final table is
assembled from the store: entries deduplicated by (code, lang), keeping the first, and
sorted in scheme order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from coretech.crawler.items import (
    ENTRY_COLUMNS,
    DownloadedFile,
    PageDone,
    Problem,
    SchemeEntry,
    from_record,
    to_record,
)

STORE_NAME = "items.jsonl"


class ItemStore:
    """Append items to ``<folder>/items.jsonl``; read them back."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / STORE_NAME
        self._fh: IO[str] | None = None

    # ------------------------------------------------------------------ writing
    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._repair_tail()
        self._fh = open(self.path, "a", encoding="utf-8")

    def _repair_tail(self) -> None:
        """Cut a torn last line (no newline) left by a killed writer."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as fh:
                fh.truncate(cut)

    def append(self, item: Any, *, sync: bool = False) -> None:
        if self._fh is None:
            self.open()
        assert self._fh is not None
        self._fh.write(json.dumps(to_record(item), ensure_ascii=False, sort_keys=True) + "\n")
        self._fh.flush()
        if sync or isinstance(item, PageDone):
            os.fsync(self._fh.fileno())

    def extend(self, items: list[Any]) -> None:
        """Append several items with one write (and one flush)."""
        if not items:
            return
        if self._fh is None:
            self.open()
        assert self._fh is not None
        self._fh.write("".join(
            json.dumps(to_record(it), ensure_ascii=False, sort_keys=True) + "\n" for it in items
        ))
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    # ------------------------------------------------------------------ reading
    def records(self) -> tuple[list[Any], int]:
        """All stored items and the number of unreadable (torn) lines skipped."""
        if not self.path.exists():
            return [], 0
        items, bad = [], 0
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    bad += 1
                    continue
                try:
                    items.append(from_record(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    bad += 1
        return items, bad

    def done_urls(self) -> set[str]:
        return {it.url for it in self.records()[0] if isinstance(it, PageDone)}


@dataclass
class Assembled:
    """What the store holds once deduplicated."""

    entries: list[SchemeEntry]
    files: list[DownloadedFile]
    done: dict[str, PageDone]
    problems: list[Problem]
    duplicates: int
    torn_lines: int
    extra: dict[str, Any] = field(default_factory=dict)


def assemble(items: Iterable[Any], torn_lines: int = 0) -> Assembled:
    """Deduplicate stored items: entries of finished pages by (code, lang), files by URL."""
    items = list(items)
    done = {it.url: it for it in items if isinstance(it, PageDone)}
    seen: set[tuple[str, str]] = set()
    entries: list[SchemeEntry] = []
    dup = 0
    for it in items:
        if isinstance(it, SchemeEntry) and it.page in done:
            if it.key in seen:
                dup += 1
                continue
            seen.add(it.key)
            entries.append(it)
    files: dict[str, DownloadedFile] = {}
    for it in items:
        if isinstance(it, DownloadedFile) and it.url in done:
            files.setdefault(it.url, it)
    problems: dict[tuple[Any, ...], Problem] = {}
    for it in items:
        if isinstance(it, Problem):
            key = (it.url, it.kind, it.message, it.line_no)
            # a download failure that a later attempt (resume) overcame is not a problem
            if it.kind == "failed" and it.url in done:
                continue
            problems.setdefault(key, it)
    return Assembled(
        entries=entries,
        files=sorted(files.values(), key=lambda f: f.url),
        done=done,
        problems=sorted(
            problems.values(), key=lambda p: (p.url, p.line_no or 0, p.kind, p.message)
        ),
        duplicates=dup,
        torn_lines=torn_lines,
    )


def entries_frame(entries: list[SchemeEntry]):  # -> pd.DataFrame
    """The scheme table of ``entries``: SCHEME_COLUMNS (then extras), in scheme order."""
    import pandas as pd

    from coretech.ipc.scheme import EXTRA_COLUMNS, coerce_scheme, scheme_order, with_paths

    rows = [e.row() for e in entries]
    df = pd.DataFrame(rows) if rows else pd.DataFrame({c: [] for c in ENTRY_COLUMNS})
    extras = [c for c in df.columns if c not in ENTRY_COLUMNS]
    extras.sort(key=lambda c: (EXTRA_COLUMNS.index(c) if c in EXTRA_COLUMNS else 99, c))
    df = coerce_scheme(df[list(ENTRY_COLUMNS) + extras])
    if len({e.page for e in entries}) > 1:
        # as when `coretech ipc load` merges several files: paths rebuilt on the whole table
        df = with_paths(df)
    return scheme_order(df)
