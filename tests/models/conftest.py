"""Fixtures of the models tests: the simulated panel (small and full)."""

from __future__ import annotations

import pytest

from coretech.models.simulate import simulate_panel

CONTROLS = ["Idetion", "Eoryity", "Mentel", "Fialevel", "Tinevel", "Fprises"]


@pytest.fixture(scope="session")
def panel():
    """The full simulated 286-city x 10-year panel (seed 7)."""
    return simulate_panel(seed=7)
