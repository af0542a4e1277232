"""The models stage as a study runs it: the ``[models]`` table (:class:`ModelsConfig`, parsed in
:mod:`coretech.models.config`) and :func:`run_models`, the file-level entry point of
``coretech models`` and of the pipeline's ``models`` stage.

Imports go one way: this module imports :mod:`coretech.models.suite`, which imports
:mod:`coretech.models.config`; neither imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coretech.models.config import PAPER_CONTROLS, PAPER_MEDIATORS, ModelsConfig, load_study

__all__ = ["PAPER_CONTROLS", "PAPER_MEDIATORS", "ModelsConfig", "load_study", "run_models"]


def run_models(panel: Any, *, study: Any = None, out: str | Path = "tables") -> dict[str, Any]:
    """File-level entry point (``coretech models``, ``coretech run``): see :mod:`coretech.models.suite`."""
    from coretech.models.suite import run_models as run_suite_models  # heavy: imported on use

    return run_suite_models(panel, study=study, out=out)
