"""coretech's disk cache, stored so that nothing read back can run code, and checked before use.

What is stored (see docs/performance.md, "cache"):

* the embedded English scheme: a Parquet table and a JSON record of its counts,
* the matcher's TF-IDF index of a scheme: one ``.npz`` of plain numeric arrays (text as UTF-8
  bytes plus offsets, never object arrays), read with ``numpy.load(..., allow_pickle=False)``,
* a JSON *manifest* per entry, written last, naming each payload file with its SHA-256.

How it is checked, on every read:

1. the folder: owned by the current user, and not writable by group or others unless it has
   the sticky bit (as ``/tmp``); otherwise :func:`safe_cache_dir` warns
   (:class:`CacheSafetyWarning`) and falls back to the user's private folder
   (``~/.cache/coretech``, created with mode 0700), or to no disk cache at all;
2. each file: a regular file (not a symbolic link), owned by the current user and not writable
   by group or others;
3. each payload: its bytes hash to the SHA-256 in the manifest (the bytes hashed are the bytes
   parsed, so a file swapped in between cannot slip through).

A file that fails 2 or 3 is not used: the entry is rebuilt and written again. Nothing here
unpickles; a file left at an old cache name (``*.pkl``) is never opened.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST_VERSION = 1


class CacheSafetyWarning(UserWarning):
    """A cache folder or file that another user could have written was not used."""


class CacheError(Exception):
    """A cache entry that cannot be used (missing, unsafe, or not matching its manifest)."""


def _euid() -> int | None:
    return os.geteuid() if hasattr(os, "geteuid") else None


def unsafe_reason(path: Path, *, folder: bool) -> str | None:
    """Why ``path`` is not safe to trust as a cache folder (``folder``) or file; None if it is.

    A folder must be owned by the current user and, when group- or world-writable, carry the
    sticky bit. A file must be a regular file (not a link), owned by the current user, and
    writable by nobody else. On systems without user ids (Windows) nothing is checked.
    """
    uid = _euid()
    if uid is None:
        return None
    try:
        st = path.stat() if folder else path.lstat()
    except OSError as exc:
        return f"cannot be inspected ({exc.strerror})"
    if folder:
        if not stat.S_ISDIR(st.st_mode):
            return "is not a folder"
    elif not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a link or a device)"
    if st.st_uid != uid:
        return f"is owned by user id {st.st_uid}, not by you (user id {uid})"
    writable_by_others = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if writable_by_others and not (folder and st.st_mode & stat.S_ISVTX):
        who = "group and others" if st.st_mode & stat.S_IWOTH else "its group"
        extra = " without the sticky bit" if folder else ""
        return f"is writable by {who}{extra} (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def private_cache_dir() -> Path:
    """The user's own cache folder: ``$XDG_CACHE_HOME/coretech`` or ``~/.cache/coretech``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "coretech"


def safe_cache_dir(path: Path | None, *, fallback: bool = True) -> Path | None:
    """``path`` if it is safe to use as a cache folder (or does not exist yet), else the user's
    private folder (when ``fallback`` and that one is safe), else None (no disk cache).

    An unsafe folder is named in a :class:`CacheSafetyWarning` with the reason.
    """
    if path is None:
        return None
    if not path.exists():
        return path
    why = unsafe_reason(path, folder=True)
    if why is None:
        return path
    alt = private_cache_dir() if fallback else None
    if alt is not None and alt.resolve() != path.resolve():
        alt_why = unsafe_reason(alt, folder=True) if alt.exists() else None
        if alt_why is None:
            warnings.warn(f"cache folder {path} {why}: not used; caching in {alt} instead",
                          CacheSafetyWarning, stacklevel=3)
            return alt
    warnings.warn(f"cache folder {path} {why}: not used; nothing is cached on disk",
                  CacheSafetyWarning, stacklevel=3)
    return None


def make_cache_dir(path: Path) -> None:
    """Create ``path`` (and parents) private to the user (mode 0700) when it does not exist."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename; mode 0644."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_checked(path: Path) -> bytes:
    """The bytes of a cache file, after the file checks (raises :class:`CacheError`)."""
    why = unsafe_reason(path, folder=False)
    if why is not None:
        raise CacheError(f"{path} {why}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CacheError(f"{path}: {exc.strerror}") from exc


# ------------------------------------------------------------------ manifests
def write_entry(folder: Path, manifest_name: str, payloads: Mapping[str, bytes],
                info: Mapping[str, Any]) -> Path:
    """Write the payload files, then the manifest naming each with its SHA-256 (last)."""
    make_cache_dir(folder)
    hashes = {}
    for name, data in payloads.items():
        atomic_write(folder / name, data)
        hashes[name] = sha256_bytes(data)
    manifest = {"manifest": MANIFEST_VERSION, "files": hashes, "info": dict(info)}
    path = folder / manifest_name
    atomic_write(path, (json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=1)
                        + "\n").encode("utf-8"))
    return path


def read_entry(folder: Path, manifest_name: str,
               expect: Mapping[str, Any] | None = None) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The verified payload bytes and the ``info`` of a cache entry.

    Raises :class:`CacheError` when the manifest or a payload is missing, unsafe (see
    :func:`unsafe_reason`), not matching its SHA-256, or when ``info`` differs from
    ``expect`` in a key ``expect`` names.
    """
    mpath = folder / manifest_name
    if not mpath.is_file():
        raise CacheError(f"{mpath}: no manifest")
    try:
        manifest = json.loads(read_checked(mpath).decode("utf-8"))
        files = dict(manifest["files"])
        info = dict(manifest["info"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CacheError(f"{mpath}: not a cache manifest") from exc
    if manifest.get("manifest") != MANIFEST_VERSION:
        raise CacheError(f"{mpath}: manifest version {manifest.get('manifest')!r}")
    for k, v in (expect or {}).items():
        if info.get(k) != v:
            raise CacheError(f"{mpath}: {k} is {info.get(k)!r}, expected {v!r}")
    out = {}
    for name, digest in files.items():
        if Path(name).name != name:
            raise CacheError(f"{mpath}: payload name {name!r} is not a plain file name")
        data = read_checked(folder / name)
        if sha256_bytes(data) != digest:
            raise CacheError(f"{folder / name}: SHA-256 does not match the manifest (changed "
                             "after it was written)")
        out[name] = data
    return out, info


# ------------------------------------------------------------------ arrays
def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A ``.npz`` of ``arrays`` (no object arrays), byte-identical for equal arrays (the zip
    members carry a fixed date), stored uncompressed so that loading is a copy."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name in sorted(arrays):
            a = np.asarray(arrays[name])
            if a.dtype.hasobject:
                raise TypeError(f"array {name!r} holds Python objects; store text with pack_strings")
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(a), allow_pickle=False)
            zi = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_STORED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, member.getvalue())
    return buf.getvalue()


def load_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` held in ``data``, read with ``allow_pickle=False``."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def pack_strings(values: list[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Text as (UTF-8 bytes as uint8, int64 index array).

    When no value holds a NUL character (the usual case) the bytes are the values joined by
    NUL and the index is ``[-1, n]`` (split back in one C call); otherwise the index holds the
    n + 1 offsets of the values in characters.
    """
    vals = [v if isinstance(v, str) else str(v) for v in values]
    joined = "\x00".join(vals)
    if joined.count("\x00") == max(len(vals) - 1, 0):  # no NUL inside a value
        return np.frombuffer(joined.encode("utf-8"), dtype=np.uint8), np.array([-1, len(vals)],
                                                                              dtype=np.int64)
    lengths = np.fromiter((len(v) for v in vals), dtype=np.int64, count=len(vals))
    offsets = np.zeros(len(vals) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    blob = np.frombuffer("".join(vals).encode("utf-8"), dtype=np.uint8)
    return blob, offsets


def unpack_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    """The inverse of :func:`pack_strings`."""
    text = blob.tobytes().decode("utf-8")
    if len(offsets) == 2 and offsets[0] == -1:
        n = int(offsets[1])
        out = text.split("\x00") if n else []
        if len(out) != n:
            raise ValueError(f"expected {n} strings, found {len(out)}")
        return out
    o = offsets.tolist()
    return [text[a:b] for a, b in zip(o[:-1], o[1:], strict=True)]


# ------------------------------------------------------------------ the embedded scheme
def default_cache_key(path: Path) -> str:
    import hashlib

    from coretech import __version__

    h = hashlib.sha256()
    h.update(path.read_bytes())
    h.update(__version__.encode())
    here = Path(__file__).parent  # coretech/ipc
    for f in [here / "scheme.py", here / "cache.py", *sorted((here / "readers").glob("*.py")),
              here / "symbols.py", here / "paths.py"]:
        if f.is_file():
            h.update(f.read_bytes())
    return h.hexdigest()[:24]


def read_default_cache(cdir: Path, key: str, columns: list[str] | None = None
                       ) -> tuple[Any, dict[str, Any]] | None:
    """The cached table (a DataFrame; only ``columns`` when given) and record (counts,
    defects, rejects) of the embedded list, or None when missing, damaged or not trusted
    (the caller rebuilds it). The whole payload is checked against its SHA-256 either way."""
    import pandas as pd

    name = f"default_scheme-{key}"
    try:
        files, info = read_entry(cdir, f"{name}.manifest.json", {"key": key})
        table = pd.read_parquet(io.BytesIO(files[f"{name}.parquet"]), columns=columns)
        meta = json.loads(files[f"{name}.json"].decode("utf-8"))
        if len(table) != meta["stats"]["rows"] or len(table) != info["rows"]:
            raise CacheError(f"{cdir / name}: {len(table):,} rows, the record says "
                             f"{meta['stats']['rows']:,}")
        return table, meta
    except (CacheError, KeyError, ValueError, TypeError, OSError):
        return None
    except Exception:  # noqa: BLE001 - a Parquet file that does not parse is rebuilt too
        return None


def write_default_cache(res: Any, cdir: Path, key: str) -> None:
    """Write the cache entry (payloads, then the manifest); any OS failure (read-only home
    ...) is ignored."""
    import io
    import json

    name = f"default_scheme-{key}"
    try:
        buf = io.BytesIO()
        res.table.to_parquet(buf, index=False)
        rej = res.rejects.astype(object).where(res.rejects.notna(), None)
        meta = json.dumps({"defects": res.defects, "stats": res.stats,
                           "rejects": rej.to_dict(orient="records")},
                          sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
        write_entry(cdir, f"{name}.manifest.json",
                    {f"{name}.parquet": buf.getvalue(), f"{name}.json": meta},
                    {"key": key, "rows": len(res.table)})
        for old in cdir.glob("default_scheme-*"):  # entries of other keys
            if not old.name.startswith(name + "."):
                old.unlink(missing_ok=True)
    except OSError:
        pass
