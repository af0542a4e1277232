"""Panel helpers around the indicators: checks, numeric parsing, winsorising, gap filling, logs.

Every error names the city, the year, the column and (where the frame came from a file) the
spreadsheet row, so that a user can find the bad cell in Excel.

* :func:`check_unique` - duplicate city-year rows are an error (both rows named).
* :func:`to_numeric` - text cells to numbers; a non-numeric cell is an error.
* :func:`winsorize` - clip at chosen percentiles, pooled or by year (Table 5 col. 1).
* :func:`interpolate_panel` - linear interpolation within a city only (METHODS.md §8),
  filled cells flagged in ``<col>_filled`` and counted.
* :func:`log_column` - natural log with an explicit rule for zeros.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row

#: Text cells read as missing by :func:`to_numeric` (Stata writes "." for missing).
MISSING_TOKENS = frozenset({"", ".", "NA", "N/A", "n/a", "na", "nan", "NaN", "NAN", "null", "NULL"})

#: Rules for zeros (and the transform applied) in :func:`log_column`.
ZERO_RULES = ("error", "log1p", "shift", "drop")


# --------------------------------------------------------------------------- locating cells
def where(df: pd.DataFrame, pos: int, city: str | None = "city", year: str | None = "year") -> str:
    """'city 南京, year 2015' for the row at position ``pos`` (whatever of the two exists)."""
    parts = []
    if city is not None and city in df.columns:
        parts.append(f"city {df[city].iloc[pos]}")
    if year is not None and year in df.columns:
        y = df[year].iloc[pos]
        if isinstance(y, float) and float(y).is_integer():
            y = int(y)
        parts.append(f"year {y}")
    return ", ".join(parts)


def cell_error(
    df: pd.DataFrame,
    pos: int,
    column: str | None,
    message: str,
    *,
    city: str | None = "city",
    year: str | None = "year",
) -> InputError:
    """An :class:`InputError` for the cell at row position ``pos`` of ``df``, naming the
    city, year, column and (via ``df.attrs['source']``) the file and spreadsheet row."""
    loc = where(df, pos, city, year)
    msg = f"{loc}: {message}" if loc else message
    return InputError(msg, file=df.attrs.get("source"), row=data_row(pos), column=column)


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str = "the panel") -> None:
    """Raise an :class:`InputError` naming every column of ``columns`` absent from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"{what} has no column {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(map(str, df.columns))}",
            file=df.attrs.get("source"),
            column=missing[0],
        )


# --------------------------------------------------------------------------- checks
def find_duplicates(df: pd.DataFrame, city: str = "city", year: str = "year") -> pd.DataFrame:
    """Rows whose (city, year) occurs more than once, with their spreadsheet ``row`` numbers."""
    require_columns(df, [city, year])
    mask = df.duplicated([city, year], keep=False).to_numpy()
    out = df.loc[mask, [city, year]].copy()
    out.insert(0, "row", [data_row(i) for i in np.flatnonzero(mask)])
    return out


def check_unique(df: pd.DataFrame, city: str = "city", year: str = "year") -> None:
    """Raise an :class:`InputError` at the first duplicated city-year, naming both rows."""
    require_columns(df, [city, year])
    dup = df.duplicated([city, year], keep="first").to_numpy()
    if not dup.any():
        return
    pos = int(np.flatnonzero(dup)[0])
    key = (df[city].iloc[pos], df[year].iloc[pos])
    same = (df[city] == key[0]).to_numpy() & (df[year] == key[1]).to_numpy()
    first = int(np.flatnonzero(same)[0])
    n = int(dup.sum())
    raise cell_error(
        df, pos, year,
        f"duplicate city-year (same as row {data_row(first)}); {n} duplicated row(s) in all "
        "- a panel has one row per city and year",
        city=city, year=year,
    )


def to_numeric(
    df: pd.DataFrame,
    columns: Iterable[str],
    *,
    city: str | None = "city",
    year: str | None = "year",
) -> pd.DataFrame:
    """Return a copy of ``df`` with ``columns`` as float64.

    Text cells are stripped; the tokens of :data:`MISSING_TOKENS` become NaN; any other
    non-number (e.g. ``"1,234"`` or ``"n.a."``) raises an :class:`InputError` naming the
    city, year, column and row.
    """
    columns = list(dict.fromkeys(columns))
    require_columns(df, columns)
    out = df.copy()
    for col in columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            raise cell_error(df, 0, col, "expected numbers, found true/false values",
                             city=city, year=year)
        if pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("float64")
            continue
        text = s.astype("string").str.strip()
        missing = text.isna() | text.isin(MISSING_TOKENS)
        num = pd.to_numeric(text.where(~missing), errors="coerce")
        bad = (~missing & num.isna()).to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise cell_error(
                df, pos, col,
                f"expected a number, found {str(s.iloc[pos])!r} "
                f"({int(bad.sum())} non-numeric cell(s) in this column)",
                city=city, year=year,
            )
        out[col] = num.astype("float64").to_numpy()
    return out


def check_finite(
    df: pd.DataFrame,
    columns: Iterable[str],
    *,
    what: str = "",
    city: str | None = "city",
    year: str | None = "year",
) -> None:
    """Raise an :class:`InputError` at the first missing or infinite cell of ``columns``."""
    for col in columns:
        v = np.asarray(df[col], dtype="float64")
        bad = ~np.isfinite(v)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            hint = " (fill gaps first, e.g. [interpolate] in the spec)" if np.isnan(v[pos]) else ""
            raise cell_error(
                df, pos, col,
                f"missing or infinite value{(' for ' + what) if what else ''}; "
                f"{int(bad.sum())} such cell(s) in this column{hint}",
                city=city, year=year,
            )


def check_positive(
    df: pd.DataFrame,
    columns: Iterable[str],
    *,
    what: str = "a log",
    strict: bool = True,
    city: str | None = "city",
    year: str | None = "year",
) -> None:
    """Raise an :class:`InputError` at the first value <= 0 (``strict``) or < 0 of ``columns``."""
    for col in columns:
        v = np.asarray(df[col], dtype="float64")
        bad = (v <= 0) if strict else (v < 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            need = "positive" if strict else "non-negative"
            raise cell_error(
                df, pos, col,
                f"{what} needs a {need} value, found {v[pos]:g} "
                f"({int(bad.sum())} such cell(s) in this column)",
                city=city, year=year,
            )


# --------------------------------------------------------------------------- winsorising
def winsorize(
    data: pd.DataFrame | pd.Series,
    columns: Sequence[str] | None = None,
    *,
    lower: float = 0.01,
    upper: float = 0.99,
    by: str | pd.Series | None = None,
    method: str = "averaged_inverted_cdf",
    exclude: Sequence[str] = ("city", "year"),
) -> pd.DataFrame | pd.Series:
    """Clip values at the ``lower`` and ``upper`` quantiles (Table 5 col. 1: 1% / 99%).

    For each column x: q_lo = Q(x, lower), q_hi = Q(x, upper), x_w = min(max(x, q_lo), q_hi).

    Parameters
    ----------
    data : DataFrame or Series. A Series is winsorised as one column.
    columns : columns of a DataFrame to winsorise (default: every numeric column except
        those in ``exclude`` and ``by``). Other columns are returned unchanged.
    lower, upper : quantiles in [0, 1], lower < upper (``lower=0`` clips the top only).
    by : None (pooled over all rows, default), or a column name / Series of group labels
        (e.g. ``"year"``) to take the quantiles within each group.
    method : numpy quantile definition. The default ``"averaged_inverted_cdf"`` is Stata's
        ``_pctile`` / ``winsor2`` definition; ``"linear"`` is numpy's and pandas' default.

    exclude : identifiers never winsorised by default (``city``, ``year``); ignored when
        ``columns`` is given.

    Missing values are ignored in the quantiles and stay missing; an infinite value is an
    error naming its cell (clipping would silently make it the quantile). Returns a new object of the
    same type; ``result.attrs["winsorized"]`` holds the number of clipped cells per column.
    """
    if not (0.0 <= lower < upper <= 1.0):
        raise InputError(f"winsorize needs 0 <= lower < upper <= 1, got {lower}, {upper}")
    if isinstance(data, pd.Series):
        frame = data.to_frame(name=data.name if data.name is not None else "x")
        res = winsorize(frame, [frame.columns[0]], lower=lower, upper=upper, by=by, method=method)
        out_s = res.iloc[:, 0].rename(data.name)
        out_s.attrs["winsorized"] = dict(res.attrs["winsorized"])
        return out_s
    df = data
    if columns is None:
        skip = set(exclude) | ({by} if isinstance(by, str) else set())
        columns = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
                   and not pd.api.types.is_bool_dtype(df[c]) and c not in skip]
    columns = list(columns)
    require_columns(df, columns)
    if isinstance(by, str):
        require_columns(df, [by])
        groups = df[by]
    else:
        groups = by
    out = df.copy()
    counts: dict[str, int] = {}
    for col in columns:
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise InputError(f"winsorize needs a numeric column, {col!r} is {df[col].dtype}",
                             file=df.attrs.get("source"), column=col)
        v = df[col].to_numpy(dtype="float64", copy=True)
        inf = np.isinf(v)
        if inf.any():
            pos = int(np.flatnonzero(inf)[0])
            raise cell_error(
                df, pos, col,
                f"infinite value {v[pos]} ({int(inf.sum())} infinite cell(s) in this column): "
                "winsorising would turn it into an ordinary number; fix or blank the cell first",
            )
        lo = np.full(len(v), np.nan)
        hi = np.full(len(v), np.nan)
        if groups is None:
            idx_sets = [np.arange(len(v))]
        else:
            codes = pd.Series(np.asarray(groups)).factorize()[0]
            idx_sets = [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]
        for idx in idx_sets:
            vals = v[idx]
            ok = vals[~np.isnan(vals)]
            if ok.size == 0:
                continue
            lo[idx], hi[idx] = np.quantile(ok, [lower, upper], method=method)
        clipped = np.where(v < lo, lo, np.where(v > hi, hi, v))
        counts[col] = int(np.sum((clipped != v) & ~np.isnan(v)))
        out[col] = clipped
    out.attrs = dict(df.attrs)
    out.attrs["winsorized"] = counts
    return out


# --------------------------------------------------------------------------- gap filling
def interpolate_panel(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    city: str = "city",
    year: str = "year",
    extrapolate: str = "none",
    flag: bool = True,
) -> pd.DataFrame:
    """Fill missing cells by linear interpolation in the year, within each city only.

    For a missing x(c, t) with observed x(c, a), x(c, b), a < t < b (the nearest ones):
    x(c, t) = x(c, a) + (t - a) (x(c, b) - x(c, a)) / (b - a). Years are the values of
    ``year`` (a missing year row is not created; the distance in years is used). Nothing is
    borrowed from other cities.

    ``extrapolate``: ``"none"`` (default: leading and trailing gaps stay missing),
    ``"nearest"`` (carry the first / last observed value) or ``"linear"`` (extend the line
    through the two nearest observed values).

    With ``flag`` a boolean column ``<col>_filled`` marks every filled cell. The returned
    frame keeps the row order; ``attrs["filled"]`` counts filled cells per column and
    ``attrs["unfilled"]`` the cells still missing.
    """
    if extrapolate not in ("none", "nearest", "linear"):
        raise InputError(f"extrapolate must be 'none', 'nearest' or 'linear', got {extrapolate!r}")
    check_unique(df, city, year)
    original = df
    df = to_numeric(df, [year, *columns], city=city, year=year)
    check_finite(df, [year], city=city, year=year)
    out = df.copy()
    out[year] = original[year]
    flags: dict[str, np.ndarray] = {}
    filled: dict[str, int] = {}
    unfilled: dict[str, int] = {}
    yr = df[year].to_numpy()
    codes = pd.factorize(df[city], use_na_sentinel=False)[0]
    groups = {k: idx[np.argsort(yr[idx], kind="stable")]
              for k, idx in pd.Series(codes).groupby(codes).indices.items()}
    for col in columns:
        v = df[col].to_numpy(dtype="float64")
        new = v.copy()
        for k in np.unique(codes[np.isnan(v)]):  # only the cities with a gap in this column
            idx = groups[k]
            t = yr[idx]
            x = v[idx]
            obs = ~np.isnan(x)
            if obs.all() or not obs.any():
                continue
            to, xo = t[obs], x[obs]
            miss = ~obs
            tm = t[miss]
            est = np.interp(tm, to, xo)  # constant beyond the ends
            inside = (tm > to[0]) & (tm < to[-1])
            if extrapolate == "none" or (extrapolate == "linear" and to.size < 2):
                est = np.where(inside, est, np.nan)
            elif extrapolate == "linear":
                left, right = tm < to[0], tm > to[-1]
                sl = (xo[1] - xo[0]) / (to[1] - to[0])
                sr = (xo[-1] - xo[-2]) / (to[-1] - to[-2])
                est = np.where(left, xo[0] + (tm - to[0]) * sl, est)
                est = np.where(right, xo[-1] + (tm - to[-1]) * sr, est)
            new[idx[miss]] = est
        was = np.isnan(v) & ~np.isnan(new)
        out[col] = new
        if flag:
            flags[f"{col}_filled"] = was
        filled[col] = int(was.sum())
        unfilled[col] = int(np.isnan(new).sum())
    if flags:
        out = out.drop(columns=[c for c in flags if c in out.columns])
        out = pd.concat([out, pd.DataFrame(flags, index=out.index)], axis=1)
    out.attrs = dict(df.attrs)
    out.attrs["filled"] = filled
    out.attrs["unfilled"] = unfilled
    return out


# --------------------------------------------------------------------------- logs
def parse_zero_rule(rule: str | float | None) -> tuple[str, float]:
    """``"error"``, ``"log1p"``, ``"drop"``, ``"shift=0.5"`` -> (rule, shift constant)."""
    if rule is None:
        return "error", 0.0
    text = str(rule).strip()
    if text.startswith("shift"):
        _, _, c = text.partition("=")
        try:
            shift = float(c)
        except ValueError:
            raise InputError(f"zero rule {text!r}: write shift=C with a number C > 0") from None
        if not shift > 0:
            raise InputError(f"zero rule {text!r}: the shift constant must be > 0")
        return "shift", shift
    if text not in ("error", "log1p", "drop"):
        raise InputError(f"unknown zero rule {text!r}; use error, log1p, shift=C or drop")
    return text, 0.0


def log_column(
    df: pd.DataFrame,
    column: str,
    *,
    zeros: str = "error",
    city: str | None = "city",
    year: str | None = "year",
) -> pd.Series:
    """Natural log of ``df[column]`` with an explicit rule for zeros.

    ``zeros``:
      * ``"error"`` (default): ln x; a zero is an error naming city, year and column.
      * ``"log1p"``: ln(1 + x) for every value (the paper's Fialevel, Sicoughs).
      * ``"shift=C"``: ln(x + C) for every value.
      * ``"drop"``: ln x; zeros become missing and are counted in ``attrs["dropped"]``.

    A negative value (or x + C <= 0) is always an error; missing stays missing.
    """
    rule, c = parse_zero_rule(zeros)
    require_columns(df, [column])
    frame = to_numeric(df, [column], city=city, year=year)
    v = frame[column].to_numpy(dtype="float64")
    neg = v < 0
    if neg.any():
        pos = int(np.flatnonzero(neg)[0])
        raise cell_error(df, pos, column, f"a log needs a non-negative value, found {v[pos]:g}",
                         city=city, year=year)
    zero = v == 0
    dropped = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule == "error":
            if zero.any():
                pos = int(np.flatnonzero(zero)[0])
                raise cell_error(
                    df, pos, column,
                    f"a log needs a positive value, found 0 ({int(zero.sum())} zero(s) in this "
                    "column; choose a zero rule: log1p, shift=C or drop)",
                    city=city, year=year,
                )
            res = np.log(v)
        elif rule == "log1p":
            res = np.log1p(v)
        elif rule == "shift":
            res = np.log(v + c)
        else:
            res = np.where(zero, np.nan, np.log(np.where(zero, 1.0, v)))
            dropped = int(zero.sum())
    out = pd.Series(res, index=df.index, name=column)
    out.attrs["zero_rule"] = str(zeros)
    out.attrs["dropped"] = dropped
    return out


def describe_rule(zeros: Any) -> str:
    """Human text of a zero rule, for table notes."""
    rule, c = parse_zero_rule(zeros)
    return {
        "error": "ln x (zeros not allowed)",
        "log1p": "ln(1 + x)",
        "shift": f"ln(x + {c:g})",
        "drop": "ln x, zeros set missing",
    }[rule]
