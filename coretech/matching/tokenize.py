"""Word tokens for Chinese and English text: jieba with a domain dictionary, never the global one.

Text is normalised first (:func:`coretech.matching.normalize.normalize_text`), so brackets and
Latin runs inside Chinese are already apart (``碳化硅(SiC)`` -> ``碳化硅 sic``). Each Chinese run
is then cut by a *private* :class:`jieba.Tokenizer` (the global one is never touched, paddle
mode is never enabled, jieba's log messages are silenced) with HMM off, so the result depends
only on the dictionary; Latin runs are split on spaces and reduced by a light plural rule
(``transistors`` -> ``transistor``, ``batteries`` -> ``battery``). Stop words are dropped last.

The user dictionary holds domain terms that jieba's general dictionary splits wrongly
(``溅射靶材`` -> ``溅/射靶/材``): the catalogue's names and keywords, and frequent terms of the
IPC titles (:func:`title_terms`). Each word gets the smallest frequency that keeps it whole
(jieba's ``suggest_freq``); words are added in sorted order, so two runs cut alike.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from math import log
from pathlib import Path

from coretech.matching.jiebadict import dictionary_cache_name, general_dictionary, import_jieba
from coretech.matching.normalize import (
    DEFAULT_STOPWORDS,
    has_cjk,
    is_cjk_word,
    normalize_text,
)

_SPLIT_ZH = re.compile(
    r"专门适用于|适用于|专门|特别|用于|以及|或者|例如|其他|其它|包括|具有|"
    r"[的或和与及其用中在对以为由等入即如所之并一种个]"
)
_CJK_RUN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
#: Characters of jieba's default "han" blocks (``re_han_default``) that are Chinese: a run of
#: them is one block for jieba, cut by :func:`_cut_dag` exactly as jieba cuts it.
_JIEBA_HAN = re.compile(r"[\u4e00-\u9fd5]+")


def _jieba_tokenizer():  # -> jieba.Tokenizer
    """An empty private jieba tokenizer (jieba's log messages silenced)."""
    jieba = import_jieba()

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return jieba.Tokenizer()


@lru_cache(maxsize=1)
def _base_tokenizer():  # -> jieba.Tokenizer
    """jieba's general dictionary, loaded once per process (private instance, quiet).

    jieba's own start-up reads its prefix dictionary with ``marshal.load`` on a file object,
    which takes ~1.3 s; coretech keeps the same ``(FREQ, total)`` in its disk cache as arrays
    (:mod:`coretech.matching.jiebadict`, keyed by the SHA-256 of jieba's ``dict.txt``). The
    dictionary is the same either way.
    """
    d = general_dictionary()
    tk = _jieba_tokenizer()
    tk.FREQ, tk.total, tk.initialized = d.freq_dict(), d.total, True
    return tk


def _dictionary_cache_path() -> Path | None:
    """The manifest of the cached general dictionary (None: the cache is off)."""
    from coretech.ipc.scheme import cache_dir

    name = dictionary_cache_name()
    base = cache_dir()
    return None if name is None or base is None else base / f"{name}.json"


def _fresh_tokenizer():  # -> jieba.Tokenizer
    """A private tokenizer with its own copy of the general dictionary (cheap: a dict copy)."""
    base = _base_tokenizer()
    tk = _jieba_tokenizer()
    tk.FREQ = dict(base.FREQ)
    tk.total = base.total
    tk.initialized = True
    return tk


def _lazy_tokenizer():  # -> jieba.Tokenizer
    """A private tokenizer whose ``FREQ`` starts empty (filled by :meth:`Tokenizer._prefetch`)."""
    tk = _jieba_tokenizer()
    tk.FREQ = {}
    tk.total = general_dictionary().total
    tk.initialized = True
    return tk


def stem_en(token: str) -> str:
    """Light English plural rule: ``-ies`` -> ``-y``, ``-es`` after s/x/z/ch/sh, else ``-s``."""
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "xes", "zes", "ches", "shes")):
        return token[:-2]
    if token.endswith(("ss", "us", "is", "ys")):
        return token
    if token.endswith("s"):
        return token[:-1]
    return token


def title_terms(
    texts: Iterable[str], *, min_df: int = 5, min_len: int = 2, max_len: int = 6,
    normalized: bool = False,
) -> list[str]:
    """Frequent Chinese terms of IPC titles, for the user dictionary.

    Each normalised title is split at function words (的, 或, 和, 用于, 专门适用于, ...) and
    spaces; a Chinese segment of ``min_len``..``max_len`` characters that occurs in at least
    ``min_df`` titles is a term. Returned sorted. ``normalized=True``: the texts are already
    :func:`~coretech.matching.normalize.normalize_text` output (not normalised again).
    """
    df: Counter[str] = Counter()
    for text in texts:
        seen = set()
        for chunk in (text if normalized else normalize_text(text)).split(" "):
            if not has_cjk(chunk):
                continue
            for seg in _SPLIT_ZH.split(chunk):
                if min_len <= len(seg) <= max_len and _CJK_RUN.match(seg):
                    seen.add(seg)
        df.update(seen)
    return sorted(t for t, n in df.items() if n >= min_df)


class Tokenizer:
    """Cut normalised text into word tokens (Chinese by jieba, Latin runs by spaces).

    Parameters
    ----------
    user_words : words to keep whole, or a ``{word: frequency}`` map (frequencies as
        returned by :meth:`word_frequencies`, so a cached dictionary is restored exactly).
    stopwords : words dropped from the output (default
        :data:`coretech.matching.normalize.DEFAULT_STOPWORDS`).
    hmm : let jieba guess unknown words with its HMM (default False: the dictionary decides).
    lazy : read jieba's general dictionary on demand, only the entries among the substrings of
        the texts cut and the words added (:mod:`coretech.matching.jiebadict`): same tokens,
        far cheaper for a few hundred names than loading the ~500,000 entries; a tokenizer
        that cuts a whole scheme is faster with ``lazy=False``.
    """

    def __init__(
        self,
        user_words: Iterable[str] | Mapping[str, int] = (),
        *,
        stopwords: frozenset[str] | None = None,
        hmm: bool = False,
        lazy: bool = False,
    ) -> None:
        self.stopwords = DEFAULT_STOPWORDS if stopwords is None else frozenset(stopwords)
        self.hmm = bool(hmm)
        self.lazy = bool(lazy)
        self._probed: set[str] = set()  # lazy: strings already looked up in the dictionary
        self._jieba = None
        self._user: dict[str, int] = {}
        # chunk -> its tokens (plain cut, stop words kept); valid for the current dictionary
        self._memo: dict[str, list[str]] = {}
        self._logp: dict[str, float] = {}  # word -> ln freq - ln total (for _cut_dag)
        self._pending: list[str] | dict[str, int] = (
            dict(user_words) if isinstance(user_words, Mapping) else list(user_words)
        )

    # jieba is loaded on first Chinese text only: an English catalogue never pays for it.
    @property
    def jieba(self):  # -> jieba.Tokenizer
        if self._jieba is None:
            self._jieba = _lazy_tokenizer() if self.lazy else _fresh_tokenizer()
            pending, self._pending = self._pending, []
            if isinstance(pending, dict):
                self._prefetch(pending)
                for w in sorted(pending):
                    self._jieba.add_word(w, pending[w])
                    self._user[w] = pending[w]
            else:
                self._add(pending)
            self._changed()
        return self._jieba

    def _prefetch(self, texts: Iterable[str]) -> None:
        """Lazy mode: put the dictionary entries among the substrings of ``texts`` into
        jieba's ``FREQ`` (every string jieba looks up while cutting a text or adding a word is
        a substring of it; longer than the longest entry, it cannot be an entry)."""
        if not self.lazy:
            return
        d = general_dictionary()
        probed = self._probed
        new: set[str] = set()
        for t in texts:
            if t in probed:  # the whole text was probed, so were its substrings
                continue
            n = len(t)
            for i in range(n):
                for j in range(i + 1, min(n, i + d.max_len) + 1):
                    new.add(t[i:j])
            new.add(t)
        new -= probed
        if not new:
            return
        probed |= new
        freq = self._jieba.FREQ
        for w, f in d.lookup(new):
            if w not in freq:  # a word added before it was probed keeps its frequency
                freq[w] = f

    def _changed(self) -> None:
        """The dictionary changed: forget cached cuts and log frequencies."""
        self._memo = {}
        self._logp = {}

    def _add(self, words: Iterable[str]) -> None:
        tk = self._jieba
        cands = set()
        for w in words:
            for chunk in normalize_text(w).split(" "):
                if len(chunk) >= 2 and _CJK_RUN.match(chunk):
                    cands.add(chunk)
        self._prefetch(cands)
        for w in sorted(cands):
            if w in self._user:
                continue
            f = self._suggest_freq(w)
            tk.add_word(w, f)
            self._logp = {}  # total and FREQ changed
            self._user[w] = f
        self._changed()

    def _suggest_freq(self, word: str) -> int:
        """jieba's ``suggest_freq(word, False)``: the smallest frequency that keeps ``word``
        whole. A block of Chinese characters is cut by :meth:`_cut_dag` (jieba's cut, same
        words), the product is formed in jieba's order of operations."""
        tk = self._jieba
        if self.hmm or not _JIEBA_HAN.fullmatch(word):
            return tk.suggest_freq(word, False)
        ftotal = float(tk.total)
        freq = 1
        get = tk.FREQ.get
        for seg in self._cut_dag(word):
            freq *= get(seg, 1) / ftotal
        return max(int(freq * tk.total) + 1, get(word, 1))

    def add_words(self, words: Iterable[str]) -> None:
        """Add words to keep whole (Chinese runs of two characters or more), in sorted order."""
        words = list(words)
        if self._jieba is None:
            if isinstance(self._pending, dict):
                self._pending = [*self._pending, *words]  # pragma: no cover - rare path
            else:
                self._pending.extend(words)
            return
        self._add(words)

    def word_frequencies(self) -> dict[str, int]:
        """The user dictionary as ``{word: frequency}`` (after Chinese text has been cut once)."""
        _ = self.jieba
        return dict(self._user)

    def cut(self, text: object, *, search: bool = False, keep_stopwords: bool = False) -> list[str]:
        """Tokens of ``text`` (normalised here), stop words dropped unless ``keep_stopwords``.

        ``search=True`` also yields the dictionary words inside a long word, after them in
        jieba's search mode (``溅射靶材`` -> ``溅射``, ``靶材``, ``溅射靶材``), so that a
        catalogue term finds titles that use its parts.
        """
        return self.cut_normalized(normalize_text(text), search=search,
                                   keep_stopwords=keep_stopwords)

    def cut_normalized(self, norm: str, *, search: bool = False,
                       keep_stopwords: bool = False) -> list[str]:
        """:meth:`cut` of a text already normalised by
        :func:`~coretech.matching.normalize.normalize_text` (not normalised again)."""
        out: list[str] = []
        memo = self._memo
        for chunk in norm.split(" ") if norm else []:
            if not search:
                toks = memo.get(chunk)
                if toks is None:
                    toks = memo[chunk] = self._cut_chunk(chunk, False)
                out.extend(toks)
            else:
                out.extend(self._cut_chunk(chunk, True))
        if not keep_stopwords:
            out = [t for t in out if t not in self.stopwords]
        return out

    def _cut_chunk(self, chunk: str, search: bool) -> list[str]:
        """The tokens of one space-free chunk of normalised text (stop words kept)."""
        if is_cjk_word(chunk) and _CJK_RUN.match(chunk):
            tk = self.jieba
            self._prefetch((chunk,))
            if not search and not self.hmm and _JIEBA_HAN.fullmatch(chunk):
                return self._cut_dag(chunk)
            pieces = (
                tk.cut_for_search(chunk, HMM=self.hmm)
                if search
                else tk.cut(chunk, HMM=self.hmm)
            )
            return [p for p in pieces if p.strip()]
        if has_cjk(chunk):  # mixed script inside a word (rare after normalisation)
            tk = self.jieba
            self._prefetch((chunk,))
            return [p for p in tk.cut(chunk, HMM=self.hmm) if p.strip()]
        return [stem_en(chunk)]

    def _cut_dag(self, sentence: str) -> list[str]:
        """jieba's ``cut(sentence, HMM=False)`` of one block of Chinese characters
        (``\\u4e00-\\u9fd5`` only), with the same words.

        jieba builds the DAG of the dictionary words in the block (``get_DAG``), then the
        route of highest log probability from the end (``calc``: for position k the largest
        ``(ln f(w) - ln total + route[k + len w], end of w)`` over the words w starting at k,
        ``f`` read as 1 where it is 0 or missing, the later end winning a tie) and emits the
        route's words. Here the DAG and the route are one backward loop, and ``ln f - ln
        total`` is computed once per word (same floating-point operations, same order);
        tests/matching/test_tokenize.py checks it against jieba.
        """
        tk = self._jieba
        freq_get = tk.FREQ.get
        logp = self._logp
        logtotal = log(tk.total)
        n = len(sentence)
        route_v = [0.0] * (n + 1)
        route_x = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            best = None
            best_x = k
            i = k
            frag = sentence[k]
            f = freq_get(frag)
            while f is not None:
                if f:
                    v = logp.get(frag)
                    if v is None:
                        v = logp[frag] = log(f) - logtotal
                    v += route_v[i + 1]
                    if best is None or v >= best:
                        best, best_x = v, i
                i += 1
                if i >= n:
                    break
                frag = sentence[k:i + 1]
                f = freq_get(frag)
            if best is None:  # no word starts here: the character alone
                best = (log(freq_get(sentence[k]) or 1) - logtotal) + route_v[k + 1]
            route_v[k] = best
            route_x[k] = best_x
        out = []
        x = 0
        while x < n:
            y = route_x[x] + 1
            out.append(sentence[x:y])
            x = y
        return out
