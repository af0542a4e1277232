"""The simulated city panel, kept under its old name: it lives in :mod:`coretech.simulate.panel`
(one place for every simulated input, used by the demo and the tests)."""

from __future__ import annotations

from coretech.simulate.panel import (
    CONTROLS,
    DEFAULT_EFFECTS,
    EXCLUDED_CITIES,
    FIRST_TIER,
    MEDIATORS,
    MUNICIPAL_AND_SAR,
    SCALE_D,
    regions_table,
    sample_cities,
    simulate_panel,
    true_effects,
)

__all__ = [
    "CONTROLS",
    "DEFAULT_EFFECTS",
    "EXCLUDED_CITIES",
    "FIRST_TIER",
    "MEDIATORS",
    "MUNICIPAL_AND_SAR",
    "SCALE_D",
    "regions_table",
    "sample_cities",
    "simulate_panel",
    "true_effects",
]
