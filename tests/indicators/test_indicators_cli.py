"""`coretech indicators` on panel files (CSV, GBK CSV, .dta): values, provenance, bad panels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coretech.cli import main
from coretech.indicators import (
    entropy_index,
    interpolate_panel,
    load_spec,
    location_quotient,
    run_indicators,
    structure_upgrading,
)
from coretech.io import read_table

EXAMPLE = Path(__file__).resolve().parents[2] / "coretech" / "data" / "indicators_example.toml"


def make_panel(cities: int = 8, years: int = 5, seed: int = 11) -> pd.DataFrame:
    """A small panel with every column the example spec reads."""
    rng = np.random.default_rng(seed)
    n = cities * years
    df = pd.DataFrame({"city": np.repeat([f"城市{i}" for i in range(cities)], years),
                       "year": np.tile(np.arange(2013, 2013 + years), cities)})
    df["E_all"] = rng.uniform(50, 500, n)
    df["E_dig"] = df["E_all"] * rng.uniform(0.01, 0.08, n)
    for col in load_spec()["column"]:
        df[col] = rng.lognormal(2, 0.5, n)
    df["E"] = rng.uniform(30, 300, n)
    df["M"] = np.exp(0.5 + 0.6 * np.log(df["E"]) + rng.normal(0, 0.05, n)) * 40
    df["I"] = rng.uniform(100, 400, n)
    df["P"] = np.tile(np.linspace(1.0, 1.12, years), cities)
    df["w"] = rng.uniform(5, 9, n)
    df["r"] = np.tile(np.linspace(0.0435, 0.0485, years), cities)
    for k in (1, 2, 3):
        df[f"M{k}"] = rng.uniform(10, 100, n)
        df[f"E{k}"] = rng.uniform(5, 50, n)
    df["fdi_used"] = rng.uniform(1, 50, n)
    df["fintech_firms"] = rng.integers(0, 5, n).astype(float)
    return df


@pytest.fixture()
def panel_csv(tmp_path: Path) -> Path:
    df = make_panel()
    df.loc[[2, 13], "E_dig"] = np.nan        # interior gaps: filled by interpolation
    df.loc[7, "edu_years"] = np.nan
    p = tmp_path / "panel.csv"
    df.to_csv(p, index=False)
    return p


def test_cli_on_csv_values_and_provenance(panel_csv: Path, tmp_path: Path, capsys):
    out = tmp_path / "ind.csv"
    assert main(["indicators", str(panel_csv), "--spec", str(EXAMPLE), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Nycives pillar weight 要素结构" in printed and "interpolated" in printed
    res = read_table(out, as_text=False)
    for col in ("Cialomy", "Nycives", "Nycives_pca", "Actros", "Actros_C", "Actros_tau_E",
                "Irading", "Irading_TL", "Idetion", "Fialevel", "E_dig_filled"):
        assert col in res.columns, col
    assert res["E_dig_filled"].sum() == 2
    # the same numbers as the library on the interpolated panel
    raw = pd.read_csv(panel_csv)
    spec = load_spec()
    filled = interpolate_panel(raw, ["E_dig", "E_all", *spec["column"]])
    assert res["Cialomy"].tolist() == pytest.approx(location_quotient(filled).tolist())
    ny = entropy_index(filled[list(spec["column"])], dict(zip(spec["column"], spec["direction"],
                                                                strict=True)))
    assert res["Nycives"].tolist() == pytest.approx(ny.tolist())
    assert res["Irading"].tolist() == pytest.approx(structure_upgrading(raw)["Irading"].tolist())
    assert res["Idetion"].tolist() == pytest.approx(np.log(raw["fdi_used"]).tolist())
    assert res["Fialevel"].tolist() == pytest.approx(np.log1p(raw["fintech_firms"]).tolist())
    assert res["Actros"].tolist() == pytest.approx((-res["Actros_tau"]).tolist())
    meta = json.loads(out.with_name("ind.meta.json").read_text(encoding="utf-8"))
    assert meta["inputs"]["panel"]["sha256"] and meta["inputs"]["spec"]["sha256"]
    assert meta["options"]["nycives"]["shift"] == 1e-4
    assert meta["options"]["actros"]["transform"] == "negate"
    assert meta["options"]["irading"]["theil_sign"] == -1
    ws = [i["weight"] for i in meta["results"]["nycives"]["indicators"]]
    assert len(ws) == 41 and sum(ws) == pytest.approx(1.0)
    pill = meta["results"]["nycives"]["pillars"]["level1"]
    assert sum(pill.values()) == pytest.approx(1.0) and set(pill) == {"要素结构", "价值跃迁"}
    assert meta["counts"]["interpolated"]["E_dig"] == 2
    assert meta["counts"]["interpolated"]["edu_years"] == 1
    assert set(meta["results"]["actros"]["model"]["params"]) == {f"phi{k}" for k in range(6)}
    # byte-identical rerun
    out2 = tmp_path / "again" / "ind.csv"
    run_indicators(panel_csv, spec=EXAMPLE, out=out2)
    assert out.read_bytes() == out2.read_bytes()
    m1 = json.loads(out.with_name("ind.meta.json").read_text())
    m2 = json.loads(out2.with_name("ind.meta.json").read_text())
    m1["outputs"].pop("table"), m2["outputs"].pop("table")
    assert m1 == m2


def test_dta_and_gbk_panels(tmp_path: Path):
    df = make_panel(cities=6, years=4, seed=2)
    dta = tmp_path / "panel.dta"
    df.to_stata(dta, write_index=False, version=118)
    gbk = tmp_path / "panel_gbk.csv"
    gbk.write_bytes(df.to_csv(index=False).encode("gb18030"))
    spec = tmp_path / "s.toml"
    spec.write_text('[lq]\n[irading]\nadvanced = "secondary/tertiary"\n[winsorize]\n'
                    'columns = ["Cialomy"]\nlower = 0.1\nupper = 0.9\nsuffix = "_w"\n',
                    encoding="utf-8")
    r1 = run_indicators(dta, spec=spec, out=tmp_path / "a.dta")
    r2 = run_indicators(gbk, spec=spec, out=tmp_path / "b.csv")
    a = pd.read_stata(tmp_path / "a.dta")
    b = pd.read_csv(tmp_path / "b.csv")
    assert a["Cialomy"].tolist() == pytest.approx(b["Cialomy"].tolist())
    assert b["city"].iloc[0] == "城市0"
    assert b["Irading_AD"].tolist() == pytest.approx((df.M2 / df.M3).tolist())
    lo, hi = np.quantile(b["Cialomy"], [0.1, 0.9], method="averaged_inverted_cdf")
    assert b["Cialomy_w"].min() == pytest.approx(lo) and b["Cialomy_w"].max() == pytest.approx(hi)
    assert r1["counts"]["winsorized"]["Cialomy"] == r2["counts"]["winsorized"]["Cialomy"] > 0
    assert r1["options"]["irading"]["advanced"] == "secondary/tertiary"


def test_csv_spec_computes_nycives(tmp_path: Path):
    df = make_panel(cities=5, years=3)
    p = tmp_path / "panel.csv"
    df.to_csv(p, index=False)
    spec = tmp_path / "my_spec.csv"
    spec.write_text("id,name_zh,direction,column\nA,甲,+1,E_all\nB,乙,负向,E_dig\n", encoding="utf-8")
    rec = run_indicators(p, spec=spec, out=tmp_path / "o.csv")
    o = pd.read_csv(tmp_path / "o.csv")
    assert rec["outputs"]["columns"] == ["Nycives", "Nycives_pca"]
    assert o["Nycives"].tolist() == pytest.approx(
        entropy_index(df[["E_all", "E_dig"]], {"E_dig": -1}).tolist())


def _run_err(panel: Path, spec_text: str, tmp_path: Path, capsys) -> str:
    spec = tmp_path / "bad.toml"
    spec.write_text(spec_text, encoding="utf-8")
    rc = main(["indicators", str(panel), "--spec", str(spec), "--out", str(tmp_path / "x.csv")])
    assert rc == 2
    assert not (tmp_path / "x.csv").exists()
    return capsys.readouterr().err


def test_bad_panels_and_specs(tmp_path: Path, capsys):
    df = make_panel(cities=4, years=3)
    p = tmp_path / "p.csv"
    # duplicate city-year
    pd.concat([df, df.iloc[[4]]]).to_csv(p, index=False)
    err = _run_err(p, "[lq]\n", tmp_path, capsys)
    assert "duplicate city-year" in err and "城市1" in err and "2014" in err and "row 14" in err
    # non-positive value where a log is needed
    df.assign(fdi_used=[0.0] + [1.0] * (len(df) - 1)).to_csv(p, index=False)
    err = _run_err(p, '[logs]\nIdetion = { column = "fdi_used" }\n', tmp_path, capsys)
    assert "city 城市0, year 2013" in err and "column 'fdi_used'" in err and "row 2" in err
    df.assign(E=[-1.0] + [1.0] * (len(df) - 1)).to_csv(p, index=False)
    err = _run_err(p, "[actros]\n", tmp_path, capsys)
    assert "column 'E'" in err and "positive" in err and "城市0" in err
    # non-numeric cell
    t = df.astype({"E_dig": object})
    t.loc[5, "E_dig"] = "n.a."
    t.to_csv(p, index=False)
    err = _run_err(p, "[lq]\n", tmp_path, capsys)
    assert "row 7" in err and "column 'E_dig'" in err and "'n.a.'" in err and "城市1" in err
    # indicator missing from the panel, and from the spec
    df.drop(columns=["robots"]).to_csv(p, index=False)
    err = _run_err(p, "[nycives]\npca = false\n", tmp_path, capsys)
    assert "N17" in err and "'robots'" in err and "exclude" in err
    df.to_csv(p, index=False)
    err = _run_err(p, '[nycives]\n[nycives.columns]\nN42 = "x"\n', tmp_path, capsys)
    assert "'N42'" in err and "not in the spec" in err
    err = _run_err(p, '[nycives]\nexclude = ["N99"]\n', tmp_path, capsys)
    assert "'N99'" in err
    # spec typos
    err = _run_err(p, "[lq]\ndigitl = 'E_dig'\n", tmp_path, capsys)
    assert "unknown key 'digitl' in [lq]" in err
    err = _run_err(p, "[entropy]\n", tmp_path, capsys)
    assert "unknown table [entropy]" in err
    err = _run_err(p, "[panel]\ncity='city'\n", tmp_path, capsys)
    assert "names no indicator" in err
    err = _run_err(p, '[actros]\ntransform = "inverse"\n', tmp_path, capsys)
    assert "transform must be one of" in err
    err = _run_err(p, '[irading]\nweights = 0.5\n', tmp_path, capsys)
    assert "[irading] weights must be a list" in err
    # a single id where a list is expected is read as a one-element list
    rec = run_indicators(p, spec={"nycives": {"include": "N01", "pca": False}},
                         out=tmp_path / "one.csv")
    assert [i["id"] for i in rec["results"]["nycives"]["indicators"]] == ["N01"]


def test_example_spec_documents_the_defaults():
    """The shipped example shows every option at its real default (except the column names
    it fills in to show the syntax), so the comments cannot drift from the code."""
    import tomllib
    from importlib import resources

    from coretech.indicators.run import DEFAULTS, read_spec

    text = (resources.files("coretech") / "data" / "indicators_example.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    shown = {"actros": {"capital", "output_deflator", "units"}, "logs": set()}
    for table, keys in raw.items():
        for key, value in keys.items():
            if key in shown.get(table, set()) or table == "logs":
                continue
            assert value == DEFAULTS[table][key], (table, key)
    assert set(raw) == set(DEFAULTS)
    assert all(v == 1.0 for v in raw["actros"]["units"].values())
    resolved, _ = read_spec(EXAMPLE)
    assert resolved["logs"]["Fialevel"] == {"column": "fintech_firms", "zeros": "log1p"}


def test_year_by_year_entropy_and_numeric_city_codes(tmp_path: Path):
    df = make_panel(cities=6, years=3, seed=4)
    df["city"] = np.repeat(np.arange(6) * 100 + 110100.0, 3)  # float codes, as Stata may store
    p = tmp_path / "p.dta"
    df.to_stata(p, write_index=False, version=118)
    spec = tmp_path / "s.toml"
    spec.write_text('[nycives]\npooled = false\nweights = "by_year"\npca = false\n'
                    'include = ["N01", "N02", "N03"]\n')
    rec = run_indicators(p, spec=spec, out=tmp_path / "o.csv")
    ent = rec["results"]["nycives"]["entropy"]
    assert ent["normalisation"] == "year-by-year min/max" and ent["weights_scope"] == "by_year"
    assert set(ent["weights"]) == {"2013", "2014", "2015"}
    for w in ent["weights"].values():
        assert sum(w.values()) == pytest.approx(1.0)
    o = pd.read_csv(tmp_path / "o.csv", dtype={"city": str})
    assert o["city"].iloc[0] == "110100"
    # the index of a year uses that year's min/max and weights only
    y = df[df.year == 2014]
    cols = ["edu_years", "pop_no_school", "pop_bachelor"]
    expect = entropy_index(y[cols], {"pop_no_school": -1})
    assert o.loc[o.year == 2014, "Nycives"].tolist() == pytest.approx(expect.tolist())


def test_xlsx_panel_nominal_output_and_bad_years(tmp_path: Path, capsys):
    df = make_panel(cities=5, years=4, seed=8)
    df["deflator"] = np.tile([100.0, 102.0, 105.0, 109.0], 5)
    df["M_nominal"] = df["M"] * df["deflator"] / 100
    x = tmp_path / "panel.xlsx"
    df.to_excel(x, index=False)
    real = run_indicators(x, spec={"actros": {"fe": "twoway"}}, out=tmp_path / "real.csv")
    nom = run_indicators(x, spec={"actros": {"fe": "twoway", "output": "M_nominal",
                                             "output_deflator": "deflator",
                                             "output_deflator_scale": 100}},
                         out=tmp_path / "nom.csv")
    a, b = pd.read_csv(tmp_path / "real.csv"), pd.read_csv(tmp_path / "nom.csv")
    assert b["Actros_M_real"].tolist() == pytest.approx(df["M"].tolist())
    assert b["Actros"].tolist() == pytest.approx(a["Actros"].tolist())
    assert nom["results"]["actros"]["model"]["params"] == pytest.approx(
        real["results"]["actros"]["model"]["params"])
    assert nom["options"]["actros"]["fe"] == "twoway"
    bad = df.assign(year=df["year"].astype(float))
    bad.loc[3, "year"] = 2016.5
    p = tmp_path / "bad.csv"
    bad.to_csv(p, index=False)
    err = _run_err(p, "[lq]\n", tmp_path, capsys)
    assert "row 5" in err and "whole number" in err and "column 'year'" in err


def test_pillar_subindices_add_up(tmp_path: Path):
    df = make_panel(cities=6, years=3, seed=9)
    p = tmp_path / "p.csv"
    df.to_csv(p, index=False)
    rec = run_indicators(p, spec={"nycives": {"subindices": "level1", "pca": False}},
                         out=tmp_path / "o.csv")
    o = pd.read_csv(tmp_path / "o.csv")
    parts = ["Nycives_Factor_structure", "Nycives_Value_leap"]
    assert list(rec["results"]["nycives"]["subindices"]["columns"]) == parts
    assert (o[parts[0]] + o[parts[1]]).tolist() == pytest.approx(o["Nycives"].tolist())
    # a pillar's part is its weight times its indicators' normalised values: bounded by the
    # pillar's weight (+ shift)
    w1 = rec["results"]["nycives"]["pillars"]["level1"]["要素结构"]
    assert o[parts[0]].max() <= w1 * (1 + 1e-4) + 1e-12
    rec3 = run_indicators(p, spec={"nycives": {"subindices": "level3", "pca": False,
                                               "weights_table": "w.xlsx"}},
                          out=tmp_path / "o3.csv")
    wt = pd.read_excel(tmp_path / "w.xlsx")
    assert len(wt) == 41 and wt["weight"].sum() == pytest.approx(1.0)
    assert wt["weight"].tolist() == pytest.approx(
        [i["weight"] for i in rec3["results"]["nycives"]["indicators"]])
    assert ((wt["entropy"] > 0) & (wt["entropy"] < 1)).all()
    assert rec3["outputs"]["nycives_weights"].endswith("w.xlsx")
    assert len(rec3["results"]["nycives"]["subindices"]["columns"]) == 19


def test_example_spec_option_writes_a_working_spec(tmp_path: Path, capsys):
    target = tmp_path / "my.toml"
    assert main(["indicators", "--example-spec", str(target)]) == 0
    assert target.read_bytes() == EXAMPLE.read_bytes()
    assert main(["indicators", "--spec", str(target)]) == 2
    assert "needs PANEL, --out" in capsys.readouterr().err
