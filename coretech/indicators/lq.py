"""Location quotient Cialomy, METHODS.md §3, eq. (4).

    Cialomy_it = (E_dig,it / E_all,it) / (sum_i E_dig,it / sum_i E_all,it)

E_dig is employment in the digital-economy core industries (NBS 2021 classification,
categories 01-04), E_all total employment. The national sums run over the cities of the
panel in the same year t (so the "nation" is the sample, as in the paper).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.indicators.transforms import (
    cell_error,
    check_finite,
    require_columns,
    to_numeric,
)


def location_quotient(
    df: pd.DataFrame,
    digital: str = "E_dig",
    total: str = "E_all",
    year: str = "year",
    *,
    city: str = "city",
    missing: str = "error",
    name: str = "Cialomy",
) -> pd.Series:
    """Location quotient of ``digital`` in ``total`` employment, eq. (4).

    Returns a Series (``name``, index of ``df``). A city whose digital share equals the
    year's national share gets exactly 1.

    ``missing``: ``"error"`` (default) refuses a missing cell, naming city, year and column
    (fill gaps first); ``"skip"`` leaves such city-years out of the national sums and gives
    them a missing quotient. Always errors: total <= 0, digital < 0, digital > total,
    non-numeric cells.
    """
    if missing not in ("error", "skip"):
        raise InputError(f"missing must be 'error' or 'skip', got {missing!r}")
    require_columns(df, [digital, total, year])
    num = to_numeric(df, [digital, total], city=city, year=year)
    check_finite(df, [year], city=city, year=year)
    d = num[digital].to_numpy(dtype="float64")
    t = num[total].to_numpy(dtype="float64")
    ok = np.isfinite(d) & np.isfinite(t)
    if missing == "error":
        check_finite(num, [digital, total], what="the location quotient", city=city, year=year)
    for col, v, bad, need in (
        (total, t, ok & (t <= 0), "a positive total employment"),
        (digital, d, ok & (d < 0), "a non-negative digital employment"),
        (digital, d, ok & (d > t), "digital employment no larger than total employment"),
    ):
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise cell_error(df, pos, col, f"the location quotient needs {need}, found {v[pos]:g} "
                             f"({int(bad.sum())} such row(s))", city=city, year=year)
    yr = df[year].to_numpy()
    frame = pd.DataFrame({"d": np.where(ok, d, 0.0), "t": np.where(ok, t, 0.0), "y": yr})
    sums = frame.groupby("y")[["d", "t"]].transform("sum")
    nat = sums["d"].to_numpy() / sums["t"].to_numpy()
    zero = ok & ~(nat > 0)
    if zero.any():
        pos = int(np.flatnonzero(zero)[0])
        raise cell_error(df, pos, digital, "no city has digital employment in this year: the "
                         "national share is 0 and the location quotient undefined",
                         city=city, year=year)
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = np.where(ok, (d / t) / nat, np.nan)
    return pd.Series(lq, index=df.index, name=name)
