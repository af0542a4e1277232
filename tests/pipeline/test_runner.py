"""The stage runner: content-hash skipping, re-running downstream, provenance, timings."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from coretech.pipeline import Context, Plan, StageUnavailable, rel, run_study
from coretech.pipeline import runner as pipeline
from coretech.pipeline.study import load_study

CALLS: list[str] = []


def plan_double(ctx: Context) -> Plan:
    """Stage 'double': reads the catalogue (a number per line), multiplies by [match] factor."""
    src = ctx.study.catalogue
    factor = ctx.study.stage_options("match").get("factor", 2)
    out = ctx.path("double", "double.txt")

    def call() -> dict:
        CALLS.append("double")
        nums = [int(x) * factor for x in Path(rel(ctx, src)).read_text().split()]
        Path(rel(ctx, out)).write_text("\n".join(map(str, nums)) + "\n")
        return {"n": len(nums)}

    return Plan({"catalogue": src}, {"factor": factor}, {"double": out}, call)


def plan_total(ctx: Context) -> Plan:
    """Stage 'total': sums the output of 'double', plus [audit] offset."""
    src = pipeline.require(ctx.output("double", "double"), "double.txt")
    offset = ctx.study.stage_options("audit").get("offset", 0)
    out = ctx.path("total", "total.txt")

    def call() -> dict:
        CALLS.append("total")
        total = sum(int(x) for x in Path(rel(ctx, src)).read_text().split()) + offset
        Path(rel(ctx, out)).write_text(f"{total}\n")
        return {"total": total}

    return Plan({"double": src}, {"offset": offset}, {"total": out}, call)


def plan_missing(ctx: Context) -> Plan:
    raise StageUnavailable("stage 'missing' is not available yet (test)")


@pytest.fixture()
def fake_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    CALLS.clear()
    monkeypatch.setattr(pipeline, "STAGE_PLANNERS", (
        ("double", plan_double), ("missing", plan_missing), ("total", plan_total)))
    monkeypatch.setattr(pipeline, "validate", lambda study: None)


def make_study(tmp: Path, factor: int = 2, offset: int = 0) -> Path:
    (tmp / "nums.txt").write_text("1\n2\n3\n")
    p = tmp / "study.toml"
    p.write_text(f"[inputs]\ncatalogue = 'nums.txt'\n[match]\nfactor = {factor}\n"
                 f"[audit]\noffset = {offset}\n[study]\nout = 'out'\n")
    return p


def statuses(out: Path) -> dict[str, str]:
    t = json.loads((out / "timings.json").read_text())
    return {k: v["status"] for k, v in t["stages"].items()}


def test_second_run_skips_everything(tmp_path: Path, fake_stages: None,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    study = make_study(tmp_path)
    prov = run_study(load_study(study))
    out = tmp_path / "out"
    assert (out / "total" / "total.txt").read_text() == "12\n"
    assert CALLS == ["double", "total"]
    assert statuses(out) == {"double": "ran", "missing": "not available yet", "total": "ran"}
    first = (out / "provenance.json").read_bytes()
    err = capsys.readouterr().err
    assert "[1/3] double" in err and "NOT AVAILABLE YET" in err and "ran in" in err

    run_study(load_study(study))
    assert CALLS == ["double", "total"]  # nothing re-ran
    assert statuses(out)["double"] == "skipped (unchanged)"
    assert statuses(out)["total"] == "skipped (unchanged)"
    assert (out / "provenance.json").read_bytes() == first  # timings live apart
    assert prov["stages"]["total"]["record"] == {"total": 12}
    assert prov["stages"]["missing"]["status"] == "not available yet"
    rec = json.loads(first)
    assert rec["order"] == ["double", "missing", "total"]
    assert rec["stages"]["double"]["inputs"]["catalogue"]["path"] == "../nums.txt"
    assert rec["stages"]["total"]["inputs"]["double"]["path"] == "double/double.txt"
    assert "seconds" not in json.dumps(rec)


def test_changed_option_reruns_that_stage_and_downstream(tmp_path: Path,
                                                         fake_stages: None) -> None:
    run_study(load_study(make_study(tmp_path, factor=2)))
    CALLS.clear()
    run_study(load_study(make_study(tmp_path, factor=3)))
    assert CALLS == ["double", "total"]
    assert (tmp_path / "out" / "total" / "total.txt").read_text() == "18\n"


def test_changed_downstream_option_reruns_only_downstream(tmp_path: Path,
                                                          fake_stages: None) -> None:
    run_study(load_study(make_study(tmp_path, offset=0)))
    CALLS.clear()
    run_study(load_study(make_study(tmp_path, offset=5)))
    assert CALLS == ["total"]
    assert statuses(tmp_path / "out")["double"] == "skipped (unchanged)"
    assert (tmp_path / "out" / "total" / "total.txt").read_text() == "17\n"


def test_changed_input_content_reruns(tmp_path: Path, fake_stages: None) -> None:
    study = make_study(tmp_path)
    run_study(load_study(study))
    CALLS.clear()
    (tmp_path / "nums.txt").write_text("1\n2\n4\n")
    run_study(load_study(study))
    assert CALLS == ["double", "total"]
    # touching the file without changing its bytes changes nothing
    CALLS.clear()
    (tmp_path / "nums.txt").write_text("1\n2\n4\n")
    run_study(load_study(study))
    assert CALLS == []


def test_edited_or_deleted_output_reruns_its_stage(tmp_path: Path, fake_stages: None) -> None:
    study = make_study(tmp_path)
    run_study(load_study(study))
    CALLS.clear()
    (tmp_path / "out" / "total" / "total.txt").write_text("999\n")
    run_study(load_study(study))
    assert CALLS == ["total"]
    assert (tmp_path / "out" / "total" / "total.txt").read_text() == "12\n"
    CALLS.clear()
    (tmp_path / "out" / "double" / "double.txt").unlink()
    run_study(load_study(study))
    assert CALLS == ["double"]  # same bytes again, so 'total' stays skipped


def test_force(tmp_path: Path, fake_stages: None) -> None:
    study = make_study(tmp_path)
    run_study(load_study(study))
    CALLS.clear()
    run_study(load_study(study), force=("total",))
    assert CALLS == ["total"]
    CALLS.clear()
    run_study(load_study(study), force=True, quiet=True)
    assert CALLS == ["double", "total"]


def test_two_output_folders_give_identical_provenance(tmp_path: Path, fake_stages: None) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        run_study(load_study(make_study(d)), quiet=True)
    assert (a / "out/provenance.json").read_bytes() == (b / "out/provenance.json").read_bytes()


def test_a_stage_that_writes_nothing_is_an_error(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def plan_lazy(ctx: Context) -> Plan:
        return Plan({}, {}, {"x": ctx.path("lazy", "x.csv")}, lambda: {})

    monkeypatch.setattr(pipeline, "STAGE_PLANNERS", (("lazy", plan_lazy),))
    monkeypatch.setattr(pipeline, "validate", lambda study: None)
    with pytest.raises(pipeline.CoretechError, match="did not write its output"):
        run_study(load_study(make_study(tmp_path)), quiet=True)


def test_resolve_reports_what_it_looked_for() -> None:
    with pytest.raises(StageUnavailable, match="coretech.nowhere.run_x"):
        pipeline.resolve((("coretech.nowhere", "run_x"),), "x")
    assert pipeline.resolve((("coretech.pipeline.study", "load_study"),), "x") is load_study


def test_bind_maps_roles_to_parameter_names() -> None:
    seen = {}

    def run_thing(src: str, *, scheme: str, output: str, lang: str = "auto") -> dict:
        seen.update(src=src, scheme=scheme, output=output, lang=lang)
        return {}

    pipeline.bind(run_thing, "thing", ["a.csv"], {"scheme": "s.parquet", "out": "o.csv",
                                                   "overrides": None}, {"lang": "en"})()
    assert seen == {"src": "a.csv", "scheme": "s.parquet", "output": "o.csv", "lang": "en"}
    with pytest.raises(StageUnavailable, match="no parameter for 'gold'"):
        pipeline.bind(run_thing, "thing", [], {"gold": "g.csv"}, {})


# --------------------------------------------------------------------------- real stages
PANEL = """city,year,E_dig,E_all,Nycives
南京市,2020,30,1000,1.5
南京市,2021,36,1200,1.7
兰州市,2020,10,1000,0.9
兰州市,2021,12,1200,1.0
"""


def real_study(tmp: Path, name: str = "Cialomy") -> Path:
    (tmp / "panel.csv").write_text(PANEL, encoding="utf-8")
    p = tmp / "study.toml"
    p.write_text(
        "[study]\nout = 'out'\n[inputs]\npanel = 'panel.csv'\n[ipc]\nenabled = false\n"
        "[models]\nenabled = false\n"
        f"[indicators.lq]\ndigital = 'E_dig'\ntotal = 'E_all'\nname = '{name}'\n",
        encoding="utf-8")
    return p


def test_coretech_run_skips_unchanged_and_reruns_downstream(tmp_path: Path) -> None:
    from coretech.cli import main

    study = real_study(tmp_path)
    assert main(["run", str(study), "--quiet"]) == 0
    out = tmp_path / "out"
    st = statuses(out)
    assert st["ipc"] == "disabled" and st["models"] == "disabled"
    assert st["indicators"] == "ran" and st["panel"] == "ran" and st["report"] == "ran"
    assert st["match"] == "not run"  # no catalogue in this study
    panel = pd.read_csv(out / "panel" / "panel.csv")
    # eq. (4): national share 2020 = 40/2000 = 0.02; 南京 0.03/0.02 = 1.5, 兰州 0.5
    lq = panel.set_index(["city", "year"])["Cialomy"]
    assert lq[("南京市", 2020)] == pytest.approx(1.5)
    assert lq[("兰州市", 2020)] == pytest.approx(0.5)
    prov = (out / "provenance.json").read_bytes()

    assert main(["run", str(study), "--quiet"]) == 0
    ran = {k for k, v in statuses(out).items() if v == "ran"}
    assert ran == set()
    assert (out / "provenance.json").read_bytes() == prov

    real_study(tmp_path, name="LQ")  # one option of one stage changes
    assert main(["run", str(study), "--quiet"]) == 0
    st = statuses(out)
    assert {k for k, v in st.items() if v == "ran"} == {"indicators", "panel", "report"}
    assert "LQ" in pd.read_csv(out / "panel" / "panel.csv").columns


def test_coretech_run_bad_study_exits_2_naming_the_key(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from coretech.cli import main

    p = tmp_path / "study.toml"
    p.write_text("[inputs]\npanel = 'missing.csv'\n", encoding="utf-8")
    assert main(["run", str(p)]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "inputs.panel" in err and "file not found" in err


@pytest.mark.parametrize(
    ("table", "text", "column", "words"),
    [
        ("breakthrough", "end_yaer = 2022", "breakthrough.end_yaer", "allowed:"),
        ("breakthrough", "end_year = '2022'", "breakthrough.end_year", "default 2022"),
        ("breakthrough", "out = 'x.csv'", "breakthrough.out", "set by the pipeline"),
        ("panel", "merge_sicoug = 'column'", "panel.merge_sicoug", "merge_sicoughs"),
        ("indicators.lq", "digitl = 'E_dig'", "indicators.lq.digitl", "digitl"),
        ("models", "controls = 3", "models.controls", None),
        ("ipc", "fetch = { source = 'wipo', editon = '2026.01' }", "ipc.fetch.editon",
         "unknown key of ipc.fetch"),
        ("ipc", "fetch = 'wipo'", "ipc.fetch", "expected a table"),
        ("match", "treshold = 0.3", "match.treshold", "allowed:"),
        ("match", "threshold = 3", "match.threshold", "threshold"),
    ],
)
def test_stage_options_are_checked_before_anything_runs(tmp_path: Path, table: str, text: str,
                                                        column: str | None,
                                                        words: str | None) -> None:
    from coretech.errors import InputError

    (tmp_path / "panel.csv").write_text(PANEL, encoding="utf-8")
    p = tmp_path / "study.toml"
    p.write_text(f"[inputs]\npanel = 'panel.csv'\n\n[{table}]\n{text}\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        run_study(load_study(p), quiet=True)
    err = ei.value
    assert err.file == str(p.resolve())
    if column is not None:
        assert err.column == column
        assert err.row == 5
    if words is not None:
        assert words in str(err)
    assert not (tmp_path / "study-out" / "provenance.json").exists()


@pytest.mark.slow
def test_a_real_study_with_a_gold_set_runs_the_audit(tmp_path: Path, shared: Path) -> None:
    """ipc (embedded) -> match -> audit, from one study file, on the WIPO concordance."""
    from coretech.io import write_table
    from coretech.matching.gold import gold_catalogue, read_gold

    gold = shared / "data" / "gold" / "wipo_ipc_technology_concordance.csv"
    write_table(gold_catalogue(read_gold(gold)), tmp_path / "catalogue.csv")
    p = tmp_path / "study.toml"
    p.write_text(f"[inputs]\ncatalogue = 'catalogue.csv'\ngold = '{gold}'\n"
                 "[match]\nlang = 'en'\nthreshold = 0.5\n[audit]\nlevel = 'subclass'\n",
                 encoding="utf-8")
    prov = run_study(load_study(p), quiet=True)
    out = tmp_path / "study-out"
    assert prov["stages"]["audit"]["status"] == "ok"
    metrics = json.loads((out / "audit" / "metrics.json").read_text())
    assert metrics["n_technologies"] == 35
    assert 0 < metrics["levels"]["subclass"]["precision"] <= 1
    assert (out / "audit" / "audit.html").stat().st_size > 10_000
    page = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Audit against the gold concordance" in page
    # the gold is a user file: hashed in the provenance, by role
    assert prov["stages"]["audit"]["inputs"]["gold"]["sha256"] == pipeline._hash(gold)
    # a threshold change re-runs match and audit (the dictionary changed), not ipc
    p.write_text(p.read_text().replace("threshold = 0.5", "threshold = 0.7"), encoding="utf-8")
    run_study(load_study(p), quiet=True)
    st = statuses(out)
    assert st["ipc"] == "skipped (unchanged)"
    assert st["match"] == "ran" and st["audit"] == "ran" and st["report"] == "ran"


def test_fetch_then_load_from_a_local_wipo_server(tmp_path: Path) -> None:
    """[ipc] fetch crawls (in its own process) from a real HTTP server on 127.0.0.1."""
    from coretech.crawler.localserver import FixtureServer, wipo_zip

    xml = (Path(__file__).parents[1] / "ipc" / "fixtures" / "ipc_scheme_sample.xml").read_bytes()
    date = "20260101"
    routes = {f"/{date}/MasterFiles/ipc_scheme_{date}.zip":
              wipo_zip(xml, f"EN_ipc_scheme_{date}.xml")}
    srv = FixtureServer(routes).start()
    try:
        p = tmp_path / "study.toml"
        p.write_text("[ipc]\nfetch = { source = 'wipo', edition = '2026.01', base_url = "
                     f"'{srv.base}', throttle = false, delay = 0.0 }}\n", encoding="utf-8")
        prov = run_study(load_study(p), quiet=True)
        out = tmp_path / "study-out"
        assert prov["stages"]["fetch"]["status"] == "ok"
        scheme = pd.read_parquet(out / "ipc" / "scheme.parquet")
        assert "H01L29/739" in set(scheme["code"])
        assert prov["stages"]["ipc"]["inputs"]["source1"]["path"] == "ipc/fetched.parquet"
        n_requests = len(srv.log)
        run_study(load_study(p), quiet=True)
        assert statuses(out)["fetch"] == "skipped (unchanged)"
        assert len(srv.log) == n_requests  # nothing fetched again
    finally:
        srv.stop()


def test_a_failing_stage_is_recorded_and_the_rerun_resumes(tmp_path: Path,
                                                           fake_stages: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from coretech.errors import InputError

    def plan_boom(ctx: Context) -> Plan:
        def call() -> dict:
            CALLS.append("boom")
            raise InputError("bad cell", file="x.csv", row=3, column="c")

        return Plan({}, {}, {"x": ctx.path("boom", "x.csv")}, call)

    monkeypatch.setattr(pipeline, "STAGE_PLANNERS", (
        ("double", plan_double), ("boom", plan_boom), ("total", plan_total)))
    study = make_study(tmp_path)
    with pytest.raises(InputError, match="x.csv, row 3, column 'c': bad cell"):
        run_study(load_study(study), quiet=True)
    out = tmp_path / "out"
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["stages"]["boom"] == {"status": "failed",
                                      "message": "x.csv, row 3, column 'c': bad cell"}
    assert statuses(out) == {"double": "ran", "boom": "failed"}
    CALLS.clear()
    monkeypatch.setattr(pipeline, "STAGE_PLANNERS", (("double", plan_double), ("total", plan_total)))
    run_study(load_study(study), quiet=True)
    assert CALLS == ["total"]  # 'double' finished before the failure: kept


def test_code_change_changes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "ctstagepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    h1 = pipeline._code_hashes(("ctstagepkg",))
    assert pipeline._code_hashes(("ctstagepkg",)) == h1
    (pkg / "core.py").write_text("X = 2\n")
    h2 = pipeline._code_hashes(("ctstagepkg",))
    assert h1["code:ctstagepkg"] != h2["code:ctstagepkg"]
    assert pipeline._code_hashes(("no_such_module_xyz",)) == {}


def test_real_patents_with_a_given_dictionary_reproduce_the_pooled_lags(tmp_path: Path,
                                                                        shared: Path) -> None:
    """A study on the real CNIPA sample: a given dictionary (no matching), a latin-1 CSV with
    its own column names mapped in [breakthrough]; T_s as in ../shared/data/README.md."""
    (tmp_path / "dictionary.csv").write_text(
        "tech_id,ipc_code,kind,score,rank,method,evidence,decision\n"
        "T1,A61K,subclass,1,1,manual,x,accepted\nT2,A23L,subclass,1,1,manual,x,accepted\n",
        encoding="utf-8")
    patents = shared / "data" / "patents" / "cnipa_invention_sample_2002.csv"
    p = tmp_path / "study.toml"
    p.write_text(
        f"[inputs]\ndictionary = 'dictionary.csv'\npatents = '{patents}'\n"
        "[ipc]\nenabled = false\n"
        "[breakthrough]\nencoding = 'latin-1'\nend_year = 2022\nreference = 'all'\n"
        "allow_unknown_cities = true\n"  # province codes stand in for cities in this sample
        "columns = { app_num = 'patent_id', main_IPC = 'main_ipc', IPC = 'ipc', "
        "grant_c = 'grant_date', nation_province_code_2 = 'city' }\n", encoding="utf-8")
    prov = run_study(load_study(p), quiet=True)
    out = tmp_path / "study-out"
    assert prov["stages"]["match"]["status"] == "not run"
    assert "dictionary given" in prov["stages"]["match"]["message"]
    lags = pd.read_csv(out / "breakthrough" / "lags.csv").set_index("s")["share"]
    for s, share in {2: 0.127, 3: 0.263, 4: 0.263, 5: 0.189, 6: 0.068}.items():
        assert lags[s] == pytest.approx(share, abs=0.0015), s
    counts = prov["stages"]["breakthrough"]["record"]["counts"]
    assert counts["rows_read"] == 4001 and counts["rows_rejected"] == 8
    page = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "IPC dictionary" in page and "SIMULATED" not in page
