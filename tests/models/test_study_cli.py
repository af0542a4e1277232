"""The [models] schema, run_models and the `coretech models` command, incl. bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coretech.cli import main
from coretech.errors import InputError
from coretech.io import write_table
from coretech.models.simulate import simulate_panel
from coretech.models.study import ModelsConfig, run_models
from coretech.models.suite import run_suite

FAST = {"permutations": 19}


def test_defaults_are_the_papers_names():
    c = ModelsConfig.from_mapping({})
    assert (c.y, c.d) == ("Nycives", "Cialomy")
    assert c.controls == ["Idetion", "Eoryity", "Mentel", "Fialevel", "Tinevel", "Fprises"]
    assert c.mediators == ["Sicoughs", "Actros", "Irading"]
    assert c.permutations == 999 and c.cluster_arg == "city"
    assert ModelsConfig.from_mapping({"cluster": "robust"}).cluster_arg is None
    assert ModelsConfig.from_mapping({"cluster": ["city", "year"]}).cluster_arg == ["city", "year"]


@pytest.mark.parametrize(("mapping", "key"), [
    ({"ys": "x"}, "ys"), ({"permutations": "many"}, "permutations"), ({"winsor": [0.5, 0.1]}, "winsor"),
    ({"formats": ["pdf"]}, "formats"), ({"mechanism_rule": "sobel"}, "mechanism_rule"),
    ({"controls": [1, 2]}, "controls"), ({"hausman": "yes"}, "hausman"), ({"tables": [8]}, "tables"),
])
def test_bad_options_name_the_key(mapping, key):
    with pytest.raises(InputError) as ei:
        ModelsConfig.from_mapping(mapping)
    assert ei.value.column == key


def _write(df, path):
    write_table(df, path)
    return path


def test_run_models_from_study_file(tmp_path):
    panel = _write(simulate_panel(seed=5), tmp_path / "panel.csv")
    pilots = tmp_path / "pilots.txt"
    pilots.write_text("# pilot cities\n南京\n苏州市\n武汉市\n", encoding="utf-8")
    study = tmp_path / "study.toml"
    study.write_text('[models]\npilot_cities = "pilots.txt"\npermutations = 19\nseed = 3\n', encoding="utf-8")
    rec = run_models(panel, study=study, out=tmp_path / "tables")
    out = tmp_path / "tables"
    for t in ("table2", "table3", "table4", "table5", "table6", "table7"):
        for f in ("csv", "tex", "docx", "xlsx", "html"):
            assert (out / f"{t}.{f}").stat().st_size > 0
    assert rec["counts"]["pilot_cities_excluded"] == 3
    meta = json.loads((out / "models.meta.json").read_text(encoding="utf-8"))
    assert meta["inputs"]["panel"]["sha256"] and meta["options"]["seed"] == 3
    est = json.loads((out / "estimates.json").read_text(encoding="utf-8"))
    assert est["table5"][2]["nobs"] == 2860 - 30
    assert est["table4"]["nobs"] == 2574
    t5 = pd.read_csv(out / "table5.csv", header=None)
    assert "2830" in t5.iloc[:, 3].astype(str).tolist()  # last column: pilots excluded
    # byte-identical rerun
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    run_models(panel, study=study, out=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_suite_values_match_direct_estimators(panel):
    from coretech.models.fe import twfe

    s = run_suite(panel, ModelsConfig.from_mapping({**FAST, "tables": [3, 7], "hausman": False}))
    r = twfe(panel, "Nycives", ["Cialomy", "Idetion", "Eoryity"])
    assert s.results["table3"][2].params["Cialomy"] == pytest.approx(r.params["Cialomy"], rel=1e-12)
    assert s.tables["table3"].cell("Cialomy", 3).startswith(f"{r.params['Cialomy']:.4f}")
    assert s.tables["table7"].cell("Channel holds", 2) == "Yes"


def test_chinese_labels_and_region_column(panel):
    cfg = ModelsConfig.from_mapping({**FAST, "tables": [2, 6], "language": "zh", "region": "region"})
    s = run_suite(panel, cfg)
    assert s.tables["table2"].body[0][:3] == ["被解释变量", "新质生产力发展", "Nycives"]
    assert s.tables["table6"].header[0][1:5] == ["东部", "中部", "西部", "东北"]


def test_cli_writes_all_tables(tmp_path):
    panel = _write(simulate_panel(n_cities=60, seed=2), tmp_path / "p.parquet")
    study = tmp_path / "s.toml"
    study.write_text('[models]\npermutations = 9\nformats = ["csv", "html"]\npilot_column = "pilot"\n', encoding="utf-8")
    assert main(["models", str(panel), "--study", str(study), "--out", str(tmp_path / "o")]) == 0
    assert sorted(p.name for p in (tmp_path / "o").glob("table*")) == sorted(
        f"table{i}.{f}" for i in range(2, 8) for f in ("csv", "html"))


def _bad(tmp_path, df, capsys, study_text="[models]\npermutations = 9\n"):
    panel = _write(df, tmp_path / "bad.csv")
    study = tmp_path / "s.toml"
    study.write_text(study_text, encoding="utf-8")
    code = main(["models", str(panel), "--study", str(study), "--out", str(tmp_path / "o")])
    return code, capsys.readouterr().err


def test_cli_missing_variable(tmp_path, capsys):
    code, err = _bad(tmp_path, simulate_panel(n_cities=30, seed=1).drop(columns=["Mentel"]), capsys)
    assert code == 2 and "column 'Mentel'" in err and "bad.csv" in err


def test_cli_non_numeric_cell(tmp_path, capsys):
    df = simulate_panel(n_cities=30, seed=1)
    df["Actros"] = df["Actros"].astype(object)
    df.loc[4, "Actros"] = "n/a?"
    code, err = _bad(tmp_path, df, capsys)
    assert code == 2 and "row 6" in err and "column 'Actros'" in err and "'n/a?'" in err


def test_cli_duplicate_city_years(tmp_path, capsys):
    df = simulate_panel(n_cities=30, seed=1)
    df = pd.concat([df, df.iloc[[12]]], ignore_index=True)
    code, err = _bad(tmp_path, df, capsys)
    assert code == 2 and "duplicate city-year" in err and f"rows 14, {len(df) + 1}" in err


def test_cli_lag_leaves_no_observations(tmp_path, capsys):
    df = simulate_panel(n_cities=30, years=[2013, 2014], seed=1)
    df = df[df.year == 2013].assign(year=lambda d: 2013 + (d.index % 2) * 2)  # years 2013 and 2015 only
    code, err = _bad(tmp_path, df, capsys, "[models]\npermutations = 9\ntables = [4]\n")
    assert code == 2 and "leaves no observations" in err and "Cialomy" in err


def test_cli_bad_study_key(tmp_path, capsys):
    code, err = _bad(tmp_path, simulate_panel(n_cities=30, seed=1), capsys, "[models]\nys = 1\n")
    assert code == 2 and "models.ys" in err and "s.toml" in err


def test_optional_tier_and_pca_columns(panel):
    df = panel.drop(columns=["tier", "Nycives_pca"])
    s = run_suite(df, ModelsConfig.from_mapping({**FAST, "tables": [5, 6], "tier": "", "pca_index": ""}))
    assert s.tables["table5"].width == 3  # winsorised, excluding pilots
    assert s.tables["table6"].header[0][1:] == ["east", "central", "west", "northeast"]
    assert set(s.results["table6"]["tests"]) == {"region_chow", "region_stacked", "region_wild"}
    with pytest.raises(InputError, match="tier column") as ei:
        run_suite(df, ModelsConfig.from_mapping({**FAST, "tables": [6]}))
    assert ei.value.column == "tier"
