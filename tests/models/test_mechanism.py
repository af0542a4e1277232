"""Jiang (2022) two-step mechanism on the simulated panel with known paths."""

from __future__ import annotations

import pytest

from coretech.errors import InputError
from coretech.models.mechanism import mechanism
from coretech.models.simulate import simulate_panel

from .conftest import CONTROLS

MEDS = ["Sicoughs", "Actros", "Irading"]


def test_channels_hold_and_recover_paths(panel):
    chans = mechanism(panel, "Nycives", "Cialomy", MEDS, CONTROLS)
    truth = panel.attrs["truth"]["Cialomy_on_mediator"]
    for ch in chans:
        assert ch.holds
        est = ch.m_on_d.params["Cialomy"]
        se = ch.m_on_d.std_errors["Cialomy"]
        assert abs(est - truth[ch.mediator]) < 4 * se
        assert ch.y_on_m.params[ch.mediator] > 0


def test_rule_both_vs_jiang():
    # M -> Y negative for Actros: METHODS' rule says no channel, Jiang's D -> M rule says yes
    df = simulate_panel(seed=4, effects={"m_to_y": {"Actros": -0.8}})
    both = {c.mediator: c.holds for c in mechanism(df, "Nycives", "Cialomy", MEDS, CONTROLS)}
    jiang = {c.mediator: c.holds for c in mechanism(df, "Nycives", "Cialomy", MEDS, CONTROLS, rule="d_to_m")}
    assert both == {"Sicoughs": True, "Actros": False, "Irading": True}
    assert jiang == {"Sicoughs": True, "Actros": True, "Irading": True}


def test_bad_rule(panel):
    with pytest.raises(InputError, match="rule"):
        mechanism(panel, "Nycives", "Cialomy", MEDS, CONTROLS, rule="sobel")
