"""Winsorising, gap filling, logs, duplicate and numeric checks on small hand-made panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators.transforms import (
    check_unique,
    find_duplicates,
    interpolate_panel,
    log_column,
    to_numeric,
    winsorize,
)
from coretech.io import read_table


# --------------------------------------------------------------------------- winsorize
def test_winsorize_stata_definition_by_hand():
    # n = 10, p = 0.1: n p = 1 is an integer -> mean of x(1), x(2) = 1.5; p = 0.9 -> 9.5
    s = pd.Series(np.arange(1.0, 11.0), name="x")
    w = winsorize(s, lower=0.1, upper=0.9)
    assert w.tolist() == [1.5, 2, 3, 4, 5, 6, 7, 8, 9, 9.5]
    assert w.attrs["winsorized"] == {"x": 2}
    # numpy's linear definition: position (n-1) p = 0.9 -> 1.9 and 9.1
    w2 = winsorize(s, lower=0.1, upper=0.9, method="linear")
    assert w2.iloc[0] == pytest.approx(1.9) and w2.iloc[-1] == pytest.approx(9.1)


def test_winsorize_by_year_uses_each_years_quantiles_and_keeps_nan():
    df = pd.DataFrame({
        "year": [1] * 5 + [2] * 5,
        "x": [1.0, 2, 3, 4, 100, 10, 20, 30, 40, np.nan],
        "label": list("abcdefghij"),
    })
    pooled = winsorize(df, ["x"], lower=0.0, upper=0.8)
    by = winsorize(df, ["x"], lower=0.0, upper=0.8, by="year")
    # year 1: n = 5, p = 0.8 -> n p = 4 integer -> mean of x(4), x(5) = 52
    assert by["x"].iloc[4] == 52.0
    # year 2 (4 non-missing): n p = 3.2 -> x(4) = 40: nothing clipped
    assert by["x"].iloc[5:9].tolist() == [10, 20, 30, 40]
    assert np.isnan(by["x"].iloc[9])
    # pooled over the 9 values: n p = 7.2 -> x(8) = 40, so 100 -> 40
    assert pooled["x"].iloc[4] == 40.0
    assert by["label"].tolist() == df["label"].tolist()
    assert by.attrs["winsorized"] == {"x": 1}


def test_winsorize_rejects_bad_limits_and_text_columns():
    df = pd.DataFrame({"x": [1.0, 2.0], "t": ["a", "b"]})
    with pytest.raises(InputError, match="lower < upper"):
        winsorize(df, ["x"], lower=0.99, upper=0.01)
    with pytest.raises(InputError, match="numeric"):
        winsorize(df, ["t"])


def test_winsorize_default_columns_are_numeric_only_and_not_identifiers():
    df = pd.DataFrame({"city": ["a"] * 4, "year": [2013, 2014, 2015, 2016], "x": [1.0, 2, 3, 4]})
    out = winsorize(df, lower=0.25, upper=0.75)
    assert out["city"].tolist() == ["a"] * 4
    assert out["year"].tolist() == [2013, 2014, 2015, 2016]
    assert out["x"].tolist() == [1.5, 2, 3, 3.5]
    assert winsorize(df, lower=0.25, upper=0.75, exclude=())["year"].tolist() == [
        2013.5, 2014, 2015, 2015.5]


# --------------------------------------------------------------------------- interpolate
def _gappy() -> pd.DataFrame:
    return pd.DataFrame({
        "city": ["A"] * 5 + ["B"] * 2 + ["C"] * 3 + ["D"] * 2,
        "year": [2017, 2013, 2014, 2015, 2016, 2013, 2014, 2013, 2015, 2019, 2013, 2014],
        "x": [8.0, np.nan, 2.0, np.nan, np.nan, np.nan, np.nan, 1.0, np.nan, 5.0, 7.0, np.nan],
    })


def test_interpolate_linear_within_city_by_year_distance():
    out = interpolate_panel(_gappy(), ["x"])
    x = dict(zip(zip(out["city"], out["year"], strict=True), out["x"], strict=True))
    assert x[("A", 2015)] == pytest.approx(4.0) and x[("A", 2016)] == pytest.approx(6.0)
    # C: 2013 -> 1, 2019 -> 5: 2015 is a third of the way
    assert x[("C", 2015)] == pytest.approx(1 + 4 * 2 / 6)
    assert np.isnan(x[("A", 2013)])  # leading gap: no extrapolation by default
    assert np.isnan(x[("B", 2013)])  # nothing borrowed from other cities
    assert np.isnan(x[("D", 2014)])
    assert out["x_filled"].sum() == 3
    assert out.attrs["filled"] == {"x": 3} and out.attrs["unfilled"] == {"x": 4}
    assert out["year"].tolist() == _gappy()["year"].tolist()  # row order kept


def test_interpolate_extrapolation_options():
    near = interpolate_panel(_gappy(), ["x"], extrapolate="nearest")
    lin = interpolate_panel(_gappy(), ["x"], extrapolate="linear")
    key = lambda d, c, y: d.loc[(d.city == c) & (d.year == y), "x"].item()  # noqa: E731
    assert key(near, "A", 2013) == 2.0 and key(near, "D", 2014) == 7.0
    assert key(lin, "A", 2013) == pytest.approx(0.0)  # slope (8-2)/3 = 2 per year
    assert np.isnan(key(lin, "D", 2014))  # one point: no line to extend
    assert lin.attrs["filled"]["x"] == 4


def test_interpolate_rejects_duplicates_and_unknown_option():
    df = _gappy()
    with pytest.raises(InputError, match="extrapolate"):
        interpolate_panel(df, ["x"], extrapolate="cubic")
    dup = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match="duplicate city-year"):
        interpolate_panel(dup, ["x"])


# --------------------------------------------------------------------------- checks
def test_duplicate_city_year_error_names_city_year_and_both_rows(tmp_path):
    p = tmp_path / "panel.csv"
    p.write_text("city,year,x\n南京,2015,1\n苏州,2015,2\n南京,2015,3\n", encoding="utf-8")
    df = read_table(p)
    with pytest.raises(InputError) as ei:
        check_unique(df)
    msg = str(ei.value)
    assert "panel.csv" in msg and "row 4" in msg and "row 2" in msg
    assert "南京" in msg and "2015" in msg and "column 'year'" in msg
    assert find_duplicates(df)["row"].tolist() == [2, 4]


def test_to_numeric_reads_missing_tokens_and_names_bad_cell(tmp_path):
    p = tmp_path / "panel.csv"
    p.write_text("city,year,x\nA,2013,1.5\nA,2014,.\nA,2015, 2 \nB,2013,\"1,234\"\n")
    df = read_table(p)
    with pytest.raises(InputError) as ei:
        to_numeric(df, ["x"])
    msg = str(ei.value)
    assert "row 5" in msg and "city B" in msg and "year 2013" in msg and "'1,234'" in msg
    ok = to_numeric(df.iloc[:3], ["x"])
    assert ok["x"].iloc[0] == 1.5 and np.isnan(ok["x"].iloc[1]) and ok["x"].iloc[2] == 2.0


# --------------------------------------------------------------------------- logs
def test_log_rules():
    df = pd.DataFrame({"city": ["A", "A", "B"], "year": [2013, 2014, 2013], "x": [0.0, np.e, 1.0]})
    with pytest.raises(InputError) as ei:
        log_column(df, "x")
    assert "city A, year 2013" in str(ei.value) and "column 'x'" in str(ei.value)
    assert "row 2" in str(ei.value)
    assert log_column(df, "x", zeros="log1p").tolist() == pytest.approx([0.0, np.log1p(np.e), np.log(2)])
    assert log_column(df, "x", zeros="shift=1").tolist() == pytest.approx([0.0, np.log1p(np.e), np.log(2)])
    d = log_column(df, "x", zeros="drop")
    assert np.isnan(d.iloc[0]) and d.iloc[1] == pytest.approx(1.0) and d.attrs["dropped"] == 1
    neg = df.assign(x=[1.0, -2.0, 1.0])
    with pytest.raises(InputError, match="non-negative"):
        log_column(neg, "x", zeros="log1p")
    with pytest.raises(InputError, match="unknown zero rule"):
        log_column(df, "x", zeros="zero")
    with pytest.raises(InputError, match="shift constant"):
        log_column(df, "x", zeros="shift=0")


def test_winsorize_edge_cases():
    df = pd.DataFrame({"year": [1, 1, 2, 2], "x": [np.nan, np.nan, 3.0, 3.0], "y": [1.0, 2, 3, 4]})
    out = winsorize(df, ["x", "y"], lower=0.0, upper=1.0, by="year")
    assert out["y"].tolist() == [1, 2, 3, 4] and out.attrs["winsorized"] == {"x": 0, "y": 0}
    assert np.isnan(out["x"].iloc[0]) and out["x"].iloc[2] == 3.0  # an all-missing group
    one = winsorize(pd.Series([7.0], name="z"))
    assert one.tolist() == [7.0]


def test_interpolate_edge_cases():
    complete = pd.DataFrame({"city": ["A", "A"], "year": [2013, 2014], "x": [1.0, 2.0]})
    out = interpolate_panel(complete, ["x"])
    assert out["x"].tolist() == [1.0, 2.0] and out.attrs["filled"] == {"x": 0}
    assert out["x_filled"].tolist() == [False, False]
    noyear = complete.assign(year=[2013.0, np.nan])
    with pytest.raises(InputError, match="row 3"):
        interpolate_panel(noyear, ["x"])
    text = complete.assign(x=["1", "abc"])
    with pytest.raises(InputError, match="'abc'"):
        interpolate_panel(text, ["x"])
