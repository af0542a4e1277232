"""Entropy-weight index (Nycives), METHODS.md §4 and the paper's Table 1.

For indicators j = 1..m over observations i = 1..n (city-years):

1. x'_ij = (x_ij - min_j) / (max_j - min_j)   positive indicator
   x'_ij = (max_j - x_ij) / (max_j - min_j)   negative indicator
   then x'_ij <- x'_ij + shift                 (shift = 1e-4 by default, so ln is defined)
2. p_ij = x'_ij / sum_i x'_ij
3. e_j = -(1 / ln n) sum_i p_ij ln p_ij,  d_j = 1 - e_j,  w_j = d_j / sum_j d_j
4. Index_i = sum_j w_j x'_ij

Options (explicit, reported by ``provenance()``):

* ``pooled=True`` (default): min and max over all city-years, so the index is comparable
  over time; ``pooled=False``: min and max within each year (``year`` needed).
* ``weights="pooled"`` (default): one weight vector from all n observations (k = 1/ln n);
  ``weights="by_year"``: steps 2-3 within each year (k = 1/ln n_t), one weight vector per year.
* ``shift``: the constant added after normalising (>= 0; with 0, 0 ln 0 is taken as 0).
  The index uses the shifted x' (so it includes +shift, since the weights sum to 1).
* ``constant``: an indicator with max = min (in the pool, or in a year) has no spread;
  ``"zero"`` (default) sets its x' to 0 (+ shift), which gives it e = 1 and weight 0, and
  lists it in ``constant_``; ``"error"`` refuses it.

The weights do not change when an indicator is rescaled by a positive affine map
(x -> a x + b, a > 0): the normalisation removes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import xlogy

from coretech.errors import InputError
from coretech.indicators.pca import resolve_directions
from coretech.indicators.transforms import check_finite


def _split_year(X: pd.DataFrame, year: Any) -> tuple[pd.DataFrame, np.ndarray | None]:
    """(indicator frame, year labels or None); ``year`` may name a column of ``X``."""
    if year is None:
        return X, None
    if isinstance(year, str):
        if year not in X.columns:
            raise InputError(f"the data has no year column {year!r}", column=year)
        return X.drop(columns=[year]), X[year].to_numpy()
    y = np.asarray(year)
    if y.shape[0] != len(X):
        raise InputError(f"year has {y.shape[0]} values for {len(X)} rows")
    return X, y


class EntropyIndex:
    """Entropy-weight composite index (METHODS.md §4), scikit-learn style.

    ``EntropyIndex(directions={"coal": -1}).fit(X).transform(X)`` -> Series ``Nycives``.

    Attributes after ``fit``: ``columns_``, ``directions_``, ``weights_`` (Series summing to
    1; a year x indicator DataFrame with ``weights="by_year"``), ``entropy_`` (e_j),
    ``redundancy_`` (d_j), ``min_`` / ``max_`` (Series, or DataFrame by year),
    ``n_`` (observations used), ``constant_`` (indicators without spread).
    """

    def __init__(
        self,
        directions: Mapping[str, Any] | None = None,
        *,
        pooled: bool = True,
        shift: float = 1e-4,
        weights: str = "pooled",
        constant: str = "zero",
        name: str = "Nycives",
    ) -> None:
        self.directions = directions
        self.pooled = pooled
        self.shift = shift
        self.weights = weights
        self.constant = constant
        self.name = name

    # ------------------------------------------------------------------ helpers
    def _validate(self) -> None:
        if not isinstance(self.pooled, bool):
            raise InputError(f"pooled must be true or false, got {self.pooled!r}")
        if not (isinstance(self.shift, (int, float)) and np.isfinite(self.shift) and self.shift >= 0):
            raise InputError(f"shift must be a number >= 0, got {self.shift!r}")
        if self.weights not in ("pooled", "by_year"):
            raise InputError(f"weights must be 'pooled' or 'by_year', got {self.weights!r}")
        if self.constant not in ("zero", "error"):
            raise InputError(f"constant must be 'zero' or 'error', got {self.constant!r}")

    def _normalise(self, X: pd.DataFrame, years: np.ndarray | None, fitting: bool) -> np.ndarray:
        cols = self.columns_
        V = X[cols].to_numpy(dtype="float64")
        sign = np.array([self.directions_[c] for c in cols])
        out = np.empty_like(V)
        if self.pooled:
            groups = {None: np.arange(len(V))}
        else:
            groups = pd.Series(years).groupby(years, sort=True).indices
        if fitting:
            mins, maxs = {}, {}
            for g, idx in groups.items():
                mins[g] = V[idx].min(axis=0)
                maxs[g] = V[idx].max(axis=0)
            if self.pooled:
                self.min_ = pd.Series(mins[None], index=cols)
                self.max_ = pd.Series(maxs[None], index=cols)
            else:
                self.min_ = pd.DataFrame(mins, index=cols).T
                self.max_ = pd.DataFrame(maxs, index=cols).T
        for g, idx in groups.items():
            if self.pooled:
                mn, mx = self.min_.to_numpy(), self.max_.to_numpy()
            else:
                if g not in self.min_.index:
                    raise InputError(f"year {g} was not in the data the index was fitted on")
                mn, mx = self.min_.loc[g].to_numpy(), self.max_.loc[g].to_numpy()
            rng = mx - mn
            flat = rng <= 0
            safe = np.where(flat, 1.0, rng)
            z = np.where(sign > 0, V[idx] - mn, mx - V[idx]) / safe
            z[:, flat] = 0.0
            out[idx] = z
        return out + self.shift

    # ------------------------------------------------------------------ API
    def fit(self, X: pd.DataFrame, y: Any = None, *, year: Any = None) -> EntropyIndex:
        """Estimate the weights. ``year``: a column name of ``X`` or labels aligned with it
        (required for ``pooled=False`` or ``weights="by_year"``)."""
        self._validate()
        X, years = _split_year(pd.DataFrame(X), year)
        if years is None and (not self.pooled or self.weights == "by_year"):
            raise InputError("year-by-year normalisation or weights need the year of each row "
                             "(year=...)")
        self.columns_ = [str(c) for c in X.columns]
        if not self.columns_:
            raise InputError("the entropy index needs at least one indicator column")
        check_finite(X, self.columns_, what="the entropy index")
        self.directions_ = resolve_directions(self.columns_, self.directions)
        Xn = self._normalise(X, years, fitting=True)
        mins = self.min_.to_numpy()
        maxs = self.max_.to_numpy()
        flat = np.atleast_2d(maxs - mins <= 0)
        flat_any = flat.any(axis=0)
        self.constant_ = [c for c, f in zip(self.columns_, flat_any, strict=True) if f]
        if self.constant_ and self.constant == "error":
            c = self.constant_[0]
            scope = "over the pooled panel" if self.pooled else "within a year"
            raise InputError(f"indicator {c!r} is constant {scope}: the entropy method cannot "
                             "normalise it (drop it, or constant='zero' for weight 0)", column=c)
        if self.weights == "pooled":
            w, e, n = self._weights(Xn)
            self.weights_ = pd.Series(w, index=self.columns_, name="weight")
            self.entropy_ = pd.Series(e, index=self.columns_, name="entropy")
            self.n_ = n
        else:
            ws, es, ns = {}, {}, {}
            for g, idx in pd.Series(years).groupby(years, sort=True).indices.items():
                ws[g], es[g], ns[g] = self._weights(Xn[idx], label=f"year {g}")
            self.weights_ = pd.DataFrame(ws, index=self.columns_).T
            self.entropy_ = pd.DataFrame(es, index=self.columns_).T
            self.n_ = ns
        self.redundancy_ = 1 - self.entropy_
        return self

    def _weights(self, Xn: np.ndarray, label: str = "") -> tuple[np.ndarray, np.ndarray, int]:
        n = Xn.shape[0]
        where = f" ({label})" if label else ""
        if n < 2:
            raise InputError(f"the entropy method needs at least 2 observations{where}")
        col_sum = Xn.sum(axis=0)
        dead = col_sum <= 0
        P = Xn / np.where(dead, 1.0, col_sum)
        e = -xlogy(P, P).sum(axis=0) / np.log(n)
        e[dead] = 1.0  # an indicator at 0 everywhere (constant, shift 0) carries no information
        d = 1.0 - e
        if not d.sum() > 0:
            raise InputError(f"no indicator varies{where}: the entropy weights are undefined")
        return d / d.sum(), e, n

    def transform(self, X: pd.DataFrame, *, year: Any = None) -> pd.Series:
        """Index_i = sum_j w_j x'_ij (with the fitted min/max and weights)."""
        if not hasattr(self, "weights_"):
            raise InputError("EntropyIndex is not fitted: call fit(X) first")
        X, years = _split_year(pd.DataFrame(X), year)
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise InputError(f"the data has no indicator column {missing[0]!r}", column=missing[0])
        if years is None and (not self.pooled or self.weights == "by_year"):
            raise InputError("this index was fitted by year: transform needs year=...")
        check_finite(X, self.columns_, what="the entropy index")
        Xn = self._normalise(X, years, fitting=False)
        if self.weights == "pooled":
            vals = Xn @ self.weights_.to_numpy()
        else:
            W = self.weights_.reindex(years)
            if W.isna().any().any():
                raise InputError("a year of the data has no fitted weights")
            vals = (Xn * W.to_numpy()).sum(axis=1)
        return pd.Series(vals, index=X.index, name=self.name)

    def contributions(self, X: pd.DataFrame, *, year: Any = None) -> pd.DataFrame:
        """w_j x'_ij per indicator (columns of X); each row sums to the index. Summed over a
        group of indicators (a pillar of Table 1) it is that group's part of the index."""
        if not hasattr(self, "weights_"):
            raise InputError("EntropyIndex is not fitted: call fit(X) first")
        Xn = self.normalised(X, year=year)
        if self.weights == "pooled":
            return Xn * self.weights_.to_numpy()
        _, years = _split_year(pd.DataFrame(X), year)
        return Xn * self.weights_.reindex(years).to_numpy()

    def fit_transform(self, X: pd.DataFrame, y: Any = None, *, year: Any = None) -> pd.Series:
        return self.fit(X, year=year).transform(X, year=year)

    def normalised(self, X: pd.DataFrame, *, year: Any = None) -> pd.DataFrame:
        """The shifted normalised indicators x'_ij (step 1)."""
        X, years = _split_year(pd.DataFrame(X), year)
        return pd.DataFrame(self._normalise(X, years, fitting=False), index=X.index,
                            columns=self.columns_)

    def provenance(self) -> dict[str, Any]:
        """Options and fitted weights, JSON-ready."""
        if isinstance(self.weights_, pd.Series):
            weights: Any = {c: float(v) for c, v in self.weights_.items()}
            entropy: Any = {c: float(v) for c, v in self.entropy_.items()}
        else:
            weights = {str(g): {c: float(v) for c, v in row.items()}
                       for g, row in self.weights_.iterrows()}
            entropy = {str(g): {c: float(v) for c, v in row.items()}
                       for g, row in self.entropy_.iterrows()}
        return {
            "method": "entropy",
            "normalisation": "pooled min/max" if self.pooled else "year-by-year min/max",
            "pooled": self.pooled,
            "weights_scope": self.weights,
            "shift": self.shift,
            "k": "1/ln(n)",
            "n": self.n_ if isinstance(self.n_, int) else {str(k): v for k, v in self.n_.items()},
            "constant_rule": self.constant,
            "constant_indicators": list(self.constant_),
            "directions": dict(self.directions_),
            "weights": weights,
            "entropy": entropy,
        }


def entropy_weights(
    X: pd.DataFrame,
    directions: Mapping[str, Any] | None = None,
    pooled: bool = True,
    shift: float = 1e-4,
    year: Any = None,
    *,
    weights: str = "pooled",
    constant: str = "zero",
) -> pd.Series | pd.DataFrame:
    """Entropy weights w_j of the columns of ``X`` (METHODS.md §4 steps 1-3).

    ``entropy_weights(df[cols], directions={"x1": +1, "x2": -1})`` -> Series summing to 1.
    ``pooled=False`` normalises within each year (give ``year``: labels or a column of X);
    ``weights="by_year"`` returns a year x indicator DataFrame, each row summing to 1.
    """
    m = EntropyIndex(directions, pooled=pooled, shift=shift, weights=weights, constant=constant)
    return m.fit(X, year=year).weights_


def entropy_index(
    X: pd.DataFrame,
    directions: Mapping[str, Any] | None = None,
    pooled: bool = True,
    shift: float = 1e-4,
    year: Any = None,
    *,
    weights: str = "pooled",
    constant: str = "zero",
    name: str = "Nycives",
) -> pd.Series:
    """Entropy-weight index Index_i = sum_j w_j x'_ij (METHODS.md §4 step 4); see
    :class:`EntropyIndex` for the options."""
    m = EntropyIndex(directions, pooled=pooled, shift=shift, weights=weights, constant=constant,
                     name=name)
    return m.fit_transform(X, year=year)
