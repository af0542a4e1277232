"""The report and the audit page as a reader sees them: headless Chromium at 1366 and 390 px.

Done when (issue 16.7): no horizontal overflow of the page (``scrollWidth <= innerWidth``), no
console error, the real/SIMULATED column and the audit's headline numbers on screen, figure
labels at a readable size, and the mechanism diagram scaled to the column. Screenshots go to
``$CORETECH_SCREENSHOTS`` (default: pytest's tmp folder).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coretech.io import read_table, write_table
from coretech.pipeline.demo import catalogue_path, write_demo_study
from coretech.pipeline.report import run_report
from coretech.pipeline.study import load_study

FIX = Path(__file__).resolve().parents[1] / "matching" / "fixtures"
WIDTHS = (1366, 390)

#: What the page shows a reader, measured in the browser.
PROBE = """(() => {
  const W = window.innerWidth, r = e => e.getBoundingClientRect();
  const cells = [...document.querySelectorAll('td')];
  return {
    simulated: cells.filter(td => td.textContent.trim() === 'SIMULATED').map(td => r(td).right),
    metrics: [...document.querySelectorAll('dl.metrics dd')].slice(0, 12).map(d => r(d).right),
    figures: [...document.querySelectorAll('figure img')].map(
      i => i.naturalWidth ? i.getBoundingClientRect().width / i.naturalWidth : 0),
    diagrams: [...document.querySelectorAll('svg')].map(s => r(s).right),
    reg_borders: [...document.querySelectorAll('table.reg td')].slice(0, 40).map(
      td => getComputedStyle(td).borderLeftWidth + ' ' + getComputedStyle(td).backgroundColor),
    num_align: [...document.querySelectorAll('table.reg td.num')].slice(0, 20).map(
      td => getComputedStyle(td).textAlign),
  };
})()"""


def shots_dir(tmp_path: Path) -> Path:
    d = Path(os.environ.get("CORETECH_SCREENSHOTS") or tmp_path / "shots")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study output folder with every section filled (dictionary, lags, Tables 2-7 from the
    simulated panel, mechanism diagram), and its report."""
    from coretech.models import run_models
    from coretech.simulate.panel import simulate_panel

    out = tmp_path_factory.mktemp("layout") / "demo"
    study = load_study(write_demo_study(out))
    cat = read_table(catalogue_path())
    rows = [{"tech_id": t, "ipc_code": "H01L29/739", "kind": "subgroup", "score": 0.8,
             "rank": 1, "method": "tfidf", "evidence": "x", "decision": "auto"}
            for t in cat["tech_id"][:10]]
    write_table(pd.DataFrame(rows), out / "match" / "dictionary.csv")
    years = np.arange(2000, 2023)
    sic = pd.DataFrame([(c, y, 10 + (y - 2000), 0.9 if y > 2016 else 1.0) for c in
                        ("南京市", "兰州市") for y in years],
                       columns=["city", "year", "k_raw", "lag_share_cum"])
    sic["k_adj"] = sic["k_raw"] / sic["lag_share_cum"]
    sic["sicoughs"] = np.log1p(sic["k_adj"])
    write_table(sic, out / "breakthrough" / "sicoughs.csv")
    write_table(pd.DataFrame({"s": [1, 2, 3, 4], "n": [1, 10, 20, 9],
                              "share": [0.025, 0.25, 0.5, 0.225],
                              "cum_share": [0.025, 0.275, 0.775, 1.0]}),
                out / "breakthrough" / "lags.csv")
    panel = simulate_panel(n_cities=60, seed=3)
    run_models(panel, study={"permutations": 9, "pilot_column": "pilot"}, out=out / "models")
    page = out / "report" / "report.html"
    run_report(out, out=page, study=study, provenance=None)
    return page


@pytest.fixture(scope="module")
def audit_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from coretech.cli import main

    out = tmp_path_factory.mktemp("audit") / "audit.html"
    rc = main(["audit", str(FIX / "dictionary_small.csv"), "--gold", str(FIX / "gold_small.csv"),
               "--candidates", str(FIX / "candidates_small.csv"),
               "--ipc", str(FIX / "tiny_scheme.csv"), "--out", str(out)])
    assert rc == 0
    return out


@pytest.mark.parametrize("width", WIDTHS)
def test_report_fits_the_screen(report_page: Path, chromium, tmp_path: Path, width: int) -> None:
    res = chromium.render(report_page, width=width, evaluate=PROBE,
                          screenshot=shots_dir(tmp_path) / f"report_{width}.png")
    assert res.console_errors == []
    assert res.inner_width == width
    assert res.scroll_width <= res.inner_width, "the page pans horizontally"
    v = res.value
    # the inputs statement's SIMULATED cells are on screen, not in a scrolled-away column
    assert v["simulated"] and max(v["simulated"]) <= width
    assert v["metrics"] and max(v["metrics"]) <= width
    # the mechanism diagram scales to the column
    assert v["diagrams"] and max(v["diagrams"]) <= width
    # every figure is shown at >= 3/4 of its natural size: a 10-pt label stays >= 10 px
    assert v["figures"] and min(v["figures"]) >= 0.74, v["figures"]
    # regression tables: no cell borders, no shading, numbers right-aligned
    assert v["reg_borders"] and set(v["reg_borders"]) == {"0px rgba(0, 0, 0, 0)"}
    assert v["num_align"] and set(v["num_align"]) == {"right"}
    assert "simulated" in res.text.lower()
    json.dumps(res.console_messages)


@pytest.mark.parametrize("width", WIDTHS)
def test_audit_page_fits_the_screen(audit_page: Path, chromium, tmp_path: Path,
                                    width: int) -> None:
    res = chromium.render(audit_page, width=width, evaluate=PROBE,
                          screenshot=shots_dir(tmp_path) / f"audit_{width}.png")
    assert res.console_errors == []
    assert res.scroll_width <= res.inner_width, "the page pans horizontally"
    v = res.value
    assert v["metrics"] and max(v["metrics"]) <= width  # the headline numbers are on screen
    assert v["figures"] and min(v["figures"]) >= 0.74, v["figures"]  # labels stay readable
