"""CNIPA dotted text lines, and the shared flat Chinese table with its known defects."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coretech.ipc.readers import load_sources, parse_cnipa_lines

LINES = [
    "国际专利分类表（2026.01版）  A部",  # page header: skipped
    "",
    "A01B         农业或林业的整地；一般农业机械或农具的部件、零件或附件",
    "A01B1/00        手动工具（草坪修整机入A01G3/06）",
    "A01B1/02   .     锹；铲[2006.01]",
    "A01B1/04   . .   带齿的",
    "A01B1/06   .     锄；手动中耕机",
    "A01B1/08   . .   带单铲刀的",
    "A01B1/10   . . . 带双铲刀或多铲刀的 〔2〕",
    "A01B1/12   . .   处理草地或草坪用的 犁",
    "- 12 -",  # page number: skipped
    "A01B",  # running header, symbol alone: skipped
    "A01B1/1X   .     坏的符号",
    "A01B1/14   .",
    "A01B1/02   .     重复",
    "Ａ０１Ｂ３／００    犁",
    "A01B3/02   .     12",
]


@pytest.fixture(scope="module")
def cnipa():
    return parse_cnipa_lines(LINES, source_name="a01b.txt", edition="2026.01")


def test_dots_give_depth_and_parent(cnipa) -> None:
    t = cnipa.table.set_index("code")
    expect = {
        "A01B": (None, "A01"),
        "A01B1/00": (0, "A01B"),
        "A01B1/02": (1, "A01B1/00"),
        "A01B1/04": (2, "A01B1/02"),
        "A01B1/06": (1, "A01B1/00"),
        "A01B1/08": (2, "A01B1/06"),
        "A01B1/10": (3, "A01B1/08"),
        "A01B1/12": (2, "A01B1/06"),
        "A01B3/00": (0, "A01B"),
    }
    assert list(t.index) == list(expect)
    for code, (depth, parent) in expect.items():
        got = t.loc[code, "depth"]
        assert (None if pd.isna(got) else int(got)) == depth, code
        assert t.loc[code, "parent"] == parent, code
    assert set(t["depth_source"]) == {"scheme"}
    assert t.loc["A01B1/10", "path_title"] == (
        "农业或林业的整地；一般农业机械或农具的部件、零件或附件 > 手动工具 > 锄；手动中耕机 > 带单铲刀的 > 带双铲刀或多铲刀的"
    )
    assert t.loc["A01B1/12", "title"] == "处理草地或草坪用的犁"
    assert t.loc["A01B1/00", "references"] == "A01G3/06"
    assert t.loc["A01B1/02", "entry_edition"] == "2006.01"
    assert set(t["edition"]) == {"2026.01"}
    assert set(t["lang"]) == {"zh"}


def test_skipped_and_rejected_lines_are_counted_with_reasons(cnipa) -> None:
    assert cnipa.stats["skipped_lines"] == 4  # header, blank, page number, symbol alone
    rej = cnipa.rejects.set_index("line")
    assert set(rej.index) == {13, 14, 15, 17}
    assert "'A01B1/1X' is not an IPC symbol" in rej.loc[13, "reason"]
    assert rej.loc[14, "reason"] == "line 14: A01B1/14 has no title"
    assert "repeated code A01B1/02 (first at line 5, kept)" in rej.loc[15, "reason"]
    assert "numeric title" in rej.loc[17, "reason"]
    assert all(r == "a01b.txt" for r in rej["source"])
    assert cnipa.defects["cjk_line_break_spaces_removed"] == 1
    assert cnipa.defects["edition_stamps_removed"] == 2


def test_section_line() -> None:
    res = parse_cnipa_lines(["A部——人类生活必需", "A01  农业；林业", "A01B  整地"], source_name="x")
    t = res.table.set_index("code")
    assert t.loc["A", "title"] == "人类生活必需" and t.loc["A", "kind"] == "section"
    assert t.loc["A01", "parent"] == "A" and t.loc["A01B", "path_title"] == "整地"


def test_without_edition_the_entry_stamp_is_the_edition() -> None:
    res = parse_cnipa_lines(["A01B1/00  手动工具", "A01B1/02  .  锹；铲[2006.01]"], source_name="x")
    t = res.table.set_index("code")
    assert t.loc["A01B1/02", "edition"] == "2006.01"
    assert pd.isna(t.loc["A01B1/00", "edition"])


def test_cnipa_text_file_is_detected(tmp_path: Path) -> None:
    p = tmp_path / "a01b.txt"
    p.write_text("\n".join(LINES), encoding="gb18030")
    res = load_sources([p], edition="2026.01")
    assert len(res.table) == 9
    assert res.table.set_index("code").loc["A01B1/10", "depth"] == 3


# --------------------------------------------------------------------------- the shared file
@pytest.fixture(scope="module")
def zh(shared: Path):
    return load_sources([shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv"], edition="2026.01")


def test_flat_chinese_table_defects_agree_with_the_readme(zh) -> None:
    d = zh.defects
    # ../shared/data/README.md: 69 codes repeated, 1,503 empty or numeric titles,
    # ~4,300 titles with PDF line-break spaces, edition stamps like [20250101]
    assert d["repeated_codes"] == 69
    assert d["empty_or_numeric_titles"] == 1503
    assert 4000 <= d["cjk_line_break_spaces_removed"] <= 4700
    assert d["edition_stamps_removed"] >= 30
    assert d["missing_code"] == 9  # PROVENANCE: 9 main-group files with no Code


def test_flat_chinese_table_drops_no_row_silently(zh, shared: Path) -> None:
    raw = pd.read_csv(shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv", sep="\t", dtype=str,
                      keep_default_na=False)
    assert len(raw) == 77_390
    assert len(zh.table) + len(zh.rejects) == len(raw)
    assert not zh.table.duplicated(["code", "lang"]).any()
    assert (zh.table["kind"] == "subclass").sum() >= 640
    assert zh.table["code"].map(lambda c: c[:4]).nunique() >= 640
    # every reject names its row and the reason
    assert zh.rejects["line"].notna().all() and zh.rejects["reason"].str.len().gt(0).all()
    e01 = zh.rejects[zh.rejects["raw"].str.startswith("E01C23/08\t")]
    assert len(e01) == 4  # four copies with junk titles "..", "2", "5", "8"
    assert all("numeric title" in r for r in e01["reason"])


def test_flat_chinese_table_rows(zh) -> None:
    t = zh.table.set_index("code")
    assert t.loc["A01B1/24", "title"] == "处理草地或草坪用的犁"
    assert t.loc["A01B1/00", "references"] == "A01G3/06"
    assert t.loc["A01B1/00", "title"] == "手动工具"
    assert t.loc["H10D", "title"] == "无机电子半导体器件"
    assert t.loc["A01B1/02", "parent"] == "A01B1/00"
    assert pd.isna(t.loc["A01B1/02", "depth"]) and t.loc["A01B1/00", "depth"] == 0
    assert set(t["depth_source"]) == {"inferred"}
    assert set(t["lang"]) == {"zh"} and set(t["edition"]) == {"2026.01"}
    assert t.loc["A01B1/02", "path_title"].endswith(" > 手动工具 > 锹；铲")
    # the first usable copy of a repeated code is kept
    assert t.loc["A63C19/00", "title"].startswith("运动场")
