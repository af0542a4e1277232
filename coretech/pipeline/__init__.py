"""The pipeline: one study file in, every stage's outputs, a report and provenance out.

The modules, in the order data flows through them (``docs/pipeline.md`` has the map):

* :mod:`~coretech.pipeline.study`: the study file (inputs, options of every stage);
* :mod:`~coretech.pipeline.plan`: what a stage hands the runner (Plan, Context, binding);
* :mod:`~coretech.pipeline.stages`: one small function per stage, the order in one list;
* :mod:`~coretech.pipeline.options`: the stage options checked before anything runs;
* :mod:`~coretech.pipeline.runner`: skip-by-hash, whole output sets, the lock, provenance,
  timings;
* :mod:`~coretech.pipeline.panel`, :mod:`~coretech.pipeline.report`,
  :mod:`~coretech.pipeline.figures`: the models' panel and the study report;
* :mod:`~coretech.pipeline.demo`: assembles the demo's study and runs it;
* :mod:`~coretech.pipeline.cli`: ``coretech run`` and ``coretech demo``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Imported on first use, so that ``coretech --help`` (which registers ``coretech.pipeline.cli``)
#: stays fast.
_EXPORTS = {
    "Context": "coretech.pipeline.plan",
    "Plan": "coretech.pipeline.plan",
    "StageSkipped": "coretech.pipeline.plan",
    "StageUnavailable": "coretech.pipeline.plan",
    "rel": "coretech.pipeline.plan",
    "StudyLocked": "coretech.pipeline.runner",
    "run_study": "coretech.pipeline.runner",
    "STAGES": "coretech.pipeline.stages",
    "Study": "coretech.pipeline.study",
    "load_study": "coretech.pipeline.study",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'coretech.pipeline' has no attribute {name!r}")
