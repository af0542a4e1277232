"""One vocabulary of review decisions, shared by ``review apply``, ``match --overrides`` and
``breakthrough``.

A decision cell says whether a (technology, IPC code) row stays in the dictionary. Every
reader of such a cell goes through :func:`normalize_decision`, so ``reject`` (the review
workbook's own drop-down word), ``rejected`` and ``拒绝`` mean the same everywhere, and a word
that is in no list (``bogus``, ``maybe``) is an error naming the file, row and value instead of
a silent "kept".

=============  ======================================================================
canonical      aliases (case-insensitive, surrounding spaces ignored)
=============  ======================================================================
``accepted``   accept, accepted, yes, y, keep, kept, ok, 接受, 保留, 通过, 是
``added``      add, added, 添加, 新增, 增加
``auto``       auto, automatic, 自动
``rejected``   reject, rejected, no, n, drop, dropped, remove, removed, delete, deleted,
               拒绝, 删除, 剔除, 否, 不通过
=============  ======================================================================

``accepted``, ``added`` and ``auto`` keep the row; ``rejected`` drops it. An empty cell is
"no decision" (``None``): each reader says what that means (the matcher's choice stands).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from coretech.errors import InputError, data_row

#: Canonical decisions, in the order the docs list them.
DECISIONS = ("accepted", "added", "auto", "rejected")
#: Canonical decisions that keep a row in the dictionary.
KEPT = frozenset({"accepted", "added", "auto"})
#: alias -> canonical decision.
ALIASES: dict[str, str] = {
    **dict.fromkeys(("accept", "accepted", "yes", "y", "keep", "kept", "ok",
                     "接受", "保留", "通过", "是"), "accepted"),
    **dict.fromkeys(("add", "added", "添加", "新增", "增加"), "added"),
    **dict.fromkeys(("auto", "automatic", "自动"), "auto"),
    **dict.fromkeys(("reject", "rejected", "no", "n", "drop", "dropped", "remove", "removed",
                     "delete", "deleted", "拒绝", "删除", "剔除", "否", "不通过"), "rejected"),
}
_BLANK = {"", "nan", "none", "<na>"}


def expected_words() -> str:
    """The accepted spellings, for error messages."""
    return ("accept/accepted/接受, added, auto (kept) or reject/rejected/拒绝 (left out); "
            "see coretech.matching.decisions for every alias")


def normalize_decision(value: object) -> str | None:
    """``value`` -> one of :data:`DECISIONS`, or ``None`` for an empty cell.

    Raises :class:`ValueError` for a word that is not in the vocabulary.
    """
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in _BLANK:
        return None
    canon = ALIASES.get(text.lower()) or ALIASES.get(text)
    if canon is None:
        raise ValueError(f"decision {text!r} is not a known decision; expected {expected_words()}")
    return canon


def is_kept(decision: str | None) -> bool:
    """True unless the (canonical) decision is ``rejected``; an empty decision keeps the row."""
    return decision != "rejected"


def read_decisions(values: Iterable[object], *, file: str | Path | None,
                   column: str = "decision") -> list[str | None]:
    """Normalise a decision column; an unknown word is an :class:`InputError` naming the
    file, the row (header = row 1) and the value."""
    out: list[str | None] = []
    for i, v in enumerate(values):
        try:
            out.append(normalize_decision(v))
        except ValueError as exc:
            raise InputError(str(exc), file=file, row=data_row(i), column=column) from None
    return out
