"""Text normalisation shared by technology names and IPC titles (Chinese and English).

One function, :func:`normalize_text`, is applied to both sides of a match, so that what a
query and a title have in common is decided on the same footing:

1. Unicode NFKC (full-width ``ＳｉＣ（碳化硅）`` -> half-width ``SiC(碳化硅)``), then lower case;
2. edition stamps (``[2006.01]``, ``[20250101]``) removed (after step 3);
3. whitespace *between two Chinese characters* removed (PDF line breaks inside Chinese
   titles, ``草坪用的 犁`` -> ``草坪用的犁``);
4. brackets and punctuation become spaces, their content is kept
   (``碳化硅(SiC)`` -> ``碳化硅 sic``);
5. a space between a run of Chinese characters and a run of Latin letters or digits
   (``IGBT芯片`` -> ``igbt 芯片``); whitespace collapsed to one space.

Words that carry no subject (``等``, ``技术``, ``technology``, ...) are removed after
tokenisation (:mod:`coretech.matching.tokenize`), never by substring, so that ``用`` does not
vanish from ``应用``. The default lists are :data:`STOPWORDS_ZH` and :data:`STOPWORDS_EN`;
``Matcher(stopwords=...)`` replaces them.
"""

from __future__ import annotations

import re
import unicodedata

#: Chinese words that carry no subject in a technology name or an IPC title.
STOPWORDS_ZH: frozenset[str] = frozenset(
    """
    等 制造 技术 相关 及其 用 用于 的 和 与 及 或 其 之 类 各种 一种 其他 其它 基于 关键 核心 新型
    先进 高端 产品 领域 方面 有关 以及 并且 以 对 在 中 为 由 所 该 此 这 上 下 即 例如 如 专门
    适用 适用于 特别 特殊 一般 通用 包括 具有 采用 使用 利用 应用于 方法 装置 设备 系统 制备 生产
    加工 工艺 器件 部件 零件 附件 元件 组件 材料 结构
    """.split()
)

#: English words that carry no subject.
STOPWORDS_EN: frozenset[str] = frozenset(
    """
    a an the and or of for in on with by to from at as into onto its their thereof therefor
    other others etc eg e g ie i e not per se than such same which that this these those being
    be is are using used use based specially adapted general kind type types
    technology technologies technique techniques technical manufacture manufacturing
    manufactured method methods related
    relating key core advanced new novel products product apparatus apparatuses device devices
    system systems means arrangement arrangements making made
    """.split()
)

#: Both lists: the default of ``Matcher(stopwords=None)``.
DEFAULT_STOPWORDS: frozenset[str] = STOPWORDS_ZH | STOPWORDS_EN

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_STAMP = re.compile(r"[\[\(]\s*(?:\d{4}\.\d{2}|\d{8})\s*[\]\)]")
_PUNCT = re.compile(r"[^\w" + _CJK + r"]+")  # anything not a letter, digit or CJK
_CJK_LATIN = re.compile(r"(?<=[" + _CJK + r"])(?=[a-z0-9])|(?<=[a-z0-9])(?=[" + _CJK + r"])")
_CJK_SPACE = re.compile(r"(?<=[" + _CJK + r"])\s+(?=[" + _CJK + r"])")
_SPACES = re.compile(r"\s+")
_CJK_CHAR = re.compile(r"[" + _CJK + r"]")
_UNDERSCORE = re.compile(r"_+")


def normalize_text(text: object) -> str:
    """Normalise one string (steps 1-5 of the module docstring); non-strings give ``""``."""
    if not isinstance(text, str) or not text:
        return ""
    s = unicodedata.normalize("NFKC", text).lower()
    s = _CJK_SPACE.sub("", s)  # before punctuation turns into spaces: 功率(器件) keeps its gap
    s = _STAMP.sub(" ", s)
    s = _PUNCT.sub(" ", s)
    s = _UNDERSCORE.sub(" ", s)
    s = _CJK_LATIN.sub(" ", s)
    return _SPACES.sub(" ", s).strip()


def has_cjk(text: object) -> bool:
    """True when ``text`` holds at least one Chinese character."""
    return isinstance(text, str) and _CJK_CHAR.search(text) is not None


def is_cjk_word(token: str) -> bool:
    return bool(token) and _CJK_CHAR.match(token[0]) is not None


def normalize_stopwords(words: object) -> frozenset[str]:
    """Validate and normalise a stop-word list (an iterable of strings; ``None`` = default)."""
    if words is None:
        return DEFAULT_STOPWORDS
    if isinstance(words, str):
        raise ValueError("stopwords must be a list of words, not one string")
    out = set()
    for w in words:  # type: ignore[attr-defined]
        if not isinstance(w, str):
            raise ValueError(f"stopwords must be strings, got {w!r}")
        n = normalize_text(w)
        if n:
            out.update(n.split(" ") if not has_cjk(n) else [n])
    return frozenset(out)
