"""Run a study's stages in order, skipping those whose inputs and options are unchanged.

Each stage is planned first (:mod:`coretech.pipeline.stages`: its input files, its options, its
output files, and the call that makes them). Its key is the SHA-256 of the stage name, the
content hashes of its inputs (user files and upstream outputs alike), its options, the package
versions and the hash of the stage's source code (:func:`coretech.pipeline.study.stage_key`).
The key, the hashes of the outputs and the list of files the stage wrote are stored in
``<out>/.coretech/<stage>.json``, written last; a stage whose key is unchanged and whose
outputs are still on disk, unmodified, is skipped. A changed option re-runs that stage, and the
stages downstream of it re-run exactly when an output they read changed.

**Output sets stay whole.** A stage writes into its own temporary folder
(``<out>/.coretech/tmp/<stage>/``); only when it has finished are its folders moved into the
output folder, each in one rename (files of other stages sharing the folder, such as
``simulate/``, are carried over). A failure or a kill leaves the previous set as it was,
never a new table beside an old ``.meta.json``; a folder caught between its two renames is put
back by the next run. **One run at a time:** a run holds ``<out>/.coretech/run.lock``
(an OS lock, released when the process ends, also on kill -9); a second ``coretech run`` on
the same output folder stops with a one-line message.

Progress goes to stderr, one line per stage. At the end the runner writes
``<out>/provenance.json`` (for every stage: the input hashes, options, outputs with hashes,
package versions, what it reported) and, apart, ``<out>/timings.json`` (seconds per stage and
whether it ran or was skipped), so that two runs from scratch give byte-identical files except
``timings.json``. Paths in both, and in every ``.meta.json`` a stage writes, are relative to
the output folder (:func:`coretech.provenance.paths_relative_to`); no working directory is
changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coretech.errors import CoretechError
from coretech.io import write_json
from coretech.pipeline.options import validate
from coretech.pipeline.plan import (
    Context,
    Plan,
    StageSkipped,
    StageUnavailable,
    bind,
    rel,
    relative,
    require,
    resolve,
)
from coretech.pipeline.stages import STAGE_CODE, STAGE_PLANNERS, _applies
from coretech.pipeline.study import Study, stage_key
from coretech.provenance import package_versions, paths_relative_to, relative_paths, sha256_file

STATE_DIR = ".coretech"
PROVENANCE_FILE = "provenance.json"
TIMINGS_FILE = "timings.json"
LOCK_FILE = "run.lock"


class StudyLocked(CoretechError):
    """Another run holds the output folder's lock."""


# --------------------------------------------------------------------------- hashing, state
def _hash(path: Path | None) -> str | None:
    if path is None:
        return None
    if path.is_dir():
        h = hashlib.sha256()
        for f in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(f.relative_to(path).as_posix().encode() + b"\0" + sha256_file(f).encode())
        return h.hexdigest()
    return sha256_file(path) if path.is_file() else None


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _code_hashes(modules: tuple[str, ...]) -> dict[str, str]:
    """SHA-256 over the source files of each module or package (all its .py files)."""
    import importlib.util

    out = {}
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin:
            continue
        if spec.submodule_search_locations:
            root = Path(next(iter(spec.submodule_search_locations)))
            files = sorted(root.rglob("*.py"))
        else:
            root, files = Path(spec.origin).parent, [Path(spec.origin)]
        h = hashlib.sha256()
        for f in files:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
        out[f"code:{name}"] = h.hexdigest()
    return out


def _summary(record: Any) -> Any:
    """A JSON-safe copy of a stage's returned record, paths relative to the output folder."""
    from coretech.io import _json_default

    try:
        return json.loads(json.dumps(relative_paths(record), default=_json_default,
                                     sort_keys=True))
    except (TypeError, ValueError):
        return {"repr": repr(record)}


# --------------------------------------------------------------------------- lock
@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Hold ``<out>/.coretech/run.lock`` for the duration; StudyLocked if another run has it.

    The lock is the operating system's (``fcntl.flock``; ``msvcrt.locking`` on Windows), so it
    goes with the process: a killed run leaves no stale lock. The file itself stays (empty).
    """
    path = out / STATE_DIR / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+b")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        try:
            _lock(fh)
        except OSError:
            raise StudyLocked(
                f"another coretech run is writing to {out} (it holds {path}); wait for it to "
                "finish or give another --out"
            ) from None
        yield path
    finally:
        fh.close()  # closing releases the lock


def _lock(fh: Any) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


# --------------------------------------------------------------------------- output sets
def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _recover(out: Path) -> None:
    """Undo what an interrupted run left: drop staging folders; put back a folder that was
    moved aside but whose replacement never arrived."""
    state = out / STATE_DIR
    shutil.rmtree(state / "tmp", ignore_errors=True)
    old = state / "old"
    if old.is_dir():
        for d in sorted(old.iterdir()):
            final = out / d.name.split("--", 1)[-1]
            if not final.exists():
                os.replace(d, final)
            else:
                shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _commit(out: Path, staging: Path, stage: str, previous: list[str],
            others: set[str]) -> list[str]:
    """Move a finished stage's files from ``staging`` into ``out`` folder by folder.

    A folder of the new set is completed first with the files of ``out/<folder>`` that are
    not this stage's (not written now, not listed as its files by its previous run, or listed
    by another stage), then swapped in: old folder aside, new folder in, old folder removed.
    Returns the files written (relative to ``out``).
    """
    written = _files_under(staging)
    mine = set(previous) | set(written)
    for entry in sorted(staging.iterdir()):
        final = out / entry.name
        if entry.is_file():
            os.replace(entry, final)
            continue
        if final.is_dir():
            for rel_name in _files_under(final):
                name = f"{entry.name}/{rel_name}"
                if name in written or (name in mine and name not in others):
                    continue
                dst = staging / name
                dst.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(final / rel_name, dst)
                except OSError:
                    shutil.copy2(final / rel_name, dst)
        aside = out / STATE_DIR / "old" / f"{stage}--{entry.name}"
        if final.exists():
            aside.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(final, aside)
        os.replace(entry, final)
        shutil.rmtree(aside, ignore_errors=True)
    return written


def _final(p: Path, staging: Path, out: Path) -> Path:
    try:
        return out / p.relative_to(staging)
    except ValueError:
        return p


# --------------------------------------------------------------------------- the run
def run_study(
    study: Study,
    *,
    quiet: bool = False,
    force: bool | tuple[str, ...] = False,
) -> dict[str, Any]:
    """Run every stage of ``study`` into ``study.out``; return the provenance record.

    ``force`` re-runs every stage (True) or the named ones. Stages whose code is missing
    from this installation are reported as "not available yet" and the run goes on with the
    stages that do not need their outputs. Raises :class:`StudyLocked` when another run is
    writing to the same output folder.
    """
    out = study.out
    out.mkdir(parents=True, exist_ok=True)
    validate(study)
    with output_lock(out):
        _recover(out)
        try:
            return _run(study, out, quiet=quiet, force=force)
        finally:
            shutil.rmtree(out / STATE_DIR / "tmp", ignore_errors=True)
            with contextlib.suppress(OSError):
                (out / STATE_DIR / "old").rmdir()  # empty unless a swap was interrupted


def _run(study: Study, out: Path, *, quiet: bool, force: bool | tuple[str, ...]) -> dict[str, Any]:
    ctx = Context(study=study, out=out, quiet=quiet)
    versions = package_versions()
    prov: dict[str, Any] = {
        "study": {
            "name": study.name,
            "file": relative(study.path, out),
            "sha256": _hash(study.path),
        },
        "packages": versions,
        "stages": {},
    }
    ctx.provenance = prov
    timings: dict[str, Any] = {"stages": {}}
    names = [s for s, _ in STAGE_PLANNERS if _applies(study, s)]
    prov["order"] = names
    states = {n: _read_state(out / STATE_DIR / f"{n}.json") or {} for n in names}
    ctx.say(f"coretech run: {study.name} -> {out}")
    t_all = time.perf_counter()

    def finish(name: str, status: str, message: str, secs: float = 0.0) -> None:
        prov["stages"][name] = {"status": status, "message": message}
        timings["stages"][name] = {"status": status, "seconds": round(secs, 3)}

    for name, planner in STAGE_PLANNERS:
        if name not in names:
            continue
        head = f"[{names.index(name) + 1}/{len(names)}] {name:<16}"
        t0 = time.perf_counter()
        if not study.is_enabled(name):
            finish(name, "disabled", f"[{name}] enabled = false")
            ctx.say(f"{head} disabled in the study file")
            continue
        staging = out / STATE_DIR / "tmp" / name
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        ctx.staging = staging
        try:
            plan = planner(ctx)
        except StageUnavailable as exc:
            finish(name, "not available yet", str(exc))
            ctx.say(f"{head} NOT AVAILABLE YET: {exc}")
            continue
        except StageSkipped as exc:
            finish(name, "not run", str(exc))
            ctx.say(f"{head} not run: {exc}")
            continue
        finally:
            ctx.staging = None
        if plan is None:
            continue
        finals = {r: _final(p, staging, out) for r, p in plan.outputs.items()}
        in_hashes = {k: _hash(v) for k, v in plan.inputs.items()}
        key = stage_key(name, input_hashes=in_hashes,
                        options=relative_options(plan.options, out),
                        versions={**versions,
                                  **_code_hashes(plan.code or STAGE_CODE.get(name, ()))})
        state_path = out / STATE_DIR / f"{name}.json"
        state = states.get(name) or {}
        forced = force is True or (isinstance(force, tuple) and name in force)
        unchanged = (
            state.get("key") == key
            and all(_hash(p) == state.get("outputs", {}).get(r) for r, p in finals.items())
        )
        if unchanged and not forced:
            status = "skipped (unchanged)"
            record = state.get("record") or {}
        else:
            ctx.say(f"{head} running ...")
            state_path.unlink(missing_ok=True)  # a failed run must not look finished
            try:
                with paths_relative_to(out, staging=staging):
                    record = plan.call() or {}
                missing = [r for r, p in plan.outputs.items() if _hash(p) is None]
                if missing:
                    raise CoretechError(
                        f"stage {name!r} finished but did not write its output(s) "
                        f"{', '.join(relative(finals[r], out) or r for r in missing)}"
                    )
                with paths_relative_to(out, staging=staging):
                    record = _summary(record)
                others = {f for n, s in states.items() if n != name for f in s.get("files", [])}
                files = _commit(out, staging, name, state.get("files", []), others)
            except BaseException as exc:
                secs = time.perf_counter() - t0
                finish(name, "failed", str(exc) or repr(exc), secs)
                timings["total_seconds"] = round(time.perf_counter() - t_all, 3)
                write_json(out / PROVENANCE_FILE, prov)
                write_json(out / TIMINGS_FILE, timings)
                ctx.say(f"{head} FAILED after {secs:.1f} s (the outputs of earlier runs are "
                        "kept as they were; fix the input and run again)")
                raise
            out_hashes = {r: _hash(p) for r, p in finals.items()}
            states[name] = {"key": key, "outputs": out_hashes, "record": record, "files": files}
            write_json(state_path, states[name])  # last: the set is whole
            status = "ran"
        ctx.outputs[name] = finals
        ctx.records[name] = record
        secs = time.perf_counter() - t0
        entry: dict[str, Any] = {
            "status": "ok",
            "key": key,
            "inputs": {
                k: {"path": plan.input_labels.get(k) or relative(v, out), "sha256": in_hashes[k]}
                for k, v in sorted(plan.inputs.items())
            },
            "options": relative_options(plan.options, out),
            "outputs": {
                r: {"path": relative(p, out), "sha256": _hash(p)} for r, p in sorted(finals.items())
            },
            "record": record,
        }
        if plan.note:
            entry["note"] = plan.note
        prov["stages"][name] = entry
        timings["stages"][name] = {"status": status, "seconds": round(secs, 3)}
        ctx.say(f"{head} {status} in {secs:.1f} s")
    total = time.perf_counter() - t_all
    timings["total_seconds"] = round(total, 3)
    write_json(out / PROVENANCE_FILE, prov)
    write_json(out / TIMINGS_FILE, timings)
    ctx.say(f"done in {total:.1f} s; provenance: {out / PROVENANCE_FILE}")
    prov["timings"] = timings
    return prov


def relative_options(options: dict[str, Any], out: Path) -> Any:
    """A stage's options as provenance shows them: paths relative to the output folder."""
    with paths_relative_to(out):
        return relative_paths(options)


__all__ = [
    "STAGE_PLANNERS",
    "Context",
    "CoretechError",
    "Plan",
    "StageSkipped",
    "StageUnavailable",
    "StudyLocked",
    "bind",
    "output_lock",
    "rel",
    "require",
    "resolve",
    "run_study",
    "validate",
]
