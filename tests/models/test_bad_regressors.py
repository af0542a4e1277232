"""reghdfe's handling of bad regressors (issue 15.5) and the model edge cases of issue 17.10."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coretech.errors import CoretechError, InputError
from coretech.models.fe import twfe
from coretech.models.simulate import simulate_panel
from coretech.models.study import ModelsConfig
from coretech.models.suite import run_suite

CTRLS = ["Idetion", "Eoryity"]


@pytest.fixture(scope="module")
def small():
    return simulate_panel(n_cities=40, seed=3)


def test_control_constant_within_city_is_dropped_with_a_note(small):
    df = small.assign(const_city=small["city"].map(lambda c: float(len(c))))
    with_bad = twfe(df, "Nycives", ["Cialomy", "const_city", *CTRLS])
    without = twfe(df, "Nycives", ["Cialomy", *CTRLS])
    assert "const_city" not in with_bad.params.index
    assert with_bad.notes[0].startswith("const_city omitted because of collinearity")
    assert with_bad.info["omitted"] == {"const_city": "no variation left after absorbing the fixed effects"}
    pd.testing.assert_series_equal(with_bad.params, without.params, rtol=1e-12, atol=1e-12)
    pd.testing.assert_series_equal(with_bad.std_errors, without.std_errors, rtol=1e-10, atol=1e-12)
    assert with_bad.df_resid == without.df_resid
    assert "note: const_city omitted because of collinearity" in with_bad.summary()


def test_collinear_control_is_dropped_keeping_the_earlier_one(small):
    df = small.assign(combo=2 * small["Idetion"] - 0.5 * small["Eoryity"])
    r = twfe(df, "Nycives", ["Cialomy", *CTRLS, "combo"])
    ref = twfe(df, "Nycives", ["Cialomy", *CTRLS])
    assert r.info["omitted"].keys() == {"combo"}
    assert "collinear with Cialomy, Idetion, Eoryity" in r.notes[0]
    np.testing.assert_allclose(r.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)


def test_table3_survives_an_absorbed_control_and_says_so(small):
    df = small.assign(const_city=small["city"].map(lambda c: float(len(c))))
    cfg = ModelsConfig(controls=["Idetion", "const_city", "Eoryity"], tables=[3], hausman=False)
    t3 = run_suite(df, cfg).tables["table3"]
    notes = " ".join(t3.notes)
    assert "const_city omitted because of collinearity" in notes
    assert "(3), (4)" in notes  # the columns where it was in the model
    row = t3.cell("const_city", 3)
    assert row == ""  # nothing printed for the omitted control


def test_singletons_counted_in_summary_and_table_notes(small):
    df = pd.concat([small, small.iloc[[0]].assign(city="孤城市", year=2013)], ignore_index=True)
    r = twfe(df, "Nycives", ["Cialomy"])
    assert r.info["dropped_singletons"] == 1
    assert "1 singleton observation(s)" in r.summary()
    t3 = run_suite(df, ModelsConfig(controls=CTRLS, tables=[3], hausman=False)).tables["table3"]
    assert any("1 singleton observation(s) dropped" in n for n in t3.notes)


def test_duplicate_city_years_name_the_rows(small):
    df = pd.concat([small.iloc[:5], small.iloc[[2]], small.iloc[5:]], ignore_index=True)
    with pytest.raises(InputError, match=r"duplicate city-year pair \(乌兰察布市, 2015\).*\(rows 4, 7\)") as ei:
        twfe(df, "Nycives", ["Cialomy"])
    assert ei.value.row == 4
    # data that is not a city-year panel is not checked
    twfe(df, "Nycives", ["Cialomy"], panel_id=None)


def test_one_cluster_is_an_error_saying_how_many(small):
    df = small.assign(prov="x")
    with pytest.raises(InputError, match="at least 2 clusters; 'prov' has 1") as ei:
        twfe(df, "Nycives", ["Cialomy"], cluster="prov")
    assert ei.value.column == "prov"
    with pytest.raises(InputError, match="at least 2 clusters"):
        run_suite(df, ModelsConfig(controls=CTRLS, cluster="prov", tables=[3], hausman=False))


def test_three_city_panel_gives_clear_results_or_errors(small):
    pick = small.groupby("region")["city"].first().tolist()[:3]
    df = small[small["city"].isin(pick)]
    suite = run_suite(df, ModelsConfig(tables=[3, 7], hausman=False))  # no LinAlgError
    r = suite.results["table3"][-1]
    assert np.isnan(r.fvalue)  # 6 regressors, 3 clusters: F is not defined (Stata: F = .)
    assert any("model F not reported" in n for n in r.notes)
    with pytest.raises(InputError, match="singleton"):
        run_suite(df, ModelsConfig(tables=[6]))  # one city per region


def test_inf_regressor_names_the_cell(small):
    df = small.copy()
    df.loc[df.index[5], "Idetion"] = np.inf
    with pytest.raises(InputError, match="infinite value") as ei:
        twfe(df, "Nycives", ["Cialomy", "Idetion"])
    assert (ei.value.row, ei.value.column) == (7, "Idetion")
    with pytest.raises(CoretechError, match="infinite"):
        run_suite(df, ModelsConfig(controls=CTRLS))
    text = df.assign(Idetion=df["Idetion"].astype(str))  # "inf" as text in a CSV
    with pytest.raises(InputError, match="infinite") as ei:
        twfe(text, "Nycives", ["Cialomy", "Idetion"])
    assert ei.value.row == 7


def test_winsorize_rejects_inf_naming_the_cell(small):
    from coretech.indicators import winsorize

    df = small.copy()
    df.loc[df.index[3], "Cialomy"] = -np.inf
    with pytest.raises(InputError, match="infinite") as ei:
        winsorize(df, ["Cialomy"])
    assert (ei.value.row, ei.value.column) == (5, "Cialomy")
    assert "year 2016" in str(ei.value)
