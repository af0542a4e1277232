"""The study report: tables as files, statements of what is simulated, rendering in Chromium."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coretech.io import read_table, write_table
from coretech.pipeline.demo import catalogue_path, write_demo_study
from coretech.pipeline.figures import mechanism_svg
from coretech.pipeline.panel import assemble_panel
from coretech.pipeline.report import dictionary_summary, run_report
from coretech.pipeline.study import load_study

#: Set CORETECH_SCREENSHOTS=DIR to keep the screenshots (default: pytest's tmp folder).
SHOTS_ENV = "CORETECH_SCREENSHOTS"


def shots_dir(tmp_path: Path) -> Path:
    d = Path(os.environ.get(SHOTS_ENV) or tmp_path / "shots")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture()
def study_out(tmp_path: Path) -> tuple[Path, object]:
    """A study output folder with the files the stages write (small, in their real formats)."""
    out = tmp_path / "demo"
    study = load_study(write_demo_study(out))
    cat = read_table(catalogue_path())
    rows = []
    for i, t in enumerate(cat["tech_id"][:10]):
        for r, code in enumerate(["H01L29/739", "H01L", "D01F9/12"][: 1 + i % 3], 1):
            rows.append({"tech_id": t, "ipc_code": code, "kind": "subgroup", "score": 0.9 - r / 10,
                         "rank": r, "method": "tfidf", "evidence": "x", "decision": "auto"})
    write_table(pd.DataFrame(rows), out / "match" / "dictionary.csv")
    years = np.arange(2013, 2023)
    sic = pd.DataFrame([(c, y, 10 + (y - 2013), 0.9 if y > 2016 else 1.0) for c in
                        ("南京市", "兰州市") for y in years],
                       columns=["city", "year", "k_raw", "lag_share_cum"])
    sic["k_adj"] = sic["k_raw"] / sic["lag_share_cum"]
    sic["sicoughs"] = np.log1p(sic["k_adj"])
    write_table(sic, out / "breakthrough" / "sicoughs.csv")
    write_table(pd.DataFrame({"s": [1, 2, 3, 4], "n": [1, 10, 20, 9],
                              "share": [0.025, 0.25, 0.5, 0.225],
                              "cum_share": [0.025, 0.275, 0.775, 1.0]}),
                out / "breakthrough" / "lags.csv")
    return out, study


def test_report_files_and_statements(study_out: tuple[Path, object]) -> None:
    out, study = study_out
    rec = run_report(out, out=out / "report" / "report.html", study=study,
                     provenance={"order": ["match"], "stages": {"match": {
                         "status": "ok", "inputs": {"catalogue": {"path": "inputs/c.csv",
                                                                  "sha256": "ab" * 32}},
                         "options": {"lang": "en"}, "outputs": {}}},
                         "packages": {"coretech": "0.1.0"}})
    page = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert rec["simulated"] is True and rec["illustrative_catalogue"] is True
    assert "NOT the official 685-item catalogue" in page
    assert "SIMULATED" in page
    assert "Provenance appendix" in page and "abababababab" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    summ = read_table(out / "report" / "tables" / "dictionary_summary.csv", as_text=False)
    assert len(summ) == len(read_table(catalogue_path()))
    assert summ.set_index("tech_id").loc["ILL03", "n_codes"] == 3
    assert summ.set_index("tech_id").loc["ILL30", "n_codes"] == 0
    lag = read_table(out / "report" / "tables" / "lag_adjustment.csv", as_text=False)
    assert lag.loc[lag["year"] == 2020, "k_raw"].item() == 2 * 17
    assert lag.loc[lag["year"] == 2020, "k_adj"].item() == pytest.approx(2 * 17 / 0.9)
    stmt = read_table(out / "report" / "tables" / "inputs_statement.csv")
    assert set(stmt["nature"]) >= {"SIMULATED", "real (embedded)"}
    # byte-identical when written again
    first = (out / "report" / "report.html").read_bytes()
    run_report(out, out=out / "report" / "again.html", study=study, provenance=None)
    run_report(out, out=out / "report" / "again2.html", study=study, provenance=None)
    assert (out / "report/again.html").read_bytes() == (out / "report/again2.html").read_bytes()
    assert first != b""


def test_dictionary_summary_counts_only_accepted() -> None:
    d = pd.DataFrame({"tech_id": ["a", "a", "a", "b"], "ipc_code": ["X", "Y", "Z", "W"],
                      "score": [0.9, 0.8, 0.7, 0.5], "rank": [1, 2, 3, 1],
                      "decision": ["auto", "rejected", "added", "accepted"]})
    s = dictionary_summary(d, None).set_index("tech_id")
    assert s.loc["a", "n_codes"] == 2 and s.loc["a", "best_code"] == "X"
    assert s.loc["b", "best_score"] == 0.5


def test_mechanism_svg_states_each_path() -> None:
    svg = mechanism_svg(pd.DataFrame({"mediator": ["Sicoughs", "Actros"], "a": [0.45, 0.01],
                                      "a_se": [0.05, 0.2], "b": [0.3, 0.2], "b_se": [0.1, 0.1]}))
    assert svg.startswith("<svg") and svg.count("M: ") == 2
    assert "a = 0.4500*** (0.0500)" in svg
    assert "a = 0.0100 (0.2000)" in svg
    assert "b = 0.2000** (0.1000)" in svg


def test_assemble_panel_merges_measured_sicoughs(tmp_path: Path) -> None:
    panel = pd.DataFrame({"city": ["A", "A", "B", "B"], "year": [2020, 2021, 2020, 2021],
                          "Sicoughs": [1.0, 2.0, 3.0, 4.0], "Y": [1, 2, 3, 4]})
    write_table(panel, tmp_path / "p.csv")
    sic = pd.DataFrame({"city": ["A", "A", "B"], "year": [2020, 2021, 2020],
                        "sicoughs": [1.1, 2.2, 2.9]})
    write_table(sic, tmp_path / "s.csv")
    rec = assemble_panel(tmp_path / "p.csv", out=tmp_path / "o.csv", sicoughs=tmp_path / "s.csv")
    o = read_table(tmp_path / "o.csv", as_text=False)
    assert list(o["Sicoughs"]) == [1.0, 2.0, 3.0, 4.0]
    assert o["Sicoughs_measured"].tolist()[:3] == [1.1, 2.2, 2.9]
    assert np.isnan(o["Sicoughs_measured"].iloc[3])
    assert rec["counts"]["sicoughs_unmatched_city_years"] == 1
    assemble_panel(tmp_path / "p.csv", out=tmp_path / "r.csv", sicoughs=tmp_path / "s.csv",
                   merge_sicoughs="replace")
    r = read_table(tmp_path / "r.csv", as_text=False)
    assert "Sicoughs_measured" not in r.columns and r["Sicoughs"].iloc[1] == 2.2
    # a panel without Sicoughs gets the measured one under the paper's name
    write_table(panel.drop(columns=["Sicoughs"]), tmp_path / "p0.csv")
    rec0 = assemble_panel(tmp_path / "p0.csv", out=tmp_path / "o0.csv", sicoughs=tmp_path / "s.csv")
    o0 = read_table(tmp_path / "o0.csv", as_text=False)
    assert rec0["counts"]["sicoughs_column"] == "Sicoughs"
    assert o0["Sicoughs"].tolist()[:3] == [1.1, 2.2, 2.9]
    sic["lag_share_cum"] = [1.0, 0.1, 1.0]
    write_table(sic, tmp_path / "s2.csv")
    rec = assemble_panel(tmp_path / "p.csv", out=tmp_path / "m.csv", sicoughs=tmp_path / "s2.csv",
                         min_lag_share=0.25)
    m = read_table(tmp_path / "m.csv", as_text=False)
    assert np.isnan(m["Sicoughs_measured"].iloc[1]) and m["Sicoughs_measured"].iloc[0] == 1.1
    assert rec["counts"]["years_below_min_lag_share"] == [2021]
    with pytest.raises(Exception, match="min_lag_share must be between 0 and 1"):
        assemble_panel(tmp_path / "p.csv", out=tmp_path / "m.csv", min_lag_share=2)
    write_table(pd.concat([panel, panel.head(1)]), tmp_path / "dup.csv")
    with pytest.raises(Exception, match="duplicate city-year A 2020") as ei:
        assemble_panel(tmp_path / "dup.csv", out=tmp_path / "x.csv")
    assert "row 6" in str(ei.value)


def test_report_renders_in_chromium(study_out: tuple[Path, object], chromium,
                                    tmp_path: Path) -> None:
    out, study = study_out
    page = out / "report" / "report.html"
    run_report(out, out=page, study=study, provenance=None)
    res = chromium.render(page, screenshot=shots_dir(tmp_path) / "report_unit.png")
    assert res.console_errors == []
    assert res.external_requests == []
    assert "NOT the official 685-item catalogue" in res.text
    assert "高速精密轴承" in res.text
    assert res.screenshot is not None and res.screenshot.stat().st_size > 10_000
    json.dumps(res.console_messages)


def _res(params: dict, ses: dict, n: int = 100) -> dict:
    return {"params": params, "std_errors": ses, "nobs": n}


def test_estimates_to_plots_and_truth() -> None:
    from coretech.pipeline.report import heterogeneity_estimates, mechanism_paths, truth_comparison

    est = {
        "table3": [_res({"D": 0.5}, {"D": 0.1}), _res({"D": 0.9}, {"D": 0.05})],
        "table4": _res({"D": 1.1}, {"D": 0.2}),
        "table6": {"regions": {"west": _res({"D": 0.3}, {"D": 0.1}),
                               "east": _res({"D": 0.7}, {"D": 0.1}, 50)},
                   "tiers": {"other": _res({"D": 0.2}, {"D": 0.1})}},
        "table7": [{"mediator": "M1", "holds": True,
                    "m_on_d": _res({"D": 0.4, "_cons": 1}, {"D": 0.02}),
                    "y_on_m": _res({"M1": 0.8}, {"M1": 0.3})}],
    }
    het = heterogeneity_estimates(est, "D")
    assert het["group"].tolist() == ["region: east", "region: west", "tier: other"]
    assert het["coef"].tolist() == [0.7, 0.3, 0.2] and het["n"].tolist() == [50, 100, 100]
    paths = mechanism_paths(est, "D")
    assert paths.iloc[0][["a", "a_se", "b", "b_se"]].tolist() == [0.4, 0.02, 0.8, 0.3]
    assert bool(paths.iloc[0]["holds"]) is True
    truth = {"Cialomy_on_Nycives_total": 1.0, "Cialomy_on_mediator": {"M1": 0.45}}
    tc = truth_comparison(est, truth, "D")
    assert tc["estimate"].tolist() == [0.9, 1.1, 0.4]  # last Table 3 column, Table 4, path a
    assert tc["true value"].tolist() == [1.0, 1.0, 0.45]


def test_report_notes_come_as_data_not_from_the_demo(tmp_path: Path) -> None:
    """The report shows the notes it is given (or the study file's [report] notes) and imports
    no demo constant: a study without notes shows none, a bad value is an error."""
    from coretech.errors import InputError

    p = tmp_path / "study.toml"
    p.write_text('[report]\nnotes = ["Patents of 2023 are provisional."]\n', encoding="utf-8")
    study = load_study(p)
    run_report(tmp_path, out=tmp_path / "a.html", study=study)
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert page.count("Patents of 2023 are provisional.") == 2  # the note and the study file
    assert "NOT the official 685-item catalogue" not in page
    run_report(tmp_path, out=tmp_path / "b.html", study=study, notes=["given here"])
    page = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert "given here" in page and page.count("provisional") == 1  # the study file only
    with pytest.raises(InputError, match="notes must be a list of strings"):
        run_report(tmp_path, out=tmp_path / "c.html", study=study, notes="one string")
