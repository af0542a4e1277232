"""The simulated panel: the paper's sample frame, and estimators that recover the truth."""

from __future__ import annotations

import numpy as np
import pytest

from coretech.errors import InputError
from coretech.models.fe import twfe
from coretech.models.iv import add_lag, iv_gmm
from coretech.models.simulate import EXCLUDED_CITIES, sample_cities, simulate_panel, true_effects

from .conftest import CONTROLS


def test_sample_frame_is_the_papers():
    c = sample_cities()
    assert len(c) == 286
    assert c.region.value_counts().to_dict() == {"west": 87, "east": 85, "central": 80, "northeast": 34}
    assert not set(EXCLUDED_CITIES) & set(c.city)
    assert not {"北京市", "天津市", "上海市", "重庆市"} & set(c.city)
    assert {"济源市", "仙桃市", "石河子市"}.isdisjoint(c.city)  # county-level, not prefecture-level
    assert {"广州市", "深圳市", "三沙市", "嘉峪关市", "东莞市"} <= set(c.city)
    assert (c.tier == "first").sum() == 15


def test_panel_columns_truth_and_determinism():
    a = simulate_panel(seed=3)
    b = simulate_panel(seed=3)
    assert a.equals(b)
    assert not a.equals(simulate_panel(seed=4))
    assert a.shape[0] == 2860 and a.year.min() == 2013 and a.year.max() == 2022
    for col in ["city", "province", "region", "tier", "pilot", "Nycives", "Nycives_pca", "Cialomy",
                "Sicoughs", "Actros", "Irading", *CONTROLS]:
        assert col in a.columns
    assert a.attrs["simulated"] is True
    t = a.attrs["truth"]
    assert t["Cialomy_on_Nycives_total"] == pytest.approx(0.6 + 0.45 * 0.30 + 0.52 * 0.25 + 0.53 * 0.20)
    assert (a.Cialomy > 0).all()
    assert a.groupby("city").pilot.nunique().max() == 1 and a.groupby("city").pilot.first().sum() == 97


def test_subset_and_bad_arguments():
    assert simulate_panel(n_cities=20, years=range(2015, 2018), seed=1).shape == (60, 18)
    with pytest.raises(InputError, match="n_cities"):
        simulate_panel(n_cities=300)
    with pytest.raises(InputError, match="unknown effect"):
        simulate_panel(effects={"gamma": 1})


def test_twfe_recovers_total_effect_quickly():
    est = []
    for s in range(10):
        df = simulate_panel(seed=100 + s, effects={"endogeneity": 0.0})
        est.append(twfe(df, "Nycives", ["Cialomy", *CONTROLS]).params["Cialomy"])
    truth = true_effects({"endogeneity": 0.0})["Cialomy_on_Nycives_total"]
    assert abs(np.mean(est) / truth - 1) < 0.02


def _coverage(estimates):
    a = np.array(estimates, dtype=float)
    return a[:, 0].mean(), a[:, 1].mean()


@pytest.mark.slow
def test_twfe_bias_and_coverage_200_draws():
    truth = true_effects({"endogeneity": 0.0})["Cialomy_on_Nycives_total"]
    out = []
    for s in range(200):
        df = simulate_panel(seed=10_000 + s, effects={"endogeneity": 0.0})
        r = twfe(df, "Nycives", ["Cialomy", *CONTROLS])
        ci = r.conf_int().loc["Cialomy"]
        out.append((r.params["Cialomy"] / truth - 1, ci.lower <= truth <= ci.upper))
    bias, cover = _coverage(out)
    assert abs(bias) < 0.02
    assert 0.93 <= cover <= 0.97


@pytest.mark.slow
def test_iv_gmm_bias_and_coverage_200_draws():
    # default effects: Cialomy endogenous, its first lag a valid instrument
    truth = true_effects()["Cialomy_on_Nycives_total"]
    out = []
    for s in range(200):
        df = simulate_panel(seed=1 + s)
        r = iv_gmm(add_lag(df, "Cialomy"), "Nycives", "Cialomy", "L1.Cialomy", exog=CONTROLS,
                   fe=["city", "year"], cluster="city")
        ci = r.conf_int().loc["Cialomy"]
        out.append((r.params["Cialomy"] / truth - 1, ci.lower <= truth <= ci.upper))
    bias, cover = _coverage(out)
    assert abs(bias) < 0.02
    assert 0.93 <= cover <= 0.97
