"""Checks on the panel before any model runs: columns present, numeric, unique city-years.

Every failure is an :class:`~coretech.errors.InputError` that names the column and, where one
exists, the spreadsheet row (header = row 1) of the first offending value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row


def _source(df: pd.DataFrame) -> str | None:
    return df.attrs.get("source")


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str = "variable") -> None:
    """Raise naming the first column of ``columns`` that ``df`` lacks."""
    for col in columns:
        if col not in df.columns:
            raise InputError(
                f"{what} {col!r} is not in the panel; columns found: "
                f"{', '.join(map(str, df.columns))}",
                file=_source(df),
                column=col,
            )


def numeric_column(df: pd.DataFrame, col: str) -> pd.Series:
    """Return ``df[col]`` as float; empty cells become NaN, any other text is an error.

    Infinite values (``inf``, ``-inf``, a division by zero upstream) are an error naming the
    first such cell: they are not data a regression can use.
    """
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return _finite(df, col, s.astype(float))
    text = s.astype("string").str.strip()
    empty = text.isna() | (text == "") | text.str.upper().isin(["NA", "NAN", "."])
    out = pd.to_numeric(text.where(~empty), errors="coerce")
    bad = out.isna() & ~empty
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"expected a number, found {str(s.iloc[pos])!r} "
            f"({int(bad.sum())} non-numeric cell(s) in this column)",
            file=_source(df),
            row=data_row(pos),
            column=col,
        )
    return _finite(df, col, out.astype(float))


def _finite(df: pd.DataFrame, col: str, out: pd.Series) -> pd.Series:
    inf = np.isinf(out.to_numpy())
    if inf.any():
        pos = int(np.flatnonzero(inf)[0])
        raise InputError(
            f"infinite value {float(out.iloc[pos])} ({int(inf.sum())} infinite cell(s) in this column); "
            "a regression needs finite numbers (check a division or a log of 0 upstream)",
            file=_source(df),
            row=data_row(pos),
            column=col,
        )
    return out


def numeric_frame(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Numeric copy of ``df[columns]`` (validated column by column)."""
    require_columns(df, columns)
    return pd.DataFrame({c: numeric_column(df, c) for c in dict.fromkeys(columns)}, index=df.index)


def check_unique_panel(df: pd.DataFrame, unit: str, time: str) -> None:
    """Raise if a (unit, time) pair occurs more than once, naming the rows."""
    require_columns(df, [unit, time], what="panel identifier")
    dup = df.duplicated([unit, time], keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(dup)
        first = df.iloc[pos[0]]
        rows = ", ".join(str(data_row(p)) for p in pos[:10])
        more = "" if len(pos) <= 10 else f" and {len(pos) - 10} more"
        raise InputError(
            f"duplicate {unit}-{time} pair ({first[unit]}, {first[time]}): "
            f"{int(dup.sum())} rows share a {unit} and {time} (rows {rows}{more}); "
            "a panel needs one row per city-year",
            file=_source(df),
            row=data_row(pos[0]),
            column=f"{unit}, {time}",
        )
