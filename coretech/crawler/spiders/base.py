"""What both spiders share: the job's item store, resume, and turning failures into items."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import scrapy
from scrapy.http import Request

from coretech.crawler.items import DownloadedFile, Problem
from coretech.crawler.middlewares import AlreadyStored, CorruptBody
from coretech.crawler.store import ItemStore


def plain(v: Any) -> Any:
    """A JSON-ready Python value of a pandas cell (NA/NaN -> None, numpy -> Python)."""
    if v is None:
        return None
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def file_name(url: str, fallback: str = "download") -> str:
    """A safe local file name for ``url``: ``showname``/``filename`` query value or the path's."""
    parsed = urlparse(url)
    q = parse_qs(parsed.query)
    for key in ("showname", "filename", "name"):
        if q.get(key):
            name = q[key][0]
            break
    else:
        name = PurePosixPath(unquote(parsed.path)).name or fallback
    name = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", unquote(name)).strip(" .")
    return name or fallback


def describe_failure(failure: Any) -> str:
    """One line saying why a request failed for good."""
    from scrapy.spidermiddlewares.httperror import HttpError

    exc = failure.value
    request = getattr(failure, "request", None)
    retries = request.meta.get("retry_times", 0) if request is not None else 0
    after = f" (after {retries} retries)" if retries else ""
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}{after}"
    if isinstance(exc, CorruptBody):
        return str(exc)
    msg = str(exc)
    if "robots.txt" in msg:
        return "forbidden by robots.txt (not fetched)"
    name = type(exc).__name__
    if "Timeout" in name or "TimeoutError" in name:
        timeout = request.meta.get("download_timeout") if request is not None else None
        return f"timed out{f' after {timeout:g}s' if timeout else ''}{after}"
    if "DataLoss" in name:
        return f"truncated body (connection closed early){after}"
    return f"{name}: {msg}{after}" if msg else f"{name}{after}"


class CoretechSpider(scrapy.Spider):
    """Base spider: opens the job's store, knows which pages are done, reports failures."""

    name = "coretech"

    def __init__(self, *args: Any, opts: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opts: dict[str, Any] = dict(opts or {})
        self.store = ItemStore(self.opts["job_dir"])
        self.done_urls: set[str] = self.store.done_urls()
        self.store.open()
        self.expected_pages: list[str] = []
        self.skipped_done: list[str] = []

    def page_request(
        self, url: str, callback: Any, *, expect: str, **meta: Any
    ) -> Request | None:
        """A request for a page that yields items (None when the page is stored already)."""
        if url not in self.expected_pages:
            self.expected_pages.append(url)
        if url in self.done_urls:
            self.skipped_done.append(url)
            return None
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=True,
            meta={"page": True, "page_url": url, "expect": expect, **meta},
        )

    def on_error(self, failure: Any):  # noqa: ANN201 - generator of items
        if failure.check(AlreadyStored):
            return
        request = failure.request
        url = request.meta.get("page_url", request.url)
        yield Problem(url=url, kind="failed", message=describe_failure(failure))

    @staticmethod
    def downloaded(response: Any, role: str, name: str | None = None) -> DownloadedFile:
        url = response.meta.get("page_url", response.url)
        body = response.body
        return DownloadedFile(
            url=url,
            role=role,
            filename=name or file_name(url),
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            body=body,
        )

    def closed(self, reason: str) -> None:
        self.store.close()


def job_path(opts: dict[str, Any], *parts: str) -> Path:
    return Path(opts["job_dir"], *parts)
