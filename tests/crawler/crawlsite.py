"""Builders of the crawler tests: WIPO and CNIPA files in their real formats, a local site."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pdf_fixture import cnipa_pdf

from coretech.crawler.localserver import FixtureServer, index_html, wipo_zip

HERE = Path(__file__).parent
REPO = HERE.parents[1]
DATE = "20260101"
EDITION = "2026.01"

#: CNIPA-like lines per section (symbol, dots, title, edition stamp), as in CNIPA's PDFs.
CNIPA_LINES: dict[str, list[str]] = {
    "A": [
        "A01B        土壤工作；农业机械或农具部件",
        "A01B1/00          手动工具（草坪修整机入A01G3/06）[2006.01]",
        "A01B1/02   .     锹；铲[2006.01]",
        "A01B1/04   . .   带齿的[2006.01]",
        "A01B1/06   .     锄；手动中耕机[2006.01]",
        "A01B3/00          犁铧固定的犁[2006.01]",
        "A01B3/02   .     人力犁[2006.01]",
    ],
    "B": [
        "B01D        分离",
        "B01D1/00          蒸发[2006.01]",
        "B01D1/02   .     在锅炉或盘中[2006.01]",
        "B01D1/04   . .   用加热蒸汽的[2006.01]",
    ],
    "C": [
        "C01B        非金属元素；其化合物",
        "C01B3/00          氢；含氢混合气[2006.01]",
        "C01B3/02   .     氢的制备[2006.01]",
    ],
    "D": [
        "D01B        天然状态纤维的机械处理",
        "D01B1/00          纤维的机械分离[2006.01]",
        "D01B1/02   .     从植物原料中[2006.01]",
    ],
}


def scheme_xml_path() -> Path:
    """The spine's small master-file XML when present (read only), else ours."""
    for p in (REPO / "tests" / "ipc" / "fixtures").glob("*scheme*.xml"):
        return p
    return HERE / "fixtures" / f"EN_ipc_scheme_{DATE}.xml"


def pdf_name(section: str) -> str:
    return f"{EDITION}版IPC分类表-{section}部.pdf"


def cnipa_path(section: str, *, robots_private: bool = False) -> str:
    """Server path of a section's PDF: A, B like CNIPA's download links, C, D plain files."""
    if robots_private and section == "D":
        return f"/cnipa/private/{pdf_name(section)}"
    if section in "AB":
        digest = hashlib.sha1(section.encode()).hexdigest()[:16]
        return f"/module/download/downfile.jsp?classid=0&filename={digest}.pdf&showname={pdf_name(section)}"
    return f"/cnipa/{pdf_name(section)}"


@pytest.fixture(scope="session")
def scheme_zip() -> bytes:
    return wipo_zip(scheme_xml_path().read_bytes(), f"EN_ipc_scheme_{DATE}.xml")


@pytest.fixture(scope="session")
def cnipa_pdfs() -> dict[str, bytes]:
    """One PDF per section (Chinese text in STSong-Light), built once per session."""
    return {
        s: cnipa_pdf(lines, heading=f"{EDITION}版IPC分类表-{s}部")
        for s, lines in CNIPA_LINES.items()
    }


def make_site(
    scheme_zip: bytes,
    pdfs: dict[str, bytes],
    *,
    robots: str = "User-agent: *\nDisallow: /cnipa/private/\n",
    robots_private: bool = False,
    extra: dict[str, bytes] | None = None,
) -> FixtureServer:
    routes: dict[str, bytes] = {
        f"/{DATE}/MasterFiles/ipc_scheme_{DATE}.zip": scheme_zip,
        f"/{DATE}/MasterFiles/ipc_catchwordindex_{DATE}.zip": wipo_zip(
            b'<?xml version="1.0"?><IPCCatchwordIndex lang="EN" edition="20260101">'
            b'<CWEntry><CW>SPADES</CW><sref ref="A01B0001020000"/></CWEntry></IPCCatchwordIndex>',
            f"EN_ipc_catchwordindex_{DATE}.xml",
        ),
        f"/{DATE}/MasterFiles/ipc_concordancelist_{DATE}.zip": wipo_zip(
            b'<?xml version="1.0"?><IPCConcordanceList fromVersion="20250101" '
            b'toVersion="20260101"><entry from="A01B0001020000" to="A01B0001020000" '
            b'modification="c"/></IPCConcordanceList>',
            f"ipc_concordancelist_{DATE}.xml",
        ),
    }
    links = []
    for s, body in pdfs.items():
        path = cnipa_path(s, robots_private=robots_private)
        routes[path] = body
        links.append((path.replace("&", "&amp;"), pdf_name(s)))
    links.append(("/cnipa/notice.html", "关于发布2026.01版IPC的通知"))  # not a section PDF
    routes["/cnipa/index.html"] = index_html(links)
    routes.update(extra or {})
    return FixtureServer(routes, robots=robots)


@pytest.fixture
def site(scheme_zip: bytes, cnipa_pdfs: dict[str, bytes]):
    srv = make_site(scheme_zip, cnipa_pdfs).start()
    yield srv
    srv.stop()
