"""Item pipelines: validate entries, keep downloaded files, store everything incrementally.

Validation rules (each failure becomes a :class:`Problem` that the summary lists and that
makes the crawl exit non-zero):

* the code parses as an IPC symbol and its kind matches the row's kind;
* the code belongs to the section its page says it holds (CNIPA: ``...-A部.pdf`` holds
  section A only); such an entry is dropped (it would be misfiled);
* depths are consistent: a main group has depth 0 and a subgroup's depth is at least 1 and
  at most one more than the previous entry's within the same main group (the entry is kept,
  its problem reported).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coretech.crawler.items import DownloadedFile, EntryBatch, PageDone, Problem, SchemeEntry
from coretech.crawler.store import ItemStore


def _where(e: SchemeEntry) -> str:
    return f"entry {e.seq + 1} ({e.line.strip()!r})" if e.line else f"entry {e.seq + 1}"


class ValidationPipeline:
    """Check each :class:`SchemeEntry`; return a :class:`Problem` in place of a bad one."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        # per page: (current main group, depth of the previous entry in it)
        self.state: dict[str, tuple[str | None, int | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidationPipeline:
        return cls(crawler)

    def _problem(self, e: SchemeEntry, message: str) -> Problem:
        self.crawler.stats.inc_value("coretech/validation_problems")
        return Problem(
            url=e.page, kind="validation", message=f"{_where(e)}: {message}",
            line_no=e.seq + 1, line=e.line,
        )

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, EntryBatch):
            return item
        kept: list[SchemeEntry] = []
        for e in item.entries:
            problem, keep = self.check(e)
            if problem is not None:
                item.problems.append(problem)
            if keep:
                kept.append(e)
        item.entries = kept
        return item

    def check(self, e: SchemeEntry) -> tuple[Problem | None, bool]:
        """(problem or None, whether the entry stays in the table)."""
        from coretech.ipc.symbols import IPCSymbolError, parse

        if e.seq == 0:
            self.state[e.page] = (None, None)
        try:
            sym = parse(e.code)
        except IPCSymbolError as exc:
            return self._problem(e, f"the code does not parse ({exc.reason})"), False
        if str(sym) != e.code:
            return self._problem(e, f"the code {e.code!r} is not canonical ({sym})"), False
        if sym.kind != e.kind:
            return self._problem(e, f"{e.code} is a {sym.kind}, the row says {e.kind}"), False
        if e.expected_section and sym.section != e.expected_section:
            return self._problem(
                e, f"{e.code} is outside section {e.expected_section}, which this file holds"
            ), False
        main, prev = self.state.get(e.page, (None, None))
        if sym.kind == "main_group":
            self.state[e.page] = (e.code, 0)
            if e.depth not in (None, 0):
                return self._problem(e, f"main group {e.code} has depth {e.depth}"), True
        elif sym.kind == "subgroup" and e.depth is not None:
            own_main = str(sym.truncate("main_group"))
            if main != own_main:  # a subgroup whose main group line is missing
                prev = 0
            self.state[e.page] = (own_main, e.depth)
            if e.depth < 1:
                return self._problem(
                    e, f"subgroup {e.code} has depth {e.depth} (expected at least 1)"
                ), True
            if prev is not None and e.depth > prev + 1:
                return self._problem(
                    e,
                    f"subgroup {e.code} has depth {e.depth} after an entry of depth {prev} "
                    f"in {own_main} (a depth can grow by one at most)",
                ), True
        return None, True


class FilePipeline:
    """Write each :class:`DownloadedFile` body into ``<job>/files/`` (atomically)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.folder = Path(crawler.settings["CORETECH_JOB_DIR"]) / "files"

    @classmethod
    def from_crawler(cls, crawler: Any) -> FilePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, DownloadedFile) and item.body:
            from coretech.io import atomic_write_bytes

            atomic_write_bytes(self.folder / item.filename, item.body)
            item.body = b""
        return item


class StorePipeline:
    """Append every item to the job's :class:`ItemStore` (the source of the final table)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        spider = self.crawler.spider
        store: ItemStore = spider.store
        if isinstance(item, EntryBatch):
            store.extend([*item.entries, *item.problems])
            self.crawler.stats.inc_value("coretech/entries", len(item.entries))
            for p in item.problems:
                self.crawler.stats.inc_value(f"coretech/problems/{p.kind}")
            return item
        store.append(item)
        if isinstance(item, PageDone):
            spider.done_urls.add(item.url)
            self.crawler.stats.inc_value("coretech/pages_done")
        elif isinstance(item, Problem):
            self.crawler.stats.inc_value(f"coretech/problems/{item.kind}")
        return item

    def close_spider(self) -> None:
        store = getattr(self.crawler.spider, "store", None)
        if store is not None:
            store.close()
