"""Downloader middlewares and the progress extension of a coretech crawl.

* :class:`BodyCheckMiddleware` checks a body against its Content-Length and its format (a zip
  whose members pass their CRC, a PDF with its ``%%EOF`` trailer, well-formed XML). A bad body
  is retried like a 503; it sits nearer the downloader than the HTTP cache, so a corrupt body
  is never cached. When the retries are used up the request fails with :class:`CorruptBody`.
* :class:`ResumeSkipMiddleware` drops a request whose page is already stored (resume).
* :class:`Progress` writes one line per finished page to stderr.
"""

from __future__ import annotations

import io
import sys
import time
import zipfile
from typing import Any
from xml.parsers import expat

from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest


class CorruptBody(IgnoreRequest):
    """A body that stayed truncated or corrupt after every retry."""


class AlreadyStored(IgnoreRequest):
    """The page's items are in the store already (a resumed crawl)."""


def check_body(body: bytes, expect: str | None) -> str | None:
    """Why ``body`` is not a valid ``expect`` (zip/pdf/xml), or None when it is."""
    if not expect or expect == "html":
        return None
    if not body:
        return "empty body"
    if expect == "zip" or (expect == "xml" and body[:2] == b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as zf:
                bad = zf.testzip()
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            return f"corrupt zip ({exc})"
        return f"corrupt zip member {bad}" if bad else None
    if expect == "pdf":
        if not body.startswith(b"%PDF-"):
            return "not a PDF (no %PDF- header)"
        if b"%%EOF" not in body[-2048:]:
            return "truncated PDF (no %%EOF trailer)"
        return None
    if expect == "xml":
        parser = expat.ParserCreate()
        try:
            parser.Parse(body, True)
        except expat.ExpatError as exc:
            return f"malformed XML ({exc})"
        return None
    return None


class BodyCheckMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> BodyCheckMiddleware:
        return cls(crawler)

    def process_response(self, request: Any, response: Any) -> Any:
        if response.status != 200 or request.meta.get("dont_check_body"):
            return response
        why = None
        declared = response.headers.get(b"Content-Length")
        encoded = response.headers.get(b"Content-Encoding")
        if declared is not None and not encoded:
            try:
                n = int(declared)
            except ValueError:
                n = None
            if n is not None and n != len(response.body):
                why = f"truncated body ({len(response.body)} of {n} bytes)"
        if why is None:
            why = check_body(response.body, request.meta.get("expect"))
        if why is None:
            return response
        self.crawler.stats.inc_value("coretech/corrupt_body")
        retry = get_retry_request(request, spider=self.crawler.spider, reason=why)
        if retry is not None:
            return retry
        raise CorruptBody(f"{why}, still after {request.meta.get('retry_times', 0)} retries")


class ResumeSkipMiddleware:
    """Drop a page request whose page is stored, or that this run has requested already.

    A resumed job can hold the same page twice: once in Scrapy's persisted queue (JOBDIR),
    once from the index parsed again. Retries (``retry_times`` in meta) always pass.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResumeSkipMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        if not request.meta.get("page"):
            return None
        spider = self.crawler.spider
        page = request.meta.get("page_url", request.url)
        if page in getattr(spider, "done_urls", ()):
            self.crawler.stats.inc_value("coretech/skipped_stored")
            raise AlreadyStored(f"already stored: {page}")
        if page in self.requested and not request.meta.get("retry_times"):
            self.crawler.stats.inc_value("coretech/skipped_duplicate")
            raise AlreadyStored(f"already requested: {page}")
        self.requested.add(page)
        return None


class Progress:
    """Progress on stderr: one line per finished page, and the running counts."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.t0 = time.monotonic()
        self.entries = 0
        self.pages = 0
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        return cls(crawler)

    def item_scraped(self, item: Any, **_: Any) -> None:
        from coretech.crawler.items import EntryBatch, PageDone

        if isinstance(item, EntryBatch):
            self.entries += len(item.entries)
        elif isinstance(item, PageDone):
            if item.links:  # an index page
                print(f"[coretech fetch] index {item.url}: {len(item.links)} files to fetch",
                      file=sys.stderr, flush=True)
                return
            self.pages += 1
            st = self.crawler.stats
            expected = len(getattr(self.crawler.spider, "expected_pages", ()) or ())
            expected -= len(getattr(self.crawler.spider, "skipped_done", ()) or ())
            print(
                f"[coretech fetch] {self.pages}/{expected or '?'} files fetched "
                f"({item.n_items} entries from {item.url}); entries {self.entries}, "
                f"requests {st.get_value('downloader/request_count', 0)}, "
                f"retries {st.get_value('retry/count', 0)}, "
                f"{time.monotonic() - self.t0:.1f}s",
                file=sys.stderr,
                flush=True,
            )
