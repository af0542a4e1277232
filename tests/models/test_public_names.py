"""Every documented name of coretech.models is the function, also after the suite (which
imports the submodules of the same name) has been imported (issue 15.8)."""

from __future__ import annotations

import subprocess
import sys

import coretech.models as models

CODE = """
import coretech.models.suite  # binds the submodules hausman, mechanism on the package
from coretech.models import hausman, mechanism
from coretech.models import {names}
import coretech.models as m
bad = [n for n in m.__all__ if not callable(getattr(m, n))]
assert not bad, bad
assert hausman.__module__ == "coretech.models.hausman" and callable(hausman), hausman
assert mechanism.__module__ == "coretech.models.mechanism" and callable(mechanism), mechanism
assert m.hausman is hausman
from coretech.models.hausman import HausmanResult  # the submodule is still importable
import sys
assert sys.modules["coretech.models.hausman"].HausmanResult is HausmanResult
print("ok")
"""


def test_names_are_functions_after_the_suite_is_imported():
    code = CODE.format(names=", ".join(models.__all__))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_documented_names_are_exported():
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "models.md").read_text(encoding="utf-8")
    for name in ("twfe", "hausman", "mechanism", "chow_test", "stacked_test", "wild_bootstrap_test",
                 "subsamples", "interaction_test", "permutation_test", "simulate_panel", "iv_gmm", "add_lag"):
        assert f" {name}" in doc or f"{name}," in doc
        assert name in models.__all__ and callable(getattr(models, name))
