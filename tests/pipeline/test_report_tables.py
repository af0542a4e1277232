"""Regression tables fit for a paper (issue 16, items 1-3): one renderer for the report and the
models' standalone pages, notes under every table, labels, fit statistics, pilot cities, and
"simulated" said in every exported format."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from coretech.htmlreport import regression_table_html
from coretech.models.export import to_csv, to_html
from coretech.models.tables import Table
from coretech.pipeline.report import read_table_csv, run_report

LABELS = {"Nycives": "New quality productive forces", "Cialomy": "Digital agglomeration",
          "Sicoughs": "S&T breakthrough (panel)", "Actros": "Factor allocation"}


def _table() -> Table:
    return Table("table9", "Table 9. Test", [["", "Y", "Y"], ["", "(1)", "(2)"]],
                 [["D", "0.9655**", "-1.2000"], ["", "(0.0240)", "(0.3000)"],
                  ["City FE", "Yes", "Yes"], ["N", "2860", "2574"]],
                 ["Standard errors clustered by city.", "*** p<0.01, ** p<0.05, * p<0.1."])


def test_csv_carries_the_notes_and_reads_back(tmp_path: Path) -> None:
    t = _table()
    text = to_csv(t)
    # the grid, a blank row, one note per row (as in the Excel sheet)
    assert text.splitlines()[len(t.grid())] == ""
    assert text.splitlines()[-1] == '"*** p<0.01, ** p<0.05, * p<0.1."'
    p = tmp_path / "t.csv"
    p.write_text(text, encoding="utf-8")
    header, body, notes = read_table_csv(p)
    assert header == t.header and body == t.body and notes == t.notes


def test_one_renderer_for_report_and_standalone_page() -> None:
    t = _table()
    frag = regression_table_html(t.header, t.body, t.notes)
    page = to_html(t)
    assert frag.replace("<table class=\"reg\">", "") in page.replace(
        f"<table class=\"reg\"><caption>{t.title}</caption>", "")
    # numbers aligned on their last digit: stars and the closing parenthesis hang right
    assert '<td class="num">0.9655<span class="sfx">**</span></td>' in frag
    assert '<td class="num">(0.0240<span class="sfx">)</span></td>' in frag
    assert '<td class="num">-1.2000<span class="sfx"></span></td>' in frag
    assert '<tr class="se">' in frag
    assert '<div class="tnotes"><p>Standard errors clustered by city.</p>' in frag
    # three rules, no boxes, no zebra shading in the table CSS
    from coretech.htmlreport import REG_CSS

    assert "border:0;background:none" in REG_CSS and "nth-child" not in REG_CSS


@pytest.fixture(scope="module")
def models_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tables 2-7 from a small simulated panel, with labels and the simulated flag set as the
    pipeline sets them for ``[inputs] panel = "simulate"``."""
    from coretech.models import run_models
    from coretech.simulate.panel import simulate_panel

    out = tmp_path_factory.mktemp("models")
    panel = simulate_panel(n_cities=40, seed=5)
    run_models(panel, study={"permutations": 9, "pilot_column": "pilot", "labels": LABELS,
                             "simulated": True}, out=out)
    return out


def test_every_exported_table_says_the_data_are_simulated(models_out: Path) -> None:
    from docx import Document
    from openpyxl import load_workbook

    word = "simulated"
    for n in range(2, 8):
        stem = models_out / f"table{n}"
        for ext in ("csv", "tex", "html"):
            assert word in (stem.with_suffix(f".{ext}")).read_text(encoding="utf-8").lower(), \
                f"{stem.name}.{ext}"
        doc = Document(str(stem.with_suffix(".docx")))
        assert any(word in p.text.lower() for p in doc.paragraphs), f"{stem.name}.docx"
        ws = load_workbook(stem.with_suffix(".xlsx")).active
        cells = [str(c.value).lower() for row in ws.iter_rows() for c in row if c.value]
        assert any(word in c for c in cells), f"{stem.name}.xlsx"
        _, _, notes = read_table_csv(stem.with_suffix(".csv"))
        assert any("SIMULATED" in x for x in notes)


def test_real_panel_tables_do_not_say_simulated(tmp_path: Path) -> None:
    from coretech.models import run_models
    from coretech.simulate.panel import simulate_panel

    panel = simulate_panel(n_cities=30, seed=1)
    assert panel.attrs.get("simulated")  # a simulated frame says so by itself ...
    run_models(panel, study={"permutations": 9, "tables": [3]}, out=tmp_path / "a")
    assert "SIMULATED" in (tmp_path / "a" / "table3.csv").read_text(encoding="utf-8")
    panel.attrs = {}  # ... a user's panel (read from a file) does not
    run_models(panel, study={"permutations": 9, "tables": [3]}, out=tmp_path / "b")
    assert "simulated" not in (tmp_path / "b" / "table3.csv").read_text(encoding="utf-8").lower()


def test_labels_fit_statistics_and_notes(models_out: Path) -> None:
    _, body3, notes3 = read_table_csv(models_out / "table3.csv")
    rows = {r[0]: r[1:] for r in body3 if r[0]}
    assert "Digital agglomeration" in rows and "Cialomy" not in rows  # labels, not raw names
    assert "Within R²" in rows and "R²" not in rows  # which R² it is
    assert rows["Clusters (city)"] == ["40"] * 7
    mean_row = next(k for k in rows if k.startswith("Mean of"))
    assert float(rows[mean_row][0]) > 0
    assert any("clustered by city" in n for n in notes3)
    assert any(n.startswith("Hausman") for n in notes3)
    header3, _, _ = read_table_csv(models_out / "table3.csv")
    assert "New quality productive forces" in header3[0]


def test_table4_names_its_f_and_shows_the_first_stage(models_out: Path) -> None:
    _, body, notes = read_table_csv(models_out / "table4.csv")
    labels = [r[0] for r in body]
    assert "F [p]" not in labels
    assert any(lab.startswith("Wald F of the second stage") for lab in labels)
    first = [lab for lab in labels if lab.lower().startswith("first stage")]
    assert any("coefficient of L.Cialomy" in lab for lab in first), labels
    i = labels.index(next(lab for lab in first if "coefficient" in lab))
    assert re.fullmatch(r"-?\d\.\d{4}\**", body[i][1]) and body[i + 1][1].startswith("(")
    assert any("first stage" in n.lower() for n in notes)


def test_table5_drops_the_pilot_cities_and_says_how_many(models_out: Path) -> None:
    import json

    from coretech.simulate.panel import simulate_panel

    panel = simulate_panel(n_cities=40, seed=5)
    pilots = panel.loc[panel["pilot"] != 0, "city"].nunique()
    assert pilots > 0
    header, body, notes = read_table_csv(models_out / "table5.csv")
    assert any(f"excluding {pilots} pilot cities" in c.lower() for c in header[0])
    n_row = next(r for r in body if r[0] == "N")
    assert int(n_row[-1]) == len(panel) - len(panel.loc[panel["pilot"] != 0])
    assert any(f"{pilots} of 40 cities" in n for n in notes)
    est = json.loads((models_out / "estimates.json").read_text(encoding="utf-8"))
    assert est["table5"][-1]["nobs"] == int(n_row[-1])


def test_report_renders_the_models_tables_with_their_notes(models_out: Path,
                                                           tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "study"
    shutil.copytree(models_out, root / "models")
    run_report(root, out=root / "report" / "report.html", study=None)
    page = (root / "report" / "report.html").read_text(encoding="utf-8")
    assert page.count('<table class="reg">') == 6
    assert page.count('<div class="tnotes">') == 6
    for n in range(2, 8):  # the table's own title, from its standalone page
        title = re.search(r"<title>(.*?)</title>",
                          (models_out / f"table{n}.html").read_text(encoding="utf-8")).group(1)
        assert f"<h3>{title}</h3>" in page
    assert "Digital agglomeration" in page
    # the mechanism figure numbers the equations as METHODS.md and the Table 7 note do
    _, _, notes7 = read_table_csv(models_out / "table7.csv")
    assert any("eq. (3)" in n and "M on D" in n for n in notes7)
    cap = re.search(r"<svg.*?</svg><figcaption>(.*?)</figcaption>", page, re.S).group(1)
    assert "a = coefficient of D in M on D (eq. 3)" in cap
    assert "b = coefficient of M in Y on M and D (eq. 2 with D added)" in cap  # the default rule
    assert "(eq. 2), b" not in cap


def test_both_sicoughs_are_labelled(tmp_path: Path) -> None:
    """The demo's Table 2 Sicoughs (the panel's, simulated) and the breakthrough section's
    (measured) are different variables: the report names both with their means."""
    import json

    import numpy as np

    from coretech.io import write_table
    from coretech.pipeline.demo import write_demo_study
    from coretech.pipeline.study import load_study

    study = load_study(write_demo_study(tmp_path))
    sic = pd.DataFrame({"city": ["a"] * 3, "year": [2020, 2021, 2022], "k_raw": [1, 2, 3],
                        "k_adj": [1.0, 2.0, 3.0], "lag_share_cum": [1.0, 1.0, 1.0]})
    sic["sicoughs"] = np.log1p(sic["k_adj"])
    write_table(sic, tmp_path / "breakthrough" / "sicoughs.csv")
    write_table(pd.DataFrame({"city": ["a"] * 3, "year": [2020, 2021, 2022],
                              "Sicoughs": [5.0, 6.0, 7.0]}), tmp_path / "panel" / "panel.csv")
    (tmp_path / ".coretech").mkdir()
    (tmp_path / ".coretech" / "panel.json").write_text(json.dumps({"record": {"counts": {
        "sicoughs_column": "Sicoughs_measured", "corr_measured_vs_panel": 0.5,
        "sicoughs_matched_city_years": 3}}}), encoding="utf-8")
    run_report(tmp_path, out=tmp_path / "r.html", study=study)
    text = re.sub(r"<[^>]+>", " ", (tmp_path / "r.html").read_text(encoding="utf-8"))
    assert "mean of the measured Sicoughs (sicoughs.csv; Sicoughs_measured" in text
    assert "(mean 6.000)" in text and "SIMULATED with the panel" in text


def test_study_labels_reach_the_models_stage(tmp_path: Path) -> None:
    """[labels] in the study file: validated, passed to the models stage with the simulated
    flag when the panel is simulated; a label that is not a string names its row."""
    from coretech.errors import InputError
    from coretech.pipeline.plan import Context
    from coretech.pipeline.stages import plan_models
    from coretech.pipeline.study import load_study

    p = tmp_path / "study.toml"
    p.write_text('[inputs]\npanel = "simulate"\n\n[labels]\nNycives = "NQPF"\n', encoding="utf-8")
    study = load_study(p)
    assert study.labels == {"Nycives": "NQPF"}
    from coretech.models.config import load_study as models_config

    cfg, _ = models_config(p)  # `coretech models --study study.toml` reads them too
    assert cfg.labels == {"Nycives": "NQPF"} and cfg.simulated is True
    p.write_text('[inputs]\npanel = "simulate"\n\n[labels]\nNycives = 3\n', encoding="utf-8")
    with pytest.raises(InputError) as ei:
        load_study(p)
    assert "labels.Nycives" in str(ei.value) and "row 5" in str(ei.value)
    p.write_text('[inputs]\npanel = "simulate"\n\n[models]\nlabels = {Cialomy = "D"}\n\n'
                 '[labels]\nNycives = "NQPF"\nCialomy = "DE"\n', encoding="utf-8")
    study = load_study(p)
    (tmp_path / "out" / "panel").mkdir(parents=True)
    (tmp_path / "out" / "panel" / "panel.csv").write_text("city,year\n", encoding="utf-8")
    ctx = Context(study=study, out=tmp_path / "out",
                  outputs={"panel": {"panel": tmp_path / "out" / "panel" / "panel.csv"}})
    plan = plan_models(ctx)
    # the options are part of the stage's key: a changed label re-runs the models
    assert plan.options["labels"] == {"Nycives": "NQPF", "Cialomy": "D"}  # [models] wins
    assert plan.options["simulated"] is True
