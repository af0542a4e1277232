"""Location quotient Cialomy, eq. (4), on a panel worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators import location_quotient
from coretech.io import read_table


def _panel() -> pd.DataFrame:
    return pd.DataFrame({
        "city": ["A", "B", "A", "B", "C"],
        "year": [2013, 2013, 2014, 2014, 2014],
        "E_dig": [10.0, 30.0, 20.0, 20.0, 10.0],
        "E_all": [100.0, 100.0, 100.0, 100.0, 50.0],
    })


def test_by_hand():
    lq = location_quotient(_panel())
    # 2013: national share 40/200 = 0.2; A 0.1 -> 0.5, B 0.3 -> 1.5
    # 2014: national share 50/250 = 0.2; every city has share 0.2 -> 1
    assert lq.name == "Cialomy"
    assert lq.tolist() == pytest.approx([0.5, 1.5, 1.0, 1.0, 1.0])


def test_national_sums_are_by_year_and_unit_free():
    df = _panel()
    # rescaling one year's employment (another unit) leaves that year's LQ unchanged
    df2 = df.copy()
    df2.loc[df2.year == 2014, ["E_dig", "E_all"]] *= 1000
    assert location_quotient(df2).tolist() == pytest.approx(location_quotient(df).tolist())
    # a city's LQ depends on the others of the same year only
    df3 = df.copy()
    df3.loc[4, "E_dig"] = 40.0  # C in 2014 now 0.8; national 80/250 = 0.32
    lq3 = location_quotient(df3)
    assert lq3.iloc[:2].tolist() == pytest.approx([0.5, 1.5])
    assert lq3.iloc[2:].tolist() == pytest.approx([0.2 / 0.32, 0.2 / 0.32, 0.8 / 0.32])


def test_missing_rule():
    df = _panel()
    df.loc[1, "E_dig"] = np.nan
    with pytest.raises(InputError) as ei:
        location_quotient(df)
    assert "city B, year 2013" in str(ei.value) and "column 'E_dig'" in str(ei.value)
    lq = location_quotient(df, missing="skip")
    assert np.isnan(lq.iloc[1]) and lq.iloc[0] == pytest.approx(1.0)  # A alone in 2013


def test_bad_cells_name_city_year_column_row(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("city,year,E_dig,E_all\nA,2013,10,100\nB,2013,120,100\n")
    with pytest.raises(InputError) as ei:
        location_quotient(read_table(p))
    m = str(ei.value)
    assert "p.csv" in m and "row 3" in m and "city B" in m and "column 'E_dig'" in m
    df = _panel()
    df.loc[2, "E_all"] = 0.0
    with pytest.raises(InputError, match="positive total"):
        location_quotient(df)
    with pytest.raises(InputError, match="no column 'E_x'"):
        location_quotient(_panel(), digital="E_x")
    z = _panel()
    z.loc[z.year == 2013, "E_dig"] = 0.0
    with pytest.raises(InputError, match="national share is 0"):
        location_quotient(z)
