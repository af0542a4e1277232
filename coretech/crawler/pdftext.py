"""Text lines of a PDF with pdfplumber (CJK text included: CID fonts are mapped to Unicode).

CNIPA's scheme PDFs print one entry per line, ``A01B1/02   .     锹；铲[2006.01]``; pdfplumber
joins the characters of a line and collapses the runs of spaces (``A01B1/02 . 锹；铲[2006.01]``),
which the CNIPA line reader accepts.

A long title wraps onto the next line, printed in the title column (to the right of where
the symbols start) right below it. Such a continuation line is joined to its entry here --
without a space between Chinese characters (a space only between two Latin letters or
digits) -- so that titles do not come out cut (``处理草地或草坪用的`` + ``犁``) or with a stray
space. Running headers, footers and page numbers stay separate lines (the line reader
skips lines that do not start with a symbol).
"""

from __future__ import annotations

import io
import logging
import re

_ENTRY = re.compile(r"^\s*[A-HＡ-Ｈ][0-9０-９]{2}[A-ZＡ-Ｚ]")
#: a continuation starts at least this far (points) right of the symbol column
INDENT = 12.0


class UnreadablePDF(ValueError):
    """The body is not a PDF pdfplumber can read."""


def _join(a: str, b: str) -> str:
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        return f"{a} {b}"
    return a + b


def page_lines(lines: list[dict]) -> tuple[list[str], int]:
    """Lines of one page (pdfplumber ``extract_text_lines`` dicts), continuations joined.

    Returns the lines and how many continuation lines were joined.
    """
    xs = [ln["x0"] for ln in lines if _ENTRY.match(ln["text"])]
    entry_x = min(xs) if xs else None
    out: list[str] = []
    joined = 0
    last_entry: int | None = None
    last_bottom = 0.0
    for ln in lines:
        text = ln["text"].strip()
        if not text:
            continue
        height = max(ln["bottom"] - ln["top"], 1.0)
        is_entry = bool(_ENTRY.match(text))
        if (
            not is_entry
            and last_entry is not None
            and entry_x is not None
            and ln["x0"] >= entry_x + INDENT
            and ln["top"] - last_bottom <= 1.2 * height
        ):
            out[last_entry] = _join(out[last_entry], text)
            joined += 1
            last_bottom = ln["bottom"]
            continue
        out.append(text)
        last_entry = len(out) - 1 if is_entry else None
        last_bottom = ln["bottom"]
    return out, joined


def extract_lines(body: bytes, stats: dict[str, int] | None = None) -> tuple[list[str], int]:
    """All non-empty text lines of the PDF ``body``, page by page; and the number of pages.

    ``stats`` (when given) receives ``joined_lines``: continuation lines joined to an entry.
    """
    import pdfplumber

    # pdfminer logs every unmapped glyph at WARNING; keep the crawl log readable
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    lines: list[str] = []
    joined = 0
    try:
        with pdfplumber.open(io.BytesIO(body)) as pdf:
            n_pages = len(pdf.pages)
            for page in pdf.pages:
                raw = page.extract_text_lines(
                    strip=True, return_chars=False, x_tolerance=1.5, y_tolerance=3
                )
                got, j = page_lines(raw)
                lines.extend(got)
                joined += j
                page.close()
    except Exception as exc:  # pdfminer raises many types on a broken file
        raise UnreadablePDF(f"cannot read the PDF: {type(exc).__name__}: {exc}") from exc
    if stats is not None:
        stats["joined_lines"] = stats.get("joined_lines", 0) + joined
    return lines, n_pages
