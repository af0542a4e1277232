"""A CJK font for matplotlib figures, found even when matplotlib's font cache predates it.

matplotlib lists the system's fonts once, in its cache (``fontlist-*.json``), and never looks
again. CJK fonts are usually installed later (``apt-get install fonts-noto-cjk``), so figures
with Chinese labels print "Glyph ... missing from font(s) DejaVu Sans" and draw boxes, though
the machine has the font. :func:`ensure_cjk_font` looks explicitly: a CJK family matplotlib
already knows, else the font files that fontconfig lists for Chinese (``fc-list :lang=zh``),
else well-known paths (Noto Sans CJK, Source Han Sans, WenQuanYi, Droid Sans Fallback, the
macOS and Windows system fonts), and registers them with ``font_manager.fontManager.addfont``.

Usage::

    from coretech.fonts import ensure_cjk_font, figure_font_families
    ensure_cjk_font()                 # before drawing
    rc = {"font.family": "sans-serif", "font.sans-serif": figure_font_families()}
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

#: CJK families in order of preference (Simplified Chinese first).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC",
    "Hiragino Sans GB", "Arial Unicode MS", "Noto Sans CJK JP", "Noto Serif CJK SC",
    "Source Han Serif SC", "AR PL UMing CN", "AR PL UKai CN", "Droid Sans Fallback",
)
#: Font files tried when fontconfig is absent (globs; first match of each is used).
KNOWN_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*Regular*.tt[cf]",
    "/usr/share/fonts/**/NotoSansCJK*.otf",
    "/usr/share/fonts/**/SourceHanSans*.tt[cf]",
    "/usr/share/fonts/**/SourceHanSans*.otf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/**/NotoSerifCJK*Regular*.tt[cf]",
    "~/.local/share/fonts/**/*CJK*.tt[cf]",
    "~/.fonts/**/*CJK*.tt[cf]",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
_FONT_SUFFIXES = (".ttf", ".ttc", ".otf")


def _fc_list_files() -> list[str]:
    """Font files fontconfig lists for Chinese (empty without ``fc-list``)."""
    fc = shutil.which("fc-list")
    if fc is None:
        return []
    try:
        out = subprocess.run([fc, ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = {line.split(":")[0].strip() for line in out.splitlines() if line.strip()}
    return sorted(f for f in files if f.lower().endswith(_FONT_SUFFIXES))


def cjk_font_files() -> list[str]:
    """Candidate CJK font files on this machine: fontconfig's, then the known paths; sans-serif
    regular faces first."""
    found: list[str] = []
    for pattern in KNOWN_FILES:
        for f in sorted(glob.glob(os.path.expanduser(pattern), recursive=True)):
            if os.path.isfile(f):
                found.append(f)
                break
    found += _fc_list_files()

    def rank(path: str) -> tuple[int, int]:
        name = os.path.basename(path).lower()
        return ("sans" not in name and "hei" not in name and "yahei" not in name,
                "bold" in name or "light" in name or "thin" in name or "black" in name)

    return sorted(dict.fromkeys(found), key=rank)


def _known_cjk_family() -> str | None:
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FAMILIES if f in have), None)


def _register() -> str | None:
    from matplotlib import font_manager

    fam = _known_cjk_family()
    if fam is not None:
        return fam
    fm = font_manager.fontManager
    for path in cjk_font_files():
        n = len(fm.ttflist)
        try:
            fm.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue
        added = [f.name for f in fm.ttflist[n:]]
        fam = _known_cjk_family() or (added[0] if added else None)
        if fam is not None:
            return fam
    return None


def ensure_cjk_font() -> str | None:
    """The family name of a CJK font matplotlib can draw with, registering font files its
    cache lacks; None when the machine has no CJK font (then Chinese text draws as boxes)."""
    return _register()


def figure_font_families(base: str = "DejaVu Sans") -> list[str]:
    """``font.sans-serif`` for figures: ``base`` (Latin glyphs, minus sign) then the CJK font,
    so that matplotlib falls back to it for Chinese characters."""
    cjk = ensure_cjk_font()
    return [base] + ([cjk] if cjk and cjk != base else [])
