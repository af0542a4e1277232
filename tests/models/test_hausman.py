"""Hausman tests: Baltagi's Grunfeld number and the Mundlak construction."""

from __future__ import annotations

import numpy as np
import pytest

from coretech.errors import InputError
from coretech.models.hausman import hausman


@pytest.fixture(scope="module")
def grunfeld():
    import statsmodels.datasets.grunfeld as g

    d = g.load_pandas().data
    return d[d.firm != "American Steel"].reset_index(drop=True)


def test_classic_reproduces_baltagi(grunfeld):
    h = hausman(grunfeld, "invest", ["value", "capital"], unit="firm", time="year", time_effects=False)
    assert round(h.statistic, 2) == 2.33
    assert h.df == 2
    assert h.pvalue == pytest.approx(0.3119, abs=1e-4)


def test_mundlak_within_coefficients_equal_fe(grunfeld):
    # in a balanced panel the RE-with-means coefficients on x are the within (FE) estimates
    h = hausman(grunfeld, "invest", ["value", "capital"], unit="firm", time="year",
                time_effects=False, method="mundlak")
    assert h.b_re["value"] == pytest.approx(h.b_fe["value"], rel=1e-7)
    assert h.b_re["capital"] == pytest.approx(h.b_fe["capital"], rel=1e-7)
    assert h.df == 2 and h.statistic > 0 and 0 < h.pvalue < 1


def test_two_way_on_simulated_panel(panel):
    # the simulated city effect of Y is correlated with Cialomy: RE is inconsistent
    h = hausman(panel, "Nycives", ["Cialomy", "Idetion"], method="mundlak")
    assert h.df == 2 and h.pvalue < 1e-6
    c = hausman(panel, "Nycives", ["Cialomy", "Idetion"], method="classic")
    assert c.df == 2
    assert (c.statistic >= 0 and 0 <= c.pvalue <= 1 and not c.note) or (c.note and np.isnan(c.pvalue))


def test_bad_method(grunfeld):
    with pytest.raises(InputError, match="method"):
        hausman(grunfeld, "invest", "value", unit="firm", time="year", method="sargan")
