"""`coretech models PANEL --simulate` never writes over PANEL (issue 16 item 9)."""

from __future__ import annotations

from pathlib import Path

from coretech.cli import main
from coretech.io import read_table


def test_simulate_leaves_panel_byte_identical(tmp_path: Path) -> None:
    panel = tmp_path / "my_panel.csv"
    panel.write_bytes("city,year,Nycives\n南京市,2020,1.5\n".encode("gbk"))  # the user's file
    before = panel.read_bytes()
    study = tmp_path / "study.toml"
    study.write_text("[models]\ntables = [2]\n", encoding="utf-8")
    out = tmp_path / "tables"
    assert main(["models", str(panel), "--simulate", "--seed", "3", "--out", str(out),
                 "--study", str(study)]) == 0
    assert panel.read_bytes() == before
    sim = read_table(out / "panel_simulated.csv", as_text=False)
    assert len(sim) == 2860 and sim["city"].nunique() == 286
    assert (out / "table2.csv").is_file()


def test_simulate_refuses_to_write_onto_panel(tmp_path: Path, capsys) -> None:
    out = tmp_path / "tables"
    out.mkdir()
    panel = out / "panel_simulated.csv"
    panel.write_text("city,year\nA,2020\n", encoding="utf-8")
    before = panel.read_bytes()
    assert main(["models", str(panel), "--simulate", "--out", str(out)]) == 2
    assert panel.read_bytes() == before
    assert "PANEL is not overwritten" in capsys.readouterr().err
