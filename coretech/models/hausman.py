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

    def summary(self) -> str:
        s = f"Hausman ({self.method}): chi2({self.df}) = {self.statistic:.4f}, p = {self.pvalue:.4g}"
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
) -> HausmanResult:
    """Hausman test of FE against RE; ``method`` ``"classic"`` or ``"mundlak"`` (cluster-robust)."""
    from linearmodels import PanelOLS, RandomEffects

    xs = _as_list(x)
    if method not in {"classic", "mundlak"}:
        raise InputError(f"method must be 'classic' or 'mundlak', not {method!r}")
    data, exog = _panel(df, y, xs, unit, time, time_effects)
    yy = data[y]
    fe = PanelOLS(yy, exog, entity_effects=True).fit()
    re_exog = exog.assign(const=1.0)
    if method == "classic":
        re = RandomEffects(yy, re_exog).fit()
        b = (fe.params[xs] - re.params[xs]).to_numpy()
        v = (fe.cov.loc[xs, xs] - re.cov.loc[xs, xs]).to_numpy()
        vinv = np.linalg.pinv(v)
        stat = float(b @ vinv @ b)
        df_ = int(np.linalg.matrix_rank(v))
        note = ""
        if stat < 0 or (np.linalg.eigvalsh((v + v.T) / 2) < 0).any():
            note = ("V_FE - V_RE is not positive semi-definite (Stata reports chi2 < 0 as failing "
                    "the test's assumptions); use the cluster-robust Mundlak form")
        p = float(stats.chi2.sf(stat, df_)) if stat >= 0 else float("nan")
        return HausmanResult(stat, df_, p, "classic", fe.params[xs], re.params[xs], note)
    means = data[xs].groupby(level=0).transform("mean").add_prefix("mean_")
    aux = RandomEffects(yy, pd.concat([re_exog, means], axis=1)).fit(cov_type="clustered", cluster_entity=True)
    names = list(means.columns)
    g = aux.params[names].to_numpy()
    vg = aux.cov.loc[names, names].to_numpy()
    stat = float(g @ np.linalg.solve(vg, g))
    return HausmanResult(stat, len(names), float(stats.chi2.sf(stat, len(names))), "mundlak", fe.params[xs], aux.params[xs])
