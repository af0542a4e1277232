"""Factor-market distortion and factor allocation Actros, METHODS.md §5, eqs. (6)-(10).

Capital stock by perpetual inventory (real, 2013 prices):

    C_t = I_t / P_t + (1 - delta) C_{t-1},   C_0 = (I_0 / P_0) / (g + delta)
    delta = 9.6 %, g = 13.84 %   (C_0 is the stock of each city's first year)

Translog production function, eq. (6), estimated by OLS:

    ln M = phi0 + phi1 ln E + phi2 ln C + 1/2 phi3 (ln E)^2 + 1/2 phi4 (ln C)^2
           + phi5 ln E ln C + e

Marginal products, eqs. (7)-(8), and distortions, eqs. (9)-(10):

    MP_E = (phi1 + phi3 ln E + phi5 ln C) M / E      tau_E = MP_E / w
    MP_C = (phi2 + phi4 ln C + phi5 ln E) M / C      tau_C = MP_C / r
    tau  = (tau_E + tau_C) / 2

and the final transform (the paper: "take the opposite number"; its Table 2 shows only
positive values, so the transform is unclear):

    negate (default, as written)   Actros = -tau
    reciprocal                     Actros = 1 / tau
    abs_deviation                  Actros = -|tau - 1|   (distance from an undistorted market)

Eq. (6) has one constant phi0 and no city or year effects (unlike the paper's eqs. 1-3,
which write mu_i and lambda_t): the paper implies pooled OLS, the default ``fe="none"``.
``fe="city"``, ``"year"`` or ``"twoway"`` add the dummies (the phi's are then within
estimates; phi0 is not used by eqs. 7-10).

Units: MP_E has the units of M/E and must be in the units of w; MP_C is a rate (M/C) that
must match r. ``units`` gives, for each of M, E, C, w, r, the multiplier to a common base
(e.g. M in 10^8 yuan -> ``M = 1e8``; E in 10^4 persons -> ``E = 1e4``; r in percent ->
``r = 0.01``). The default multiplies by 1 (the panel is already consistent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.indicators.transforms import (
    cell_error,
    check_finite,
    check_positive,
    check_unique,
    require_columns,
    to_numeric,
)

TRANSFORMS = ("negate", "reciprocal", "abs_deviation")
FIXED_EFFECTS = ("none", "city", "year", "twoway")
UNIT_KEYS = ("M", "E", "C", "w", "r")
PARAM_NAMES = ("phi0", "phi1", "phi2", "phi3", "phi4", "phi5")


# --------------------------------------------------------------------------- capital stock
def perpetual_inventory(
    df: pd.DataFrame,
    investment: str = "I",
    price_index: str = "P",
    city: str = "city",
    year: str = "year",
    delta: float = 0.096,
    g: float = 0.1384,
    *,
    base_year: int | None = None,
    chained: bool = False,
    price_scale: float = 1.0,
    name: str = "C",
) -> pd.Series:
    """Real capital stock by perpetual inventory (METHODS.md §5).

    C_t = I_t / P_t + (1 - delta) C_{t-1}; each city's first year t0 starts at
    C_t0 = (I_t0 / P_t0) / (g + delta). Returns a Series (``name``, index of ``df``).

    Price index ``P``:
      * levels (default): P_t / ``price_scale`` is the price level with 2013 = 1
        (``price_scale=100`` when 2013 = 100); ``base_year=2013`` rebases each city's series
        so that P(base_year) = 1 (the city must have that year).
      * ``chained=True``: P_t / ``price_scale`` is the change on the previous year
        (上年 = 100 -> ``price_scale=100``); levels are the cumulative product from the
        city's first year (= 1 there, as its own first-year change is not used), then
        rebased to ``base_year`` if given.

    Years must be consecutive within a city (fill gaps first); I >= 0, P > 0.
    """
    for label, v in (("delta", delta), ("g", g)):
        if not (isinstance(v, (int, float)) and 0 <= v < 1):
            raise InputError(f"{label} must be a rate in [0, 1), got {v!r}")
    if not g + delta > 0:
        raise InputError("g + delta must be > 0 for the initial stock I0 / (g + delta)")
    if not (isinstance(price_scale, (int, float)) and price_scale > 0):
        raise InputError(f"price_scale must be > 0, got {price_scale!r}")
    require_columns(df, [city, year, investment, price_index])
    check_unique(df, city, year)
    num = to_numeric(df, [year, investment, price_index], city=city, year=year)
    check_finite(num, [year, investment, price_index], what="the perpetual inventory",
                 city=city, year=year)
    check_positive(num, [investment], what="the perpetual inventory (investment)",
                   strict=False, city=city, year=year)
    check_positive(num, [price_index], what="the perpetual inventory (price index)",
                   city=city, year=year)
    yr = num[year].to_numpy()
    inv = num[investment].to_numpy(dtype="float64")
    p = num[price_index].to_numpy(dtype="float64") / price_scale
    out = np.full(len(df), np.nan)
    for _, idx in df.groupby(city, sort=False, dropna=False).indices.items():
        idx = idx[np.argsort(yr[idx], kind="stable")]
        t = yr[idx]
        gaps = np.flatnonzero(np.diff(t) != 1)
        if gaps.size:
            pos = int(idx[gaps[0] + 1])
            raise cell_error(df, pos, year,
                             f"the perpetual inventory needs consecutive years; the previous "
                             f"year of this city is {t[gaps[0]]:g} (fill the gap first)",
                             city=city, year=year)
        lev = np.cumprod(np.r_[1.0, p[idx][1:]]) if chained else p[idx]
        if base_year is not None:
            hit = np.flatnonzero(t == base_year)
            if hit.size == 0:
                raise cell_error(df, int(idx[0]), year,
                                 f"base_year {base_year} is not in this city's years "
                                 f"{t[0]:g}-{t[-1]:g}", city=city, year=year)
            lev = lev / lev[hit[0]]
        real = inv[idx] / lev
        c = np.empty(idx.size)
        c[0] = real[0] / (g + delta)
        for k in range(1, idx.size):
            c[k] = real[k] + (1 - delta) * c[k - 1]
        out[idx] = c
    return pd.Series(out, index=df.index, name=name)


# --------------------------------------------------------------------------- translog
def _resolve_rate(df: pd.DataFrame, rate: Any, year: str, city: str) -> tuple[np.ndarray, str]:
    """r per row from a column name, a number, or a {year: rate} mapping."""
    if isinstance(rate, Mapping):
        table = {int(float(k)): float(v) for k, v in rate.items()}
        yrs = pd.to_numeric(df[year], errors="coerce").to_numpy()
        out = np.array([table.get(int(y), np.nan) if np.isfinite(y) else np.nan for y in yrs])
        miss = np.isnan(out)
        if miss.any():
            pos = int(np.flatnonzero(miss)[0])
            raise cell_error(df, pos, year, "the interest-rate table has no rate for this year",
                             city=city, year=year)
        return out, "by-year table"
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        return np.full(len(df), float(rate)), f"constant {rate:g}"
    require_columns(df, [str(rate)])
    return to_numeric(df, [str(rate)], city=city, year=year)[str(rate)].to_numpy(), f"column {rate}"


class TranslogDistortion:
    """Translog factor-market distortion (METHODS.md §5, eqs. 6-10), scikit-learn style.

    ``TranslogDistortion(output="M", labour="E", capital="C", wage="w", rate="r").fit(df)``
    estimates eq. (6); ``transform(df)`` returns a DataFrame with ``<name>_MP_E``,
    ``<name>_MP_C``, ``<name>_tau_E``, ``<name>_tau_C``, ``<name>_tau`` and ``<name>``.

    ``rate`` may be a column, a number, or a mapping {year: rate}. ``mp_output``:
    ``"observed"`` (default, M of the data in eqs. 7-8) or ``"fitted"`` (exp of the fitted
    ln M). Attributes after ``fit``: ``params_`` and ``bse_`` (phi0..phi5; classical OLS
    standard errors), ``rsquared_``, ``nobs_``.
    """

    def __init__(
        self,
        *,
        output: str = "M",
        labour: str = "E",
        capital: str = "C",
        wage: str = "w",
        rate: Any = "r",
        city: str = "city",
        year: str = "year",
        fe: str = "none",
        transform: str = "negate",
        mp_output: str = "observed",
        units: Mapping[str, float] | None = None,
        name: str = "Actros",
    ) -> None:
        self.output = output
        self.labour = labour
        self.capital = capital
        self.wage = wage
        self.rate = rate
        self.city = city
        self.year = year
        self.fe = fe
        self.final_transform = transform
        self.mp_output = mp_output
        self.units = units
        self.name = name

    def _validate(self) -> dict[str, float]:
        if self.fe not in FIXED_EFFECTS:
            raise InputError(f"fe must be one of {', '.join(FIXED_EFFECTS)}, got {self.fe!r}")
        if self.final_transform not in TRANSFORMS:
            raise InputError(f"transform must be one of {', '.join(TRANSFORMS)}, "
                             f"got {self.final_transform!r}")
        if self.mp_output not in ("observed", "fitted"):
            raise InputError(f"mp_output must be 'observed' or 'fitted', got {self.mp_output!r}")
        units = {k: 1.0 for k in UNIT_KEYS}
        for k, v in dict(self.units or {}).items():
            if k not in units:
                raise InputError(f"unknown unit key {k!r}; use {', '.join(UNIT_KEYS)}")
            if not (isinstance(v, (int, float)) and v > 0):
                raise InputError(f"unit multiplier of {k} must be > 0, got {v!r}")
            units[k] = float(v)
        return units

    def _logs(self, df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        cols = [self.output, self.labour, self.capital]
        require_columns(df, cols)
        num = to_numeric(df, cols, city=self.city, year=self.year)
        check_finite(num, cols, what="the translog production function", city=self.city,
                     year=self.year)
        check_positive(num, cols, what="the translog production function (a log)",
                       city=self.city, year=self.year)
        lm, le, lc = (np.log(num[c].to_numpy(dtype="float64")) for c in cols)
        return num, lm, le, lc

    @staticmethod
    def _design(le: np.ndarray, lc: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones_like(le), le, lc, 0.5 * le**2, 0.5 * lc**2, le * lc])

    def _dummies(self, df: pd.DataFrame) -> np.ndarray:
        parts = []
        if self.fe in ("city", "twoway"):
            require_columns(df, [self.city])
            parts.append(pd.get_dummies(df[self.city].astype(str), drop_first=True))
        if self.fe in ("year", "twoway"):
            require_columns(df, [self.year])
            parts.append(pd.get_dummies(df[self.year].astype(str), drop_first=True))
        if not parts:
            return np.empty((len(df), 0))
        return pd.concat(parts, axis=1).to_numpy(dtype="float64")

    def fit(self, df: pd.DataFrame, y: Any = None) -> TranslogDistortion:
        import statsmodels.api as sm

        self.units_ = self._validate()
        if self.city in df.columns and self.year in df.columns:
            check_unique(df, self.city, self.year)
        _, lm, le, lc = self._logs(df)
        X = np.column_stack([self._design(le, lc), self._dummies(df)])
        if X.shape[0] <= X.shape[1]:
            raise InputError(f"the translog regression has {X.shape[0]} observations for "
                             f"{X.shape[1]} parameters")
        if np.linalg.matrix_rank(X) < X.shape[1]:
            raise InputError("the translog regressors are collinear (e.g. labour or capital "
                             "constant, or the fixed effects absorb them)")
        res = sm.OLS(lm, X).fit()
        k = len(PARAM_NAMES)
        self.params_ = pd.Series(res.params[:k], index=PARAM_NAMES, name="coef")
        self.bse_ = pd.Series(res.bse[:k], index=PARAM_NAMES, name="std_error")
        self.rsquared_ = float(res.rsquared)
        self.nobs_ = int(res.nobs)
        self._fe_fitted = res.fittedvalues - self._design(le, lc) @ res.params[:k]
        return self

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """MP, tau and Actros per row (eqs. 7-10 and the final transform)."""
        if not hasattr(self, "params_"):
            raise InputError("TranslogDistortion is not fitted: call fit(df) first")
        u = self.units_
        num, lm, le, lc = self._logs(df)
        phi = self.params_
        if self.mp_output == "fitted":
            if len(df) != self.nobs_:
                raise InputError("mp_output='fitted' needs the data the model was fitted on")
            m = np.exp(self._design(le, lc) @ phi.to_numpy() + self._fe_fitted)
        else:
            m = np.exp(lm)
        e, c = np.exp(le), np.exp(lc)
        el_e = phi["phi1"] + phi["phi3"] * le + phi["phi5"] * lc
        el_c = phi["phi2"] + phi["phi4"] * lc + phi["phi5"] * le
        mp_e = el_e * (m * u["M"]) / (e * u["E"])
        mp_c = el_c * (m * u["M"]) / (c * u["C"])
        require_columns(df, [self.wage])
        w = to_numeric(df, [self.wage], city=self.city, year=self.year)[self.wage].to_numpy()
        r, self.rate_source_ = _resolve_rate(df, self.rate, self.year, self.city)
        for label, v, col in (("w", w, self.wage), ("r", r, str(self.rate))):
            bad = ~(v > 0)
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                found = "a missing value" if np.isnan(v[pos]) else f"{v[pos]:g}"
                raise cell_error(df, pos, col if col in df.columns else None,
                                 f"the factor price {label} must be positive, found {found}",
                                 city=self.city, year=self.year)
        tau_e = mp_e / (w * u["w"])
        tau_c = mp_c / (r * u["r"])
        tau = (tau_e + tau_c) / 2
        if self.final_transform == "negate":
            final = -tau
        elif self.final_transform == "reciprocal":
            with np.errstate(divide="ignore"):
                final = np.where(tau != 0, 1 / np.where(tau != 0, tau, 1), np.nan)
        else:
            final = -np.abs(tau - 1)
        n = self.name
        return pd.DataFrame({
            f"{n}_MP_E": mp_e, f"{n}_MP_C": mp_c, f"{n}_tau_E": tau_e, f"{n}_tau_C": tau_c,
            f"{n}_tau": tau, n: final,
        }, index=df.index)

    def fit_transform(self, df: pd.DataFrame, y: Any = None) -> pd.DataFrame:
        return self.fit(df).transform(df)

    def provenance(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": "translog OLS (eq. 6), MP (eqs. 7-8), tau (eqs. 9-10)",
            "fe": self.fe,
            "fe_note": "eq. (6) has one constant and no city/year effects: the paper implies fe='none'",
            "transform": self.final_transform,
            "mp_output": self.mp_output,
            "units": dict(getattr(self, "units_", {})),
            "columns": {"output": self.output, "labour": self.labour, "capital": self.capital,
                        "wage": self.wage, "rate": self.rate if not isinstance(self.rate, Mapping)
                        else {str(k): float(v) for k, v in self.rate.items()}},
        }
        if hasattr(self, "params_"):
            out["params"] = {k: float(v) for k, v in self.params_.items()}
            out["std_errors"] = {k: float(v) for k, v in self.bse_.items()}
            out["rsquared"] = self.rsquared_
            out["nobs"] = self.nobs_
        return out


def translog_distortion(
    df: pd.DataFrame,
    output: str = "M",
    labour: str = "E",
    capital: str = "C",
    wage: str = "w",
    rate: Any = "r",
    *,
    city: str = "city",
    year: str = "year",
    fe: str = "none",
    transform: str = "negate",
    mp_output: str = "observed",
    units: Mapping[str, float] | None = None,
    name: str = "Actros",
) -> pd.DataFrame:
    """Fit eq. (6) on ``df`` and return MP_E, MP_C, tau_E, tau_C, tau and Actros per row
    (METHODS.md §5; options as in :class:`TranslogDistortion`). The fitted model is in
    ``result.attrs["model"]`` (its ``provenance()`` dict)."""
    m = TranslogDistortion(output=output, labour=labour, capital=capital, wage=wage, rate=rate,
                           city=city, year=year, fe=fe, transform=transform,
                           mp_output=mp_output, units=units, name=name)
    out = m.fit_transform(df)
    out.attrs["model"] = m.provenance()
    return out
