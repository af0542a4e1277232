"""Helpers of building and reading the matcher's index: Python's garbage collector paused,
the tokenizer over many texts on two processes, an in-place reader of a verified ``.npz``."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from coretech.matching.normalize import has_cjk
from coretech.matching.tokenize import Tokenizer


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while an index is built or read: that makes
    millions of short-lived lists and strings (no cycles), and each collection they trigger
    walks every live object. The previous state is restored; reference counting frees memory
    as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


#: Below this many texts the tokenizer runs in this process only (a fork costs more).
PARALLEL_MIN_TEXTS = 20_000
_FORKED: tuple[Tokenizer, list[str], bool] | None = None


def _cut_range(lo: int, hi: int) -> list[list[str]]:
    tok, texts, normalized = _FORKED  # type: ignore[misc]
    cut = tok.cut_normalized if normalized else tok.cut
    return [cut(t) for t in texts[lo:hi]]


def _cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cut_texts(tok: Tokenizer, texts: list[str], *, normalized: bool = False) -> list[list[str]]:
    """``[tok.cut(t) for t in texts]`` (``normalized=True``: ``tok.cut_normalized``, the texts
    are already normalised), the second half in a forked process when there are two cores,
    many texts and no other thread (a fork copies the loaded dictionary for free).
    ``CORETECH_WORKERS=1`` keeps it in one process. Same result either way."""
    import multiprocessing as mp
    import os
    import threading

    global _FORKED
    n = len(texts)
    cut = tok.cut_normalized if normalized else tok.cut
    if (n < PARALLEL_MIN_TEXTS or _cores() < 2 or os.environ.get("CORETECH_WORKERS") == "1"
            or threading.active_count() > 1 or "fork" not in mp.get_all_start_methods()):
        return [cut(t) for t in texts]
    if any(is_cjk for is_cjk in (has_cjk(t) for t in texts[:2000])):
        _ = tok.jieba  # load the dictionary (and user words) once, before the fork
    half = n // 2
    _FORKED = (tok, texts, normalized)
    try:
        with mp.get_context("fork").Pool(1) as pool:
            second = pool.apply_async(_cut_range, (half, n))
            first = [cut(t) for t in texts[:half]]
            return first + second.get()
    finally:
        _FORKED = None


def npz_arrays(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed ``.npz`` held in ``data`` (as :func:`coretech.ipc.cache.
    load_npz`, with ``allow_pickle=False``: an object array is refused), read in place: the
    bytes were just checked against their SHA-256, so no zip CRC and no copy through a file
    object; numeric arrays are copied once (writable), text stays a read-only view."""
    import io
    import struct
    import zipfile

    out: dict[str, np.ndarray] = {}
    view = memoryview(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"{info.filename}: not a stored .npy member")
            h = info.header_offset
            if data[h:h + 4] != b"PK\x03\x04":
                raise ValueError(f"{info.filename}: bad local header")
            n_name, n_extra = struct.unpack("<HH", data[h + 26:h + 30])
            start = h + 30 + n_name + n_extra
            member = io.BytesIO(view[start:start + min(info.file_size, 65536)])
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ValueError(f"{info.filename}: .npy format {version}")
            if dtype.hasobject:
                raise ValueError(f"{info.filename}: object array (refused)")
            if any(d < 0 for d in shape):
                raise ValueError(f"{info.filename}: negative dimension in {shape}")
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            offset = start + member.tell()
            if offset + count * dtype.itemsize > start + info.file_size:
                raise ValueError(f"{info.filename}: truncated")
            a = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
            if dtype.kind != "u" or dtype.itemsize != 1:  # text blobs stay views
                a = a.copy()
            out[info.filename[:-4]] = a.reshape(shape, order="F" if fortran else "C")
    return out
