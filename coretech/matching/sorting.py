"""``np.lexsort`` with the same result, faster on the matcher's arrays.

``np.lexsort`` sorts once per key (a stable merge sort each); with three or four keys over the
~10^5 pooled candidates of a catalogue that is most of the time spent outside the sparse
product. :func:`lexsort` turns the keys into one int64 key, each key replaced by its dense
rank (an integer key in place, a float key through ``np.unique``), and makes one stable
``argsort`` of it. Ties in every key keep their input order, as in ``np.lexsort``; when the
ranks do not fit in 62 bits it falls back to ``np.lexsort``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_LIMIT = 1 << 62


def lexsort(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Indices that sort by ``keys[-1]``, then ``keys[-2]``, ... (``np.lexsort(keys)``)."""
    keys = [np.asarray(k) for k in keys]
    if not keys:
        raise ValueError("lexsort needs at least one key")
    n = len(keys[0])
    if any(len(k) != n for k in keys):
        raise ValueError("all keys must have the same length")
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    combined = np.zeros(n, dtype=np.int64)
    scale = 1
    for k in keys:  # least significant first
        if k.dtype.kind in "iub":
            lo, hi = int(k.min()), int(k.max())
            ids, size = k.astype(np.int64) - lo, hi - lo + 1
        elif k.dtype.kind == "f" and not np.isnan(k).any():
            uniq, ids = np.unique(k, return_inverse=True)
            ids, size = ids.ravel().astype(np.int64), len(uniq)
        else:
            return np.lexsort(keys)
        if scale * size >= _LIMIT:
            return np.lexsort(keys)
        combined += ids * scale
        scale *= size
    return np.argsort(combined, kind="stable")


def position_in_group(key: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... for the successive occurrences of each value of ``key``, in array order."""
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    o = np.argsort(key, kind="stable")
    k = key[o]
    start = np.r_[0, np.flatnonzero(k[1:] != k[:-1]) + 1]
    pos = np.empty(n, dtype=np.int64)
    pos[o] = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
    return pos
