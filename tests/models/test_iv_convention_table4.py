"""Table 4 applies the IV convention the study names; ivreghdfe's by default (issue 15.3)."""

from __future__ import annotations

import pytest

from coretech.models.config import ModelsConfig
from coretech.models.iv import add_lag, iv_gmm
from coretech.models.suite import run_suite

from .conftest import CONTROLS


@pytest.mark.parametrize(("options", "convention"), [
    ({}, "ivreghdfe"),
    ({"iv_convention": "xtivreg2"}, "xtivreg2"),
    ({"iv_fe_dof": "none"}, "ivreg2"),
])
def test_table4_convention(panel, options, convention) -> None:
    cfg = ModelsConfig.from_mapping({"tables": [4], **options})
    suite = run_suite(panel, cfg)
    r4 = suite.results["table4"]
    assert r4.diagnostics["convention"] == convention
    lagged = add_lag(panel, "Cialomy", unit="city", time="year", name="L.Cialomy")
    ref = iv_gmm(lagged, "Nycives", "Cialomy", "L.Cialomy", exog=CONTROLS, fe=["city", "year"],
                 cov="robust", convention=convention)
    assert r4.params["Cialomy"] == pytest.approx(ref.params["Cialomy"], rel=1e-12)
    assert r4.std_errors["Cialomy"] == pytest.approx(ref.std_errors["Cialomy"], rel=1e-12)
    assert convention in " ".join(suite.tables["table4"].notes)


def test_unknown_convention_is_refused() -> None:
    with pytest.raises(Exception, match="iv_convention"):
        ModelsConfig.from_mapping({"iv_convention": "stata"})
