"""Tables 3, 6 and 7 of the suite: which tests they show and what their notes say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coretech.models.heterogeneity import chow_test, stacked_test
from coretech.models.study import ModelsConfig
from coretech.models.suite import estimates_json, run_suite

from .conftest import CONTROLS


@pytest.fixture(scope="module")
def suite(panel):
    return run_suite(panel, ModelsConfig.from_mapping({"permutations": 99, "tables": [3, 6, 7]}))


def test_table3_hausman_note_never_prints_nan(suite):
    notes = " ".join(suite.tables["table3"].notes)
    assert "nan" not in notes.lower()
    assert "Hausman FE vs RE (classic)" in notes and "Mundlak" in notes
    h = suite.results["hausman"]
    if not np.isfinite(h["classic"].pvalue):
        assert "no p-value" in notes and "sigmamore" in notes


def test_table6_shows_tests_of_its_own_slopes(suite, panel):
    t6 = suite.tables["table6"]
    tests = suite.results["table6"]["tests"]
    regions = suite.results["table6"]["regions"]
    chow = chow_test(panel, "Nycives", "Cialomy", CONTROLS, "region",
                     groups=list(regions))
    assert tests["region_chow"].statistic == pytest.approx(chow.statistic, rel=1e-10)
    np.testing.assert_allclose(tests["region_chow"].slopes.to_numpy(),
                               [r.params["Cialomy"] for r in regions.values()], rtol=1e-9)
    st = stacked_test(panel, "Nycives", "Cialomy", CONTROLS, "region", groups=list(regions))
    assert t6.cell("Stacked (SUR) Wald F [p]", 1) == f"{st.statistic:.4f} [{st.pvalue:.4f}]"
    assert t6.cell("Wild cluster bootstrap p", 1) == f"{tests['region_wild'].pvalue:.4f}"
    notes = " ".join(t6.notes)
    assert "fully interacted" in notes and "suest" in notes and "null of equal slopes imposed" in notes
    assert "ermutation" not in " ".join(r[0] for r in t6.body)


def test_table7_default_is_the_indirect_effect(suite):
    t7 = suite.tables["table7"]
    assert "indirect effect" in t7.title
    ch = suite.results["table7"][0]
    assert ch.rule == "mediation"
    assert t7.cell("Indirect effect a·b", 2) == f"{ch.indirect:.4f}"
    assert t7.cell("Bootstrap 95% CI", 2) == f"[{ch.boot_ci[0]:.4f}, {ch.boot_ci[1]:.4f}]"
    assert "eq. (3) M on D" in " ".join(t7.notes)


def test_table7_paper_rule_is_labelled(panel):
    s = run_suite(panel, ModelsConfig.from_mapping({"tables": [7], "mechanism_rule": "paper"}))
    t7 = s.tables["table7"]
    assert "paper's rule as written" in t7.title
    notes = " ".join(t7.notes)
    assert "eq. (2) Y on M" in notes and "eq. (3) M on D" in notes and "not a test of mediation" in notes
    assert s.results["table7"][0].rule == "paper"
    old = run_suite(panel, ModelsConfig.from_mapping({"tables": [7], "mechanism_rule": "both"}))
    assert old.tables["table7"].title == t7.title


def test_estimates_json_is_strict_json(suite):
    text = json.dumps(estimates_json(suite), allow_nan=False)
    est = json.loads(text)
    assert est["table7"][0]["indirect"]["bootstrap_ci"][0] > 0
    assert est["table6"]["tests"]["region_wild"]["n_boot"] == 99
    assert "m_on_d" in est["table7"][0] and "y_on_m" in est["table7"][0]
