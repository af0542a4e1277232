"""The IPC hierarchy of a scheme table: parents, ancestors and subtrees, dot levels included.

A subgroup's parent is not visible in its symbol (``H01L29/739`` sits under ``H01L29/73``
under ``H01L29/72`` ...): it comes from the scheme table's ``parent`` column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from coretech.ipc.symbols import parse, sort_key, structural_ancestors

if TYPE_CHECKING:
    import pandas as pd


class Hierarchy:
    """Parent links of a scheme. Build with :meth:`from_scheme` or from a ``{code: parent}`` map.

    Codes missing from the map fall back to the ancestors visible in the symbol itself
    (section, class, subclass, main group).
    """

    def __init__(self, parents: dict[str, str | None]) -> None:
        self.parents = {c: (p or None) for c, p in parents.items()}
        children: dict[str, list[str]] = defaultdict(list)
        for c, p in self.parents.items():
            if p:
                children[p].append(c)
        self.children = {p: sorted(cs, key=sort_key) for p, cs in children.items()}

    @classmethod
    def from_scheme(cls, scheme: pd.DataFrame) -> Hierarchy:
        """From a scheme table (columns ``code``, ``parent``); one language's rows suffice."""
        df = scheme[["code", "parent"]].drop_duplicates("code")
        parents = {
            str(c): (str(p) if isinstance(p, str) and p else None)
            for c, p in zip(df["code"], df["parent"].where(df["parent"].notna(), None), strict=True)
        }
        return cls(parents)

    def __contains__(self, code: str) -> bool:
        return code in self.parents

    @property
    def codes(self) -> list[str]:
        return list(self.parents)

    def parent(self, code: str) -> str | None:
        if code in self.parents:
            return self.parents[code]
        anc = structural_ancestors(code)
        return anc[-1] if anc else None

    def ancestors(self, code: str) -> list[str]:
        """All ancestors, coarsest first (section ... parent)."""
        chain: list[str] = []
        seen = {code}
        cur = self.parent(code)
        while cur is not None and cur not in seen:
            chain.append(cur)
            seen.add(cur)
            cur = self.parent(cur)
        chain.reverse()
        return chain

    def is_within(self, code: str, ancestor: str) -> bool:
        """True when ``code`` is ``ancestor`` or lies in its subtree."""
        return code == ancestor or ancestor in self.ancestors(code)

    def descendants(self, code: str) -> list[str]:
        """Every entry below ``code`` in the scheme, in scheme order (not ``code`` itself)."""
        out: list[str] = []
        stack = list(reversed(self.children.get(code, [])))
        while stack:
            c = stack.pop()
            out.append(c)
            stack.extend(reversed(self.children.get(c, [])))
        return out

    def subtree(self, code: str) -> list[str]:
        return [code, *self.descendants(code)]

    def depth_of(self, code: str) -> int:
        return len(self.ancestors(code))


def hierarchy_of(codes: Iterable[str]) -> Hierarchy:
    """A hierarchy from symbols alone (no dot levels): each code's structural parent."""
    parents: dict[str, str | None] = {}
    for c in codes:
        anc = structural_ancestors(c)
        parents[str(parse(c))] = anc[-1] if anc else None
    return Hierarchy(parents)
