"""Entropy-weight index (METHODS.md §4): a case by hand and the invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators import EntropyIndex, entropy_index, entropy_weights


def test_by_hand_with_zero_shift():
    X = pd.DataFrame({"x1": [1.0, 2.0, 3.0], "x2": [10.0, 10.0, 40.0]})
    # x1 positive: x' = 0, .5, 1 -> p = 0, 1/3, 2/3
    # x2 negative: x' = (40 - x)/30 = 1, 1, 0 -> p = 1/2, 1/2, 0
    e1 = ((1 / 3) * math.log(3) + (2 / 3) * math.log(1.5)) / math.log(3)
    e2 = math.log(2) / math.log(3)
    d1, d2 = 1 - e1, 1 - e2
    w1, w2 = d1 / (d1 + d2), d2 / (d1 + d2)
    m = EntropyIndex({"x2": "负向"}, shift=0.0).fit(X)
    assert m.entropy_.tolist() == pytest.approx([e1, e2])
    assert m.weights_.tolist() == pytest.approx([w1, w2])
    assert m.transform(X).tolist() == pytest.approx([w2, 0.5 * w1 + w2, w1])


def test_shift_enters_p_and_index():
    X = pd.DataFrame({"x1": [1.0, 2.0, 3.0], "x2": [10.0, 10.0, 40.0]})
    s = 1e-4
    x1 = np.array([0, 0.5, 1]) + s
    x2 = np.array([1, 1, 0]) + s
    e = [-(p * np.log(p)).sum() / np.log(3) for p in (x1 / x1.sum(), x2 / x2.sum())]
    d = 1 - np.array(e)
    w = d / d.sum()
    assert entropy_weights(X, {"x2": -1}).tolist() == pytest.approx(w.tolist(), rel=1e-12)
    assert entropy_index(X, {"x2": -1}).tolist() == pytest.approx((w[0] * x1 + w[1] * x2).tolist())


def _panel(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 60
    return pd.DataFrame({
        "year": np.repeat([2013, 2014, 2015], n // 3),
        "a": rng.lognormal(size=n),
        "b": rng.uniform(0, 10, n),
        "c": rng.normal(50, 5, n),
        "coal": rng.gamma(2, 3, n),
    })


def test_weights_sum_to_one_and_ignore_positive_affine_rescaling():
    df = _panel()
    cols = ["a", "b", "c", "coal"]
    w = entropy_weights(df[cols], {"coal": -1})
    assert w.sum() == pytest.approx(1.0) and (w > 0).all()
    scaled = df[cols].assign(a=df["a"] * 1e4 + 3, coal=df["coal"] / 7 - 100)
    assert entropy_weights(scaled, {"coal": -1}).tolist() == pytest.approx(w.tolist(), rel=1e-9)
    # a negative scale flips the direction, so it does move the weights
    flipped = df[cols].assign(b=-df["b"])
    assert not np.allclose(entropy_weights(flipped, {"coal": -1}), w)


def test_year_by_year_normalisation_and_weights():
    df = _panel()
    cols = ["a", "b", "c", "coal"]
    m = EntropyIndex({"coal": -1}, pooled=False).fit(df[cols], year=df["year"])
    # within each year the normalised indicators span exactly [shift, 1 + shift]
    xn = m.normalised(df[cols], year=df["year"])
    for _, g in xn.groupby(df["year"]):
        assert g.min().tolist() == pytest.approx([1e-4] * 4)
        assert g.max().tolist() == pytest.approx([1 + 1e-4] * 4)
    assert m.weights_.sum() == pytest.approx(1.0)
    by = entropy_weights(df, {"coal": -1}, pooled=False, year="year", weights="by_year")
    assert list(by.index) == [2013, 2014, 2015]
    assert by.sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    # fully year-by-year (min/max and weights) equals the method run on that year alone
    only = df[df.year == 2014][cols]
    assert by.loc[2014].tolist() == pytest.approx(entropy_weights(only, {"coal": -1}).tolist())
    idx = entropy_index(df, {"coal": -1}, pooled=False, year="year", weights="by_year")
    row = 25  # a 2014 row
    assert idx.iloc[row] == pytest.approx(
        float(EntropyIndex({"coal": -1}).fit(only).normalised(df[cols].iloc[[row]]).iloc[0]
              @ by.loc[2014]))


def test_constant_indicator_gets_weight_zero_or_error():
    df = _panel()[["a", "b"]].assign(k=5.0)
    m = EntropyIndex().fit(df)
    assert m.weights_["k"] == pytest.approx(0.0) and m.constant_ == ["k"]
    assert m.weights_.sum() == pytest.approx(1.0)
    with pytest.raises(InputError, match="'k' is constant"):
        EntropyIndex(constant="error").fit(df)


def test_bad_input():
    df = _panel()
    with pytest.raises(InputError, match="need the year"):
        entropy_weights(df[["a", "b"]], pooled=False)
    bad = df.copy()
    bad.loc[7, "b"] = np.nan
    with pytest.raises(InputError) as ei:
        entropy_weights(bad[["a", "b"]])
    assert "row 9" in str(ei.value) and "column 'b'" in str(ei.value)
    with pytest.raises(InputError, match="shift"):
        entropy_weights(df[["a", "b"]], shift=-1)
    with pytest.raises(InputError, match="not in the data"):
        entropy_weights(df[["a", "b"]], {"coal": -1})
    with pytest.raises(InputError, match="at least 2"):
        entropy_weights(df[["a", "b"]].iloc[:1])


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(a=st.floats(1e-3, 1e3), b=st.floats(-1e3, 1e3), col=st.sampled_from(["a", "b", "c", "coal"]),
       seed=st.integers(0, 50))
def test_property_weights_invariant_under_positive_affine_maps(a, b, col, seed):
    df = _panel(seed)[["a", "b", "c", "coal"]]
    w = entropy_weights(df, {"coal": -1})
    w2 = entropy_weights(df.assign(**{col: a * df[col] + b}), {"coal": -1})
    assert w.sum() == pytest.approx(1.0)
    assert w2.tolist() == pytest.approx(w.tolist(), rel=1e-6, abs=1e-12)
