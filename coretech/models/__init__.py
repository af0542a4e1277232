"""coretech.models: the paper's Tables 2-7 (two-way FE, IV-GMM, robustness, heterogeneity,
mechanisms) with Stata-identical statistics, and publication tables.

Imports are lazy so that ``coretech --help`` stays fast::

    from coretech.models import twfe, iv_gmm
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "twfe": "coretech.models.fe",
    "iv_gmm": "coretech.models.iv",
    "add_lag": "coretech.models.iv",
    "hausman": "coretech.models.hausman",
    "subsamples": "coretech.models.heterogeneity",
    "interaction_test": "coretech.models.heterogeneity",
    "permutation_test": "coretech.models.heterogeneity",
    "mechanism": "coretech.models.mechanism",
    "simulate_panel": "coretech.models.simulate",
    "stock_yogo": "coretech.models.diagnostics",
    "RegressionResult": "coretech.models.results",
    "ModelsConfig": "coretech.models.study",
    "run_suite": "coretech.models.suite",
    "run_models": "coretech.models.suite",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'coretech.models' has no attribute {name!r}")
