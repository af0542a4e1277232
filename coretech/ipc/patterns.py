"""Patterns of IPC codes: exact symbols, ``*`` subtrees, and exclusions.

``G06N3/00`` means exactly that entry; ``G06N3*`` the main group and all its subgroups;
``H04K*`` the subclass; ``G06F21/62*`` that subgroup and the subgroups under it in the
hierarchy (this last case needs the scheme's dot levels: pass a :class:`Hierarchy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from coretech.ipc.hierarchy import Hierarchy
from coretech.ipc.symbols import LEVEL_OF, IPCSymbolError, parse, sort_key


@dataclass(frozen=True)
class Pattern:
    symbol: str  # canonical
    subtree: bool = False

    @classmethod
    def parse(cls, text: str) -> Pattern:
        t = str(text).strip()
        subtree = t.endswith("*")
        core = t.rstrip("*").strip()
        if not core:
            raise IPCSymbolError(text, "a pattern needs a symbol before '*'")
        return cls(str(parse(core)), subtree)

    @property
    def kind(self) -> str:
        return parse(self.symbol).kind

    def __str__(self) -> str:
        return self.symbol + ("*" if self.subtree else "")

    def contains(self, code: str, hierarchy: Hierarchy | None = None) -> bool:
        """Is ``code`` (canonical) this entry, or -- for a subtree pattern -- under it?"""
        if code == self.symbol:
            return True
        if not self.subtree:
            return False
        p = parse(self.symbol)
        c = parse(code)
        if p.kind != "subgroup":
            return LEVEL_OF[c.kind] > LEVEL_OF[p.kind] and str(c.truncate(p.kind)) == self.symbol
        if c.kind != "subgroup" or c.truncate("main_group") != p.truncate("main_group"):
            return False
        if hierarchy is None:
            raise ValueError(
                f"pattern {self}: a subgroup subtree needs the scheme's hierarchy (dot levels)"
            )
        return hierarchy.is_within(code, self.symbol)


@dataclass(frozen=True)
class PatternSet:
    """Included patterns minus excluded subtrees."""

    include: tuple[Pattern, ...]
    exclude: tuple[Pattern, ...] = field(default=())

    @classmethod
    def parse(cls, include: Iterable[str], exclude: Iterable[str] = ()) -> PatternSet:
        return cls(
            tuple(Pattern.parse(p) for p in include if str(p).strip()),
            tuple(Pattern.parse(p) for p in exclude if str(p).strip()),
        )

    def contains(self, code: str, hierarchy: Hierarchy | None = None) -> bool:
        return any(p.contains(code, hierarchy) for p in self.include) and not any(
            e.contains(code, hierarchy) for e in self.exclude
        )

    def expand(self, hierarchy: Hierarchy) -> list[str]:
        """Every code of the scheme that the set contains, in scheme order."""
        return sorted(
            (c for c in hierarchy.codes if self.contains(c, hierarchy)), key=sort_key
        )


def within(code: str, pattern: str, hierarchy: Hierarchy | None = None) -> bool:
    """Is ``code`` (any notation) within ``pattern`` (e.g. ``'G06N3*'``)?"""
    return Pattern.parse(pattern).contains(str(parse(code)), hierarchy)
