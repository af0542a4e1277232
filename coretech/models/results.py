"""Result objects of the estimators (linearmodels-style: params, std_errors, summary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class RegressionResult:
    """Estimates, covariance and fit of one regression.

    ``df_resid`` is the denominator degrees of freedom of t and F tests (Stata: ``e(df_r)``;
    G-1 with clustering); ``dist`` is ``"t"`` (small-sample, reghdfe/xtreg) or ``"normal"``
    (large-sample, ivreg2 without ``small``).
    """

    params: pd.Series
    cov: pd.DataFrame
    nobs: int
    df_resid: int
    rsquared: float
    dep_var: str
    model: str
    cov_type: str
    dist: str = "t"
    rsquared_within: float | None = None
    fvalue: float | None = None
    f_pvalue: float | None = None
    f_df: tuple[int, int] | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index, name="std_error")

    @property
    def tstats(self) -> pd.Series:
        return (self.params / self.std_errors).rename("tstat")

    @property
    def pvalues(self) -> pd.Series:
        t = np.abs(self.tstats.to_numpy())
        p = 2 * (stats.t.sf(t, self.df_resid) if self.dist == "t" else stats.norm.sf(t))
        return pd.Series(p, index=self.params.index, name="pvalue")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        a = (1 - level) / 2
        crit = stats.t.isf(a, self.df_resid) if self.dist == "t" else stats.norm.isf(a)
        se = self.std_errors
        return pd.DataFrame({"lower": self.params - crit * se, "upper": self.params + crit * se})

    def wald(self, names: list[str]) -> tuple[float, float, int]:
        """Joint Wald test that ``names`` are zero: (F, p, df1) (chi2/df1 for normal).

        When the covariance of ``names`` has rank below their number (e.g. more regressors
        than clusters - 1), the statistic is not defined: (nan, nan, k), as Stata's ``F = .``.
        """
        b = self.params[names].to_numpy()
        v = self.cov.loc[names, names].to_numpy()
        k = len(names)
        if not np.isfinite(v).all() or np.linalg.matrix_rank(v) < k:
            return float("nan"), float("nan"), k
        w = float(b @ np.linalg.solve(v, b))
        if self.dist == "t":
            return w / k, float(stats.f.sf(w / k, k, self.df_resid)), k
        return w, float(stats.chi2.sf(w, k)), k

    def summary(self) -> str:
        """A plain-text table of estimates and fit, in the spirit of Stata's output."""
        ci = self.conf_int()
        tab = pd.DataFrame(
            {
                "coef": self.params,
                "std.err.": self.std_errors,
                "t" if self.dist == "t" else "z": self.tstats,
                "P>|t|" if self.dist == "t" else "P>|z|": self.pvalues,
                "[95% lower": ci["lower"],
                "upper]": ci["upper"],
            }
        )
        lines = [
            f"{self.model}: {self.dep_var}   N = {self.nobs}   cov = {self.cov_type}",
            f"R-squared = {self.rsquared:.4f}"
            + ("" if self.rsquared_within is None else f"   within R-squared = {self.rsquared_within:.4f}"),
        ]
        dropped = self.info.get("dropped_missing", 0), self.info.get("dropped_singletons", 0)
        if any(dropped):
            lines.append(f"dropped: {dropped[0]} observation(s) with a missing value, "
                         f"{dropped[1]} singleton observation(s)")
        if self.fvalue is not None and np.isfinite(self.fvalue):
            lines.append(f"F = {self.fvalue:.4f}  (p = {self.f_pvalue:.4g})")
        lines.append(tab.to_string(float_format=lambda v: f"{v:.6g}"))
        for key in sorted(self.diagnostics):
            val = self.diagnostics[key]
            if isinstance(val, float):
                lines.append(f"{key} = {val:.6g}")
            elif val is not None and not isinstance(val, (dict, list)):
                lines.append(f"{key} = {val}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.summary()
