"""IPC symbols: parse every notation users meet into one canonical form.

Canonical form (INTERFACES.md): ``H01L29/739`` -- subclass, main group number, ``/``, the
subgroup digits as published (at least two: ``/00``, ``/02``, ``/739``). Section ``H``,
class ``H01``, subclass ``H01L``, main group ``H01L29/00``.

Accepted notations: ``H01L 29/739``, ``H01L  29/739 (2006.01)``, ``H01L29/739[2006.01]``,
the WIPO 14-character form ``H01L0029739000``, lower case, full-width characters
(``Ｈ０１Ｌ２９／７３９``), stray spaces, and a bare main group ``H01L29`` (= ``H01L29/00``).
Anything else raises :class:`IPCSymbolError`, which names the input and says why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from coretech.errors import InputError

Kind = Literal["section", "class", "subclass", "main_group", "subgroup"]
KINDS: tuple[Kind, ...] = ("section", "class", "subclass", "main_group", "subgroup")
LEVEL_OF: dict[str, int] = {k: i for i, k in enumerate(KINDS)}


class IPCSymbolError(InputError):
    """A string that is not a valid IPC symbol. ``symbol`` holds the input, ``reason`` why."""

    def __init__(self, symbol: object, reason: str, **where: object) -> None:
        self.symbol = symbol
        self.reason = reason
        super().__init__(f"{symbol!r} is not an IPC symbol: {reason}", **where)  # type: ignore[arg-type]


_STAMP = re.compile(r"[\(\[]\s*\d{4}(?:\.\d{2})?(?:\.\d{2})?\s*[\)\]]|[\(\[]\s*\d{8}\s*[\)\]]")
_GROUP = re.compile(r"^([A-H])(\d{2})([A-Z])(\d{1,4})/(\d{1,6})$")
_FOURTEEN = re.compile(r"^([A-H])(\d{2})([A-Z])(\d{4})(\d{6})$")
_BARE_MAIN = re.compile(r"^([A-H])(\d{2})([A-Z])(\d{1,4})$")
_SUBCLASS = re.compile(r"^([A-H])(\d{2})([A-Z])$")
_CLASS = re.compile(r"^([A-H])(\d{2})$")
_SECTION = re.compile(r"^([A-H])$")


@dataclass(frozen=True, order=True)
class IPCSymbol:
    """A parsed IPC symbol. ``main`` is the main-group number, ``sub`` the subgroup digits."""

    section: str
    cls: str = ""  # two digits, e.g. "01"
    subclass_letter: str = ""
    main: int | None = None
    sub: str | None = None  # digits as published, >= 2 characters

    @property
    def kind(self) -> Kind:
        if not self.cls:
            return "section"
        if not self.subclass_letter:
            return "class"
        if self.main is None:
            return "subclass"
        return "main_group" if self.sub == "00" else "subgroup"

    @property
    def subclass(self) -> str:
        return f"{self.section}{self.cls}{self.subclass_letter}"

    def __str__(self) -> str:
        if self.main is None:
            return f"{self.section}{self.cls}{self.subclass_letter}"
        return f"{self.subclass}{self.main}/{self.sub}"

    @property
    def fourteen(self) -> str:
        """WIPO 14-character form of a group (``H01L0029739000``); shorter levels as is."""
        if self.main is None:
            return str(self)
        return f"{self.subclass}{self.main:04d}{(self.sub or '00').ljust(6, '0')}"

    def truncate(self, kind: Kind) -> IPCSymbol:
        """The ancestor of this symbol at ``kind`` (itself when it is that coarse already)."""
        target = LEVEL_OF[kind]
        if LEVEL_OF[self.kind] <= target:
            return self
        if kind == "section":
            return IPCSymbol(self.section)
        if kind == "class":
            return IPCSymbol(self.section, self.cls)
        if kind == "subclass":
            return IPCSymbol(self.section, self.cls, self.subclass_letter)
        if kind == "main_group":
            return IPCSymbol(self.section, self.cls, self.subclass_letter, self.main, "00")
        return self


def _clean(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = _STAMP.sub("", s)
    s = re.sub(r"\s+", "", s).upper()
    return s.replace("／", "/").replace("\\", "/")


@lru_cache(maxsize=1 << 18)
def parse(symbol: str) -> IPCSymbol:
    """Parse any accepted notation to an :class:`IPCSymbol` (cached; raises IPCSymbolError)."""
    if not isinstance(symbol, str):
        raise IPCSymbolError(symbol, f"expected text, got {type(symbol).__name__}")
    if not symbol.strip():
        raise IPCSymbolError(symbol, "it is empty")
    s = _clean(symbol)
    if not s:
        raise IPCSymbolError(symbol, "nothing is left once the edition stamp is removed")
    if m := _GROUP.match(s):
        sec, cl, sc, main, sub = m.groups()
        return _group(symbol, sec, cl, sc, main, sub)
    if m := _FOURTEEN.match(s):
        sec, cl, sc, main, sub = m.groups()
        sub = sub.rstrip("0")
        return _group(symbol, sec, cl, sc, main, sub)
    if m := _BARE_MAIN.match(s):
        sec, cl, sc, main = m.groups()
        return _group(symbol, sec, cl, sc, main, "00")
    if m := _SUBCLASS.match(s):
        return IPCSymbol(m.group(1), m.group(2), m.group(3))
    if m := _CLASS.match(s):
        return IPCSymbol(m.group(1), m.group(2))
    if m := _SECTION.match(s):
        return IPCSymbol(m.group(1))
    return _explain(symbol, s)


def _group(original: str, sec: str, cl: str, sc: str, main: str, sub: str) -> IPCSymbol:
    main_no = int(main)
    if main_no == 0:
        raise IPCSymbolError(original, "the main-group number is 0")
    sub = sub.ljust(2, "0")
    return IPCSymbol(sec, cl, sc, main_no, sub)


def _explain(original: str, s: str) -> IPCSymbol:
    """Raise an IPCSymbolError that says what is wrong with ``s`` (never returns)."""
    if s[0] not in "ABCDEFGH":
        raise IPCSymbolError(original, f"the section must be a letter A-H, got {s[0]!r}")
    if len(s) >= 3 and not s[1:3].isdigit():
        raise IPCSymbolError(original, "the class must be two digits after the section letter")
    if len(s) >= 4 and not s[3].isalpha():
        raise IPCSymbolError(original, "the subclass must be a letter after the class digits")
    if "/" in s:
        raise IPCSymbolError(
            original, "a group must read like H01L29/739 (main group 1-4 digits, subgroup digits)"
        )
    raise IPCSymbolError(
        original,
        "expected a section (H), class (H01), subclass (H01L), group (H01L29/739) "
        "or a 14-character symbol (H01L0029739000)",
    )


def normalize(symbol: str) -> str:
    """Canonical text of any accepted notation: ``'h01l 29/739 (2006.01)'`` -> ``'H01L29/739'``."""
    return str(parse(symbol))


def try_normalize(symbol: str) -> str | None:
    """Canonical text, or None when ``symbol`` is not a valid IPC symbol."""
    try:
        return normalize(symbol)
    except IPCSymbolError:
        return None


def kind(symbol: str) -> Kind:
    """``section``, ``class``, ``subclass``, ``main_group`` or ``subgroup``."""
    return parse(symbol).kind


def to_fourteen(symbol: str) -> str:
    """WIPO 14-character form: ``'H01L29/739'`` -> ``'H01L0029739000'``."""
    return parse(symbol).fourteen


def truncate(symbol: str, level: Kind) -> str:
    """The ancestor at ``level`` (the symbol itself when already at or above that level)."""
    return str(parse(symbol).truncate(level))


def structural_ancestors(symbol: str) -> list[str]:
    """Ancestors known from the symbol alone, coarsest first: section, class, subclass, main group.

    Ancestors between a main group and a subgroup (dot levels) need the scheme: see
    :meth:`coretech.ipc.hierarchy.Hierarchy.ancestors`.
    """
    p = parse(symbol)
    out = []
    for k in KINDS[: LEVEL_OF[p.kind]]:
        out.append(str(p.truncate(k)))
    return out


_KIND_RE = re.compile(
    r"(?P<section>[A-H])|(?P<class>[A-H]\d{2})|(?P<subclass>[A-H]\d{2}[A-Z])"
    r"|(?P<main_group>[A-H]\d{2}[A-Z][1-9]\d*/00)"
    r"|(?P<subgroup>[A-H]\d{2}[A-Z][1-9]\d*/(?:\d{2}|\d{2,}[1-9]))"
)


def fast_kinds(codes: Iterable[object]) -> np.ndarray:
    """Kind of each code that is already canonical, in one regex pass (an object array; None
    for anything else, which the full :func:`parse` has to judge)."""
    match = _KIND_RE.fullmatch
    out = []
    for c in codes:
        m = match(c) if type(c) is str else None
        out.append(m.lastgroup if m is not None else None)
    arr = np.empty(len(out), dtype=object)
    arr[:] = out
    return arr


def sort_key(symbol: str) -> tuple[str, str, str, int, str]:
    """Order of the published scheme: subgroup digits compare as decimal fractions."""
    p = parse(symbol)
    return (p.section, p.cls, p.subclass_letter, -1 if p.main is None else p.main, p.sub or "")
