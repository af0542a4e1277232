"""IV regression: the fixed-effects conventions (ivreghdfe, xtivreg2, ivreg2 on demeaned data)
checked against hand-derived formulas on a small simulated panel, the options (two-way
clustering, Anderson-Rubin interval, endogeneity test), lags and input errors. Stata's own
output on Card is reproduced in test_iv_card.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from coretech.errors import InputError
from coretech.models.diagnostics import stock_yogo
from coretech.models.iv import add_lag, iv_gmm

N_CITY, N_YEAR = 40, 6


def _panel(seed=3, n=N_CITY, t=N_YEAR, strength=0.8):
    rng = np.random.default_rng(seed)
    city = np.repeat([f"c{i:02d}" for i in range(n)], t)
    year = np.tile(np.arange(2010, 2010 + t), n)
    a = np.repeat(rng.normal(size=n), t)
    lam = np.tile(rng.normal(size=t), n)
    z1, z2, w = rng.normal(size=(3, n * t))
    v = rng.normal(size=n * t)
    x = a + lam + strength * z1 + 0.5 * strength * z2 + 0.3 * w + v
    e = 0.7 * v + rng.normal(size=n * t) * (1 + 0.5 * np.abs(w))
    y = 2 * a - lam + 1.5 * x + 0.5 * w + e
    return pd.DataFrame({"city": city, "year": year, "y": y, "x": x, "z1": z1, "z2": z2, "w": w})


def _lsdv(df, effects, **kw):
    """The same model with the effects as dummy regressors (and instruments) and a constant."""
    dums = [pd.get_dummies(df[f], prefix=f, drop_first=True, dtype=float) for f in effects]
    wide = pd.concat([df, *dums], axis=1)
    cols = [c for d in dums for c in d.columns]
    return iv_gmm(wide, "y", "x", ["z1", "z2"], exog=["w", *cols], endog_test=False, **kw)


def _fit(df, **kw):
    return iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], fe=["city", "year"], endog_test=False, **kw)


def test_ivreghdfe_equals_the_dummy_regression_with_small():
    # ivreghdfe: absorb() forces small and adds reghdfe's df_a (G + T - 1) to sdofminus, so
    # everything equals ivreg2 ..., small on the dummy-variable regression
    df = _panel()
    for est in ("2sls", "liml"):
        hd = _fit(df, estimator=est)  # default convention: ivreghdfe
        lsdv = _lsdv(df, ["city", "year"], estimator=est, small=True)
        g = hd.diagnostics
        assert g["convention"] == "ivreghdfe" and g["small"] and hd.dist == "t"
        assert (g["dofminus"], g["sdofminus"]) == (0, N_CITY + N_YEAR - 1)
        assert hd.df_resid == lsdv.df_resid == len(df) - 2 - (N_CITY + N_YEAR - 1)
        for nm in ("x", "w"):
            assert hd.params[nm] == pytest.approx(lsdv.params[nm], rel=1e-9)
            assert hd.std_errors[nm] == pytest.approx(lsdv.std_errors[nm], rel=1e-9)
        for key in ("cd_f", "kp_f", "kp_lm", "hansen_j", "ar_f", "endog_c") if est == "2sls" else ("cd_f", "kp_f"):
            if key in g:
                assert g[key] == pytest.approx(lsdv.diagnostics[key], rel=1e-8), key
        assert g["first_stage"]["x"]["F"] == pytest.approx(lsdv.diagnostics["first_stage"]["x"]["F"], rel=1e-8)


def test_xtivreg2_dofminus_is_the_number_of_panels():
    # xtivreg2 fe: city within-transformation, i.year regressors, dofminus = G. Large-sample
    # robust S is divided by N - G: V = V(dummy regression) x N/(N - G); KP LM x (N - G)/N;
    # CD F and KP F count the dummies exactly as the dummy regression does
    df = _panel()
    n, g_ = len(df), N_CITY
    xt = _fit(df, convention="xtivreg2", estimator="2sls")
    lsdv = _lsdv(df, ["city", "year"], estimator="2sls")
    g = xt.diagnostics
    assert (g["dofminus"], g["sdofminus"], g["small"]) == (g_, 0, False)
    assert [c for c in xt.params.index if c.startswith("year=")] == [f"year={y}" for y in range(2011, 2016)]
    assert "_cons" not in xt.params.index and xt.f_df[0] == 2 + N_YEAR - 1  # F tests the year dummies too
    for nm in ("x", "w", "year=2013"):
        lnm = nm.replace("year=", "year_")
        assert xt.params[nm] == pytest.approx(lsdv.params[lnm], rel=1e-9)
        assert xt.std_errors[nm] == pytest.approx(lsdv.std_errors[lnm] * np.sqrt(n / (n - g_)), rel=1e-9)
    assert g["cd_f"] == pytest.approx(lsdv.diagnostics["cd_f"], rel=1e-9)
    assert g["kp_f"] == pytest.approx(lsdv.diagnostics["kp_f"], rel=1e-9)
    assert g["kp_lm"] == pytest.approx(lsdv.diagnostics["kp_lm"] * (n - g_) / n, rel=1e-9)
    # with small it is the dummy regression with small (cs_xtivreg2.do: xtivreg2 fe small robust = areg robust)
    xs = _fit(df, convention="xtivreg2", estimator="2sls", small=True)
    ls = _lsdv(df, ["city", "year"], estimator="2sls", small=True)
    assert xs.std_errors["x"] == pytest.approx(ls.std_errors["x"], rel=1e-9)
    assert xs.df_resid == ls.df_resid


def test_ivreg2_on_demeaned_data_has_no_adjustment():
    df = _panel()
    r = _fit(df, convention="ivreg2", estimator="2sls")
    lsdv = _lsdv(df, ["city", "year"], estimator="2sls")
    assert (r.diagnostics["dofminus"], r.diagnostics["sdofminus"]) == (0, 0)
    assert r.params["_cons"] == pytest.approx(0, abs=1e-10)
    assert r.std_errors["x"] == pytest.approx(lsdv.std_errors["x"], rel=1e-9)  # HC0: no K in V
    n, big_l = len(df), 4  # z1 z2 w _cons
    r2 = r.diagnostics["canonical_correlations"][0] ** 2
    assert r.diagnostics["cd_f"] == pytest.approx(r2 / (1 - r2) * (n - big_l) / 2, rel=1e-12)


@pytest.mark.parametrize("estimator", ["2sls", "gmm2s"])
def test_clustered_s_is_divided_by_n_and_kp_lm_is_not_adjusted(estimator):
    # ivreg2 (m_omega): clustered S / N whatever dofminus; the clustered KP LM is ranktest's
    # chi2 unadjusted. So xtivreg2 (d = G), ivreg2 on demeaned data (d = 0) and the dummy
    # regression give the same large-sample clustered covariance and KP LM
    df = _panel()
    xt = _fit(df, convention="xtivreg2", estimator=estimator, cluster="city")
    dm = _fit(df, convention="ivreg2", estimator=estimator, cluster="city")
    assert xt.std_errors["x"] == pytest.approx(dm.std_errors["x"], rel=1e-9)
    assert xt.diagnostics["kp_lm"] == pytest.approx(dm.diagnostics["kp_lm"], rel=1e-9)
    if estimator == "2sls":
        lsdv = _lsdv(df, ["city", "year"], estimator=estimator, cluster="city")
        assert xt.std_errors["x"] == pytest.approx(lsdv.std_errors["x"], rel=1e-9)
        assert xt.diagnostics["kp_lm"] == pytest.approx(lsdv.diagnostics["kp_lm"], rel=1e-9)
    # xtivreg2's d = G would otherwise have inflated the SE by sqrt(N/(N - G)) = +9.5% here
    assert xt.diagnostics["dofminus"] == N_CITY and xt.diagnostics["n_clusters"] == N_CITY


def test_ivreghdfe_cluster_small_sample_factor_by_hand():
    # city effects nested in the city clusters cost nothing: sdofminus = T - 1 (the year
    # effects); V = V(large) x (N - 1)/(N - K - s) x M/(M - 1), K = 2 (x, w), no constant
    df = _panel()
    n, m = len(df), N_CITY
    hd = _fit(df, estimator="2sls", cluster="city")
    large = _fit(df, estimator="2sls", cluster="city", small=False)
    s = N_YEAR - 1
    assert hd.diagnostics["sdofminus"] == s and hd.df_resid == m - 1
    q = (n - 1) / (n - 2 - s) * m / (m - 1)
    np.testing.assert_allclose(hd.cov.to_numpy(), large.cov.to_numpy() * q, rtol=1e-12)
    # only city effects, clustered by city: df_a = 0, which ivreghdfe raises to 1
    one = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], fe="city", cluster="city", estimator="2sls")
    assert one.diagnostics["sdofminus"] == 1


@pytest.mark.parametrize("convention", ["ivreghdfe", "xtivreg2", "ivreg2"])
def test_cragg_donald_f_is_the_same_for_every_covariance(convention):
    df = _panel()
    cds = [_fit(df, convention=convention, cov=c, cluster="city" if c == "cluster" else None).diagnostics
           for c in ("unadjusted", "robust", "cluster")]
    assert cds[0]["cd_f"] == pytest.approx(cds[1]["cd_f"], rel=1e-12)
    assert cds[0]["cd_f"] == pytest.approx(cds[2]["cd_f"], rel=1e-12)
    if convention == "ivreghdfe":  # what ivreghdfe prints counts df_a with the nested effects at 0
        n, big_l = len(df), 3
        s_full, s_cl = N_CITY + N_YEAR - 1, N_YEAR - 1
        assert cds[2]["cd_f_ivreghdfe"] == pytest.approx(cds[2]["cd_f"] * (n - big_l - s_cl) / (n - big_l - s_full),
                                                         rel=1e-12)


def test_two_way_cluster_by_hand():
    # Cameron-Gelbach-Miller: S = S_city + S_year - S_city*year, / N; small: (N-1)/(N-K) M/(M-1), M = min G
    df = _panel()
    r = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], cluster=["city", "year"], estimator="2sls", small=True)
    n = len(df)
    x = np.column_stack([df.x, df.w, np.ones(n)])
    z = np.column_stack([df.z1, df.z2, df.w, np.ones(n)])
    pz = z @ np.linalg.solve(z.T @ z, z.T @ x)
    b = np.linalg.solve(pz.T @ x, pz.T @ df.y.to_numpy())
    e = df.y.to_numpy() - x @ b
    sc = pz * e[:, None]
    meat = np.zeros((3, 3))
    for keys, sign in ((["city"], 1), (["year"], 1), (["city", "year"], -1)):
        sums = pd.DataFrame(sc).groupby([df[k] for k in keys]).sum().to_numpy()
        meat += sign * sums.T @ sums
    bread = np.linalg.inv(pz.T @ pz)
    mm = min(N_CITY, N_YEAR)
    v = bread @ meat @ bread * (n - 1) / (n - 3) * mm / (mm - 1)
    np.testing.assert_allclose(r.params.to_numpy(), b, rtol=1e-10)
    np.testing.assert_allclose(r.cov.to_numpy(), v, rtol=1e-9)
    assert r.df_resid == mm - 1 and r.cov_type == "cluster(city, year)"


@pytest.mark.parametrize("cov", ["unadjusted", "robust"])
def test_anderson_rubin_interval_endpoints(cov):
    # at each finite end the AR statistic of H0: b = b0 (y - b0 x on the instruments) is the
    # chi2(L1) critical value; the estimate lies inside
    df = _panel()
    r = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], cov=cov, estimator="2sls")
    (lo, hi), = r.diagnostics["ar_interval"]["intervals"]
    assert lo < r.params["x"] < hi
    crit = stats.chi2.isf(0.05, 2)
    for b0 in (lo, hi):
        g = iv_gmm(df.assign(y0=df.y - b0 * df.x), "y0", "x", ["z1", "z2"], exog=["w"], cov=cov,
                   estimator="2sls", endog_test=False).diagnostics
        assert g["ar_chi2"] == pytest.approx(crit, rel=1e-7)


def test_anderson_rubin_interval_unbounded_with_irrelevant_instruments():
    df = _panel(strength=0.0, seed=11)
    r = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], estimator="2sls", cov="unadjusted")
    iv_ = r.diagnostics["ar_interval"]["intervals"]
    assert any(np.isinf(a) or np.isinf(b) for a, b in iv_)


def test_endogeneity_test_and_sanderson_windmeijer_with_two_endogenous():
    df = _panel()
    df["x2"] = 0.5 * df.x + df.z2 + np.random.default_rng(0).normal(size=len(df))
    df["z3"] = np.random.default_rng(1).normal(size=len(df)) + 0.3 * df.x2
    r = iv_gmm(df, "y", ["x", "x2"], ["z1", "z2", "z3"], exog=["w"], estimator="2sls", cov="robust")
    g = r.diagnostics
    assert g["endog_c_df"] == 2 and g["endog_c"] > 0
    fs = g["first_stage"]
    assert set(fs) == {"x", "x2"}
    for row in fs.values():
        assert row["sw_df"][0] == 3 - 2 + 1 and 0 < row["sw_r2"] < 1 and row["sw_f"] > 0
        assert row["shea_partial_r2"] <= row["partial_r2"] + 1e-12
    assert "ar_interval" not in g  # one endogenous regressor only
    assert g["stock_yogo_10"] == stock_yogo(2, 3) == 13.43
    assert np.isnan(g["stock_yogo_bias_10"])  # Stock-Yogo bias tables need L1 >= K1 + 2


@pytest.mark.parametrize("cov", ["unadjusted", "robust"])
def test_orthog_c_statistic(cov):
    # dropping one of two instruments leaves the equation exactly identified (J = 0), so the
    # C statistic is the model's own Sargan/Hansen J; with a third instrument it is smaller
    df = _panel()
    r = iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], cov=cov, estimator="2sls", orthog=["z2"])
    g = r.diagnostics
    assert g["orthog_c"] == pytest.approx(g["hansen_j"], rel=1e-9) and g["orthog_c_df"] == 1
    df["z3"] = np.random.default_rng(2).normal(size=len(df)) + 0.2 * df.z1
    r3 = iv_gmm(df, "y", "x", ["z1", "z2", "z3"], exog=["w"], cov=cov, estimator="gmm2s", orthog=["z3"])
    g3 = r3.diagnostics
    assert 0 <= g3["orthog_c"] <= g3["hansen_j"] and g3["orthog_c_p"] == pytest.approx(
        stats.chi2.sf(g3["orthog_c"], 1), rel=1e-12)
    with pytest.raises(InputError, match="under-identified"):
        iv_gmm(df, "y", "x", ["z1", "z2"], exog=["w"], orthog=["z1", "z2"])


def test_options_are_validated():
    df = _panel()
    with pytest.raises(InputError, match="estimator"):
        iv_gmm(df, "y", "x", "z1", estimator="ols")
    with pytest.raises(InputError, match="cov must be"):
        iv_gmm(df, "y", "x", "z1", cov="hc3")
    with pytest.raises(InputError, match="convention"):
        iv_gmm(df, "y", "x", "z1", convention="areg")
    with pytest.raises(InputError, match="needs cov='cluster'"):
        iv_gmm(df, "y", "x", "z1", cov="unadjusted", cluster="city")
    with pytest.raises(InputError, match="not endogenous"):
        iv_gmm(df, "y", "x", "z1", endog_test=["w"])
    # the legacy fe_dof names map to conventions
    assert _fit(df, fe_dof="absorbed").diagnostics["convention"] == "xtivreg2"
    assert _fit(df, fe_dof="none").diagnostics["convention"] == "ivreg2"


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


def test_underidentified_is_an_error():
    with pytest.raises(InputError, match="under-identified"):
        iv_gmm(_panel(), "y", ["x", "w"], ["z1"])
