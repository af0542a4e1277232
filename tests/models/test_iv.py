"""IV-GMM (ivreg2 gmm2s) against Stata's own output on Card (1995), and the FE conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.models.diagnostics import stock_yogo
from coretech.models.iv import add_lag, iv_gmm

EXOG = ["exper", "expersq", "black", "south"]
CASES = {"justid": ["nearc4"], "overid": ["nearc2", "nearc4"]}


@pytest.fixture(scope="module")
def card():
    from linearmodels.datasets import card

    return card.load()


def _oracle(shared, tag):
    base = shared / "oracles" / "stata_ivreg2_card"
    coef = pd.read_csv(base / f"card_{tag}_gmm2s_coef_robust.csv").set_index("term")
    diag = pd.read_csv(base / f"card_{tag}_gmm2s_diagnostics_robust.csv").iloc[0]
    return coef, diag


@pytest.mark.parametrize("tag", sorted(CASES))
def test_card_oracle(card, shared, tag):
    coef, diag = _oracle(shared, tag)
    r = iv_gmm(card, "lwage", "educ", CASES[tag], exog=EXOG)
    est = r.params.rename({"_cons": "_cons"})
    assert r.nobs == int(diag.N) == 3010
    # to 1e-6 as the data ship (Stata holds lwage in single precision) ...
    np.testing.assert_allclose(est[coef.index], coef.estimate, rtol=1e-6)
    np.testing.assert_allclose(r.std_errors[coef.index], coef.std_error, rtol=1e-6)
    # ... and to 1e-9 once lwage is rounded to float as Stata stores it
    c32 = card.assign(lwage=card.lwage.astype(np.float32).astype(float))
    r = iv_gmm(c32, "lwage", "educ", CASES[tag], exog=EXOG)
    np.testing.assert_allclose(r.params[coef.index], coef.estimate, rtol=1e-9)
    np.testing.assert_allclose(r.std_errors[coef.index], coef.std_error, rtol=1e-9)
    g = r.diagnostics
    assert g["cd_f"] == pytest.approx(diag.weak_id_cd_f, rel=1e-9)
    assert g["kp_f"] == pytest.approx(diag.weak_id_kp_f, rel=1e-9)
    assert g["kp_lm"] == pytest.approx(diag.underid_stat, rel=1e-9)
    assert g["kp_lm_p"] == pytest.approx(diag.underid_p, rel=1e-6)
    assert g["kp_lm_df"] == diag.underid_df
    if diag.overid_df:
        assert g["hansen_j"] == pytest.approx(diag.overid_stat, rel=1e-9)
        assert g["hansen_j_p"] == pytest.approx(diag.overid_p, rel=1e-6)
    assert r.rsquared == pytest.approx(diag.r2, rel=1e-9)
    assert r.fvalue == pytest.approx(diag.model_f, rel=1e-9)
    assert r.f_df == (int(diag.model_f_df1), int(diag.model_f_df2))
    assert g["stock_yogo_10"] == {"justid": 16.38, "overid": 19.93}[tag]


def test_overid_differs_from_linearmodels_ivgmm(card):
    # linearmodels re-estimates S from the final residuals; ivreg2 keeps the first-step S
    from linearmodels.iv import IVGMM

    d = card.dropna(subset=["lwage", "educ", "nearc2", "nearc4", *EXOG]).assign(const=1.0)
    lm = IVGMM(d.lwage, d[[*EXOG, "const"]], d.educ, d[["nearc2", "nearc4"]]).fit(cov_type="robust")
    ours = iv_gmm(card, "lwage", "educ", CASES["overid"], exog=EXOG)
    assert lm.params["educ"] == pytest.approx(ours.params["educ"], rel=1e-6)
    assert abs(lm.std_errors["educ"] / ours.std_errors["educ"] - 1) > 1e-3


def test_stock_yogo_table():
    assert stock_yogo(1, 1) == 16.38
    assert stock_yogo(1, 2) == 19.93
    assert stock_yogo(1, 1, level=15) == 8.96 and stock_yogo(1, 2, level=15) == 11.59
    assert stock_yogo(1, 1, level=20) == 6.66 and stock_yogo(1, 2, level=20) == 8.75
    assert stock_yogo(1, 1, level=25) == 5.53 and stock_yogo(1, 2, level=25) == 7.25
    assert stock_yogo(2, 2) == 7.03
    assert stock_yogo(3, 5, test="bias", level=10) == 6.61
    assert np.isnan(stock_yogo(2, 1))  # under-identified: no value
    assert np.isnan(stock_yogo(3, 3))  # Stock and Yogo tabulate size for 1-2 regressors only


def _fe_panel(seed=3, n=40, t=6):
    rng = np.random.default_rng(seed)
    city = np.repeat([f"c{i}" for i in range(n)], t)
    year = np.tile(np.arange(2010, 2010 + t), n)
    a = np.repeat(rng.normal(size=n), t)
    z1, z2, w = rng.normal(size=(3, n * t))
    v = rng.normal(size=n * t)
    x = a + 0.8 * z1 + 0.5 * z2 + 0.3 * w + v
    y = 2 * a + 1.5 * x + 0.5 * w + 0.7 * v + rng.normal(size=n * t) * (1 + 0.5 * np.abs(w))
    return pd.DataFrame({"city": city, "year": year, "y": y, "x": x, "z1": z1, "z2": z2, "w": w})


def test_fe_partialling_equals_dummies_and_dof_convention():
    df = _fe_panel()
    dums = pd.get_dummies(df.city, prefix="d", drop_first=True, dtype=float)
    wide = pd.concat([df, dums], axis=1)
    with_dummies = iv_gmm(wide, "y", "x", ["z1", "z2"], exog=["w", *dums.columns])
    none = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], fe="city", fe_dof="none")
    absorbed = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], fe="city")
    n, d = len(df), 40
    assert absorbed.diagnostics["dofminus"] == d
    for nm in ("x", "w"):
        assert none.params[nm] == pytest.approx(with_dummies.params[nm], rel=1e-9)
        assert absorbed.params[nm] == pytest.approx(with_dummies.params[nm], rel=1e-9)
        assert none.std_errors[nm] == pytest.approx(with_dummies.std_errors[nm], rel=1e-9)
        # xtivreg2: N - d in the large-sample formulas -> V scaled by N/(N-d)
        assert absorbed.std_errors[nm] == pytest.approx(with_dummies.std_errors[nm] * np.sqrt(n / (n - d)), rel=1e-9)
    # CD and KP F count the absorbed effects exactly as the dummies would be counted
    assert absorbed.diagnostics["cd_f"] == pytest.approx(with_dummies.diagnostics["cd_f"], rel=1e-9)
    assert absorbed.diagnostics["kp_f"] == pytest.approx(with_dummies.diagnostics["kp_f"], rel=1e-9)
    assert absorbed.diagnostics["kp_lm"] == pytest.approx(with_dummies.diagnostics["kp_lm"] * (n - d) / n, rel=1e-9)


def test_fe_nested_in_cluster_costs_no_dof():
    df = _fe_panel()
    r = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], fe="city", cluster="city")
    assert r.diagnostics["dofminus"] == 0
    assert r.diagnostics["n_clusters"] == 40
    r2 = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], fe=["city", "year"], cluster="city")
    assert r2.diagnostics["dofminus"] == 5  # the year effects (6 - 1) are not nested in cities


def test_lag_by_calendar_year_and_true_n():
    df = pd.DataFrame({"city": ["a"] * 4 + ["b"] * 3, "year": [2013, 2014, 2015, 2017, 2013, 2014, 2015],
                       "x": [1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0]})
    out = add_lag(df, "x")
    assert out["L1.x"].tolist()[:4] == pytest.approx([np.nan, 1.0, 2.0, np.nan], nan_ok=True)
    assert out["L1.x"].tolist()[4:] == pytest.approx([np.nan, 10.0, 20.0], nan_ok=True)


def test_iv_true_n_after_lag(panel):
    lagged = add_lag(panel, "Cialomy")
    r = iv_gmm(lagged, "Nycives", "Cialomy", "L1.Cialomy", exog=["Idetion"], fe=["city", "year"])
    assert r.nobs == 286 * 9 == 2574
    assert r.info["dropped_missing"] == 286


def test_lag_leaving_no_observations_is_an_error():
    df = pd.DataFrame({"city": ["a", "b", "c"], "year": [2013, 2013, 2013], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="leaves no observations") as ei:
        add_lag(df, "x")
    assert ei.value.column == "x"


def test_lag_with_duplicate_city_years_names_rows():
    df = pd.DataFrame({"city": ["a", "a", "b"], "year": [2013, 2013, 2014], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="duplicate") as ei:
        add_lag(df, "x")
    assert ei.value.row == 2
    assert "rows 2, 3" in str(ei.value)


def test_underidentified_is_an_error(card):
    with pytest.raises(InputError, match="under-identified"):
        iv_gmm(card, "lwage", ["educ", "exper"], ["nearc4"], exog=["black"])
