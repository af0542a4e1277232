"""Simulated inputs with known effects, for the demo and the tests (never real data).

* :mod:`coretech.simulate.panel`: the 286-city panel of the paper's variables
  (:func:`simulate_panel`, with the true effects in ``df.attrs["truth"]``) and simulated
  employment for the location quotient (:func:`add_employment`);
* :mod:`coretech.simulate.patents`: patent records with real IPC codes and CNIPA-like
  application-to-grant lags (:func:`simulate_patents`).

This package imports no stage of coretech: the stages and the demo import it.
"""

from __future__ import annotations

from coretech.simulate.panel import add_employment, simulate_panel, true_effects
from coretech.simulate.patents import (
    DEMO_LAG_SHARES,
    fallback_cities,
    simulate_patents,
    weights_from_panel,
)

__all__ = [
    "DEMO_LAG_SHARES",
    "add_employment",
    "fallback_cities",
    "simulate_panel",
    "simulate_patents",
    "true_effects",
    "weights_from_panel",
]
