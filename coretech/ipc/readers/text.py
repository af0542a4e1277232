"""Cleaning IPC titles: references out, edition stamps out, PDF line-break spaces out.

:func:`clean_title` returns the cleaned title, the references it found (canonical symbols,
ranges as ``A-B``) and flags saying which cleaning steps changed something, so that readers
can count each defect class.

- A parenthesised group (ASCII or full-width brackets) that holds at least one IPC symbol is
  a cross-reference: ``(edge trimmers for lawns A01G0003060000)``, ``（草坪修整机入A01G3/06）``.
  It leaves the title; its symbols go to ``references``.
- A symbol outside brackets is part of the sentence (``of a type provided for in group
  H01L0029000000``): it stays, rewritten canonically, and is also listed in ``references``.
- Edition stamps ``[2006.01]``, ``(2006.01)``, ``[20250101]``, ``〔2〕``, ``[4]`` are removed
  (the last such stamp is returned as ``stamp``).
- Whitespace between two CJK characters (or CJK punctuation) is removed: it is a line break
  of the PDF the text was extracted from (``处理草地或草坪用的 犁`` -> ``处理草地或草坪用的犁``).
  Spaces between Latin words are kept; runs of whitespace become one space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from coretech.ipc.readers.result import canonical_symbol
from coretech.ipc.symbols import IPCSymbolError

_CJK = "\u2e80-\u2eff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
CJK_CHAR = re.compile(f"[{_CJK}]")
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
_CJK_SPACE = re.compile(f"(?<=[{_CJK}])[ \t\u00a0\u3000]+(?=[{_CJK}])")
_HAN_SPACE = re.compile("(?<=[\u3400-\u4dbf\u4e00-\u9fff])[ \t\u00a0\u3000]+(?=[\u3400-\u4dbf\u4e00-\u9fff])")
_WS = re.compile(r"\s+")

# one symbol: 14-character, spaced/canonical group, subclass ("strong": surely a symbol), class
_STRONG = (
    r"(?:[A-H]\d{2}[A-Z]\d{10}(?![0-9/])"  # 14 characters: unambiguous even glued to words
    r"|(?:(?<![A-Za-z0-9])[A-H]\d{2}[A-Z] ?\d{1,4} ?/ ?\d{2,6}"
    r"|(?<![A-Za-z0-9])[A-H]\d{2}[A-Z])(?![A-Za-z0-9/]))"
)
_SYM = rf"(?:{_STRONG}|(?<![A-Za-z0-9])[A-H]\d{{2}}(?![A-Za-z0-9/]))"
_STRONG_RE = re.compile(_STRONG)
_REF_CLASS = re.compile(r"[入见][A-H]\d{2}(?![A-Za-z0-9/])")
_RANGE = re.compile(rf"({_SYM})\s*[-–—~～]\s*({_SYM})")
_STRONG_RANGE = re.compile(rf"({_STRONG})\s*[-–—~～]\s*({_STRONG})")
_ANY_SYM = re.compile(_SYM)
_SPACE_PUNCT = re.compile(r"\s+([;,.；，。、])")
_DASH = re.compile(r"[-–—~～]")
# edition stamps: [2006.01] (2006.01) [20250101] [4] 〔2〕 〔b,e〕
_STAMP = re.compile(
    r"[\[\(（〔［]\s*(\d{4}\.\d{2}|\d{8})\s*[\]\)）〕］]"
    r"|〔\s*(\d{1,2})\s*〕"
    rf"|(?<=[{_CJK}])[\[［]\s*(\d{{1,2}})\s*[\]］]"
    r"|[\[［]\s*(\d{1,2})\s*[\]］]\s*$"
    r"|〔\s*([a-z](?:\s*,\s*[a-z])*)\s*〕"
)
_NOTE = re.compile(r"\s+注意?(?:[:：]|\s+(?=\d|[^\x00-\x7f]))")
_NEEDS_WORK = re.compile(rf"[\(（\[〔［{_CJK}]|[A-H]\d{{2}}")
_OPEN = "(（"
_CLOSE = ")）"


@dataclass
class Cleaned:
    title: str
    references: list[str] = field(default_factory=list)
    stamp: str | None = None  # e.g. "2006.01" (last numeric edition stamp found)
    note_cut: bool = False  # a CNIPA note ("注意：...") was cut off the title
    moved_references: bool = False
    removed_stamps: int = 0
    removed_cjk_spaces: int = 0  # spaces between CJK characters or CJK punctuation
    han_spaces: int = 0  # of which between two Han characters


def edition_of(stamp: str) -> str | None:
    """``20250101`` -> ``2025.01``; ``2006.01`` as is; anything else None."""
    s = stamp.strip()
    if re.fullmatch(r"\d{4}\.\d{2}", s):
        return s
    if re.fullmatch(r"\d{8}", s):
        return f"{s[:4]}.{s[4:6]}"
    return None


def _canon(sym: str) -> str | None:
    try:
        return canonical_symbol(sym)[0]
    except IPCSymbolError:
        return None


def extract_symbols(text: str) -> list[str]:
    """Canonical symbols and ranges (``A-B``) mentioned in ``text``, in order, no repeats."""
    found: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    for m in (_RANGE.finditer(text) if _DASH.search(text) else ()):
        a, b = _canon(m.group(1)), _canon(m.group(2))
        if a and b:
            found.append((m.start(), f"{a}-{b}"))
            spans.append(m.span())
    for m in _ANY_SYM.finditer(text):
        if any(s <= m.start() < e for s, e in spans):
            continue
        c = _canon(m.group(0))
        if c:
            found.append((m.start(), c))
    found.sort()
    seen: set[str] = set()
    return [x for _, x in found if not (x in seen or seen.add(x))]


def _is_reference(text: str) -> bool:
    return bool(_STRONG_RE.search(text) or _REF_CLASS.search(text))


_BRACKET = re.compile(r"[()（）]")


def _groups(text: str) -> list[tuple[int, int]]:
    """Spans of top-level bracket groups (ASCII and full-width parentheses, nested)."""
    spans = []
    depth = 0
    start = 0
    for m in _BRACKET.finditer(text):
        ch = m.group(0)
        if ch in _OPEN:
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                spans.append((start, m.end()))
    if depth:  # unclosed group: runs to the end (marked by an end past the text)
        spans.append((start, len(text) + 1))
    return spans


def _canonical_inline(text: str, refs: list[str]) -> str:
    """Rewrite 14-character symbols in running text canonically; record them as references."""

    def sub_range(m: re.Match[str]) -> str:
        a, b = _canon(m.group(1)), _canon(m.group(2))
        if a and b:
            refs.append(f"{a}-{b}")
            return f"{a}-{b}"
        return m.group(0)

    text = _STRONG_RANGE.sub(sub_range, text)

    def sub_one(m: re.Match[str]) -> str:
        c = _canon(m.group(0))
        if c is None:
            return m.group(0)
        if c not in refs and not any(r.startswith(c + "-") or r.endswith("-" + c) for r in refs):
            refs.append(c)
        return c if len(m.group(0)) == 14 else m.group(0)

    return _STRONG_RE.sub(sub_one, text)


def _has_cjk_gap_space(text: str) -> bool:
    """Whether ``text`` holds one of the spaces _CJK_SPACE and _HAN_SPACE remove (else both
    find nothing)."""
    return " " in text or "\u3000" in text or "\t" in text or "\xa0" in text


def clean_title(raw: str | None, *, cjk_spaces: bool = True) -> Cleaned:
    """Clean one title (see the module docstring). ``raw`` None or blank gives ``''``."""
    if raw is None:
        return Cleaned("")
    if not _NEEDS_WORK.search(raw):  # fast path: plain Latin text
        return Cleaned(" ".join(raw.split()).strip(" ;,"))
    text = raw.replace("\r", " ").replace("\n", " ")
    out = Cleaned("")
    ascii_only = text.isascii()
    # 0b. a CNIPA note appended to the title ("... 注意： 本小类不涵盖 ...")
    if not ascii_only and "注" in text and HAN.search(text):
        m = _NOTE.search(text)
        if m:
            text = text[: m.start()]
            out.note_cut = True
    # 0. PDF line-break spaces between CJK characters (counted on the raw title)
    if cjk_spaces and not ascii_only and _has_cjk_gap_space(text) and CJK_CHAR.search(text):
        out.han_spaces = len(_HAN_SPACE.findall(text))
        text, n = _CJK_SPACE.subn("", text)
        out.removed_cjk_spaces = n
    # 1. edition stamps
    stamps = list(_STAMP.finditer(text))
    if stamps:
        for m in stamps:
            ed = edition_of(m.group(1) or "")
            if ed:
                out.stamp = ed
        out.removed_stamps = len(stamps)
        text = _STAMP.sub(" ", text)
    # 2. bracket groups holding symbols -> references
    refs: list[str] = []
    if "(" in text or "（" in text:
        pieces: list[str] = []
        last = 0
        for s, e in _groups(text):
            inner = text[s + 1 : e - 1]  # an unclosed group's end is len(text) + 1
            found = extract_symbols(inner) if _is_reference(inner) else []
            if found:
                pieces.append(text[last:s])
                refs.extend(found)
                out.moved_references = True
                last = e
        pieces.append(text[last:])
        text = " ".join(p for p in pieces)
    # 3. symbols left in running text: canonical, listed too
    if _STRONG_RE.search(text):
        text = _canonical_inline(text, refs)
    # 4. whitespace
    text = _WS.sub(" ", text).strip()
    if " " in text:  # the only whitespace left after _WS
        text = _SPACE_PUNCT.sub(r"\1", text)
    text = text.strip(" ;；,，")
    seen: set[str] = set()
    out.references = [r for r in refs if not (r in seen or seen.add(r))]
    out.title = text
    return out


# a title with none of these needs only stripping (see :func:`clean_titles`)
_NEEDS_MORE = re.compile(r"[\s\[\(（〔［]|[A-H]\d{2}")
#: every character Python's ``\s`` matches in a str pattern (str.isspace(); tested)
PY_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# RE2 (pyarrow) patterns: the bracket/CJK/space parts of _NEEDS_WORK and _NEEDS_MORE exactly,
# and a superset of ``[A-H]\d{2}`` (Python's \d is any Unicode digit: ASCII or not)
_RE2_WORK = f"[\\(（\\[〔［{_CJK}]"
_RE2_MORE = f"[{PY_SPACES}\\[\\(（〔［]"
_RE2_SYMLIKE = "[A-H](?:[0-9]|[^\\x00-\\x7f])"


def title_classes(raws: list[str]) -> list[int]:
    """For each title: 0 when ``_NEEDS_WORK`` finds nothing, 1 when only ``_NEEDS_MORE`` finds
    nothing, else 2 -- what the two Python regex searches say, with pyarrow's regex engine
    over the whole column and Python only for the rare titles with something like a symbol
    and none of the bracket, CJK or space characters."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not raws:
        return []
    try:
        arr = pa.array(raws, type=pa.string())
    except (pa.ArrowException, UnicodeEncodeError):  # e.g. a lone surrogate: Python decides
        return [0 if not _NEEDS_WORK.search(r) else 1 if not _NEEDS_MORE.search(r) else 2
                for r in raws]

    def has(pattern: str) -> np.ndarray:
        return pc.match_substring_regex(arr, pattern=pattern).to_numpy(zero_copy_only=False)

    work, more, symlike = has(_RE2_WORK), has(_RE2_MORE), has(_RE2_SYMLIKE)
    sym = np.zeros(len(raws), dtype=bool)
    for i in np.flatnonzero(symlike & ~(work & more)).tolist():
        sym[i] = _SYM_LIKE.search(raws[i]) is not None
    work |= sym
    more |= sym
    return np.where(~work, 0, np.where(~more, 1, 2)).tolist()


_SYM_LIKE = re.compile(r"[A-H]\d{2}")


def clean_titles(raws: list[str]) -> tuple[list[str], dict[int, Cleaned]]:
    """:func:`clean_title` of many titles, with fast paths for ordinary ones.

    Returns the cleaned titles and, for the titles that went through :func:`clean_title`
    (the only ones whose cleaning can count a defect), their :class:`Cleaned` by position.
    Equal, title by title, to ``[clean_title(r) for r in raws]`` (tested):

    * plain Latin text (no CJK, bracket or symbol): whitespace runs joined, ``" ;,"`` stripped;
    * no whitespace, no opening bracket and nothing like a symbol (most Chinese titles):
      only ``" ;；,，"`` stripped;
    * anything else: :func:`clean_title`.

    Which titles take which path is decided for the whole column at once
    (:func:`title_classes`).
    """
    out: list[str] = []
    slow: dict[int, Cleaned] = {}
    for i, (raw, k) in enumerate(zip(raws, title_classes(raws), strict=True)):
        if k == 0:
            out.append(" ".join(raw.split()).strip(" ;,"))
        elif k == 1:
            out.append(raw.strip(" ;；,，"))
        else:
            c = clean_title(raw)
            slow[i] = c
            out.append(c.title)
    return out, slow


def has_han(text: str) -> bool:
    return bool(HAN.search(text or ""))


def detect_lang(titles: list[str]) -> str:
    """``zh`` when most non-empty titles contain Han characters, else ``en``."""
    ne = [t for t in titles if t and t.strip()]
    if not ne:
        return "en"
    zh = sum(1 for t in ne if has_han(t))
    return "zh" if zh * 2 >= len(ne) else "en"


def is_fragment(title: str | None) -> bool:
    """An English title starting in lower case: a fragment read under its dotted parents."""
    return bool(title) and title[0].isalpha() and title[0].islower()  # type: ignore[index]
