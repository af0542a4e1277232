"""Reading technology catalogues: formats, keywords, and bad input that names the row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.matching.catalogue import read_catalogue, split_keywords


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_gbk_csv_with_chinese_names_and_keywords(tmp_path: Path) -> None:
    p = _write(tmp_path / "cat.csv",
               "tech_id,name_zh,name_en,field,category,keywords\n"
               "T1,溅射靶材,,新一代信息技术,关键基础材料,靶材；溅射; 镀膜 \n"
               "T2,,Lithium-ion battery,新能源,,\n", encoding="gbk")
    cat = read_catalogue(p)
    assert list(cat["tech_id"]) == ["T1", "T2"]
    assert cat.loc[0, "name_zh"] == "溅射靶材"
    assert cat.loc[0, "keywords"] == "靶材;溅射;镀膜"
    assert cat.loc[1, "name_en"] == "Lithium-ion battery"
    assert cat.loc[1, "name_zh"] == ""
    assert cat.loc[0, "field"] == "新一代信息技术"


def test_xlsx_catalogue_with_numeric_ids(tmp_path: Path) -> None:
    p = tmp_path / "cat.xlsx"
    pd.DataFrame({"tech_id": [101, 102], "name_zh": ["碳化硅(SiC)", "IGBT芯片"],
                  "keywords": ["SiC;碳化硅", None]}).to_excel(p, index=False)
    cat = read_catalogue(p)
    assert list(cat["tech_id"]) == ["101", "102"]
    assert list(cat["name_zh"]) == ["碳化硅(SiC)", "IGBT芯片"]
    assert list(cat["keywords"]) == ["SiC;碳化硅", ""]
    assert list(cat["name_en"]) == ["", ""]  # optional columns are added empty


def test_split_keywords() -> None:
    assert split_keywords("GPU; 图形处理器；显卡 ;;") == ["GPU", "图形处理器", "显卡"]
    assert split_keywords(None) == []


def test_a_row_without_any_name_is_an_error_naming_the_row(tmp_path: Path) -> None:
    p = _write(tmp_path / "cat.csv", "tech_id,name_zh,name_en\nT1,芯片,\nT2,,\n")
    with pytest.raises(InputError) as e:
        read_catalogue(p)
    assert e.value.row == 3 and e.value.column == "name_zh"
    assert "T2" in str(e.value) and "no name" in str(e.value) and "cat.csv" in str(e.value)


def test_duplicate_tech_id_names_both_rows(tmp_path: Path) -> None:
    p = _write(tmp_path / "cat.csv", "tech_id,name_zh\nT1,芯片\nT2,电池\nT1,轴承\n")
    with pytest.raises(InputError) as e:
        read_catalogue(p)
    assert e.value.row == 4 and e.value.column == "tech_id"
    assert "duplicate tech_id 'T1'" in str(e.value) and "row 2" in str(e.value)


def test_empty_tech_id_is_an_error(tmp_path: Path) -> None:
    p = _write(tmp_path / "cat.csv", "tech_id,name_en\nT1,bearings\n,steel\n")
    with pytest.raises(InputError, match="row 3, column 'tech_id': empty tech_id"):
        read_catalogue(p)


@pytest.mark.parametrize("content", ["", "   \n", "tech_id,name_zh\n"])
def test_empty_file_or_header_only_is_an_error(tmp_path: Path, content: str) -> None:
    p = _write(tmp_path / "cat.csv", content)
    with pytest.raises(InputError) as e:
        read_catalogue(p)
    assert "cat.csv" in str(e.value)
    assert "empty" in str(e.value) or "no technologies" in str(e.value)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no 'tech_id' column; found id, name_zh"):
        read_catalogue(_write(tmp_path / "a.csv", "id,name_zh\n1,芯片\n"))
    with pytest.raises(InputError, match="needs 'name_zh' and/or 'name_en'"):
        read_catalogue(_write(tmp_path / "b.csv", "tech_id,name\n1,芯片\n"))
