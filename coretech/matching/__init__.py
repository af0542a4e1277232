"""coretech.matching: map a technology catalogue to IPC codes, with evidence (docs/matching.md).

    from coretech.matching import Matcher, read_catalogue, run_match
    res = Matcher().fit(scheme).match(read_catalogue("catalogue.xlsx"))
    res.dictionary, res.candidates

Names are imported lazily so that ``coretech --help`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Matcher": "coretech.matching.matcher",
    "MatchResult": "coretech.matching.matcher",
    "assign_languages": "coretech.matching.matcher",
    "read_catalogue": "coretech.matching.catalogue",
    "validate_catalogue": "coretech.matching.catalogue",
    "read_overrides": "coretech.matching.dictionary",
    "DecisionRule": "coretech.matching.dictionary",
    "SchemeIndex": "coretech.matching.index",
    "Tokenizer": "coretech.matching.tokenize",
    "normalize_text": "coretech.matching.normalize",
    "run_match": "coretech.matching.cli",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'coretech.matching' has no attribute {name!r}")
