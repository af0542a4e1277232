"""Text lines of a PDF with pdfplumber (CJK text included: CID fonts are mapped to Unicode).

CNIPA's scheme PDFs print one entry per line, ``A01B1/02   .     锹；铲[2006.01]``; pdfplumber
joins the characters of a line and collapses the runs of spaces (``A01B1/02 . 锹；铲[2006.01]``),
which the CNIPA line reader accepts.
"""

from __future__ import annotations

import io
import logging


class UnreadablePDF(ValueError):
    """The body is not a PDF pdfplumber can read."""


def extract_lines(body: bytes) -> tuple[list[str], int]:
    """All non-empty text lines of the PDF ``body``, page by page; and the number of pages."""
    import pdfplumber

    # pdfminer logs every unmapped glyph at WARNING; keep the crawl log readable
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    lines: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(body)) as pdf:
            n_pages = len(pdf.pages)
            for page in pdf.pages:
                text = page.extract_text(x_tolerance=1.5, y_tolerance=3) or ""
                lines.extend(ln for ln in text.splitlines() if ln.strip())
                page.close()
    except Exception as exc:  # pdfminer raises many types on a broken file
        raise UnreadablePDF(f"cannot read the PDF: {type(exc).__name__}: {exc}") from exc
    return lines, n_pages
