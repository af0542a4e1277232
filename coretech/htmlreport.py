"""One self-contained HTML file: headings, text, tables and matplotlib figures, offline.

The file needs nothing else: CSS is inline, figures are embedded as ``data:`` URIs (SVG by
default, PNG on request), there is no JavaScript and no external URL. Chinese text is
readable: the page declares ``<meta charset="utf-8">`` and a CJK-capable font stack, and
figures are drawn with a CJK font when matplotlib has one (glyphs are embedded as paths, so
the reader needs no font); without one, SVG text is left to the browser's fonts.

Output is deterministic: figures carry no date or software stamp and fixed SVG ids, so the
same content gives byte-identical files.

Usage::

    from coretech.htmlreport import HTMLReport, new_figure

    rep = HTMLReport("Audit of dictionary.csv", subtitle="against key_digital_2023")
    rep.heading("Scores")
    fig, ax = new_figure()
    ax.hist(scores, bins=30)
    rep.figure(fig, caption="Score distribution / 得分分布")
    rep.table(df, caption="Worst misses", max_rows=20)
    rep.write("audit.html")

API: :class:`HTMLReport` (``heading``, ``paragraph``, ``note``, ``metrics``, ``table``,
``figure``, ``raw``, ``render``, ``write``) and :func:`new_figure`, :func:`figure_to_svg`,
:func:`figure_to_png`.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coretech.io import atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Font families tried for figures (first ones found are used, in this order).
FIGURE_FONTS = ("DejaVu Sans", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC",
                "Heiti SC", "Arial Unicode MS")
#: The page's font stack (CJK-capable on Windows, macOS and Linux).
FONT_STACK = ('system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Source Han Sans SC", '
              '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", '
              '"Helvetica Neue", Arial, sans-serif')
_CJK_FONTS = FIGURE_FONTS[1:]

CSS = """
*{box-sizing:border-box}
body{font-family:@FONTS@;color:#1f2328;background:#fff;margin:0;line-height:1.55;
font-size:15px}
main{max-width:1080px;margin:0 auto;padding:24px 28px 60px}
header{border-bottom:2px solid #d0d7de;margin-bottom:18px;padding-bottom:8px}
h1{font-size:1.6em;margin:.2em 0}
h2{font-size:1.3em;margin:1.6em 0 .5em;border-bottom:1px solid #d8dee4;padding-bottom:.2em}
h3{font-size:1.1em;margin:1.2em 0 .4em}
.subtitle{color:#57606a;margin:0}
nav.toc{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px 16px;
margin:12px 0}
nav.toc ol{margin:4px 0;padding-left:20px}
a{color:#0969da;text-decoration:none}
figure{margin:14px 0;text-align:center}
figure img{max-width:100%;height:auto;border:1px solid #eaeef2}
figcaption{color:#57606a;font-size:.92em;margin-top:4px}
.tablewrap{overflow-x:auto;margin:10px 0}
table{border-collapse:collapse;font-size:.9em;margin:0 auto 0 0}
caption{caption-side:top;text-align:left;color:#57606a;font-size:.92em;padding:4px 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
td{max-width:36em;overflow-wrap:break-word}
th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#fbfcfd}
.note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;
margin:10px 0}
.more{color:#57606a;font-size:.88em}
dl.metrics{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:8px 0}
dl.metrics dt{color:#57606a}
dl.metrics dd{margin:0;font-variant-numeric:tabular-nums}
footer{margin-top:40px;color:#8c959f;font-size:.85em}
""".replace("@FONTS@", FONT_STACK)


# --------------------------------------------------------------------------- figures
@lru_cache(maxsize=1)
def figure_fonts() -> tuple[tuple[str, ...], bool]:
    """Families of :data:`FIGURE_FONTS` that matplotlib has, and whether one covers CJK (a CJK
    font installed after matplotlib's font cache is found too: :mod:`coretech.fonts`)."""
    from matplotlib import font_manager

    from coretech.fonts import ensure_cjk_font

    cjk = ensure_cjk_font()
    have = {f.name for f in font_manager.fontManager.ttflist}
    found = tuple(f for f in FIGURE_FONTS if f in have) or ("DejaVu Sans",)
    if cjk is not None and cjk not in found:
        found = (*found, cjk)
    return found, cjk is not None or any(f in have for f in _CJK_FONTS)


def _rc() -> dict[str, Any]:
    fonts, cjk = figure_fonts()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": list(fonts),
        "axes.unicode_minus": False,
        "svg.hashsalt": "coretech",
        "svg.fonttype": "path" if cjk else "none",
        "figure.dpi": 100,
    }


def _apply_fonts(fig: Figure) -> None:
    """Give every text of the figure the font list (with fallback to a CJK font)."""
    from matplotlib.text import Text

    fonts = list(figure_fonts()[0])
    for t in fig.findobj(Text):
        t.set_fontfamily(fonts)


def new_figure(width: float = 7.0, height: float = 3.6, *, nrows: int = 1,
               ncols: int = 1) -> tuple[Figure, Axes | Any]:
    """A matplotlib Figure (no pyplot, no global state) set up for CJK text.

    Returns ``(fig, ax)`` (``ax`` an array when ``nrows * ncols > 1``). Fonts are bound when
    the figure is created, so draw text after calling this.
    """
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols)
    return fig, axes


def figure_to_svg(fig: Figure) -> bytes:
    """The figure as SVG bytes, without date stamp and with fixed ids (byte-identical)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(_rc()):
        _apply_fonts(fig)
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def figure_to_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes, with no software stamp (byte-identical)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(_rc()):
        _apply_fonts(fig)
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


# --------------------------------------------------------------------------- the page
def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: object, digits: int) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class HTMLReport:
    """Build one self-contained HTML page, block by block; every method returns ``self``.

    Parameters
    ----------
    title : page title (``<title>`` and ``<h1>``).
    subtitle : optional line under the title.
    lang : the page's ``lang`` attribute (``zh-CN`` makes browsers pick Chinese glyph forms).
    toc : add a table of contents of the ``h2`` headings.
    footer : optional text at the bottom (keep clock times out for byte-identical files).
    """

    def __init__(self, title: str, *, subtitle: str | None = None, lang: str = "zh-CN",
                 toc: bool = True, footer: str | None = None) -> None:
        self.title = title
        self.subtitle = subtitle
        self.lang = lang
        self.toc = toc
        self.footer = footer
        self._blocks: list[str] = []
        self._sections: list[tuple[str, str]] = []

    # ---- blocks
    def heading(self, text: str, level: int = 2) -> HTMLReport:
        """A section heading (``level`` 2 headings make the table of contents)."""
        if level not in (2, 3, 4):
            raise ValueError("heading level must be 2, 3 or 4")
        anchor = ""
        if level == 2:
            sid = f"s{len(self._sections) + 1}"
            self._sections.append((sid, text))
            anchor = f' id="{sid}"'
        self._blocks.append(f"<h{level}{anchor}>{_esc(text)}</h{level}>")
        return self

    def paragraph(self, text: str) -> HTMLReport:
        """A paragraph of plain text (escaped)."""
        self._blocks.append(f"<p>{_esc(text)}</p>")
        return self

    def note(self, text: str) -> HTMLReport:
        """A highlighted note (e.g. "simulated data", "illustrative catalogue")."""
        self._blocks.append(f'<div class="note">{_esc(text)}</div>')
        return self

    def metrics(self, items: Mapping[str, object], *, digits: int = 3) -> HTMLReport:
        """A compact list of named values (floats to ``digits`` decimals, None as –)."""
        rows = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(_fmt(v, digits))}</dd>"
                       for k, v in items.items())
        self._blocks.append(f'<dl class="metrics">{rows}</dl>')
        return self

    def table(self, df: pd.DataFrame, *, caption: str | None = None, max_rows: int | None = 200,
              digits: int = 3, index: bool = False) -> HTMLReport:
        """A DataFrame as a table; numbers right-aligned, floats to ``digits`` decimals.

        Rows beyond ``max_rows`` are not shown; a line says how many were left out.
        """
        import pandas as pd

        data = df.reset_index() if index else df
        shown = data if max_rows is None else data.head(max_rows)
        head = "".join(f"<th>{_esc(c)}</th>" for c in shown.columns)
        numeric = [pd.api.types.is_numeric_dtype(shown[c]) and
                   not pd.api.types.is_bool_dtype(shown[c]) for c in shown.columns]
        body = []
        for row in shown.itertuples(index=False, name=None):
            cells = []
            for v, num in zip(row, numeric, strict=True):
                if v is None or (not isinstance(v, (list, tuple, dict, set)) and pd.isna(v)):
                    text = ""
                elif hasattr(v, "item") and not isinstance(v, str):
                    text = _fmt(v.item(), digits)
                else:
                    text = _fmt(v, digits)
                cls = ' class="num"' if num else ""
                cells.append(f"<td{cls}>{_esc(text)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
        html_t = (f'<div class="tablewrap"><table>{cap}<thead><tr>{head}</tr></thead>'
                  f"<tbody>{''.join(body)}</tbody></table></div>")
        if max_rows is not None and len(data) > max_rows:
            html_t += (f'<p class="more">{len(data) - max_rows:,} more rows not shown '
                       f"({len(data):,} in all).</p>")
        self._blocks.append(html_t)
        return self

    def figure(self, fig: Figure, *, caption: str | None = None, alt: str | None = None,
               fmt: str = "svg") -> HTMLReport:
        """Embed a matplotlib figure (``fmt`` ``svg`` or ``png``) as a data URI."""
        if fmt == "svg":
            data, mime = figure_to_svg(fig), "image/svg+xml"
        elif fmt == "png":
            data, mime = figure_to_png(fig), "image/png"
        else:
            raise ValueError("fmt must be 'svg' or 'png'")
        uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        w, h = (int(round(x * 100)) for x in fig.get_size_inches())
        cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        self._blocks.append(
            f'<figure><img src="{uri}" width="{w}" height="{h}" '
            f'alt="{_esc(alt or caption or "figure")}">{cap}</figure>'
        )
        return self

    def raw(self, markup: str) -> HTMLReport:
        """Trusted HTML, inserted as is (no script, no external URL, please)."""
        self._blocks.append(markup)
        return self

    # ---- output
    def render(self) -> str:
        """The whole page as a string."""
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{_esc(self.lang)}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(self.title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body><main>",
            f"<header><h1>{_esc(self.title)}</h1>",
        ]
        if self.subtitle:
            parts.append(f'<p class="subtitle">{_esc(self.subtitle)}</p>')
        parts.append("</header>")
        if self.toc and len(self._sections) > 1:
            items = "".join(f'<li><a href="#{sid}">{_esc(t)}</a></li>'
                            for sid, t in self._sections)
            parts.append(f'<nav class="toc"><ol>{items}</ol></nav>')
        parts.extend(self._blocks)
        if self.footer:
            parts.append(f"<footer>{_esc(self.footer)}</footer>")
        parts.append("</main></body></html>")
        return "\n".join(parts) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write the page atomically (UTF-8) and return its path."""
        atomic_write_text(path, self.render())
        return Path(path)
