"""jieba's general dictionary as plain arrays in coretech's disk cache, read whole or on demand.

jieba's prefix dictionary ``FREQ`` maps ~500,000 strings (its words and every prefix of a word,
the prefixes with frequency 0) to frequencies; ``total`` is the sum of the word frequencies.
jieba's own start-up reads it with ``marshal.load`` (1.1-1.4 s); rebuilding the dict from
any stored form costs ~0.4-0.5 s, most of it creating half a million Python strings.

Here it is stored once per jieba version and ``dict.txt`` (by SHA-256) as a ``.npz`` of plain
arrays with a JSON manifest (:mod:`coretech.ipc.cache`: folder and file checks, SHA-256 of the
payload, read with ``allow_pickle=False``): for each key length L the keys of that length,
sorted, as a fixed-width ``U{L}`` array, and their frequencies. Two ways to use it:

* :meth:`JiebaDictionary.freq_dict`: the whole ``FREQ`` dict (building an index cuts tens of
  thousands of titles, which touch most of the dictionary);
* :meth:`JiebaDictionary.lookup`: the entries among given strings, by binary search
  (``numpy.searchsorted``), so that a tokenizer that cuts a few hundred names fills its
  ``FREQ`` with only the substrings of those names (:class:`coretech.matching.tokenize.Tokenizer`
  with ``lazy=True``). jieba only ever looks up substrings of the text it cuts or of the
  word it adds, so a ``FREQ`` that holds every dictionary entry among those substrings cuts
  exactly as the whole one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

FORMAT = 1


class JiebaDictionary:
    """jieba's ``FREQ`` as sorted key arrays per key length, and ``total``."""

    def __init__(self, keys: dict[int, np.ndarray], freqs: dict[int, np.ndarray],
                 total: int) -> None:
        self.keys = keys
        self.freqs = freqs
        self.total = int(total)
        self.max_len = max(keys) if keys else 0
        self._freq_dict: dict[str, int] | None = None

    @classmethod
    def from_freq(cls, freq: dict[str, int], total: int) -> JiebaDictionary:
        n_keys = len(freq)
        width = max(map(len, freq), default=1)
        allk = np.array(list(freq), dtype=f"U{width}")
        allf = np.fromiter(freq.values(), dtype=np.int64, count=n_keys)
        lens = np.char.str_len(allk)
        order = np.lexsort((allk, lens))  # by length, then by key (code points)
        allk, allf, lens = allk[order], allf[order], lens[order]
        keys, freqs = {}, {}
        bounds = np.flatnonzero(np.diff(lens)) + 1
        for lo, hi in zip(np.r_[0, bounds].tolist(), np.r_[bounds, n_keys].tolist(), strict=True):
            n = int(lens[lo])
            keys[n] = allk[lo:hi].astype(f"U{n}")
            freqs[n] = allf[lo:hi].copy()
        return cls(keys, freqs, total)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"total": np.array([self.total], dtype=np.int64)}
        for n in self.keys:
            out[f"keys{n}"] = self.keys[n]
            out[f"freq{n}"] = self.freqs[n]
        return out

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> JiebaDictionary:
        keys, freqs = {}, {}
        for name in a:
            if name.startswith("keys"):
                n = int(name[4:])
                k, f = a[name], a[f"freq{n}"]
                if k.dtype != np.dtype(f"U{n}") or len(k) != len(f) or f.dtype != np.int64:
                    raise ValueError(f"jieba dictionary arrays of length {n} do not fit")
                keys[n], freqs[n] = k, f
        if not keys:
            raise ValueError("empty jieba dictionary")
        return cls(keys, freqs, int(a["total"][0]))

    def freq_dict(self) -> dict[str, int]:
        """The whole ``FREQ`` (a new dict)."""
        if self._freq_dict is not None:
            return dict(self._freq_dict)
        out: dict[str, int] = {}
        for n in sorted(self.keys):
            out.update(zip(self.keys[n].tolist(), self.freqs[n].tolist(), strict=True))
        return out

    def lookup(self, strings: Iterable[str]) -> list[tuple[str, int]]:
        """``(s, FREQ[s])`` for the strings ``s`` that are keys of the dictionary."""
        by_len: dict[int, list[str]] = {}
        for s in strings:
            n = len(s)
            if 0 < n <= self.max_len and n in self.keys and "\x00" not in s:
                by_len.setdefault(n, []).append(s)
        out: list[tuple[str, int]] = []
        for n, group in by_len.items():
            keys = self.keys[n]
            q = np.array(group, dtype=f"U{n}")
            pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
            hit = np.flatnonzero(keys[pos] == q)
            if len(hit):
                freq = self.freqs[n][pos[hit]].tolist()
                out.extend(zip([group[i] for i in hit.tolist()], freq, strict=True))
        return out


def import_jieba():  # -> the jieba module
    """``import jieba``, without letting it import ``pkg_resources``.

    jieba 0.42 imports ``pkg_resources`` (0.15-0.2 s, and a deprecation warning in recent
    setuptools) only to open its own data files; when that import fails it opens them by their
    path in the package folder, the same files. coretech never uses jieba's posseg or paddle
    parts. ``pkg_resources`` stays importable by anyone else afterwards.
    """
    import sys

    if "jieba" in sys.modules:
        return sys.modules["jieba"]
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import jieba
    finally:
        if blocked and sys.modules.get("pkg_resources", 0) is None:
            del sys.modules["pkg_resources"]
    return jieba


def _source() -> tuple[Path, str]:
    """jieba's ``dict.txt`` and the cache entry name for it (jieba version, SHA-256)."""
    jieba = import_jieba()

    dict_file = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    digest = hashlib.sha256(dict_file.read_bytes()).hexdigest()[:16]
    return dict_file, f"jieba-dict-{jieba.__version__}-{digest}"


@lru_cache(maxsize=1)
def general_dictionary() -> JiebaDictionary:
    """jieba's general dictionary, read from coretech's cache folder (checked, SHA-256 of the
    payload) or, the first time, from jieba and stored there."""
    from coretech.ipc.cache import CacheError, load_npz, npz_bytes, read_entry, write_entry
    from coretech.ipc.scheme import cache_dir

    base = cache_dir()
    try:
        _, name = _source()
    except OSError:
        base = None
    if base is not None:
        try:
            files, _ = read_entry(base, f"{name}.json", {"format": FORMAT})
            return JiebaDictionary.from_arrays(load_npz(files[f"{name}.npz"]))
        except (CacheError, KeyError, ValueError, TypeError, OSError):
            pass  # missing or damaged: built again below
    jieba = import_jieba()
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    d = JiebaDictionary.from_freq(tk.FREQ, tk.total)
    d._freq_dict = tk.FREQ  # the dict just read: no need to build it again in this process
    if base is not None:
        try:
            write_entry(base, f"{name}.json", {f"{name}.npz": npz_bytes(d.arrays())},
                        {"format": FORMAT, "entries": len(tk.FREQ)})
        except OSError:  # a read-only cache folder only costs time
            pass
    return d


def dictionary_cache_name() -> str | None:
    """The cache entry's name (``jieba-dict-VERSION-HASH``), None when the cache is off."""
    from coretech.ipc.scheme import cache_dir

    if cache_dir() is None:
        return None
    try:
        return _source()[1]
    except OSError:
        return None
