"""What every reader returns: the scheme rows, defect counts and the rows it could not use."""

from __future__ import annotations

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


def parse_quiet(text: str) -> IPCSymbol | None:
    try:
        return parse(text)
    except ValueError:
        return None
