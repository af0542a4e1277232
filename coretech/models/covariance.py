"""Sandwich covariance matrices with Stata's small-sample conventions.

For regressors X (already within-transformed), residuals e and bread B = (X'X)^{-1}:

- robust (HC1): V = q B (sum_i e_i^2 x_i x_i') B, q = N/(N-K)  (``regress, vce(robust)``);
- one-way cluster (CRV1): V = q B (sum_g s_g s_g') B, s_g = X_g'e_g,
  q = G/(G-1) * (N-1)/(N-K)  (``reghdfe``/``xtreg, fe vce(cluster)``);
- two-way cluster (Cameron, Gelbach & Miller 2011): V = V_1 + V_2 - V_12, each term with its
  own G_j/(G_j-1) factor and the common (N-1)/(N-K) (fixest/pyfixest ``G_df="conventional"``
  with nested effects not counted); V is not altered when it is not positive semi-definite
  (an eigenvalue fix would also move the slopes' variances through the constant).

K counts the regressors, the constant and the fixed-effect degrees of freedom not nested in a
cluster variable (see :mod:`coretech.models.absorb`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coretech.models.absorb import codes_of


def cluster_meat(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """sum_g s_g s_g' for row scores (n, k) summed within cluster codes."""
    g = int(codes.max()) + 1
    sums = np.zeros((g, scores.shape[1]))
    np.add.at(sums, codes, scores)
    return sums.T @ sums


def sandwich(
    x: np.ndarray,
    e: np.ndarray,
    *,
    n_params: int,
    clusters: Sequence[np.ndarray] = (),
    bread: np.ndarray | None = None,
) -> tuple[np.ndarray, int | None]:
    """Covariance of OLS coefficients and the smallest number of clusters (None if robust).

    ``n_params`` is K of the small-sample factor. ``clusters`` holds 0, 1 or 2 code arrays.
    """
    n = x.shape[0]
    b = np.linalg.inv(x.T @ x) if bread is None else bread
    scores = x * e[:, None]
    dof = (n - 1) / (n - n_params)
    if not clusters:
        meat = scores.T @ scores * n / (n - n_params)
        return b @ meat @ b, None
    codes = [codes_of(c) for c in clusters]
    if len(codes) == 1:
        g = int(codes[0].max()) + 1
        meat = cluster_meat(scores, codes[0]) * g / (g - 1) * dof
        return b @ meat @ b, g
    if len(codes) != 2:
        raise ValueError("at most two cluster variables are supported")
    c1, c2 = codes
    c12 = codes_of(c1.astype(np.int64) * (int(c2.max()) + 1) + c2)
    v = np.zeros((x.shape[1], x.shape[1]))
    gs = []
    for c, sign in ((c1, 1.0), (c2, 1.0), (c12, -1.0)):
        g = int(c.max()) + 1
        gs.append(g)
        v += sign * (g / (g - 1)) * cluster_meat(scores, c)
    v = b @ (v * dof) @ b
    return v, min(gs[:2])
