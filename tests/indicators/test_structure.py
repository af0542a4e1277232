"""Industrial-structure upgrading Irading, eq. (11), by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators import structure_upgrading, theil_rationalization

OUT = ["M1", "M2", "M3"]
LAB = ["E1", "E2", "E3"]


def _panel() -> pd.DataFrame:
    return pd.DataFrame({
        "city": ["A", "B", "C"], "year": [2013, 2013, 2013],
        "M1": [10.0, 5.0, 0.0], "M2": [40.0, 10.0, 60.0], "M3": [50.0, 15.0, 40.0],
        "E1": [20.0, 1.0, 5.0], "E2": [40.0, 2.0, 50.0], "E3": [40.0, 3.0, 45.0],
    })


def test_theil_by_hand_and_zero_when_productivities_equal():
    tl = theil_rationalization(_panel(), OUT, LAB)
    # A: output shares .1 .4 .5, employment shares .2 .4 .4
    a = 0.1 * math.log(0.5) + 0.4 * math.log(1.0) + 0.5 * math.log(1.25)
    # B: productivity 5 in every sector -> 0
    # C: M1 = 0 contributes 0; shares .6 .4 vs employment 0.5 .45
    c = 0.6 * math.log(0.6 / 0.5) + 0.4 * math.log(0.4 / 0.45)
    assert tl.tolist() == pytest.approx([a, 0.0, c])
    assert a == pytest.approx(0.0422571, abs=1e-7)
    assert (tl >= 0).all()


def test_composite_defaults_and_options():
    out = structure_upgrading(_panel(), OUT, LAB)
    tl = theil_rationalization(_panel(), OUT, LAB).to_numpy()
    ad = np.array([50 / 40, 15 / 10, 40 / 60])
    assert out["Irading_AD"].tolist() == pytest.approx(ad.tolist())
    assert out["Irading"].tolist() == pytest.approx((0.318 * ad - 0.682 * tl).tolist())
    assert out["Irading"].iloc[0] == pytest.approx(0.368681, abs=1e-6)
    lit = structure_upgrading(_panel(), OUT, LAB, advanced="secondary/tertiary", theil_sign=1,
                              weights=(0.5, 0.5))
    assert lit["Irading_AD"].tolist() == pytest.approx((1 / ad).tolist())
    assert lit["Irading"].tolist() == pytest.approx((0.5 / ad + 0.5 * tl).tolist())
    z = structure_upgrading(_panel(), OUT, LAB, standardize="zscore")
    zad = (ad - ad.mean()) / ad.std(ddof=1)
    ztl = (-tl - (-tl).mean()) / tl.std(ddof=1)
    assert z["Irading"].tolist() == pytest.approx((0.318 * zad + 0.682 * ztl).tolist())


def test_bad_input():
    df = _panel()
    with pytest.raises(InputError) as ei:
        theil_rationalization(df.assign(E1=[20.0, 0.0, 5.0]), OUT, LAB)
    assert "city B, year 2013" in str(ei.value) and "column 'E1'" in str(ei.value)
    with pytest.raises(InputError, match="non-negative"):
        theil_rationalization(df.assign(M2=[1.0, -1.0, 1.0]), OUT, LAB)
    with pytest.raises(InputError, match="three columns"):
        theil_rationalization(df, OUT[:2], LAB)
    with pytest.raises(InputError, match="advanced must be"):
        structure_upgrading(df, OUT, LAB, advanced="tertiary")
    with pytest.raises(InputError, match="theil_sign"):
        structure_upgrading(df, OUT, LAB, theil_sign=2)
    with pytest.raises(InputError, match="denominator"):
        structure_upgrading(df.assign(M2=[0.0, 1.0, 1.0]), OUT, LAB)
