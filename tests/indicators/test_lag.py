"""Grant-lag distribution and eq. (5), on cases worked out by hand and simulated truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coretech.indicators.lag import (
    GrantLag,
    cumulative_share,
    lag_adjust,
    lag_cells,
    lag_distribution,
    shares_from_cells,
)


# --------------------------------------------------------------------------- eq. (5) by hand
def test_lag_adjust_hand_worked_case():
    # T_0 = .1, T_1 = .3, T_2 = .4, T_3 = .2; T = 2022.
    shares = pd.Series([0.1, 0.3, 0.4, 0.2], index=[0, 1, 2, 3])
    k = pd.Series([50, 40, 30, 20], index=[2019, 2020, 2021, 2022])
    out = lag_adjust(k, shares, 2022)
    # 2019: T-t = 3 -> denominator 1; 2020: .1+.3+.4 = .8; 2021: .4; 2022: .1
    assert out["lag_share_cum"].tolist() == pytest.approx([1.0, 0.8, 0.4, 0.1])
    assert out["k_adj"].tolist() == pytest.approx([50.0, 50.0, 75.0, 200.0])


def test_lag_adjust_adjust_from_leaves_earlier_years_alone():
    shares = pd.Series([0.0, 0.5, 0.5])
    k = pd.DataFrame({"city": ["a", "a", "a"], "year": [2020, 2021, 2022], "k_raw": [10, 10, 10]})
    out = lag_adjust(k, shares, 2022, adjust_from=2022)
    # 2020 and 2021 not adjusted (denominator 1); 2022: T_0 = 0 -> k_adj undefined (NaN)
    assert out["lag_share_cum"].tolist() == [1.0, 1.0, 0.0]
    assert out["k_adj"].iloc[:2].tolist() == [10.0, 10.0]
    assert math.isnan(out["k_adj"].iloc[2])
    assert out["city"].tolist() == ["a", "a", "a"]
    full = lag_adjust(k, shares, 2022)
    assert full["k_adj"].iloc[1] == pytest.approx(20.0)  # 2021: T_0 + T_1 = .5


def test_lag_adjust_accepts_a_lag_table():
    table = pd.DataFrame({"s": [0, 1, 2], "n": [1, 1, 2], "share": [0.25, 0.25, 0.5]})
    out = lag_adjust(pd.Series([3], index=[2021]), table, 2022)
    assert out["k_adj"].iloc[0] == pytest.approx(6.0)


@pytest.mark.parametrize(
    "shares, message",
    [([0.5, 0.2], "sum to 1"), ([1.2, -0.2], "non-negative"), ([np.nan, 1.0], "non-negative")],
)
def test_lag_adjust_rejects_bad_shares(shares, message):
    with pytest.raises(ValueError, match=message):
        lag_adjust(pd.Series([1], index=[2022]), shares, 2022)


def test_lag_adjust_rejects_year_after_end():
    with pytest.raises(ValueError, match="after the end year"):
        cumulative_share([1.0], [2023], 2022)


# --------------------------------------------------------------------------- estimators
def test_pooled_by_hand():
    app = [2000, 2000, 2001, 2001, 2001, 2002, 2002]
    grant = [2002, 2003, 2003, 2003, None, 2004, 2010]
    t = lag_distribution(app, grant, reference=(2000, 2002), end_year=2005)
    # grants by 2005 in cohorts 2000-2002: lags 2, 3, 2, 2, 2 (2010 is after T) -> n_2 = 4, n_3 = 1
    assert t["s"].tolist() == [0, 1, 2, 3]
    assert t["n"].tolist() == [0, 0, 4, 1]
    assert t["share"].tolist() == pytest.approx([0, 0, 0.8, 0.2])
    assert t["cum_share"].iloc[-1] == pytest.approx(1.0)


def test_dates_and_years_give_the_same_table():
    app = pd.to_datetime(["2000-03-01", "2001-12-31", "2001-01-01"])
    grant = pd.to_datetime(["2003-01-05", "2002-01-01", None])
    a = lag_distribution(app, grant, reference=None, end_year=None)
    b = lag_distribution([2000, 2001, 2001], [2003, 2002, None], reference=None, end_year=None)
    pd.testing.assert_frame_equal(a, b)
    assert a.set_index("s")["n"].to_dict() == {0: 0, 1: 1, 2: 0, 3: 1}


def test_negative_lag_is_an_error():
    with pytest.raises(ValueError, match="precedes"):
        lag_cells([2005], [2004])


def test_empty_reference_is_an_error():
    with pytest.raises(ValueError, match="no granted application"):
        lag_distribution([2000], [2001], reference=(2010, 2012), end_year=2022)


def _simulate(truth, cohorts, end_year, rng, growth=1.08, base=4000):
    """Applications per cohort growing, lags drawn from ``truth``, grants seen only by T."""
    app, grant = [], []
    for i, t in enumerate(cohorts):
        n = int(base * growth**i)
        s = rng.choice(len(truth), size=n, p=truth)
        app.append(np.full(n, t))
        grant.append(t + s)
    app = np.concatenate(app)
    grant = np.concatenate(grant).astype(float)
    grant[grant > end_year] = np.nan  # right truncation: not yet granted
    return app, grant


def test_kaplan_meier_recovers_the_truth_under_truncation():
    rng = np.random.default_rng(7)
    truth = np.array([0.0, 0.04, 0.16, 0.25, 0.22, 0.14, 0.08, 0.05, 0.03, 0.02, 0.01])
    app, grant = _simulate(truth, range(2000, 2017), 2022, rng)
    km = lag_distribution(app, grant, reference=(2000, 2016), end_year=2022,
                          method="kaplan_meier", s_max=10)
    pooled = lag_distribution(app, grant, reference=(2000, 2016), end_year=2022)
    err_km = np.abs(km["share"].to_numpy()[:11] - truth).max()
    err_pooled = np.abs(pooled["share"].reindex(range(11), fill_value=0).to_numpy() - truth).max()
    assert err_km < 0.01
    # the naive pooled estimate leans to short lags (recent cohorts are truncated)
    assert err_pooled > 2 * err_km
    cum6 = pooled.loc[pooled["s"] == 6, "cum_share"].iloc[0]
    assert cum6 > truth[:7].sum() + 0.01
    assert km["share"].sum() == pytest.approx(1.0)


def test_complete_cohorts_recover_the_truth():
    rng = np.random.default_rng(11)
    truth = np.array([0.05, 0.3, 0.4, 0.2, 0.05])
    app, grant = _simulate(truth, range(2000, 2017), 2022, rng)
    c = lag_distribution(app, grant, reference=(2000, 2016), end_year=2022,
                         method="complete", s_max=4)
    assert c["s"].tolist() == [0, 1, 2, 3, 4]
    assert np.abs(c["share"].to_numpy() - truth).max() < 0.01
    # only cohorts observed >= 4 years (t <= 2018; all of 2000-2016 here) are used
    too_long = lag_distribution(app, grant, reference=(2000, 2016), end_year=2022,
                                method="complete", s_max=4)
    assert too_long["n"].sum() == c["n"].sum()
    with pytest.raises(ValueError, match="observed 30 years"):
        lag_distribution(app, grant, reference=(2000, 2016), end_year=2022,
                         method="complete", s_max=30)


def test_kaplan_meier_by_hand():
    # cohorts 2020 (lags 0,1,2 once each) and 2021 (lags 0, 1), T = 2022.
    cells = pd.DataFrame({"t": [2020, 2020, 2020, 2021, 2021], "s": [0, 1, 2, 0, 1],
                          "n": [1, 1, 1, 1, 1]})
    t = shares_from_cells(cells, method="kaplan_meier", reference=None, end_year=2022, s_max=2)
    # g_2 = 1/3 (cohort 2020 only); g_1 = (1+1)/(2+2) = .5; F_2 = 1, F_1 = 2/3, F_0 = 1/3
    assert t["share"].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert t["n"].tolist() == [2, 2, 1]


def test_groups_give_one_block_per_group():
    app = [2000, 2000, 2000, 2001]
    grant = [2001, 2002, 2001, 2004]
    out = lag_distribution(app, grant, reference=None, end_year=None,
                           groups=["invention", "invention", "utility_model", "invention"])
    assert set(out["group"]) == {"all", "invention", "utility_model"}
    um = out[out["group"] == "utility_model"].set_index("s")["share"]
    assert um.loc[1] == pytest.approx(1.0)
    inv = out[out["group"] == "invention"].set_index("s")["share"]
    assert inv.loc[1] == pytest.approx(1 / 3) and inv.loc[3] == pytest.approx(1 / 3)


def test_grantlag_estimator_fit_transform():
    gl = GrantLag(reference=(2000, 2001), end_year=2003, adjust_from=2002)
    gl.fit([2000, 2000, 2001, 2001], [2000, 2001, 2001, 2002])
    assert gl.shares_.tolist() == pytest.approx([0.5, 0.5])
    out = gl.transform(pd.Series([4, 4], index=[2002, 2003]))
    assert out["k_adj"].tolist() == pytest.approx([4.0, 8.0])
    with pytest.raises(ValueError, match="method"):
        GrantLag(method="median")
    with pytest.raises(RuntimeError, match="not fitted"):
        GrantLag().transform(pd.Series([1], index=[2022]))


def test_pooled_shares_reproduce_the_real_sample(shared):
    """README of ../shared: pooled lags among the 2,537 granted applications of the sample."""
    path = shared / "data" / "patents" / "cnipa_invention_sample_2002.csv"
    df = pd.read_csv(path, encoding="latin-1", dtype=str, keep_default_na=False)
    app = pd.to_datetime(df["app_date"], format="%Y-%m-%d", errors="coerce")
    grant = pd.to_datetime(df["grant_c"], format="%Y-%m-%d", errors="coerce")
    ok = app.notna()
    t = lag_distribution(app[ok], grant[ok], reference=None, end_year=None)
    assert t["n"].sum() == 2537
    share = t.set_index("s")["share"]
    expected = {1: 0.002, 2: 0.127, 3: 0.263, 4: 0.263, 5: 0.189, 6: 0.068, 7: 0.035,
                8: 0.031, 9: 0.011}
    for s, v in expected.items():
        assert round(share.loc[s], 3) == v, s
    assert round(share[share.index >= 10].sum(), 3) == 0.011
