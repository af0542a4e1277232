"""coretech.indicators: the paper's city indicators (METHODS.md §2-6) and panel helpers.

Location quotient (Cialomy, eq. 4), entropy-weight index (Nycives, Table 1), PCA composite
(robustness), factor-market distortion (Actros, eqs. 6-10), industrial-structure upgrading
(Irading, eq. 11), and winsorising / gap filling / logs. ``lag_distribution`` and
``lag_adjust`` (eq. 5) live in :mod:`coretech.indicators.lag` (the breakthrough stage) and
are re-exported here.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "advanced_structure": "coretech.indicators.structure",
    "check_unique": "coretech.indicators.transforms",
    "entropy_index": "coretech.indicators.entropy",
    "entropy_weights": "coretech.indicators.entropy",
    "EntropyIndex": "coretech.indicators.entropy",
    "find_duplicates": "coretech.indicators.transforms",
    "interpolate_panel": "coretech.indicators.transforms",
    "lag_adjust": "coretech.indicators.lag",
    "lag_distribution": "coretech.indicators.lag",
    "load_spec": "coretech.indicators.spec",
    "location_quotient": "coretech.indicators.lq",
    "log_column": "coretech.indicators.transforms",
    "pca_index": "coretech.indicators.pca",
    "PCAIndex": "coretech.indicators.pca",
    "perpetual_inventory": "coretech.indicators.distortion",
    "pillar_weights": "coretech.indicators.spec",
    "run_indicators": "coretech.indicators.run",
    "structure_upgrading": "coretech.indicators.structure",
    "theil_rationalization": "coretech.indicators.structure",
    "to_numeric": "coretech.indicators.transforms",
    "translog_distortion": "coretech.indicators.distortion",
    "TranslogDistortion": "coretech.indicators.distortion",
    "winsorize": "coretech.indicators.transforms",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (keeps ``coretech --help`` fast)."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
