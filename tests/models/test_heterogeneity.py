"""Subsamples, the interaction test and the vectorised permutation test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.models.fe import twfe
from coretech.models.heterogeneity import interaction_test, permutation_test, subsamples
from coretech.models.simulate import simulate_panel

from .conftest import CONTROLS


def test_subsamples_by_region(panel):
    res = subsamples(panel, "Nycives", ["Cialomy", *CONTROLS], "region",
                     groups=["east", "central", "west", "northeast"])
    assert [r.nobs for r in res.values()] == [850, 800, 870, 340]
    direct = twfe(panel[panel.region == "west"], "Nycives", ["Cialomy", *CONTROLS])
    assert res["west"].params["Cialomy"] == pytest.approx(direct.params["Cialomy"], rel=1e-12)


def test_permutation_slopes_equal_interaction_model(panel):
    it = interaction_test(panel, "Nycives", "Cialomy", CONTROLS, "region")
    pt = permutation_test(panel, "Nycives", "Cialomy", CONTROLS, "region", n_perm=19, seed=1)
    np.testing.assert_allclose(pt.slopes.to_numpy(), it.slopes.to_numpy(), rtol=1e-8)
    assert list(it.slopes.index) == ["central", "east", "northeast", "west"]
    assert it.df == (3, 285)


def test_permutation_detects_a_real_difference_and_is_seeded():
    df = simulate_panel(seed=11, effects={"region_shift": {"east": 0.5}})
    a = permutation_test(df, "Nycives", "Cialomy", CONTROLS, "region", n_perm=199, seed=5)
    b = permutation_test(df, "Nycives", "Cialomy", CONTROLS, "region", n_perm=199, seed=5)
    assert a.pvalue == b.pvalue == pytest.approx(1 / 200)
    assert a.slopes["east"] - a.slopes["west"] == pytest.approx(0.5, abs=0.2)
    it = interaction_test(df, "Nycives", "Cialomy", CONTROLS, "region")
    assert it.pvalue < 1e-4


def test_permutation_p_values_under_the_null_are_not_small():
    ps = [permutation_test(simulate_panel(seed=s), "Nycives", "Cialomy", CONTROLS, "tier",
                           n_perm=99, seed=s).pvalue for s in range(6)]
    assert all(1 / 100 <= p <= 1 for p in ps)
    assert np.mean(ps) > 0.2


def test_group_label_must_be_constant_within_city():
    df = simulate_panel(n_cities=30, seed=2)
    df.loc[df.index[1], "region"] = "west" if df.loc[df.index[0], "region"] != "west" else "east"
    with pytest.raises(InputError, match="more than one"):
        permutation_test(df, "Nycives", "Cialomy", CONTROLS, "region", n_perm=9)


def test_single_group_is_an_error(panel):
    with pytest.raises(InputError, match="fewer than two"):
        interaction_test(panel.assign(one="x"), "Nycives", "Cialomy", CONTROLS, "one")


def test_unbalanced_panel_runs(panel):
    rng = np.random.default_rng(0)
    sub = panel.loc[rng.random(len(panel)) > 0.1]
    it = interaction_test(sub, "Nycives", "Cialomy", CONTROLS, "tier")
    pt = permutation_test(sub, "Nycives", "Cialomy", CONTROLS, "tier", n_perm=9)
    np.testing.assert_allclose(pt.slopes.to_numpy(), it.slopes.to_numpy(), rtol=1e-6)
    assert isinstance(pt.slopes, pd.Series)
