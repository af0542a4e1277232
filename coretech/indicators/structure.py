"""Industrial-structure upgrading Irading, METHODS.md §6, eq. (11).

Rationalisation, the Theil index over the three sectors (value added M_i, employment E_i,
M = sum M_i, E = sum E_i):

    TL = sum_{i=1..3} (M_i / M) ln( (M_i / E_i) / (M / E) )          eq. (11)

TL >= 0 (it is the Kullback-Leibler divergence of output shares from employment shares),
= 0 exactly when the three sector productivities are equal; lower = more rational. A sector
with M_i = 0 contributes 0 (the limit of s ln s); M_i > 0 with E_i = 0 is an error.

Advanced structure: tertiary / secondary value added (default; Gan, Zheng & Yu 2011), or
``advanced="secondary/tertiary"``, the paper's literal text.

Composite (weights 0.318 advanced, 0.682 rationalised, from the paper):

    Irading = 0.318 AD + 0.682 (s * TL)       s = theil_sign, default -1 (higher = better)

The two parts have very different scales (AD around 1, TL around 0.1); the paper combines
them raw, which is the default. ``standardize="zscore"`` or ``"minmax"`` rescales AD and
s*TL over the pooled panel before combining (not the paper's choice; recorded).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.indicators.transforms import (
    cell_error,
    check_finite,
    check_positive,
    require_columns,
    to_numeric,
)

ADVANCED = ("tertiary/secondary", "secondary/tertiary")
STANDARDIZE = ("none", "zscore", "minmax")


def _three(cols: Sequence[str], what: str) -> list[str]:
    cols = list(cols)
    if len(cols) != 3:
        raise InputError(f"{what} needs three columns (primary, secondary, tertiary), got {cols}")
    return cols


def theil_rationalization(
    df: pd.DataFrame,
    output: Sequence[str] = ("M1", "M2", "M3"),
    labour: Sequence[str] = ("E1", "E2", "E3"),
    *,
    city: str = "city",
    year: str = "year",
    name: str = "Irading_TL",
) -> pd.Series:
    """Theil rationalisation index TL of eq. (11) (see the module docstring).

    ``output``: value added of the primary, secondary, tertiary sectors; ``labour``: their
    employment. Errors name city, year and column for missing, negative or non-numeric
    cells, for a sector with output but no employment, and for a city-year without output.
    """
    output = _three(output, "output")
    labour = _three(labour, "labour")
    cols = output + labour
    require_columns(df, cols)
    num = to_numeric(df, cols, city=city, year=year)
    check_finite(num, cols, what="the Theil index", city=city, year=year)
    check_positive(num, cols, what="the Theil index", strict=False, city=city, year=year)
    M = num[output].to_numpy(dtype="float64")
    E = num[labour].to_numpy(dtype="float64")
    for i in range(3):
        bad = (M[:, i] > 0) & (E[:, i] == 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise cell_error(df, pos, labour[i], "sector has value added but zero employment: "
                             "its productivity is infinite", city=city, year=year)
    tm, te = M.sum(axis=1), E.sum(axis=1)
    for tot, col in ((tm, output[0]), (te, labour[0])):
        bad = ~(tot > 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise cell_error(df, pos, col, "the three sectors sum to zero", city=city, year=year)
    s = M / tm[:, None]
    ell = E / te[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(s > 0, s * np.log(np.where(s > 0, s, 1) / np.where(ell > 0, ell, 1)), 0.0)
    return pd.Series(terms.sum(axis=1), index=df.index, name=name)


def advanced_structure(
    df: pd.DataFrame,
    secondary: str = "M2",
    tertiary: str = "M3",
    *,
    advanced: str = "tertiary/secondary",
    city: str = "city",
    year: str = "year",
    name: str = "Irading_AD",
) -> pd.Series:
    """Advanced-structure ratio: M3/M2 (default) or the paper's literal M2/M3."""
    if advanced not in ADVANCED:
        raise InputError(f"advanced must be one of {', '.join(ADVANCED)}, got {advanced!r}")
    require_columns(df, [secondary, tertiary])
    num = to_numeric(df, [secondary, tertiary], city=city, year=year)
    check_finite(num, [secondary, tertiary], what="the advanced-structure ratio", city=city,
                 year=year)
    den = secondary if advanced == "tertiary/secondary" else tertiary
    nom = tertiary if den == secondary else secondary
    check_positive(num, [den], what="the advanced-structure ratio (denominator)", city=city,
                   year=year)
    check_positive(num, [nom], what="the advanced-structure ratio", strict=False, city=city,
                   year=year)
    return pd.Series(num[nom].to_numpy() / num[den].to_numpy(), index=df.index, name=name)


def _standardise(v: np.ndarray, how: str) -> np.ndarray:
    if how == "none":
        return v
    if how == "zscore":
        sd = v.std(ddof=1)
        return (v - v.mean()) / sd if sd > 0 else v - v.mean()
    rng = v.max() - v.min()
    return (v - v.min()) / rng if rng > 0 else np.zeros_like(v)


def structure_upgrading(
    df: pd.DataFrame,
    output: Sequence[str] = ("M1", "M2", "M3"),
    labour: Sequence[str] = ("E1", "E2", "E3"),
    *,
    advanced: str = "tertiary/secondary",
    weights: Sequence[float] = (0.318, 0.682),
    theil_sign: int = -1,
    standardize: str = "none",
    city: str = "city",
    year: str = "year",
    name: str = "Irading",
) -> pd.DataFrame:
    """Irading = w_AD AD + w_TL (theil_sign TL), eq. (11) and the paper's 0.318 / 0.682.

    Returns a DataFrame with ``<name>_AD`` (advanced ratio), ``<name>_TL`` (Theil index,
    raw sign) and ``<name>`` (the composite), index of ``df``.
    """
    output = _three(output, "output")
    w = [float(x) for x in weights]
    if len(w) != 2 or not all(np.isfinite(w)):
        raise InputError(f"weights must be two numbers (advanced, rationalised), got {weights!r}")
    if theil_sign not in (-1, 1):
        raise InputError(f"theil_sign must be -1 or +1, got {theil_sign!r}")
    if standardize not in STANDARDIZE:
        raise InputError(f"standardize must be one of {', '.join(STANDARDIZE)}, got {standardize!r}")
    tl = theil_rationalization(df, output, labour, city=city, year=year, name=f"{name}_TL")
    ad = advanced_structure(df, output[1], output[2], advanced=advanced, city=city, year=year,
                            name=f"{name}_AD")
    a = _standardise(ad.to_numpy(), standardize)
    r = _standardise(theil_sign * tl.to_numpy(), standardize)
    comp = w[0] * a + w[1] * r
    return pd.DataFrame({ad.name: ad, tl.name: tl, name: comp}, index=df.index)
