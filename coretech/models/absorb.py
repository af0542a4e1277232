"""Absorbing fixed effects: within transformation by alternating projections, and the
degrees of freedom the absorbed effects use up (reghdfe's conventions).

For fixed effects f_1..f_m the within transformation is the projection M_D x, where D holds
the dummies of all effects; it is computed by alternating projections (demeaning by each
effect in turn until the change is below ``tol``), exact after one sweep for a balanced
two-way panel. Degrees of freedom (reghdfe): the first effect uses ``levels - 1`` (one level
is collinear with the constant), the second ``levels - c`` with ``c`` the connected
components of the bipartite graph of the two effects, later ones ``levels - 1``; an effect
nested within a cluster variable uses none (its variation is inside the clusters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


def codes_of(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer codes 0..G-1 of a grouping column (missing values are not allowed here)."""
    codes, _ = pd.factorize(pd.Series(values), sort=True)
    return codes.astype(np.int64)


def is_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every level of ``inner`` lies within a single level of ``outer``."""
    inner = np.asarray(inner, dtype=np.int64)
    outer = np.asarray(outer, dtype=np.int64)
    pairs = np.unique(inner * (int(outer.max()) + 1) + outer)
    return bool(len(pairs) == len(np.unique(inner)))


@dataclass
class Absorber:
    """The fixed effects of one estimation sample: demeaning and degrees of freedom."""

    codes: list[np.ndarray]
    names: list[str] = field(default_factory=list)
    tol: float = 1e-12
    maxiter: int = 10_000

    def __post_init__(self) -> None:
        self.n = len(self.codes[0]) if self.codes else 0
        self._ind = []
        self._counts = []
        for c in self.codes:
            g = int(c.max()) + 1 if len(c) else 0
            self._ind.append(sp.csr_matrix((np.ones(len(c)), (np.arange(len(c)), c)), shape=(len(c), g)))
            self._counts.append(np.bincount(c, minlength=g).astype(float))
        self._balanced = self._is_balanced()

    @property
    def levels(self) -> list[int]:
        return [len(c) for c in self._counts]

    def _is_balanced(self) -> bool:
        if len(self.codes) != 2:
            return False
        g1, g2 = self.levels
        if g1 * g2 != self.n:
            return False
        return bool(len(np.unique(self.codes[0] * g2 + self.codes[1])) == self.n)

    def demean(self, x: np.ndarray) -> np.ndarray:
        """M_D x for a vector or an (n, k) matrix (columns demeaned together)."""
        a = np.asarray(x, dtype=float)
        vec = a.ndim == 1
        a = a.reshape(len(a), -1).copy()
        if not self.codes:
            return a[:, 0] if vec else a
        if len(self.codes) == 1:
            ind, cnt = self._ind[0], self._counts[0]
            a -= ind @ ((ind.T @ a) / cnt[:, None])
        elif self._balanced:
            for ind, cnt in zip(self._ind, self._counts, strict=True):
                a -= ind @ ((ind.T @ a) / cnt[:, None])
        else:
            scale = np.maximum(np.abs(a).max(axis=0), 1.0)
            for _ in range(self.maxiter):
                old = a.copy()
                for ind, cnt in zip(self._ind, self._counts, strict=True):
                    a -= ind @ ((ind.T @ a) / cnt[:, None])
                if (np.abs(a - old).max(axis=0) / scale).max() < self.tol:
                    break
        return a[:, 0] if vec else a

    def df_absorbed(self, clusters: Sequence[np.ndarray] = ()) -> int:
        """Degrees of freedom used by the effects, excluding the constant (reghdfe's df_a - 1).

        With the constant counted separately, K = regressors + 1 + this number.
        """
        total = 0
        for j, c in enumerate(self.codes):
            if any(is_nested(c, cl) for cl in clusters):
                continue
            g = self.levels[j]
            if j == 0:
                total += g - 1
            elif j == 1:
                total += g - self._components(0, 1)
            else:
                total += g - 1
        return total

    def _components(self, a: int, b: int) -> int:
        ga, gb = self.levels[a], self.levels[b]
        m = sp.coo_matrix(
            (np.ones(self.n), (self.codes[a], self.codes[b] + ga)), shape=(ga + gb, ga + gb)
        )
        n_comp, _ = connected_components(m, directed=False)
        return int(n_comp)


def singleton_mask(codes: Sequence[np.ndarray]) -> np.ndarray:
    """Rows to keep after iteratively dropping singleton groups of any effect (reghdfe)."""
    if not codes:
        return np.ones(0, dtype=bool)
    keep = np.ones(len(codes[0]), dtype=bool)
    while True:
        changed = False
        for c in codes:
            cnt = np.bincount(c[keep], minlength=int(c.max()) + 1)
            single = keep & (cnt[c] == 1)
            if single.any():
                keep &= ~single
                changed = True
        if not changed:
            return keep
