"""Perpetual inventory and translog distortion (METHODS.md §5, eqs. 6-10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators import TranslogDistortion, perpetual_inventory, translog_distortion


def _pim_panel() -> pd.DataFrame:
    return pd.DataFrame({
        "city": ["B", "A", "A", "A", "B"],
        "year": [2014, 2013, 2014, 2015, 2013],
        "I": [50.0, 100.0, 110.0, 121.0, 40.0],
        "P": [1.25, 1.0, 1.1, 1.21, 1.0],
    })


def test_perpetual_inventory_by_hand():
    c = perpetual_inventory(_pim_panel())
    # A: real investment 100, 100, 100; C0 = 100 / (0.1384 + 0.096)
    a0 = 100 / 0.2344
    a1 = 100 + 0.904 * a0
    a2 = 100 + 0.904 * a1
    b0 = 40 / 0.2344
    b1 = 50 / 1.25 + 0.904 * b0
    assert c.tolist() == pytest.approx([b1, a0, a1, a2, b0])
    assert a0 == pytest.approx(426.62116041)


def test_price_index_forms_give_the_same_stock():
    df = _pim_panel()
    ref = perpetual_inventory(df)
    # levels with 2013 = 100
    assert perpetual_inventory(df.assign(P=df.P * 100), price_scale=100).tolist() == pytest.approx(ref.tolist())
    # levels on another base, rebased to 2013
    assert perpetual_inventory(df.assign(P=df.P * 0.5), base_year=2013).tolist() == pytest.approx(ref.tolist())
    # chained (previous year = 100): A 100(unused), 110, 110; B 100, 125
    chained = df.assign(P=[125.0, 100.0, 110.0, 110.0, 100.0])
    out = perpetual_inventory(chained, chained=True, price_scale=100)
    assert out.tolist() == pytest.approx(ref.tolist())
    # other delta and g
    c = perpetual_inventory(df, delta=0.05, g=0.05)
    assert c.iloc[1] == pytest.approx(1000.0) and c.iloc[2] == pytest.approx(100 + 0.95 * 1000)


def test_perpetual_inventory_errors():
    df = _pim_panel()
    gap = df.assign(year=[2014, 2013, 2015, 2016, 2013])
    with pytest.raises(InputError) as ei:
        perpetual_inventory(gap)
    assert "consecutive" in str(ei.value) and "city A, year 2015" in str(ei.value)
    with pytest.raises(InputError, match="positive"):
        perpetual_inventory(df.assign(P=[1.0, 0.0, 1, 1, 1]))
    with pytest.raises(InputError, match="non-negative"):
        perpetual_inventory(df.assign(I=[1.0, -5, 1, 1, 1]))
    with pytest.raises(InputError, match="base_year 2012"):
        perpetual_inventory(df, base_year=2012)
    with pytest.raises(InputError, match="delta"):
        perpetual_inventory(df, delta=1.5)
    with pytest.raises(InputError, match="duplicate"):
        perpetual_inventory(pd.concat([df, df.iloc[[0]]], ignore_index=True))


PHI = {"phi0": 0.3, "phi1": 0.45, "phi2": 0.35, "phi3": -0.04, "phi4": 0.03, "phi5": 0.02}


def _translog_panel(seed: int = 5, effects: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cities, years = 12, 6
    df = pd.DataFrame({"city": np.repeat([f"c{i}" for i in range(cities)], years),
                       "year": np.tile(np.arange(2013, 2013 + years), cities)})
    le = rng.uniform(3, 6, len(df))
    lc = rng.uniform(5, 9, len(df))
    lm = (PHI["phi0"] + PHI["phi1"] * le + PHI["phi2"] * lc + 0.5 * PHI["phi3"] * le**2
          + 0.5 * PHI["phi4"] * lc**2 + PHI["phi5"] * le * lc)
    if effects:
        lm = lm + np.repeat(rng.normal(0, 0.5, cities), years) + np.tile(np.linspace(0, 0.3, years), cities)
    df["M"], df["E"], df["C"] = np.exp(lm), np.exp(le), np.exp(lc)
    df["w"] = rng.uniform(0.5, 2, len(df))
    df["r"] = np.tile(np.linspace(0.04, 0.06, years), cities)
    return df, le, lc


def test_translog_recovers_exact_parameters_and_marginal_products():
    df, le, lc = _translog_panel()
    m = TranslogDistortion().fit(df)
    assert m.params_.tolist() == pytest.approx(list(PHI.values()), abs=1e-8)
    assert m.rsquared_ == pytest.approx(1.0)
    out = m.transform(df)
    mp_e = (PHI["phi1"] + PHI["phi3"] * le + PHI["phi5"] * lc) * df.M / df.E
    mp_c = (PHI["phi2"] + PHI["phi4"] * lc + PHI["phi5"] * le) * df.M / df.C
    assert out["Actros_MP_E"].tolist() == pytest.approx(mp_e.tolist(), rel=1e-7)
    tau = (mp_e / df.w + mp_c / df.r) / 2
    assert out["Actros_tau"].tolist() == pytest.approx(tau.tolist(), rel=1e-7)
    assert out["Actros"].tolist() == pytest.approx((-tau).tolist(), rel=1e-7)


def test_fixed_effects_options_recover_slopes():
    df, _, _ = _translog_panel(effects=True)
    pooled = TranslogDistortion().fit(df)
    assert abs(pooled.params_["phi1"] - PHI["phi1"]) > 1e-3  # the effects bias pooled OLS
    two = TranslogDistortion(fe="twoway").fit(df)
    slopes = ["phi1", "phi2", "phi3", "phi4", "phi5"]
    assert two.params_[slopes].tolist() == pytest.approx([PHI[k] for k in slopes], abs=1e-7)


def test_cobb_douglas_undistorted_market_and_transforms():
    # phi3 = phi4 = phi5 = 0, w and r equal to the marginal products: tau = 1
    rng = np.random.default_rng(0)
    n = 30
    le, lc = rng.uniform(2, 5, n), rng.uniform(4, 8, n)
    m = np.exp(1 + 0.4 * le + 0.5 * lc)
    df = pd.DataFrame({"city": [f"c{i}" for i in range(n)], "year": 2013, "M": m,
                       "E": np.exp(le), "C": np.exp(lc)})
    df["w"] = 0.4 * df.M / df.E
    df["r"] = 0.5 * df.M / df.C
    for transform, value in (("negate", -1.0), ("reciprocal", 1.0), ("abs_deviation", 0.0)):
        out = translog_distortion(df, transform=transform)
        assert out["Actros"].tolist() == pytest.approx([value] * n, abs=1e-7)
        assert out.attrs["model"]["transform"] == transform
    # units: M in 10^8 yuan and r in percent give the same tau when declared
    scaled = df.assign(M=df.M / 1e8, r=df.r * 100)
    out = translog_distortion(scaled, units={"M": 1e8, "r": 0.01})
    assert out["Actros_tau"].tolist() == pytest.approx([1.0] * n, rel=1e-7)
    # r as a by-year table
    out = translog_distortion(df.assign(r=0.0), rate={2013: 0.05})
    assert out["Actros_tau_C"].tolist() == pytest.approx((df.r / 0.05).tolist(), rel=1e-7)


def test_translog_bad_input_names_city_year_column():
    df, _, _ = _translog_panel()
    bad = df.copy()
    bad.loc[8, "E"] = 0.0
    with pytest.raises(InputError) as ei:
        translog_distortion(bad)
    m = str(ei.value)
    assert "city c1, year 2015" in m and "column 'E'" in m and "row 10" in m
    with pytest.raises(InputError, match="transform must be"):
        translog_distortion(df, transform="invert")
    with pytest.raises(InputError, match="fe must be"):
        translog_distortion(df, fe="entity")
    with pytest.raises(InputError, match="no rate for this year"):
        translog_distortion(df, rate={2013: 0.05})
    with pytest.raises(InputError, match="factor price w"):
        translog_distortion(df.assign(w=-1.0))
