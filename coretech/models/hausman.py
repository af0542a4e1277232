"""Hausman tests of fixed against random effects (METHODS.md section 7, Table 3 note).

Classic (Hausman 1978; Stata ``hausman fe re``):

    H = (b_FE - b_RE)' [V_FE - V_RE]^{-1} (b_FE - b_RE)  ~  chi2(k)

with the conventional (non-robust) covariances of linearmodels' ``PanelOLS`` (entity effects)
and ``RandomEffects`` (Swamy-Arora). It reproduces Baltagi's m = 2.33 on Grunfeld. The
difference of covariances is inverted with a generalised inverse; df = its rank. When the
difference is not positive semi-definite the statistic can be negative (Stata prints it with
a warning); the p-value is then NaN and ``note`` says so.

Cluster-robust (Mundlak 1978; Wooldridge 2010 section 10.7.3): add the unit means of the
time-varying regressors to the random-effects regression and test that their coefficients
are jointly zero with a covariance clustered by unit: W = g' V_g^{-1} g ~ chi2(k). Valid under
heteroskedasticity and serial correlation, where the classic statistic is not.

``sigmamore`` / ``sigmaless`` (Stata ``hausman fe re, sigmamore`` / ``sigmaless``): both
covariances are based on one disturbance variance, that of the efficient (RE) or of the
consistent (FE) estimator: V_FE * s2_RE / s2_FE, or V_RE * s2_FE / s2_RE (s2 as each fit
reports it). The difference is then s2 [(X~'X~)^{-1} - (X*'X*)^{-1}] (within against
quasi-demeaned regressors), positive semi-definite, so the statistic is not negative;
H_sigmamore = H_sigmaless * s2_FE / s2_RE. Not checked against a Stata run (no oracle shipped).

With ``time_effects`` year dummies enter both models (the two-way specification).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from coretech.errors import InputError
from coretech.models.fe import _as_list, prepare_sample
from coretech.models.validate import check_unique_panel


@dataclass
class HausmanResult:
    statistic: float
    df: int
    pvalue: float
    method: str
    b_fe: pd.Series
    b_re: pd.Series
    note: str = ""

    @property
    def label(self) -> str:
        return {"classic": "classic", "sigmamore": "classic, sigmamore", "sigmaless": "classic, sigmaless",
                "mundlak": "cluster-robust Mundlak"}.get(self.method, self.method)

    def text(self, decimals: int = 4) -> str:
        """'chi2(k) = x, p = y', or why there is no p-value (never 'p = nan')."""
        s = f"chi2({self.df}) = {self.statistic:.{decimals}f}"
        if np.isfinite(self.pvalue):
            return f"{s}, p = {self.pvalue:.{decimals}f}"
        return f"{s}, no p-value (the statistic is negative: V_FE - V_RE is not positive semi-definite)"

    def summary(self) -> str:
        s = f"Hausman ({self.label}): {self.text()}"
        return f"{s} ({self.note})" if self.note else s


def _panel(df, y, xs, unit, time, time_effects):
    check_unique_panel(df, unit, time)
    data, _ = prepare_sample(df, [y, *xs], [unit, time])
    data = data.copy()
    data["_t"] = pd.to_numeric(data[time].astype("string"), errors="coerce")
    if data["_t"].isna().any():
        data["_t"] = pd.factorize(data[time], sort=True)[0]
    data = data.set_index([unit, "_t"])
    exog = data[xs].copy()
    if time_effects:
        dums = pd.get_dummies(data.index.get_level_values(1), prefix="yr", drop_first=True, dtype=float)
        dums.index = data.index
        exog = pd.concat([exog, dums], axis=1)
    return data, exog


def hausman(
    df: pd.DataFrame,
    y: str,
    x: str | Sequence[str],
    *,
    unit: str = "city",
    time: str = "year",
    time_effects: bool = True,
    method: str = "classic",
    sigmamore: bool = False,
    sigmaless: bool = False,
) -> HausmanResult:
    """Hausman test of FE against RE; ``method`` ``"classic"`` or ``"mundlak"`` (cluster-robust).

    ``sigmamore`` / ``sigmaless`` (classic only) put both covariances on the disturbance
    variance of the RE / FE fit, as Stata's ``hausman`` options of those names.
    """
    _check(method, sigmamore, sigmaless)
    tests = HausmanTests(df, y, x, unit=unit, time=time, time_effects=time_effects)
    if method == "classic":
        return tests.classic(sigmamore=sigmamore, sigmaless=sigmaless)
    return tests.mundlak()


def _check(method: str, sigmamore: bool, sigmaless: bool) -> None:
    if method not in {"classic", "mundlak"}:
        raise InputError(f"method must be 'classic' or 'mundlak', not {method!r}")
    if sigmamore and sigmaless:
        raise InputError("sigmamore and sigmaless are alternatives: give one")
    if (sigmamore or sigmaless) and method != "classic":
        raise InputError("sigmamore / sigmaless apply to the classic test (method='classic')")


class HausmanTests:
    """The Hausman tests of one specification, sharing its fits: the panel is prepared and
    the FE and RE models are fitted once, however many of the tests are asked for (the same
    numbers as separate :func:`hausman` calls, which each fit them again)."""

    def __init__(self, df: pd.DataFrame, y: str, x: str | Sequence[str], *, unit: str = "city",
                 time: str = "year", time_effects: bool = True) -> None:
        from linearmodels import PanelOLS

        self.xs = _as_list(x)
        self.data, self.exog = _panel(df, y, self.xs, unit, time, time_effects)
        self.yy = self.data[y]
        self.fe = PanelOLS(self.yy, self.exog, entity_effects=True).fit()
        self.re_exog = self.exog.assign(const=1.0)
        self._re = None

    @property
    def re(self):  # noqa: ANN201 - linearmodels' RandomEffectsResults
        """The random-effects fit (Swamy-Arora), fitted on first use."""
        if self._re is None:
            from linearmodels import RandomEffects

            self._re = RandomEffects(self.yy, self.re_exog).fit()
        return self._re

    def classic(self, *, sigmamore: bool = False, sigmaless: bool = False) -> HausmanResult:
        """The classic test (optionally ``sigmamore`` / ``sigmaless``)."""
        _check("classic", sigmamore, sigmaless)
        xs, fe, re = self.xs, self.fe, self.re
        b = (fe.params[xs] - re.params[xs]).to_numpy()
        v_fe, v_re = fe.cov.loc[xs, xs].to_numpy(), re.cov.loc[xs, xs].to_numpy()
        name = "classic"
        if sigmamore:
            v_fe, name = v_fe * (re.s2 / fe.s2), "sigmamore"
        elif sigmaless:
            v_re, name = v_re * (fe.s2 / re.s2), "sigmaless"
        v = v_fe - v_re
        vinv = np.linalg.pinv(v)
        stat = float(b @ vinv @ b)
        df_ = int(np.linalg.matrix_rank(v))
        note = ""
        eig = np.linalg.eigvalsh((v + v.T) / 2)
        if stat < 0 or (eig < -1e-12 * max(1.0, float(np.abs(eig).max()))).any():
            note = ("V_FE - V_RE is not positive semi-definite (Stata reports chi2 < 0 as failing "
                    "the test's assumptions); use sigmamore or the cluster-robust Mundlak form")
        p = float(stats.chi2.sf(stat, df_)) if stat >= 0 else float("nan")
        return HausmanResult(stat, df_, p, name, fe.params[xs], re.params[xs], note)

    def mundlak(self) -> HausmanResult:
        """The cluster-robust (Mundlak) test."""
        from linearmodels import RandomEffects

        xs, fe = self.xs, self.fe
        means = self.data[xs].groupby(level=0).transform("mean").add_prefix("mean_")
        aux = RandomEffects(self.yy, pd.concat([self.re_exog, means], axis=1)).fit(
            cov_type="clustered", cluster_entity=True)
        names = list(means.columns)
        g = aux.params[names].to_numpy()
        vg = aux.cov.loc[names, names].to_numpy()
        stat = float(g @ np.linalg.solve(vg, g))
        return HausmanResult(stat, len(names), float(stats.chi2.sf(stat, len(names))), "mundlak",
                             fe.params[xs], aux.params[xs])
