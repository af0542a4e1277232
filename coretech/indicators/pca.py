"""PCA composite index: the robustness replacement of the entropy index (METHODS.md §4,
Table 5 col. 2).

    z_ij = s_j (x_ij - mean_j) / sd_j          s_j = +1 positive, -1 negative indicator
    keep components k with eigenvalue lambda_k > threshold (default 1, Kaiser)
    F_ik = sum_j v_jk z_ij                     (v_k the k-th eigenvector of corr(z))
    composite_i = sum_k (lambda_k / sum_{k retained} lambda_k) F_ik

Conventions (all options of :class:`PCAIndex`, reported in ``provenance()``):

* sd with ddof = 1, so the eigenvalues are those of the correlation matrix (sum = number
  of indicators), as in Stata's ``pca``; fitted with :class:`sklearn.decomposition.PCA`.
* Sign: an eigenvector is defined up to sign; each retained component is oriented so that
  its loadings sum to a positive number (if they sum to 0, its largest loading is made
  positive). With negative indicators reversed this makes "higher = better" on average.
* Weights: lambda_k over the sum of the *retained* eigenvalues (default, weights sum to 1);
  ``weights="all"`` divides by the sum of all eigenvalues instead.
* At least ``min_components`` (default 1) components are kept even when no eigenvalue
  exceeds the threshold; the number kept is ``n_components_``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.indicators.transforms import check_finite


def parse_direction(value: Any, name: str = "") -> int:
    """+1 / -1 from 1, -1, "+", "-", "positive", "negative", "正向", "负向"."""
    text = str(value).strip().lower()
    if text in ("1", "+1", "+", "1.0", "positive", "pos", "正向", "正"):
        return 1
    if text in ("-1", "-", "-1.0", "negative", "neg", "负向", "负", "逆向"):
        return -1
    raise InputError(f"direction of {name!r} must be +1 or -1 (or positive/negative), got {value!r}",
                     column=name or None)


def resolve_directions(columns: list[str], directions: Mapping[str, Any] | None) -> dict[str, int]:
    """Direction per column (default +1); unknown names in ``directions`` are an error."""
    directions = dict(directions or {})
    unknown = [k for k in directions if k not in columns]
    if unknown:
        raise InputError(f"directions given for column(s) not in the data: {', '.join(unknown)}",
                         column=unknown[0])
    return {c: parse_direction(directions.get(c, 1), c) for c in columns}


class PCAIndex:
    """PCA composite of indicators (METHODS.md §4, robustness), scikit-learn style.

    ``PCAIndex(directions={"x2": -1}).fit(X).transform(X)`` -> Series (``name``).

    Attributes after ``fit``: ``mean_``, ``scale_`` (sd, ddof=1), ``directions_``,
    ``explained_variance_`` (all eigenvalues), ``explained_variance_ratio_``,
    ``n_components_``, ``components_`` (DataFrame, retained components x indicators, sign
    aligned), ``weights_`` (Series, one per retained component).
    """

    def __init__(
        self,
        directions: Mapping[str, Any] | None = None,
        *,
        threshold: float = 1.0,
        weights: str = "retained",
        min_components: int = 1,
        name: str = "Nycives_pca",
    ) -> None:
        self.directions = directions
        self.threshold = threshold
        self.weights = weights
        self.min_components = min_components
        self.name = name

    def _validate(self) -> None:
        if self.weights not in ("retained", "all"):
            raise InputError(f"PCA weights must be 'retained' or 'all', got {self.weights!r}")
        if not (isinstance(self.min_components, int) and self.min_components >= 1):
            raise InputError(f"min_components must be an integer >= 1, got {self.min_components!r}")
        if not np.isfinite(self.threshold):
            raise InputError(f"threshold must be a number, got {self.threshold!r}")

    def _standardise(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise InputError(f"the data has no indicator column {missing[0]!r}", column=missing[0])
        Z = (X[self.columns_].to_numpy(dtype="float64") - self.mean_.to_numpy()) / self.scale_.to_numpy()
        return Z * np.array([self.directions_[c] for c in self.columns_])

    def fit(self, X: pd.DataFrame, y: Any = None) -> PCAIndex:
        from sklearn.decomposition import PCA

        self._validate()
        X = pd.DataFrame(X)
        self.columns_ = [str(c) for c in X.columns]
        if len(self.columns_) == 0:
            raise InputError("PCA index needs at least one indicator column")
        if len(X) < 2:
            raise InputError("PCA index needs at least two observations")
        check_finite(X, self.columns_, what="the PCA index")
        self.directions_ = resolve_directions(self.columns_, self.directions)
        self.mean_ = X[self.columns_].mean()
        self.scale_ = X[self.columns_].std(ddof=1)
        flat = [c for c in self.columns_ if not self.scale_[c] > 0]
        if flat:
            raise InputError(
                f"indicator {flat[0]!r} is constant: it cannot be z-scored for the PCA index; "
                "drop it from the spec", column=flat[0])
        Z = self._standardise(X)
        # eigen-decomposition of the covariance (= correlation) matrix: exact, fast for n >> p
        pca = PCA(svd_solver="covariance_eigh" if Z.shape[0] > Z.shape[1] else "full").fit(Z)
        ev = pca.explained_variance_
        self.explained_variance_ = pd.Series(ev, index=[f"PC{k + 1}" for k in range(ev.size)])
        self.explained_variance_ratio_ = self.explained_variance_ / self.explained_variance_.sum()
        keep = int(np.sum(ev > self.threshold))
        self.n_components_ = max(keep, min(self.min_components, ev.size))
        comps = pca.components_[: self.n_components_].copy()
        for k in range(comps.shape[0]):
            total = comps[k].sum()
            if abs(total) < 1e-12:
                total = comps[k][np.argmax(np.abs(comps[k]))]
            if total < 0:
                comps[k] = -comps[k]
        labels = [f"PC{k + 1}" for k in range(self.n_components_)]
        self.components_ = pd.DataFrame(comps, index=labels, columns=self.columns_)
        lam = ev[: self.n_components_]
        denom = lam.sum() if self.weights == "retained" else ev.sum()
        self.weights_ = pd.Series(lam / denom, index=labels, name="weight")
        return self

    def scores(self, X: pd.DataFrame) -> pd.DataFrame:
        """Component scores F_ik = sum_j v_jk z_ij of the retained components."""
        if not hasattr(self, "components_"):
            raise InputError("PCAIndex is not fitted: call fit(X) first")
        X = pd.DataFrame(X)
        check_finite(X, self.columns_, what="the PCA index")
        F = self._standardise(X) @ self.components_.to_numpy().T
        return pd.DataFrame(F, index=X.index, columns=self.components_.index)

    def transform(self, X: pd.DataFrame) -> pd.Series:
        """composite_i = sum_k w_k F_ik."""
        F = self.scores(X)
        return pd.Series(F.to_numpy() @ self.weights_.to_numpy(), index=F.index, name=self.name)

    def fit_transform(self, X: pd.DataFrame, y: Any = None) -> pd.Series:
        return self.fit(X).transform(X)

    def provenance(self) -> dict[str, Any]:
        """Options and fitted quantities, JSON-ready."""
        return {
            "method": "pca",
            "standardisation": "z-score, sd ddof=1 (correlation-matrix PCA)",
            "sign_convention": "each component oriented so that its loadings sum positive",
            "threshold": self.threshold,
            "weights": self.weights,
            "min_components": self.min_components,
            "n_components": self.n_components_,
            "eigenvalues": [float(v) for v in self.explained_variance_],
            "component_weights": {k: float(v) for k, v in self.weights_.items()},
            "loadings": {k: {c: float(v) for c, v in row.items()}
                         for k, row in self.components_.iterrows()},
            "directions": dict(self.directions_),
        }


def pca_index(
    X: pd.DataFrame,
    directions: Mapping[str, Any] | None = None,
    *,
    threshold: float = 1.0,
    weights: str = "retained",
    min_components: int = 1,
    name: str = "Nycives_pca",
) -> pd.Series:
    """PCA composite of the columns of ``X`` (METHODS.md §4 robustness; see :class:`PCAIndex`).

    ``pca_index(df[cols], directions={"coal": -1})`` -> Series named ``name``, index of ``X``:
    z-scores (negative indicators reversed), components with eigenvalue > ``threshold``,
    composite = sum_k (lambda_k / sum lambda) F_k, components signed so loadings sum positive.
    """
    return PCAIndex(directions, threshold=threshold, weights=weights,
                    min_components=min_components, name=name).fit_transform(X)
