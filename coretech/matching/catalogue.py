"""The technology catalogue: the input of ``coretech match`` (INTERFACES.md).

Columns: ``tech_id`` (unique), ``name_zh`` / ``name_en`` (at least one per row), optional
``field``, ``category``, ``keywords`` (synonyms separated by ``;`` or ``；``). Any format
:func:`coretech.io.read_table` reads (CSV in UTF-8/BOM/GBK, xlsx, parquet, dta).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import read_table

CATALOGUE_COLUMNS = ("tech_id", "name_zh", "name_en", "field", "category", "keywords")
_KEYWORD_SEP = re.compile(r"[;；]")


def split_keywords(cell: object) -> list[str]:
    """``"GPU; 图形处理器；显卡"`` -> ``["GPU", "图形处理器", "显卡"]`` (empty parts dropped)."""
    if not isinstance(cell, str):
        return []
    return [k.strip() for k in _KEYWORD_SEP.split(cell) if k.strip()]


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return str(v).strip()


def validate_catalogue(df: pd.DataFrame, *, source: str | Path | None = None) -> pd.DataFrame:
    """Check a catalogue frame and return it cleaned (all six columns, text, stripped).

    Raises :class:`InputError` naming the file, row (spreadsheet numbering, header = row 1)
    and column for: no ``tech_id`` column, no name column, an empty table, an empty
    ``tech_id``, a row with neither ``name_zh`` nor ``name_en``, a repeated ``tech_id``.
    """
    src = source if source is not None else df.attrs.get("source")
    cols = [str(c) for c in df.columns]
    if "tech_id" not in cols:
        raise InputError(f"no 'tech_id' column; found {', '.join(cols) or 'none'}", file=src)
    if "name_zh" not in cols and "name_en" not in cols:
        raise InputError(
            f"no name column: a catalogue needs 'name_zh' and/or 'name_en'; found {', '.join(cols)}",
            file=src,
        )
    if len(df) == 0:
        raise InputError("the catalogue has no technologies (no rows under the header)", file=src)
    out = pd.DataFrame(index=range(len(df)))
    for c in CATALOGUE_COLUMNS:
        out[c] = [_text(v) for v in df[c]] if c in cols else [""] * len(df)
    first_row: dict[str, int] = {}
    for i, (tid, zh, en) in enumerate(zip(out["tech_id"], out["name_zh"], out["name_en"], strict=True)):
        row = data_row(i)
        if not tid:
            raise InputError("empty tech_id: every technology needs an id", file=src, row=row,
                             column="tech_id")
        if tid in first_row:
            raise InputError(
                f"duplicate tech_id {tid!r} (first used on row {first_row[tid]})",
                file=src, row=row, column="tech_id",
            )
        first_row[tid] = row
        if not zh and not en:
            raise InputError(
                f"technology {tid!r} has no name: fill name_zh or name_en",
                file=src, row=row, column="name_zh" if "name_zh" in cols else "name_en",
            )
    out["keywords"] = [";".join(split_keywords(k)) for k in out["keywords"]]
    extra = [c for c in cols if c not in CATALOGUE_COLUMNS]
    for c in extra:
        out[c] = list(df[c])
    out.attrs["source"] = None if src is None else str(src)
    return out


def read_catalogue(path: str | Path, *, sheet: str | int | None = 0) -> pd.DataFrame:
    """Read and validate a technology catalogue file (see :func:`validate_catalogue`)."""
    df = read_table(path, sheet=sheet)
    return validate_catalogue(df, source=path)
