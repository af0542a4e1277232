"""CNIPA-like scheme PDFs for the crawler tests and bench (reportlab, a ``[test]`` extra).

Kept out of the package so that an installed coretech imports only its declared dependencies.
"""

from __future__ import annotations

import io


def cnipa_pdf(lines: list[str], *, heading: str | None = None, lines_per_page: int = 45) -> bytes:
    """A CNIPA-like scheme PDF: one entry per line, Chinese text in ``STSong-Light``.

    Lines keep their runs of spaces (``A01B1/02   .     锹；铲[2006.01]``). A line that starts
    with white space is the wrapped rest of the title above and is drawn in the title column,
    as CNIPA prints it. Deterministic (``invariant`` PDF).
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    page_lines: list[list[str]] = [
        lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)
    ] or [[]]
    for n, chunk in enumerate(page_lines, start=1):
        c.setFont("STSong-Light", 9)
        y = 800
        if heading:
            c.drawString(40, y, heading)
            y -= 20
        for ln in chunk:
            if ln[:1].isspace() and ln.strip():  # a wrapped title: drawn in the title column
                c.drawString(150, y, ln.strip())
            else:
                c.drawString(40, y, ln)
            y -= 16
        c.drawString(290, 30, f"- {n} -")
        c.showPage()
    c.save()
    return buf.getvalue()
