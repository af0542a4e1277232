"""Two-column code/title tables (CSV/TSV/Excel), any notation, and bad files of every kind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.ipc.readers import detect_format, load_sources


def test_english_csv_in_mixed_notations(tmp_path: Path) -> None:
    p = tmp_path / "codes.csv"
    p.write_text(
        "symbol,description\n"
        "G06N,COMPUTING ARRANGEMENTS BASED ON SPECIFIC COMPUTATIONAL MODELS\n"
        "G06N 3/00,Computing arrangements based on biological models\n"
        "G06N0003020000,using neural network models\n"
        '"g06n 3/04 (2006.01)","Architecture, e.g. interconnection topology (G06N 3/08 takes precedence)"\n',
        encoding="utf-8",
    )
    res = load_sources([p])
    t = res.table.set_index("code")
    assert list(t.index) == ["G06N", "G06N3/00", "G06N3/02", "G06N3/04"]
    assert set(t["lang"]) == {"en"}
    assert t.loc["G06N3/04", "title"] == "Architecture, e.g. interconnection topology"
    assert t.loc["G06N3/04", "references"] == "G06N3/08"
    assert t.loc["G06N3/04", "parent"] == "G06N3/00"  # no dots: the certain ancestor
    assert t.loc["G06N3/04", "depth_source"] == "inferred"
    assert t.loc["G06N3/04", "path_title"] == (
        "COMPUTING ARRANGEMENTS BASED ON SPECIFIC COMPUTATIONAL MODELS > Computing arrangements "
        "based on biological models > Architecture, e.g. interconnection topology"
    )


def test_chinese_gbk_tsv_with_dotted_titles_gives_levels(tmp_path: Path) -> None:
    p = tmp_path / "zh.tsv"
    p.write_text(
        "分类号\t名称\nA01B1/00\t手动工具\nA01B1/02\t. 锹；铲\nA01B1/04\t.. 带齿的\nA01B1/06\t. 锄\n",
        encoding="gbk",
    )
    res = load_sources([p])
    t = res.table.set_index("code")
    assert set(t["lang"]) == {"zh"}
    assert t.loc["A01B1/04", "depth"] == 2 and t.loc["A01B1/04", "parent"] == "A01B1/02"
    assert t.loc["A01B1/06", "parent"] == "A01B1/00"
    assert set(t["depth_source"]) == {"scheme"}
    assert t.loc["A01B1/04", "path_title"] == "手动工具 > 锹；铲 > 带齿的"


def test_excel_headerless_two_columns_and_lang_override(tmp_path: Path) -> None:
    p = tmp_path / "codes.xlsx"
    pd.DataFrame({"H01L29/739": ["H01L 29/73"], "controlled by field effect": ["Bipolar junction transistors"]}).to_excel(p, index=False)
    res = load_sources([p], lang="en")
    t = res.table.set_index("code")
    assert sorted(t.index) == ["H01L29/73", "H01L29/739"]  # the header row is data
    assert t.loc["H01L29/739", "title"] == "controlled by field effect"


def test_english_and_chinese_merge_into_one_table(tmp_path: Path) -> None:
    en = tmp_path / "en.csv"
    en.write_text("code,title\nA01B1/00,Hand tools\nA01B1/02,Spades; Shovels\n", encoding="utf-8")
    zh = tmp_path / "zh.csv"
    zh.write_text("code,title\nA01B1/00,手动工具\nA01B1/02,锹；铲\n", encoding="utf-8-sig")
    again = tmp_path / "en2.csv"
    again.write_text("code,title\nA01B1/02,Spades\n", encoding="utf-8")
    res = load_sources([en, zh, again])
    t = res.table
    assert len(t) == 4
    assert sorted(zip(t["code"], t["lang"], strict=True)) == [
        ("A01B1/00", "en"), ("A01B1/00", "zh"), ("A01B1/02", "en"), ("A01B1/02", "zh")]
    zh_row = t[(t["code"] == "A01B1/02") & (t["lang"] == "zh")].iloc[0]
    assert zh_row["path_title"] == "手动工具 > 锹；铲"  # never borrows English titles
    assert res.defects["repeated_across_sources"] == 1
    assert f"also in {en}" in res.rejects["reason"].iloc[0]


# --------------------------------------------------------------------------- bad files
def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(InputError) as ei:
        load_sources([p])
    assert str(ei.value) == f"{p}, row 1: the file is empty"
    blank = tmp_path / "blank.tsv"
    blank.write_text("\n\n  \n", encoding="utf-8")
    with pytest.raises(InputError, match=r"blank\.tsv, row 1: the file is empty"):
        load_sources([blank])


def test_wrong_columns(tmp_path: Path) -> None:
    p = tmp_path / "wrong.csv"
    p.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        load_sources([p])
    msg = str(ei.value)
    assert msg.startswith(f"{p}, row 1: expected a code column")
    assert "found a, b, c" in msg


def test_undecodable_bytes(tmp_path: Path) -> None:
    p = tmp_path / "bytes.csv"
    p.write_bytes(b"code,title\nA01B1/00,Hand tools\nA01B1/02,\xff\xfe\xff broken\n")
    with pytest.raises(InputError) as ei:
        load_sources([p])
    msg = str(ei.value)
    assert str(p) in msg and "cannot decode" in msg and "line 3" in msg


def test_symbol_that_is_no_ipc_symbol(tmp_path: Path) -> None:
    p = tmp_path / "codes.csv"
    p.write_text("code,title\nA01B1/00,Hand tools\nZ99Q1/00,Nothing\nA01B1/02,Spades\n", encoding="utf-8")
    res = load_sources([p])
    assert list(res.table["code"]) == ["A01B1/00", "A01B1/02"]
    rej = res.rejects.iloc[0]
    assert rej["line"] == 3 and rej["source"] == str(p)
    assert rej["reason"].startswith("row 3, column 'code': 'Z99Q1/00' is not an IPC symbol: the section")
    with pytest.raises(InputError) as ei:
        load_sources([p], strict=True)
    assert str(ei.value).startswith(f"{p}, row 3, column 'code': 'Z99Q1/00' is not an IPC symbol")
    allbad = tmp_path / "allbad.csv"
    allbad.write_text("code,title\nfoo,bar\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        load_sources([allbad])
    assert str(ei.value).startswith(f"{allbad}, row 2, column 'code': no usable row")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_sources([tmp_path / "nope.csv"])
    with pytest.raises(InputError, match="is a folder"):
        detect_format(tmp_path)
