"""The WIPO title list reader, on small real-format files and on the embedded all_ipc.csv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.ipc.readers import clean_title, load_sources, read_wipo_titles
from coretech.ipc.scheme import default_read_result, default_scheme

SAMPLE = (
    "A\tHUMAN NECESSITIES\n"
    "A01\tAGRICULTURE\n"
    "A01B\tSOIL WORKING (making furrows A01C0005000000;soil working for engineering E01, E02)\n"
    "A01B0001000000\tHand tools (edge trimmers for lawns A01G0003060000)\n"
    "A01B0001020000\tSpades; Shovels\n"
    "A01B0001040000\twith teeth\n"
    "A01B0003000000\tPloughs\n"
    "A01B0003000000\tPloughs with fixed plough-shares\n"
    "A01B0003020000\tMan-driven ploughs (locks for vehicles E05B0077000000\n"
    "      \u2013\n"
    "      E05B0085000000;door mechanisms E05F)\n"
    "A01B0003040000\tof a type provided for in group A01B0001000000 [2006.01]\n"
)


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    p = tmp_path / "titles.tsv"
    p.write_text(SAMPLE, encoding="utf-8")
    return p


def test_sample_title_list(sample: Path) -> None:
    res = read_wipo_titles(sample)
    t = res.table.set_index("code")
    assert list(t.index) == ["A", "A01", "A01B", "A01B1/00", "A01B1/02", "A01B1/04", "A01B3/00",
                             "A01B3/02", "A01B3/04"]
    # references out of the title, canonical
    assert t.loc["A01B", "title"] == "SOIL WORKING"
    assert t.loc["A01B", "references"] == "A01C5/00; E01; E02"
    assert t.loc["A01B1/00", "references"] == "A01G3/06"
    # the broken continuation lines are joined (and the en-dash range becomes one reference)
    assert t.loc["A01B3/02", "title"] == "Man-driven ploughs"
    assert t.loc["A01B3/02", "references"] == "E05B77/00-E05B85/00; E05F"
    assert res.defects["continuation_lines"] == 2
    # the main group listed twice: heading, then title
    assert t.loc["A01B3/00", "title"] == "Ploughs with fixed plough-shares"
    assert t.loc["A01B3/00", "heading"] == "Ploughs"
    assert t.loc["A01B3/02", "path_title"] == (
        "SOIL WORKING > Ploughs > Ploughs with fixed plough-shares > Man-driven ploughs"
    )
    assert res.defects["guidance_headings"] == 1
    # running-text symbols stay (canonical) and are listed; the edition stamp leaves
    assert t.loc["A01B3/04", "title"] == "of a type provided for in group A01B1/00"
    assert t.loc["A01B3/04", "references"] == "A01B1/00"
    assert t.loc["A01B3/04", "entry_edition"] == "2006.01"
    # levels: only what is certain
    assert set(t["depth_source"]) == {"inferred"}
    assert t.loc["A01B1/04", "parent"] == "A01B1/00" and pd.isna(t.loc["A01B1/04", "depth"])
    assert t.loc["A01B1/00", "depth"] == 0 and t.loc["A01B1/00", "parent"] == "A01B"
    assert pd.isna(t.loc["A01B", "depth"]) and t.loc["A01B", "parent"] == "A01"
    assert res.stats["fragments"] == 2  # "with teeth", "of a type ..."
    assert set(t["lang"]) == {"en"}


def test_invalid_symbol_line_is_rejected_with_file_line_and_reason(tmp_path: Path) -> None:
    p = tmp_path / "bad.tsv"
    p.write_text("A\tHUMAN NECESSITIES\nA01\tAGRICULTURE\nA0X\tjunk\nA01B\tSOIL\n", encoding="utf-8")
    res = load_sources([p])
    assert list(res.table["code"]) == ["A", "A01", "A01B"]
    rej = res.rejects.iloc[0]
    assert rej["line"] == 3 and rej["source"] == str(p)
    assert "line 3" in rej["reason"] and "'A0X' is not an IPC symbol" in rej["reason"]
    with pytest.raises(InputError) as ei:
        read_wipo_titles(p, strict=True)
    assert str(ei.value).startswith(f"{p}, row 3, column 'symbol'")


@pytest.mark.parametrize(
    ("raw", "title", "refs"),
    [
        ("Shift registers (charge coupled devices per seH01L0029760000)", "Shift registers",
         ["H01L29/76"]),
        ("Cobalamins, e.g. cyanocobalamin (vitamin B12)", "Cobalamins, e.g. cyanocobalamin (vitamin B12)", []),
        ("手动工具（草坪修整机入A01G3/06）", "手动工具", ["A01G3/06"]),
        ("处理草地或草坪用的 犁", "处理草地或草坪用的犁", []),
        ("无机电子半导体器件[20250101]", "无机电子半导体器件", []),
        ("用一层 或多层薄膜〔2〕", "用一层或多层薄膜", []),
        ("Hand tools  for  lawns", "Hand tools for lawns", []),
        ("集成光路（集成电路入H10B, H10D84/00-H10D89/00）", "集成光路", ["H10B", "H10D84/00-H10D89/00"]),
        ("工程目的的整地（入E01，E02）", "工程目的的整地", ["E01", "E02"]),
    ],
)
def test_clean_title(raw: str, title: str, refs: list[str]) -> None:
    c = clean_title(raw)
    assert c.title == title
    assert c.references == refs


def test_embedded_default_scheme_counts() -> None:
    res = default_read_result()
    t = res.table
    # 75,830 lines: 3 continuation lines, 540 headings folded into their group
    assert len(t) == 75_830 - 3 - 540
    assert res.defects["continuation_lines"] == 3
    assert res.defects["guidance_headings"] == 540
    assert res.stats["headings"] == 540
    assert res.rejects.empty
    assert not t.duplicated(["code", "lang"]).any()
    # 47.5% of the list's lines start in lower case: fragments
    assert res.stats["fragments"] / 75_830 == pytest.approx(0.475, abs=0.001)
    row = t.set_index("code").loc["H01L29/739"]
    assert row["title"] == "controlled by field effect"
    assert row["parent"] == "H01L29/00" and pd.isna(row["depth"])
    assert row["path_title"].startswith("SEMICONDUCTOR DEVICES")
    assert row["path_title"].endswith(" > controlled by field effect")
    assert t["depth"].dtype == "Int64"
    assert (t["kind"] == "subclass").sum() == 645
    assert default_scheme() is default_scheme()  # memoised


def test_default_scheme_disk_cache_gives_the_same_table(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CORETECH_CACHE_DIR", str(tmp_path))
    default_read_result.cache_clear()
    try:
        built = default_read_result()
        assert len(list(tmp_path.glob("default_scheme-*.parquet"))) == 1
        default_read_result.cache_clear()
        cached = default_read_result()
        pd.testing.assert_frame_equal(cached.table, built.table)
        assert cached.defects == built.defects and cached.stats == built.stats
    finally:
        default_read_result.cache_clear()


def test_fragment_context_is_an_explicit_heuristic_column() -> None:
    plain = default_scheme()
    assert "context" not in plain.columns  # off by default
    res = load_sources([], fragment_context=True)
    t = res.table.set_index("code")
    assert t.loc["A01B1/04", "context"] == "Spades; Shovels"
    assert t.loc["A01B1/12", "context"] == "Hoes; Hand cultivators"
    # a guess, not the scheme: the true parent of H01L29/739 is H01L29/73
    assert t.loc["H01L29/739", "context"] == "Hetero-junction transistors"
    assert pd.isna(t.loc["A01B1/02", "context"])  # capitalised: no context needed
    # it never touches the levels
    assert t.loc["H01L29/739", "parent"] == "H01L29/00"
    assert t.loc["H01L29/739", "path_title"] == plain.set_index("code").loc["H01L29/739", "path_title"]
    assert res.stats["fragments_given_context"] > 36_000


@pytest.mark.parametrize(
    ("raw", "title", "note_cut"),
    [
        ("using comparison of [1] the phase", "using comparison of [1] the phase", False),
        ("微观结构技术[7] 注意 1.本大类涵盖微结构装置", "微观结构技术", True),
        ("烟草；雪茄烟 注意： 此类术语的含义如下", "烟草；雪茄烟", True),
        ("使假死者获救或引人注意的装置", "使假死者获救或引人注意的装置", False),
    ],
)
def test_stamps_and_notes(raw: str, title: str, note_cut: bool) -> None:
    c = clean_title(raw)
    assert c.title == title
    assert c.note_cut is note_cut
