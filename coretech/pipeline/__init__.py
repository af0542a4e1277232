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

from coretech.pipeline.plan import Context, Plan, StageSkipped, StageUnavailable, rel
from coretech.pipeline.runner import StudyLocked, run_study
from coretech.pipeline.stages import STAGES
from coretech.pipeline.study import Study, load_study

__all__ = [
    "STAGES",
    "Context",
    "Plan",
    "StageSkipped",
    "StageUnavailable",
    "Study",
    "StudyLocked",
    "load_study",
    "rel",
    "run_study",
]
