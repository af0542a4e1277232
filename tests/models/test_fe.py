"""Two-way FE against Stata reghdfe (pyfixest's data) and against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from coretech.errors import InputError
from coretech.models.fe import CONST, twfe

pyfixest = pytest.importorskip("pyfixest")


@pytest.fixture(scope="module")
def fixest_data():
    return pyfixest.get_data()


def test_reghdfe_oracle_cluster(fixest_data):
    # reghdfe Y X1 X2, absorb(f1 f2) cluster(f1): printed to 7 digits by Stata
    r = twfe(fixest_data, "Y", ["X1", "X2"], fe=["f1", "f2"], cluster="f1")
    assert r.nobs == 997
    assert r.info["dropped_missing"] == 3
    assert r.params["X1"] == pytest.approx(-0.9240462, abs=5e-8)
    assert r.params["X2"] == pytest.approx(-0.1741073, abs=5e-8)
    assert r.std_errors["X1"] == pytest.approx(0.0618743, abs=5e-8)
    assert r.std_errors["X2"] == pytest.approx(0.0148338, abs=5e-8)
    assert r.rsquared_within == pytest.approx(0.3026, abs=5e-5)
    assert r.rsquared == pytest.approx(0.6590, abs=5e-5)
    # the df convention: K = 2 regressors + constant + (30 - 1) levels of f2; f1 is nested
    assert r.info["n_params_dof"] == 32
    assert r.df_resid == 29


def test_linearmodels_default_is_off_and_the_correction_is_exact(fixest_data):
    # linearmodels' PanelOLS clustered SE (its default small-sample factor) differs from
    # reghdfe by about -0.12%; our q = G/(G-1)(N-1)/(N-K) with K = 32 is exact
    from linearmodels import PanelOLS

    d = fixest_data.dropna(subset=["Y", "X1", "X2", "f1", "f2"]).copy()
    d["row"] = np.arange(len(d))
    p = PanelOLS(d.set_index(["f1", "row"])["Y"], d.set_index(["f1", "row"])[["X1", "X2"]],
                 entity_effects=True, other_effects=d.set_index(["f1", "row"])[["f2"]])
    lm = p.fit(cov_type="clustered", cluster_entity=True)
    ours = twfe(fixest_data, "Y", ["X1", "X2"], fe=["f1", "f2"], cluster="f1")
    rel = lm.std_errors["X1"] / ours.std_errors["X1"] - 1
    assert abs(rel) > 5e-4  # linearmodels' default really differs
    assert lm.params["X1"] == pytest.approx(ours.params["X1"], rel=1e-8)


def test_robust_matches_hc1_with_all_fe_df(fixest_data):
    r = twfe(fixest_data, "Y", ["X1", "X2"], fe=["f1", "f2"], cluster=None)
    # dummies regression with statsmodels HC1 gives the same SE (K counts every FE level)
    d = fixest_data.dropna(subset=["Y", "X1", "X2", "f1", "f2"])
    x = pd.get_dummies(d[["f1", "f2"]].astype(int).astype(str), drop_first=True, dtype=float)
    x = sm.add_constant(pd.concat([d[["X1", "X2"]], x], axis=1))
    ols = sm.OLS(d["Y"], x).fit(cov_type="HC1")
    assert r.params["X1"] == pytest.approx(ols.params["X1"], rel=1e-8)
    assert r.std_errors["X1"] == pytest.approx(ols.bse["X1"], rel=1e-8)
    assert r.std_errors["X2"] == pytest.approx(ols.bse["X2"], rel=1e-8)
    assert r.info["n_params_dof"] == 2 + 1 + 29 + 29


def test_constant_is_reghdfe_constant(fixest_data):
    r = twfe(fixest_data, "Y", ["X1", "X2"], fe=["f1", "f2"], cluster="f1")
    d = fixest_data.dropna(subset=["Y", "X1", "X2", "f1", "f2"])
    expect = d["Y"].mean() - d["X1"].mean() * r.params["X1"] - d["X2"].mean() * r.params["X2"]
    assert r.params[CONST] == pytest.approx(expect, rel=1e-10)


def test_pooled_ols_cluster_matches_statsmodels(fixest_data):
    d = fixest_data.dropna(subset=["Y", "X1", "X2", "f1"])
    r = twfe(d, "Y", ["X1", "X2"], fe=None, cluster="f1")
    ols = sm.OLS(d["Y"], sm.add_constant(d[["X1", "X2"]])).fit(
        cov_type="cluster", cov_kwds={"groups": d["f1"].astype(int)})
    assert r.std_errors["X1"] == pytest.approx(ols.bse["X1"], rel=1e-8)
    assert r.std_errors[CONST] == pytest.approx(ols.bse["const"], rel=1e-8)


def test_two_way_cluster_is_cgm_as_fixest(fixest_data):
    # Cameron-Gelbach-Miller with a G/(G-1) factor per term and nested effects not counted:
    # fixest's ssc(k_fixef="nonnested", G_df="conventional")
    ssc = pyfixest.ssc(k_adj=True, G_adj=True, k_fixef="nonnested", G_df="conventional")
    fx = pyfixest.feols("Y ~ X1 + X2 | f1 + f2", data=fixest_data, vcov={"CRV1": "f1+f2"}, ssc=ssc)
    two = twfe(fixest_data, "Y", ["X1", "X2"], fe=["f1", "f2"], cluster=["f1", "f2"])
    np.testing.assert_allclose(two.std_errors[["X1", "X2"]].to_numpy(), fx.se().to_numpy(), rtol=1e-8)
    one = pyfixest.feols("Y ~ X1 + X2 | f1 + f2", data=fixest_data, vcov={"CRV1": "f1"}, ssc=ssc)
    np.testing.assert_allclose(one.se().to_numpy(), [0.0618743, 0.0148338], atol=5e-8)  # = reghdfe
    assert two.df_resid == 29  # min(G) - 1


def test_singletons_dropped_like_reghdfe():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.5, 4.0, 5.5, 9.0], "x": [0.5, 1.0, 2.0, 2.2, 3.1, 4.0],
                       "g": ["a", "a", "b", "b", "b", "c"]})
    r = twfe(df, "y", "x", fe="g", cluster=None)
    assert r.info["dropped_singletons"] == 1
    assert r.nobs == 5


def test_missing_variable_named(fixest_data):
    with pytest.raises(InputError, match="'X9'") as ei:
        twfe(fixest_data, "Y", ["X1", "X9"], fe=["f1"], cluster="f1")
    assert ei.value.column == "X9"


def test_non_numeric_cell_names_row_and_column():
    df = pd.DataFrame({"y": ["1", "2", "3", "4"], "x": ["0.1", "0.4", "abc", "0.9"], "g": ["a", "a", "b", "b"]})
    with pytest.raises(InputError) as ei:
        twfe(df, "y", "x", fe="g", cluster=None)
    assert ei.value.column == "x"
    assert ei.value.row == 4  # header is row 1
    assert "'abc'" in str(ei.value)


def test_only_regressor_absorbed_by_fe_is_an_error():
    df = pd.DataFrame({"y": np.arange(8.0), "x": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0],
                       "g": list("aabbccdd"), "z": np.linspace(0, 1, 8) ** 2})
    with pytest.raises(InputError, match="every regressor is collinear") as ei:
        twfe(df, "y", ["x"], fe="g", cluster=None)
    assert ei.value.column == "x"
    r = twfe(df, "y", ["z", "x"], fe="g", cluster=None)  # x dropped with a note, z kept
    assert list(r.params.index) == ["z", CONST]
    assert r.notes[0].startswith("x omitted because of collinearity")
