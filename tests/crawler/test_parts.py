"""The crawler's parts without a crawl: body checks, the item store, link parsing, PDF text."""

from __future__ import annotations

import io
import zipfile

import pytest
from crawlsite import CNIPA_LINES
from pdf_fixture import cnipa_pdf

from coretech.crawler.items import PageDone, Problem, SchemeEntry
from coretech.crawler.localserver import wipo_zip
from coretech.crawler.middlewares import check_body
from coretech.crawler.pdftext import UnreadablePDF, extract_lines
from coretech.crawler.spiders.base import file_name
from coretech.crawler.spiders.cnipa import edition_of, section_of
from coretech.crawler.spiders.wipo import edition_date
from coretech.crawler.store import ItemStore, assemble, entries_frame


def entry(code: str, page: str = "p", seq: int = 0, **kw) -> SchemeEntry:
    from coretech.ipc.symbols import kind

    return SchemeEntry(code=code, kind=kind(code), depth=kw.get("depth"), depth_source="scheme",
                       parent=None, title=kw.get("title", "t"), path_title=None, references=None,
                       lang="zh", edition="2026.01", source=page, page=page, seq=seq)


def test_check_body_catches_truncated_and_corrupt_files():
    z = wipo_zip(b"<IPCScheme/>" * 200, "EN_ipc_scheme_20260101.xml")
    assert check_body(z, "zip") is None
    assert "corrupt zip" in check_body(z[: len(z) // 2], "zip")
    flipped = bytearray(z)
    flipped[60] ^= 0xFF  # inside the deflated member: CRC fails
    assert check_body(bytes(flipped), "zip") is not None
    pdf = cnipa_pdf(CNIPA_LINES["A"])
    assert check_body(pdf, "pdf") is None
    assert check_body(pdf[:-200], "pdf") == "truncated PDF (no %%EOF trailer)"
    assert check_body(b"<html>error</html>", "pdf") == "not a PDF (no %PDF- header)"
    assert check_body(b"<a><b></a>", "xml").startswith("malformed XML")
    assert check_body(b"", "zip") == "empty body"
    assert check_body(b"anything", "html") is None


def test_pdf_lines_keep_chinese_text_and_dots():
    lines, pages = extract_lines(cnipa_pdf(CNIPA_LINES["A"] * 10, lines_per_page=30))
    assert pages == 3
    assert "A01B1/02 . 锹；铲[2006.01]" in lines
    assert "A01B1/04 . . 带齿的[2006.01]" in lines
    # a title wrapped onto the next line is joined back, without a space between hanzi
    wrapped = ["A01B1/00          手动工具[2006.01]", "A01B1/02   .     处理草地或草坪用的",
               "       犁[2006.01]", "A01B1/04   . .   for use with Type", "       B soils[2006.01]"]
    stats: dict[str, int] = {}
    lines, _ = extract_lines(cnipa_pdf(wrapped, heading="2026.01版IPC分类表-A部"), stats)
    assert lines == ["2026.01版IPC分类表-A部", "A01B1/00 手动工具[2006.01]",
                     "A01B1/02 . 处理草地或草坪用的犁[2006.01]",
                     "A01B1/04 . . for use with Type B soils[2006.01]", "- 1 -"]
    assert stats == {"joined_lines": 2}
    with pytest.raises(UnreadablePDF, match="cannot read the PDF"):
        extract_lines(b"%PDF-1.4 garbage %%EOF")


def test_store_survives_a_torn_last_line_and_deduplicates(tmp_path):
    store = ItemStore(tmp_path)
    store.append(entry("A01B1/00", "p1", 0, depth=0))
    store.append(entry("A01B1/02", "p1", 1, depth=1))
    store.append(PageDone(url="p1", n_items=2))
    store.append(entry("B01D1/00", "p2", 0, depth=0))  # page p2 never finished
    store.close()
    with open(store.path, "a", encoding="utf-8") as fh:
        fh.write('{"t": "SchemeEntry", "code": "B01')  # killed mid-write
    items, torn = store.records()
    assert torn == 1 and len(items) == 4
    # a resumed run: the torn line is cut, p1 is parsed again (duplicates), p2 is finished
    store2 = ItemStore(tmp_path)
    assert store2.done_urls() == {"p1"}
    store2.open()
    for it in (entry("A01B1/00", "p1", 0, depth=0), entry("B01D1/00", "p2", 0, depth=0),
               PageDone(url="p2", n_items=1), Problem(url="p3", kind="failed", message="HTTP 503"),
               Problem(url="p2", kind="failed", message="HTTP 503")):
        store2.append(it)
    store2.close()
    items, torn = store2.records()
    assert torn == 0
    a = assemble(items)
    assert [e.code for e in a.entries] == ["A01B1/00", "A01B1/02", "B01D1/00"]
    assert a.duplicates == 2  # A01B1/00 parsed twice, B01D1/00 stored twice
    # the failure of p2 was overcome by a later attempt; p3's stays
    assert [(p.url, p.message) for p in a.problems] == [("p3", "HTTP 503")]
    df = entries_frame(a.entries)
    assert list(df["code"]) == ["A01B1/00", "A01B1/02", "B01D1/00"]
    assert str(df["depth"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("text", "url", "section", "edition"),
    [
        ("2026.01版IPC分类表-A部.pdf", "https://x/a.pdf", "A", "2026.01"),
        ("下载", "https://www.cnipa.gov.cn/module/download/downfile.jsp?classid=0&filename=84f5.pdf"
         "&showname=2026.01%E7%89%88IPC%E5%88%86%E7%B1%BB%E8%A1%A8-H%E9%83%A8.pdf", "H", "2026.01"),
        ("IPC分类表 G部", "https://x/g", "G", None),
        ("关于发布2026.01版IPC的通知", "https://x/notice.html", None, "2026.01"),
    ],
)
def test_section_and_edition_from_cnipa_links(text, url, section, edition):
    assert section_of(text, url) == section
    assert edition_of(text, url) == edition


def test_file_names_and_edition_dates():
    assert file_name("https://h/d.jsp?filename=ab.pdf&showname=2026.01%E7%89%88-A%E9%83%A8.pdf") == "2026.01版-A部.pdf"
    assert file_name("https://h/20260101/MasterFiles/ipc_scheme_20260101.zip") == "ipc_scheme_20260101.zip"
    assert file_name("https://h/a/..%2F..%2Fetc%2Fpasswd") == "passwd"  # no traversal
    assert edition_date("2026.01") == "20260101" and edition_date("20250101") == "20250101"


def test_fixture_zip_is_deterministic():
    a = wipo_zip(b"<x/>", "EN.xml")
    assert a == wipo_zip(b"<x/>", "EN.xml")
    assert zipfile.ZipFile(io.BytesIO(a)).read("EN.xml") == b"<x/>"
