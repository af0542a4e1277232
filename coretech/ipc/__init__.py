"""IPC symbols, patterns, the hierarchy and the scheme table (shared by every stage)."""

from coretech.ipc.hierarchy import Hierarchy, hierarchy_of
from coretech.ipc.patterns import Pattern, PatternSet, within
from coretech.ipc.symbols import (
    KINDS,
    IPCSymbol,
    IPCSymbolError,
    kind,
    normalize,
    parse,
    sort_key,
    structural_ancestors,
    to_fourteen,
    truncate,
    try_normalize,
)

__all__ = [
    "KINDS",
    "Hierarchy",
    "IPCSymbol",
    "IPCSymbolError",
    "Pattern",
    "PatternSet",
    "hierarchy_of",
    "kind",
    "normalize",
    "parse",
    "sort_key",
    "structural_ancestors",
    "to_fourteen",
    "truncate",
    "try_normalize",
    "within",
]
