"""What a stage tells the runner: its :class:`Plan` (inputs, options, outputs, the call), the
:class:`Context` a run passes from stage to stage, and how a stage's file-level function is
found (:func:`resolve`) and called with the pipeline's files under its own parameter names
(:func:`bind`).

No working directory is involved: every path handed to a stage function is absolute, resolved
against the study folder (inputs) or the output folder (outputs) by :func:`rel`.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coretech.errors import CoretechError
from coretech.pipeline.study import Study


class StageUnavailable(CoretechError):
    """A stage's code is not in this installation (yet); the stage is reported and left out."""


class StageSkipped(CoretechError):
    """A stage cannot run because an upstream stage it needs did not produce its outputs."""


@dataclass
class Plan:
    """What a stage reads, which options it takes, what it writes and how."""

    inputs: dict[str, Path | None]
    options: dict[str, Any]
    outputs: dict[str, Path]
    call: Callable[[], dict[str, Any] | None]
    note: str = ""
    input_labels: dict[str, str] = field(default_factory=dict)
    #: Modules whose source is part of the key (code changed without a version bump, as in an
    #: editable install, re-runs the stage).
    code: tuple[str, ...] = ()


@dataclass
class Context:
    """The state a run passes from stage to stage.

    While the runner plans and runs one stage, ``staging`` is that stage's temporary folder:
    :meth:`path` and :meth:`folder` point into it, and the runner moves the stage's files into
    the output folder together once the stage has finished (``docs/pipeline.md``).
    """

    study: Study
    out: Path
    quiet: bool = False
    outputs: dict[str, dict[str, Path]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    staging: Path | None = None

    def output(self, stage: str, role: str) -> Path | None:
        """The output ``role`` of an upstream ``stage``, or None if it did not make one."""
        p = self.outputs.get(stage, {}).get(role)
        return p if p is not None and p.exists() else None

    def folder(self, name: str) -> Path:
        """The folder ``name`` a stage writes into (created; inside ``staging`` while set)."""
        d = (self.staging or self.out) / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def path(self, stage: str, name: str) -> Path:
        """Where ``stage`` writes its file ``name`` (folder created)."""
        return self.folder(stage) / name

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(msg, file=sys.stderr, flush=True)

    def progress(self, msg: str) -> None:
        """Progress inside a stage (indented under the stage's line)."""
        self.say(f"      {msg}")


def require(value: Path | None, what: str) -> Path:
    """Raise StageSkipped when an upstream output ``what`` is missing."""
    if value is None:
        raise StageSkipped(f"needs {what}, which no earlier stage produced")
    return value


def resolve(candidates: tuple[tuple[str, str], ...], stage: str) -> Callable[..., Any]:
    """Import the first available ``module.attr`` of ``candidates``; else StageUnavailable."""
    tried = []
    for mod_name, attr in candidates:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == mod_name or mod_name.startswith(exc.name + ".")):
                tried.append(f"{mod_name}.{attr}")
                continue
            raise
        fn = getattr(mod, attr, None)
        if fn is not None:
            return fn
        tried.append(f"{mod_name}.{attr}")
    raise StageUnavailable(
        f"stage {stage!r} is not available yet in this installation (looked for {', '.join(tried)})"
    )


def relative(path: Path | str | None, out: Path) -> str | None:
    """``path`` relative to the output folder ``out``, with ``/`` (how provenance names files)."""
    if path is None:
        return None
    p = Path(path)
    try:
        return os.path.relpath(p.resolve(), out.resolve()).replace(os.sep, "/")
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(p)


def rel(ctx: Context, p: Path | str | None) -> str | None:
    """``p`` as a stage function is given it: an absolute path (no working directory is used;
    relative paths are taken against the output folder)."""
    if p is None:
        return None
    q = Path(p)
    return str((q if q.is_absolute() else ctx.out / q).resolve())


#: Parameter names a stage function may use for each input the pipeline fills in.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "scheme": ("ipc", "scheme", "ipc_path", "scheme_path"),
    "out": ("out", "output", "out_path"),
    "candidates": ("candidates", "candidates_out", "candidates_path"),
    "overrides": ("overrides", "overrides_path"),
    "dictionary": ("dictionary", "dictionary_path"),
    "gold": ("gold", "gold_path"),
    "json": ("json", "json_out", "metrics", "json_path"),
    "lag_table": ("lag_table", "lags", "lag_table_out"),
    "spec": ("spec", "spec_path"),
    "study": ("study", "config", "models_config", "study_path"),
    "catalogue": ("catalogue", "catalogue_path"),
    "progress": ("progress",),
}


def bind(
    func: Callable[..., Any],
    stage: str,
    positional: list[Any],
    named: dict[str, Any],
    options: dict[str, Any],
    optional: dict[str, Any] | None = None,
) -> Callable[[], Any]:
    """A call of ``func`` with ``positional``, each named role under the parameter name the
    function uses for it (:data:`ROLE_NAMES`), and the study's options. Roles in
    ``optional`` are passed only when the function takes them."""
    params = inspect.signature(func).parameters
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    kwargs: dict[str, Any] = {}
    for role, value in (optional or {}).items():
        name = next((n for n in ROLE_NAMES.get(role, (role,)) if n in params), None)
        if value is not None and name is not None:
            kwargs[name] = value
    for role, value in named.items():
        if value is None:
            continue
        names = ROLE_NAMES.get(role, (role,))
        name = next((n for n in names if n in params), None)
        if name is None:
            if var_kw:
                name = names[0]
            else:
                raise StageUnavailable(
                    f"stage {stage!r}: {func.__module__}.{func.__name__} takes no parameter for "
                    f"{role!r} (looked for {', '.join(names)})"
                )
        kwargs[name] = value
    kwargs.update(options)
    return lambda: func(*positional, **kwargs)


def reserved_names(roles: tuple[str, ...]) -> tuple[str, ...]:
    """The parameter names of ``roles`` (a study file may not set them as options)."""
    return tuple(n for r in roles for n in ROLE_NAMES.get(r, (r,)))
