"""Demo inputs: the illustrative catalogue and the simulated patents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.io import read_table
from coretech.ipc import normalize
from coretech.pipeline.demo import catalogue_path
from coretech.simulate.patents import (
    DEMO_LAG_SHARES,
    codes_within,
    scheme_symbols,
    simulate_patents,
)

FIELDS = {"新一代信息技术", "高档数控机床和机器人", "航空航天装备", "海洋工程装备及高技术船舶",
          "先进轨道交通装备", "节能与新能源汽车", "电力装备", "农业装备", "新材料",
          "生物医药及高性能医疗器械", "其他"}
CATEGORIES = {"核心基础零部件（元器件）", "关键基础材料", "先进基础工艺", "产业技术基础"}


def test_illustrative_catalogue_is_valid_and_says_so() -> None:
    cat = read_table(catalogue_path())
    assert 35 <= len(cat) <= 50
    assert cat["tech_id"].is_unique
    assert (cat["name_zh"] != "").all() and (cat["name_en"] != "").all()
    assert set(cat["field"]) <= FIELDS and set(cat["category"]) <= CATEGORIES
    assert cat["note"].str.contains("not the official 685-item catalogue").all()
    names = set(cat["name_zh"])
    assert {"高速精密轴承", "IGBT芯片", "高性能碳纤维", "光刻胶", "溅射靶材", "锂离子电池隔膜",
            "MEMS传感器", "工业机器人减速器"} <= names
    readme = catalogue_path().with_name("demo_catalogue_illustrative.README.md").read_text()
    assert "NOT the official 685-item catalogue" in readme


@pytest.fixture(scope="module")
def symbols() -> list[str]:
    from coretech.ipc.scheme import default_source_path

    codes = []
    with open(default_source_path(), encoding="utf-8") as fh:
        for line in fh:
            c = line.split("\t", 1)[0]
            if len(c) == 14:
                codes.append(c)
    return sorted({normalize(c) for c in codes[::7]})  # every 7th: enough and fast


def test_codes_within_follows_the_hierarchy_by_prefix() -> None:
    sym = scheme_symbols(["H01L29/00", "H01L29/739", "H01L21/02", "H01M2/16", "H01L", "G06N3/02"])
    assert list(sym) == ["G06N3/02", "H01L21/02", "H01L29/00", "H01L29/739", "H01M2/16"]
    assert list(codes_within(sym, ["H01L29/00"])) == ["H01L29/00", "H01L29/739"]
    assert list(codes_within(sym, ["H01L"])) == ["H01L21/02", "H01L29/00", "H01L29/739"]
    assert list(codes_within(sym, ["H01M2/16", "G06N"])) == ["G06N3/02", "H01M2/16"]
    assert list(codes_within(sym, ["H01L29/73"])) == []  # a subgroup covers itself only


def test_simulated_patents_are_realistic_and_deterministic(symbols: list[str]) -> None:
    dictionary = ["H01L29/00", "D01F9/12", "G03F7/004", "H01M50"]
    cities = ["南京市", "苏州市", "合肥市", "兰州市"]
    df = simulate_patents(symbols, dictionary, cities, seed=7, n_patents=20_000,
                          city_weights={"南京市": 4, "苏州市": 3, "合肥市": 2, "兰州市": 1})
    again = simulate_patents(symbols, dictionary, cities, seed=7, n_patents=20_000,
                             city_weights={"南京市": 4, "苏州市": 3, "合肥市": 2, "兰州市": 1})
    pd.testing.assert_frame_equal(df, again)
    other = simulate_patents(symbols, dictionary, cities, seed=8, n_patents=20_000)
    assert not df["ipc"].equals(other["ipc"])

    assert list(df.columns) == ["patent_id", "app_date", "grant_date", "ipc", "main_ipc",
                                "city", "patent_type"]
    assert df["patent_id"].is_unique
    # every symbol is a real scheme code
    all_sym = set(symbols)
    used = {s for cell in df["ipc"] for s in cell.split(";")}
    assert used <= all_sym
    assert (df["ipc"].str.split(";").str[0] == df["main_ipc"]).all()
    # about core_share of the main symbols lie inside the dictionary's codes
    core = set(codes_within(np.array(sorted(all_sym), dtype=object), dictionary))
    share = df["main_ipc"].isin(core).mean()
    assert 0.32 < share < 0.38
    # cities follow the weights
    freq = df["city"].value_counts(normalize=True)
    assert freq["南京市"] == pytest.approx(0.4, abs=0.02)
    # grants after the last year are not seen; no grant before its application
    app = pd.to_datetime(df["app_date"])
    g = df["grant_date"] != ""
    grant = pd.to_datetime(df.loc[g, "grant_date"])
    assert (grant >= app[g]).all()
    assert grant.dt.year.max() <= 2022
    # lags of the early cohorts (all grants seen) follow DEMO_LAG_SHARES: s = 2..6 mostly
    early = g & (app.dt.year <= 2010)
    s = grant[early[g]].dt.year - app[early].dt.year
    share_s = s.value_counts(normalize=True)
    for lag in (2, 3, 4, 5):
        assert share_s.get(lag, 0) == pytest.approx(DEMO_LAG_SHARES[lag], abs=0.03)
    assert ((s >= 2) & (s <= 6)).mean() > 0.85
    # the grant rate among early cohorts is about 0.6; recent cohorts are truncated
    assert g[app.dt.year <= 2010].mean() == pytest.approx(0.6, abs=0.03)
    assert g[app.dt.year == 2022].mean() < 0.05


def test_bad_simulation_arguments(symbols: list[str]) -> None:
    with pytest.raises(InputError, match="no scheme symbol lies inside"):
        simulate_patents(symbols, ["Z99Z"], ["a"])
    with pytest.raises(InputError, match="n_patents"):
        simulate_patents(symbols, ["H01L"], ["a"], n_patents=0)
    with pytest.raises(InputError, match="no cities"):
        simulate_patents(symbols, ["H01L"], [])


def test_cell_weights_drive_city_year_volumes(symbols: list[str]) -> None:
    cw = pd.DataFrame({"city": ["A", "A", "B", "B"], "year": [2021, 2022, 2021, 2022],
                       "weight": [100.0, 300.0, 100.0, 0.0]})
    df = simulate_patents(symbols, ["H01L"], ["A", "B"], seed=1, n_patents=20_000,
                          first_year=2019, last_year=2022, cell_weights=cw, growth=0.0)
    y = df["app_date"].str[:4].astype(int)
    n = pd.crosstab(df["city"], y)
    # 2022: all of B's weight is zero
    assert n.loc["B", 2022] == 0
    # A 2022 has three times A 2021's weight
    assert n.loc["A", 2022] / n.loc["A", 2021] == pytest.approx(3.0, rel=0.1)
    # years outside the weights get the city's mean weight (A: 200, B: 50)
    assert n.loc["A", 2019] / n.loc["B", 2019] == pytest.approx(4.0, rel=0.15)


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`coretech demo` run twice, into two folders."""
    from coretech.cli import main

    root = tmp_path_factory.mktemp("demo")
    a, b = root / "a", root / "b"
    assert main(["demo", "--out", str(a), "--quiet"]) == 0
    assert main(["demo", "--out", str(b), "--quiet"]) == 0
    return a, b


@pytest.mark.slow
def test_demo_twice_gives_byte_identical_outputs(demo_runs: tuple[Path, Path]) -> None:
    """Two demo runs into two folders: every file equal except timings.json; a rerun skips."""
    from coretech.cli import main

    a, b = demo_runs
    fa, fb = _files(a), _files(b)
    assert set(fa) == set(fb)
    assert "timings.json" in fa and "report/report.html" in fa and "provenance.json" in fa
    differ = sorted(k for k in fa if fa[k] != fb[k])
    assert differ == ["timings.json"]
    # no machine path leaks into any output
    for name, data in fa.items():
        assert str(a.parent).encode() not in data, name
    timings = json.loads(fa["timings.json"])
    ran = {k for k, v in timings["stages"].items() if v["status"] == "ran"}
    assert {"ipc", "simulate_panel", "indicators", "panel", "report"} <= ran
    prov = json.loads(fa["provenance.json"])
    for name, entry in prov["stages"].items():
        assert entry["status"] in ("ok", "not available yet", "not run"), (name, entry)
    page = fa["report/report.html"].decode()
    assert "NOT the official 685-item catalogue" in page and "SIMULATED" in page

    assert main(["demo", "--out", str(a), "--quiet"]) == 0
    again = json.loads((a / "timings.json").read_text())
    assert all(v["status"] != "ran" for v in again["stages"].values())
    assert (a / "provenance.json").read_bytes() == fa["provenance.json"]


@pytest.mark.slow
def test_demo_runs_every_stage_and_recovers_the_simulated_truth(
        demo_runs: tuple[Path, Path]) -> None:
    a, _ = demo_runs
    prov = json.loads((a / "provenance.json").read_text())
    status = {k: v["status"] for k, v in prov["stages"].items()}
    assert status == {"ipc": "ok", "match": "ok", "audit": "not run", "simulate_panel": "ok",
                      "simulate_patents": "ok", "breakthrough": "ok", "indicators": "ok",
                      "panel": "ok", "models": "ok", "report": "ok"}
    dic = read_table(a / "match" / "dictionary.csv")
    assert dic["tech_id"].nunique() >= 40
    # the simulated patents use real scheme codes, a share inside the dictionary
    pat = read_table(a / "simulate" / "patents_simulated.csv")
    assert len(pat) == 40_000
    sic = read_table(a / "breakthrough" / "sicoughs.csv", as_text=False)
    assert sic["city"].nunique() == 286
    panel = read_table(a / "panel" / "panel.csv", as_text=False)
    assert len(panel) == 2860 and {"Sicoughs_measured", "Cialomy_lq", "Nycives_w"} <= set(panel)
    # the measured Sicoughs follows the simulated one (city-year volumes drawn from it)
    ok = panel[["Sicoughs", "Sicoughs_measured"]].dropna()
    assert ok.corr().iloc[0, 1] > 0.3
    tc = read_table(a / "report" / "tables" / "simulated_truth_vs_estimates.csv", as_text=False)
    for row in tc.itertuples(index=False):
        assert abs(row.estimate - row[1]) < 4 * row.se, row
    for t in range(2, 8):
        assert (a / "models" / f"table{t}.csv").is_file()


@pytest.mark.slow
def test_demo_report_renders_in_chromium(demo_runs: tuple[Path, Path], chromium,
                                         tmp_path: Path) -> None:
    import os

    a, _ = demo_runs
    shots = Path(os.environ.get("CORETECH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    res = chromium.render(a / "report" / "report.html", screenshot=shots / "demo_report.png")
    assert res.console_errors == []
    assert res.external_requests == []
    for needle in ("NOT the official 685-item catalogue", "SIMULATED", "Table 7",
                   "Provenance appendix", "高速精密轴承", "Heterogeneity"):
        assert needle in res.text, needle
    assert res.screenshot is not None and res.screenshot.stat().st_size > 50_000
