"""Output sets stay whole (a failure or kill -9 mid-stage leaves the previous set), and one run
at a time per output folder (a real second process is refused by the lock)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from coretech.pipeline import runner
from coretech.pipeline.study import load_study

ROOT = Path(__file__).resolve().parents[2]

#: Two fake stages writing into one folder: 'table' writes a table and its meta (the meta
#: last, as the real stages do); [audit] mode = "fail" / "hang" stops it between the two.
FAKE_STAGES = '''
import json, time
from pathlib import Path
from coretech.pipeline.plan import Plan, rel

def plan_table(ctx):
    v = ctx.study.stage_options("match").get("version", 1)
    mode = ctx.study.stage_options("audit").get("mode", "")
    table, meta = ctx.path("table", "table.csv"), ctx.path("table", "table.meta.json")

    def call():
        Path(rel(ctx, table)).write_text(f"year,value\\n{2020 + v},{v}\\n")
        if mode == "fail":
            raise RuntimeError("the plots failed")
        if mode == "hang":
            print("HALF", flush=True)
            time.sleep(600)
        Path(rel(ctx, meta)).write_text(json.dumps({"end_year": 2020 + v}))
        return {"table": str(table)}

    return Plan({}, {"version": v, "mode": mode}, {"table": table, "meta": meta}, call)

def plan_other(ctx):
    n = ctx.study.stage_options("breakthrough").get("n", 1)
    other = ctx.path("table", "other.txt")

    def call():
        Path(rel(ctx, other)).write_text(f"{n}\\n")
        return {}

    return Plan({}, {"n": n}, {"other": other}, call)

STAGES = (("table", plan_table), ("other", plan_other))
'''

CHILD = '''
import sys
sys.path.insert(0, sys.argv[1])
import fakestages
from coretech.pipeline import runner
from coretech.pipeline.study import load_study
runner.STAGE_PLANNERS = fakestages.STAGES
runner.validate = lambda study: None
runner.run_study(load_study(sys.argv[2]), quiet=True)
'''


@pytest.fixture()
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    (tmp_path / "fakestages.py").write_text(FAKE_STAGES, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("fakestages", tmp_path / "fakestages.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    monkeypatch.setattr(runner, "STAGE_PLANNERS", mod.STAGES)
    monkeypatch.setattr(runner, "validate", lambda study: None)
    return mod


def study(tmp: Path, version: int = 1, mode: str = "", n: int = 1) -> Path:
    p = tmp / "study.toml"
    p.write_text(f"[study]\nout = 'out'\n[match]\nversion = {version}\n"
                 f"[audit]\nmode = '{mode}'\n[breakthrough]\nn = {n}\n", encoding="utf-8")
    return p


def folder(tmp: Path) -> dict[str, bytes]:
    d = tmp / "out" / "table"
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")])}


def test_a_failing_stage_leaves_the_previous_set_whole(tmp_path: Path, fake) -> None:
    runner.run_study(load_study(study(tmp_path, version=1)), quiet=True)
    before = folder(tmp_path)
    assert json.loads(before["table.meta.json"]) == {"end_year": 2021}
    assert before["table.csv"] == b"year,value\n2021,1\n" and before["other.txt"] == b"1\n"
    with pytest.raises(RuntimeError, match="plots failed"):
        runner.run_study(load_study(study(tmp_path, version=2, mode="fail")), quiet=True)
    assert folder(tmp_path) == before  # not the new table beside the old meta
    assert not (tmp_path / "out" / ".coretech" / "tmp").exists()
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["stages"]["table"]["status"] == "failed"
    runner.run_study(load_study(study(tmp_path, version=2)), quiet=True)
    after = folder(tmp_path)
    assert after["table.csv"] == b"year,value\n2022,2\n"
    assert json.loads(after["table.meta.json"]) == {"end_year": 2022}
    assert after["other.txt"] == b"1\n"  # the other stage's file in the folder is kept
    state = json.loads((tmp_path / "out" / ".coretech" / "table.json").read_text())
    assert state["files"] == ["table/table.csv", "table/table.meta.json"]
    assert state["record"] == {"table": "table/table.csv"}  # as it lands, not the staging path


def test_rerunning_one_stage_keeps_the_files_of_another_in_its_folder(tmp_path: Path,
                                                                       fake) -> None:
    runner.run_study(load_study(study(tmp_path, n=1)), quiet=True)
    table = folder(tmp_path)["table.csv"]
    runner.run_study(load_study(study(tmp_path, n=5)), quiet=True)
    files = folder(tmp_path)
    assert files["other.txt"] == b"5\n" and files["table.csv"] == table
    t = json.loads((tmp_path / "out" / "timings.json").read_text())
    assert t["stages"]["table"]["status"] == "skipped (unchanged)"


def test_kill_9_mid_stage_leaves_the_previous_set_and_the_next_run_recovers(
        tmp_path: Path, fake) -> None:
    runner.run_study(load_study(study(tmp_path, version=1)), quiet=True)
    before = folder(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(study(tmp_path, version=3, mode="hang"))],
        stdout=subprocess.PIPE, text=True, env=env())
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "HALF"  # new table written, meta not yet
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert folder(tmp_path) == before
    # the killed run held the lock: the kernel released it, so the next run goes ahead
    runner.run_study(load_study(study(tmp_path, version=3)), quiet=True)
    after = folder(tmp_path)
    assert json.loads(after["table.meta.json"]) == {"end_year": 2023}
    assert after["table.csv"] == b"year,value\n2023,3\n"
    assert not (tmp_path / "out" / ".coretech" / "tmp").exists()


def test_a_folder_caught_between_its_two_renames_is_put_back(tmp_path: Path, fake) -> None:
    runner.run_study(load_study(study(tmp_path)), quiet=True)
    before = folder(tmp_path)
    out = tmp_path / "out"
    aside = out / ".coretech" / "old" / "table--table"
    aside.parent.mkdir(parents=True)
    os.replace(out / "table", aside)  # as a kill after the first rename leaves it
    (out / ".coretech" / "table.json").unlink()  # the stage had not finished
    runner.run_study(load_study(study(tmp_path)), quiet=True)
    assert folder(tmp_path) == before
    assert not (out / ".coretech" / "old").exists()


LOCK_HOLDER = '''
import sys
from pathlib import Path
from coretech.pipeline.runner import output_lock
with output_lock(Path(sys.argv[1])):
    print("LOCKED", flush=True)
    sys.stdin.readline()
'''


def test_a_second_run_on_the_same_output_folder_stops_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "panel.csv").write_text("city,year,E_dig,E_all\n南京市,2020,3,100\n"
                                        "南京市,2021,4,100\n", encoding="utf-8")
    p = tmp_path / "study.toml"
    p.write_text("[study]\nout = 'out'\n[inputs]\npanel = 'panel.csv'\n[ipc]\nenabled = false\n"
                 "[models]\nenabled = false\n[report]\nenabled = false\n"
                 "[indicators.lq]\ndigital = 'E_dig'\ntotal = 'E_all'\n", encoding="utf-8")
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(out)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env())
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "LOCKED"
        second = subprocess.run([sys.executable, "-m", "coretech.cli", "run", str(p), "--quiet"],
                                capture_output=True, text=True, env=env())
        assert second.returncode == 2
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "another coretech run is writing to" in lines[0], lines
        assert not (out / "indicators").exists() and not (out / "provenance.json").exists()
        holder.stdin.write("\n")
        holder.stdin.flush()
    finally:
        holder.wait()
    third = subprocess.run([sys.executable, "-m", "coretech.cli", "run", str(p), "--quiet"],
                           capture_output=True, text=True, env=env())
    assert third.returncode == 0, third.stderr
    assert (out / "indicators" / "indicators.csv").is_file()


def test_output_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with runner.output_lock(tmp_path), pytest.raises(runner.StudyLocked, match="another"):
        with runner.output_lock(tmp_path):
            pass  # pragma: no cover
    with runner.output_lock(tmp_path):  # released: taken again
        pass
