"""`coretech sensitivity study.toml`: the [sensitivity] stage of a study, off by default."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .test_sensitivity import TECHS, _simulate


def _study(tmp: Path) -> Path:
    files, _ = _simulate(tmp)
    p = tmp / "study.toml"
    p.write_text(
        "[study]\nout = 'out'\n"
        f"[inputs]\npatents = '{files['patents'].name}'\ndictionary = '{files['dictionary'].name}'\n"
        f"panel = '{files['panel'].name}'\n"
        "[breakthrough]\nend_year = 2022\nreference = '2008-2016'\n"
        "[models]\nenabled = false\n"
        "[sensitivity]\ntargets = ['mechanism_a']\nn_bootstrap = 10\n",
        encoding="utf-8")
    return p


def test_off_by_default_then_one_command_runs_it(tmp_path: Path) -> None:
    from coretech.cli import main

    study = _study(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(study), "--quiet"]) == 0
    assert not (out / "sensitivity").exists()
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Dictionary sensitivity" not in html

    assert main(["sensitivity", str(study), "--quiet"]) == 0
    res = pd.read_csv(out / "sensitivity" / "sensitivity.csv")
    base = res.query("kind == 'dictionary'").iloc[0]
    panel = pd.read_csv(out / "panel" / "panel.csv")
    # the measured column the panel stage added is the one varied
    assert base["target"] == "mechanism_a" and base["nobs"] > 0
    from coretech.models import twfe

    fit = twfe(panel, "Sicoughs_measured", ["Cialomy"], fe=["city", "year"], cluster="city")
    assert base["coef"] == fit.params["Cialomy"] or abs(base["coef"] / fit.params["Cialomy"] - 1) < 1e-12
    inf = pd.read_csv(out / "sensitivity" / "influence.csv")
    assert inf.iloc[0]["tech_id"] == "T1" and len(inf) == len(TECHS)
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Dictionary sensitivity" in html and "removing T1 alone" in html
    # the next plain run does not show the (now stale) section again
    assert main(["run", str(study), "--quiet"]) == 0
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Dictionary sensitivity" not in html
