"""Checks of a study's stage options before anything runs: each ``[stage]`` table against the
signature of the stage's function (unknown keys, wrong types and keys the pipeline sets itself
are errors naming the study file, line and key), plus the ``[match]``, ``[ipc] fetch``,
``[indicators]`` and ``[models]`` tables by their own readers.
"""

from __future__ import annotations

import re
from typing import Any

from coretech.errors import InputError
from coretech.pipeline.plan import StageUnavailable, reserved_names, resolve
from coretech.pipeline.stages import TARGETS
from coretech.pipeline.study import Study, check_options

#: The roles each stage fills itself (a study file may not set them as options).
STAGE_ROLES: dict[str, tuple[str, ...]] = {
    "ipc": ("out", "sources", "default"),
    "match": ("scheme", "out", "candidates", "overrides", "catalogue", "progress"),
    "audit": ("dictionary", "gold", "candidates", "out", "json", "scheme", "catalogue"),
    "breakthrough": ("patents", "dictionary", "scheme", "out", "lag_table", "progress"),
    "indicators": ("panel", "out"),
    "panel": ("panel", "out", "sicoughs", "indicators"),
    "models": ("panel", "out", "study"),
    "sensitivity": ("patents", "dictionary", "candidates", "breakthrough", "panel", "out", "ipc",
                    "base", "progress"),
    "report": ("out", "study_out", "study", "provenance"),
}



def validate(study: Study) -> None:
    """Check every stage table's options against its function (where the function exists)."""
    for table, targets in TARGETS.items():
        if table not in STAGE_ROLES or table in ("models", "indicators"):
            continue  # [models] and [indicators] are parsed by their stages' own readers
        opts = study.stage_options(table)
        if table == "ipc":
            opts.pop("fetch", None)
        if not opts:
            continue
        try:
            fn = resolve(targets, table)
        except StageUnavailable:
            continue
        check_options(
            Study(**{**study.__dict__, "options": {**study.options, table: opts}}),
            table,
            fn,
            reserved=reserved_names(STAGE_ROLES[table]),
        )
    fetch = study.options.get("ipc", {}).get("fetch")
    if fetch is not None:
        if not isinstance(fetch, dict) or "source" not in fetch:
            raise InputError('expected a table like {source = "wipo", edition = "2026.01"}',
                             **study.where("ipc", "fetch"))
        try:
            fn = resolve(TARGETS["fetch"], "fetch")
        except StageUnavailable:
            fn = None
        if fn is not None:
            opts = {k: v for k, v in fetch.items() if k != "source"}
            try:
                check_options(
                    Study(**{**study.__dict__, "options": {**study.options, "ipc": opts}}),
                    "ipc", fn, reserved=(*reserved_names(("out",)), "source"))
            except InputError as exc:
                key = (exc.column or "").split(".")[-1]
                raise InputError(exc.message.replace("option of ipc", "key of ipc.fetch"),
                                 file=exc.file, row=study.where("ipc", "fetch")["row"],
                                 column=f"ipc.fetch.{key}") from exc
    match_opts = study.stage_options("match")
    if match_opts:
        _check_matcher_options(study, match_opts)
    ind = study.stage_options("indicators")
    if ind and "spec" not in ind:
        try:
            from coretech.indicators.run import read_spec
        except ImportError:
            read_spec = None
        if read_spec is not None:
            try:
                read_spec(ind)
            except InputError as exc:
                if exc.file is None:
                    key = exc.column or next(iter(ind))
                    where = study.where("indicators", key)
                    m = re.search(r"key '([^']+)'", exc.message)
                    if m and isinstance(ind.get(key), dict):
                        where = study.where(f"indicators.{key}", m.group(1))
                    raise InputError(exc.message, **where) from exc
                raise
    elif ind and set(ind) != {"spec"}:
        raise InputError("give either spec = FILE or the spec's tables inline, not both",
                         **study.where("indicators", next(k for k in ind if k != "spec")))
    if "models" in study.options and study.options["models"]:
        try:
            from coretech.models.config import ModelsConfig
        except ImportError:
            return
        try:
            ModelsConfig.from_mapping(study.options["models"])
        except InputError as exc:
            if exc.file is None:
                raise InputError(exc.message, **study.where("models", exc.column)) from exc
            raise


def _check_matcher_options(study: Study, opts: dict[str, Any]) -> None:
    """run_match passes extra options to the Matcher: build one to check them up front."""
    try:
        from coretech.matching.matcher import Matcher
    except ImportError:
        return
    import inspect

    params = inspect.signature(Matcher.__init__).parameters
    for key in opts:
        if key not in params and key not in ("cache_dir",):
            allowed = sorted(n for n in params if n != "self")
            raise InputError(f"unknown option of match; allowed: {', '.join(allowed)}",
                             **study.where("match", key))
    kwargs = {k: (tuple(v) if k in ("ngram_range", "kinds") and isinstance(v, list) else v)
              for k, v in opts.items()}
    try:
        Matcher(**kwargs)
    except (TypeError, ValueError) as exc:
        key = next((k for k in opts if k in str(exc)), next(iter(opts)))
        raise InputError(str(exc), **study.where("match", key)) from exc
