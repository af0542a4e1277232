"""CNIPA Chinese titles: follow an index page's links to the per-section PDFs and read them.

CNIPA publishes each edition as one PDF per section, ``2026.01版IPC分类表-A部.pdf``, linked
from a notice page (for 2026.01: ``https://www.cnipa.gov.cn/art/2025/12/31/art_3161_203422.html``;
the links point at ``.../downfile.jsp?...&showname=2026.01版IPC分类表-A部.pdf``). The section
and edition come from the link text, the ``showname`` or the file name. Each PDF's text lines
(``A01B1/02   .     锹；铲[2006.01]``) are extracted with pdfplumber and parsed by the spine's
:func:`coretech.ipc.readers.parse_cnipa_lines`; lines it rejects are validation problems.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from coretech.crawler.items import EntryBatch, PageDone, Problem
from coretech.crawler.pdftext import UnreadablePDF, extract_lines
from coretech.crawler.spiders.base import CoretechSpider, file_name
from coretech.crawler.spiders.wipo import result_items

_SECTION = re.compile(r"IPC\s*分类表\s*[-－—_ ]?\s*([A-H])\s*部|[-－_ ]([A-H])\s*部\s*(?:\.pdf)?")
_EDITION = re.compile(r"(\d{4}\.\d{2})\s*版")


def section_of(*texts: str) -> str | None:
    """The section letter a link names (``...-A部``), or None."""
    for t in texts:
        if m := _SECTION.search(unquote(t or "")):
            return m.group(1) or m.group(2)
    return None


def edition_of(*texts: str) -> str | None:
    for t in texts:
        if m := _EDITION.search(unquote(t or "")):
            return m.group(1)
    return None


class CnipaSpider(CoretechSpider):
    name = "cnipa"

    async def start(self):  # noqa: ANN201 - async generator of requests
        from scrapy.http import Request

        url = self.opts["index_url"]
        yield Request(
            url, callback=self.parse_index, errback=self.on_error, dont_filter=True,
            meta={"page_url": url, "expect": "html"},
        )

    def parse_index(self, response: Any):  # noqa: ANN201 - generator of requests and items
        index = response.meta["page_url"]
        wanted_edition = self.opts.get("edition")
        sections = set(self.opts.get("sections") or "ABCDEFGH")
        links: dict[str, tuple[str, str | None, str]] = {}
        for a in response.css("a[href]"):
            href = a.attrib["href"].strip()
            text = " ".join(t.strip() for t in a.css("::text").getall()).strip()
            url = response.urljoin(href)
            sec = section_of(text, url)
            if sec is None or sec not in sections:
                continue
            ed = edition_of(text, url)
            if wanted_edition and ed and ed != wanted_edition:
                continue
            name = file_name(url) if file_name(url).lower().endswith(".pdf") else f"{text}.pdf"
            links.setdefault(url, (sec, ed, name))
        ordered = sorted(links.items(), key=lambda kv: (kv[1][0], kv[0]))
        if not ordered:
            yield Problem(
                url=index, kind="failed",
                message="no links to per-section PDFs (like '2026.01版IPC分类表-A部.pdf') "
                "found on the index page",
            )
            return
        seen_sections: dict[str, str] = {}
        for url, (sec, ed, name) in ordered:
            if sec in seen_sections:
                yield Problem(
                    url=url, kind="validation",
                    message=f"a second PDF for section {sec} (also {seen_sections[sec]}); "
                    "both are read",
                )
            seen_sections[sec] = url
            req = self.page_request(
                url, self.parse_pdf, expect="pdf", section=sec,
                edition=wanted_edition or ed, filename=name,
            )
            if req is not None:
                yield req
        yield PageDone(url=index, n_items=0, links=[u for u, _ in ordered])

    def parse_pdf(self, response: Any):  # noqa: ANN201 - generator of items
        from coretech.ipc.readers import parse_cnipa_lines

        url = response.meta["page_url"]
        section = response.meta["section"]
        yield self.downloaded(response, "cnipa_pdf", response.meta.get("filename"))
        joined: dict[str, int] = {}
        try:
            lines, n_pages = extract_lines(response.body, joined)
        except UnreadablePDF as exc:
            yield Problem(url=url, kind="unreadable", message=str(exc))
            return
        self.crawler.stats.inc_value("coretech/joined_lines", joined.get("joined_lines", 0))
        res = parse_cnipa_lines(lines, source_name=url, edition=response.meta.get("edition"))
        n = 0
        for item in result_items(res, page=url, lines=lines, section=section):
            n += len(item.entries) if isinstance(item, EntryBatch) else 0
            yield item
        yield PageDone(url=url, n_items=n, n_lines=len(lines), pdf_pages=n_pages)
