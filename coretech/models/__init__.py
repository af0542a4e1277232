"""coretech.models: the paper's Tables 2-7 (two-way FE, IV-GMM, robustness, heterogeneity,
mechanisms) with Stata-identical statistics, and publication tables.

Imports are lazy so that ``coretech --help`` stays fast::

    from coretech.models import twfe, iv_gmm, hausman, mechanism

Two public functions share their name with the submodule that defines them (``hausman``,
``mechanism``). Importing a submodule normally sets the package attribute of that name to the
module, which would then shadow the function; the package's module class therefore holds
those names as properties: reading one always gives the function, and the import system's
assignment of the submodule is kept aside (``sys.modules`` still holds the module, so
``from coretech.models.hausman import HausmanResult`` works as before).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_EXPORTS = {
    "twfe": "coretech.models.fe",
    "iv_gmm": "coretech.models.iv",
    "add_lag": "coretech.models.iv",
    "hausman": "coretech.models.hausman",
    "subsamples": "coretech.models.heterogeneity",
    "interaction_test": "coretech.models.heterogeneity",
    "chow_test": "coretech.models.heterogeneity",
    "stacked_test": "coretech.models.heterogeneity",
    "wild_bootstrap_test": "coretech.models.heterogeneity",
    "permutation_test": "coretech.models.heterogeneity",
    "mechanism": "coretech.models.mechanism",
    "simulate_panel": "coretech.models.simulate",
    "stock_yogo": "coretech.models.diagnostics",
    "RegressionResult": "coretech.models.results",
    "ModelsConfig": "coretech.models.config",
    "run_suite": "coretech.models.suite",
    "run_models": "coretech.models.suite",
}

__all__ = sorted(_EXPORTS)

#: exported names that are also the names of submodules
_SHADOWED = tuple(n for n, mod in _EXPORTS.items() if mod.rsplit(".", 1)[1] == n)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'coretech.models' has no attribute {name!r}")


def _function_property(name: str) -> property:
    def get(self: types.ModuleType) -> Any:
        return getattr(importlib.import_module(_EXPORTS[name]), name)

    def set_(self: types.ModuleType, value: Any) -> None:
        # the import system binds the submodule here: keep it aside, never shadow the function
        self.__dict__.setdefault("_submodules", {})[name] = value

    return property(get, set_)


class _ModelsModule(types.ModuleType):
    pass


for _name in _SHADOWED:
    setattr(_ModelsModule, _name, _function_property(_name))

sys.modules[__name__].__class__ = _ModelsModule
