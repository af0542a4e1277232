"""What every reader returns: the scheme rows, defect counts and the rows it could not use."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from coretech.ipc.symbols import IPCSymbol, parse

REJECT_COLUMNS = ["source", "line", "raw", "reason"]


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in REJECT_COLUMNS})


@dataclass
class ReadResult:
    """Result of reading IPC scheme sources.

    ``table``    the scheme rows (:data:`coretech.ipc.scheme.SCHEME_COLUMNS`, then extras)
    ``defects``  defect class -> count (what the source got wrong and what was done about it;
                 a row may carry several defects)
    ``rejects``  rows that could not be used: ``source``, ``line`` (line or spreadsheet row
                 number), ``raw`` (the text as read), ``reason``
    ``stats``    descriptive counts: rows by kind, headings, fragments, references, skipped
                 non-entry lines ...
    """

    table: pd.DataFrame
    defects: dict[str, int] = field(default_factory=dict)
    rejects: pd.DataFrame = field(default_factory=empty_rejects)
    stats: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    #: source -> {"rows", "rejected_rows", "defects"} when several sources were merged
    per_source: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts as one JSON-ready dict (stats, defects, rejected rows)."""
        return {
            "rows": len(self.table),
            "stats": dict(sorted(self.stats.items())),
            "defects": dict(sorted(self.defects.items())),
            "rejected_rows": len(self.rejects),
        }


class Collector:
    """Accumulates rows, rejects and defect counts while a reader walks a source."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
        self.defects: Counter[str] = Counter()
        self.stats: Counter[str] = Counter()

    def reject(self, line: int | None, raw: str, reason: str, defect: str | None = None) -> None:
        self.rejects.append(
            {"source": self.source, "line": line, "raw": raw, "reason": reason}
        )
        if defect:
            self.defects[defect] += 1

    def rejects_frame(self) -> pd.DataFrame:
        if not self.rejects:
            return empty_rejects()
        return pd.DataFrame(self.rejects, columns=REJECT_COLUMNS).astype(object)


def structural_parent(sym: IPCSymbol) -> str | None:
    """The parent certain from the symbol alone (a subgroup's: its main group)."""
    k = sym.kind
    if k == "section":
        return None
    if k == "class":
        return str(sym.truncate("section"))
    if k == "subclass":
        return str(sym.truncate("class"))
    if k == "main_group":
        return str(sym.truncate("subclass"))
    return str(sym.truncate("main_group"))


_FOURTEEN = re.compile(r"[A-H]\d{2}[A-Z]\d{10}")
_SHORT = re.compile(r"[A-H](?:\d{2}[A-Z]?)?")


def fast_symbol(text: str) -> tuple[str, str, str | None]:
    """(canonical code, kind, structural parent) of a symbol; fast for WIPO 14-character and
    section/class/subclass forms (the bulk of a title list), :func:`parse` otherwise.

    Raises :class:`coretech.ipc.IPCSymbolError` for a string that is no IPC symbol.
    """
    n = len(text)
    if n == 14 and _FOURTEEN.fullmatch(text):
        main = int(text[4:8])
        if main:
            sub = text[8:].rstrip("0")
            mg = f"{text[:4]}{main}/00"
            if not sub:
                return mg, "main_group", text[:4]
            return f"{text[:4]}{main}/{sub.ljust(2, '0')}", "subgroup", mg
    elif n <= 4 and _SHORT.fullmatch(text):
        if n == 1:
            return text, "section", None
        if n == 3:
            return text, "class", text[0]
        return text, "subclass", text[:3]
    sym = parse(text)
    return str(sym), sym.kind, structural_parent(sym)


_CANON_GROUP = re.compile(r"([A-H][0-9]{2}[A-Z])([1-9][0-9]{0,3})/([0-9]{2,6})")
_CANON_SHORT = re.compile(r"[A-H](?:[0-9]{2}[A-Z]?)?")


def canonical_symbol(text: str) -> tuple[str, str, str | None]:
    """(canonical code, kind, structural parent) like :func:`fast_symbol`, with a fast path for
    symbols already in canonical form (``H01L29/739``, ``H01L``): equal to
    ``str(parse(text))``, ``parse(text).kind`` and :func:`structural_parent` (tested)."""
    m = _CANON_GROUP.fullmatch(text)
    if m is not None:
        sc, main, sub = m.groups()
        if sub == "00":
            return text, "main_group", sc
        return text, "subgroup", f"{sc}{main}/00"
    if len(text) <= 4 and _CANON_SHORT.fullmatch(text):
        n = len(text)
        if n == 1:
            return text, "section", None
        if n == 3:
            return text, "class", text[0]
        return text, "subclass", text[:3]
    return fast_symbol(text)


def parse_quiet(text: str) -> IPCSymbol | None:
    try:
        return parse(text)
    except ValueError:
        return None
