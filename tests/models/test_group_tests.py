"""Tests of equal slopes of Table 6 (issue 15.1, 15.7): Chow, stacked (SUR) and the wild
cluster bootstrap, with their simulated size and power (``-m slow``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.models.fe import twfe
from coretech.models.heterogeneity import (
    chow_test,
    interaction_test,
    stacked_test,
    subsamples,
    wild_bootstrap_test,
)

from .conftest import CONTROLS
from .group_sim import group_panel, rejection_rates

ORDER = ["central", "east", "northeast", "west"]


@pytest.fixture(scope="module")
def fits(panel):
    return subsamples(panel, "Nycives", ["Cialomy", *CONTROLS], "region", groups=ORDER)


def test_chow_slopes_are_the_table6_slopes(panel, fits):
    t = chow_test(panel, "Nycives", "Cialomy", CONTROLS, "region")
    np.testing.assert_allclose(t.slopes.to_numpy(), [fits[g].params["Cialomy"] for g in ORDER], rtol=1e-9)
    assert t.df == (3, 285)
    assert "Chow" in t.method and "fully interacted" in t.description
    # differs from the common-controls interaction model, whose slopes are not Table 6's
    it = interaction_test(panel, "Nycives", "Cialomy", CONTROLS, "region")
    assert not np.allclose(it.slopes.to_numpy(), t.slopes.to_numpy(), rtol=1e-6)


def test_stacked_covariance_diagonal_is_table6_ses(panel, fits):
    t = stacked_test(panel, "Nycives", "Cialomy", CONTROLS, "region", fits=fits)
    np.testing.assert_allclose(np.sqrt(np.diag(t.null)), [fits[g].std_errors["Cialomy"] for g in ORDER], rtol=1e-10)
    # cities are nested in regions: with city clustering the slopes are uncorrelated
    assert np.allclose(t.null - np.diag(np.diag(t.null)), 0)
    # by hand: W from the block-diagonal covariance
    b = t.slopes.to_numpy()
    v = np.diag([fits[g].std_errors["Cialomy"] ** 2 for g in ORDER])
    r = np.array([[-1, 1, 0, 0], [-1, 0, 1, 0], [-1, 0, 0, 1.0]])
    w = (r @ b) @ np.linalg.solve(r @ v @ r.T, r @ b)
    assert t.statistic == pytest.approx(w / 3, rel=1e-10)
    assert t.df == (3, 285)
    # re-estimating the fits gives the same test
    assert stacked_test(panel, "Nycives", "Cialomy", CONTROLS, "region").statistic == pytest.approx(t.statistic, rel=1e-12)


def test_stacked_with_clusters_straddling_groups_has_covariances(panel):
    t = stacked_test(panel, "Nycives", "Cialomy", CONTROLS, "tier", cluster="province")
    assert abs(t.null[0, 1]) > 0
    fits = subsamples(panel, "Nycives", ["Cialomy", *CONTROLS], "tier", groups=["first", "other"], cluster="province")
    np.testing.assert_allclose(np.sqrt(np.diag(t.null)), [fits[g].std_errors["Cialomy"] for g in ["first", "other"]],
                               rtol=1e-10)


def test_robust_stacked_equals_block_hc1(panel):
    fits = subsamples(panel, "Nycives", ["Cialomy", *CONTROLS], "region", groups=ORDER, cluster=None)
    t = stacked_test(panel, "Nycives", "Cialomy", CONTROLS, "region", cluster=None, fits=fits)
    np.testing.assert_allclose(np.sqrt(np.diag(t.null)), [fits[g].std_errors["Cialomy"] for g in ORDER], rtol=1e-10)


def test_wild_bootstrap_statistic_is_the_chow_wald_and_seeded(panel):
    ch = chow_test(panel, "Nycives", "Cialomy", CONTROLS, "region")
    a = wild_bootstrap_test(panel, "Nycives", "Cialomy", CONTROLS, "region", n_boot=99, seed=4, keep_null=True)
    b = wild_bootstrap_test(panel, "Nycives", "Cialomy", CONTROLS, "region", n_boot=99, seed=4)
    assert a.statistic == pytest.approx(ch.statistic, rel=1e-8)
    assert a.pvalue == b.pvalue == pytest.approx(np.mean(a.null >= a.statistic))
    assert a.null.shape == (99,) and np.all(a.null > 0)
    assert "null imposed" in a.description and "rademacher" in a.description
    c = wild_bootstrap_test(panel, "Nycives", "Cialomy", CONTROLS, "region", n_boot=99, seed=4, weights="webb")
    assert c.statistic == a.statistic and c.weights == "webb"
    common = wild_bootstrap_test(panel, "Nycives", "Cialomy", CONTROLS, "region", n_boot=19, model="common")
    it = interaction_test(panel, "Nycives", "Cialomy", CONTROLS, "region")
    assert common.statistic == pytest.approx(it.statistic, rel=1e-8)


def test_wild_bootstrap_detects_a_difference():
    df = group_panel(3, delta=0.4)
    t = wild_bootstrap_test(df, "y", "d", ["x"], "region", n_boot=99, seed=0)
    assert t.pvalue < 0.02
    assert t.slopes["east"] - t.slopes["west"] == pytest.approx(0.4, abs=0.15)


def test_wild_bootstrap_options_are_checked(panel):
    with pytest.raises(InputError, match="weights"):
        wild_bootstrap_test(panel, "Nycives", "Cialomy", CONTROLS, "region", weights="mammen")
    with pytest.raises(InputError, match="one cluster variable"):
        wild_bootstrap_test(panel, "Nycives", "Cialomy", CONTROLS, "region", cluster=["city", "year"])
    with pytest.raises(InputError, match="model"):
        wild_bootstrap_test(panel, "Nycives", "Cialomy", CONTROLS, "region", model="half")


def test_robust_wild_bootstrap_runs_per_observation(panel):
    t = wild_bootstrap_test(panel, "Nycives", "Cialomy", CONTROLS, "region", cluster=None, n_boot=19)
    r = twfe(panel.assign(**{f"Cialomy_x_region[{g}]": panel["Cialomy"] * (panel["region"] == g) for g in ORDER}),
             "Nycives", [f"Cialomy_x_region[{g}]" for g in ORDER] + CONTROLS, cluster=None)
    assert t.method == "wild bootstrap Wald"
    assert isinstance(t.slopes, pd.Series) and len(r.params) == 11


@pytest.mark.slow
def test_wild_bootstrap_size_with_unequal_variances_and_sizes():
    """H0 true; the 34-city region has error SD x3 and a third of the variation in D. The
    unstudentized permutation test rejects in most draws here; the wild bootstrap holds 5%."""
    size = rejection_rates("wild", reps=200, boot=99, seed0=0)
    assert 0.02 <= size <= 0.09


@pytest.mark.slow
def test_chow_and_stacked_size_and_power():
    for test in ("chow", "stacked"):
        assert 0.02 <= rejection_rates(test, reps=200, boot=0, seed0=500) <= 0.09
    assert rejection_rates("chow", reps=60, boot=0, delta=0.3, seed0=900) > 0.8


@pytest.mark.slow
def test_wild_bootstrap_power():
    assert rejection_rates("wild", reps=60, boot=99, delta=0.3, seed0=900) > 0.8
