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


def test_sigmamore_and_sigmaless_share_one_variance(panel):
    args = (panel, "Nycives", ["Cialomy", "Idetion", "Eoryity"])
    classic = hausman(*args)
    more = hausman(*args, sigmamore=True)
    less = hausman(*args, sigmaless=True)
    assert more.method == "sigmamore" and less.method == "sigmaless"
    assert more.statistic >= 0 and less.statistic >= 0 and not more.note and not less.note
    assert np.isfinite(more.pvalue) and np.isfinite(less.pvalue)
    assert (more.b_fe == classic.b_fe).all()
    # both rescalings give one common variance: the statistics differ by s2_FE / s2_RE
    from linearmodels import PanelOLS, RandomEffects

    from coretech.models.hausman import _panel

    data, exog = _panel(panel, "Nycives", ["Cialomy", "Idetion", "Eoryity"], "city", "year", True)
    s2_fe = PanelOLS(data["Nycives"], exog, entity_effects=True).fit().s2
    s2_re = RandomEffects(data["Nycives"], exog.assign(const=1.0)).fit().s2
    assert more.statistic == pytest.approx(less.statistic * s2_fe / s2_re, rel=1e-8)


def test_text_never_prints_nan(grunfeld):
    from coretech.models.hausman import HausmanResult

    neg = HausmanResult(-1.5, 2, float("nan"), "classic", None, None, "not psd")
    assert "nan" not in neg.text() and "no p-value" in neg.text()
    ok = hausman(grunfeld, "invest", ["value", "capital"], unit="firm", time="year", time_effects=False)
    assert ok.text(2) == "chi2(2) = 2.33, p = 0.31"


def test_sigma_options_checked(grunfeld):
    with pytest.raises(InputError, match="alternatives"):
        hausman(grunfeld, "invest", "value", unit="firm", time="year", sigmamore=True, sigmaless=True)
    with pytest.raises(InputError, match="classic"):
        hausman(grunfeld, "invest", "value", unit="firm", time="year", method="mundlak", sigmamore=True)


def test_shared_fits_give_the_separate_tests_exactly(panel):
    # Table 3 asks for three tests of one specification; HausmanTests fits FE and RE once
    from coretech.models.hausman import HausmanTests

    args = (panel, "Nycives", ["Cialomy", "Idetion", "Eoryity"])
    tests = HausmanTests(*args)
    for got, want in ((tests.classic(), hausman(*args)),
                      (tests.mundlak(), hausman(*args, method="mundlak")),
                      (tests.classic(sigmamore=True), hausman(*args, sigmamore=True)),
                      (tests.classic(sigmaless=True), hausman(*args, sigmaless=True))):
        assert (got.statistic, got.df, got.method, got.note) == (want.statistic, want.df,
                                                                   want.method, want.note)
        assert got.pvalue == want.pvalue or (np.isnan(got.pvalue) and np.isnan(want.pvalue))
        assert got.b_fe.equals(want.b_fe) and got.b_re.equals(want.b_re)
    with pytest.raises(InputError, match="alternatives"):
        tests.classic(sigmamore=True, sigmaless=True)
