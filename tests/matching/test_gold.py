"""read_gold: the three gold formats, deterministic tech ids, and errors naming the cell."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.matching.gold import gold_catalogue, key_digital_tech_id, read_gold


def test_key_digital_shared_file(shared):
    g = read_gold(shared / "data/gold/key_digital_2023.jsonl")
    assert g.attrs["format"] == "key_digital"
    assert len(g) == 527
    assert g["tech_id"].is_unique
    first = g.iloc[0]
    assert first["tech_id"] == "KD-AI-1.1"
    assert first["name"] == "智能芯片"
    assert first["field"] == "人工智能"
    assert first["include"][0] == "G06F3/00*"
    assert "G06N*" in first["include"]
    # an exact subgroup pattern keeps its meaning (no star)
    ml = g.set_index("tech_id").loc["KD-AI-2.1", "include"]
    assert "G06F30/27" in ml
    assert set(g["field"]) == {"人工智能", "高端芯片", "量子信息", "物联网", "区块链", "工业互联网",
                               "元宇宙"}
    assert sum(map(len, g["include"])) <= 4890


def test_wipo_concordance_shared_file(shared):
    g = read_gold(shared / "data/gold/wipo_ipc_technology_concordance.csv")
    assert g.attrs["format"] == "wipo_concordance"
    assert list(g["tech_id"][:3]) == ["WIPO-01", "WIPO-02", "WIPO-03"]
    assert len(g) == 35
    w = g.set_index("tech_id")
    assert w.loc["WIPO-01", "name"] == "Electrical machinery, apparatus, energy"
    assert w.loc["WIPO-01", "field"] == "Electrical engineering"
    assert "F21*" in w.loc["WIPO-01", "include"]  # prefix3 -> the class
    assert "H04N3/00*" in w.loc["WIPO-02", "include"]  # maingroup -> main-group subtree
    # B01D ranges collapsed to the subclass appear once
    chem = w.loc["WIPO-23", "include"]
    assert chem.count("B01D*") == 1


def test_key_digital_ids():
    assert key_digital_tech_id("高端芯片", "2.1.3") == "KD-CHIP-2.1.3"
    assert key_digital_tech_id("新系统", "1.1") == "KD-新系统-1.1"


def test_table_format_merges_rows_and_exclusions(tmp_path):
    p = tmp_path / "gold.csv"
    p.write_text(
        "tech_id,pattern,exclude,name\n"
        "T1,G06N 3*,G06N3/12,神经网络\n"
        "T1,h04l0009320000,,\n"
        "T2,B60L*;H01M10*,H01M10/05*,\n",
        encoding="utf-8",
    )
    g = read_gold(p).set_index("tech_id")
    assert g.loc["T1", "include"] == ("G06N3/00*", "H04L9/32")
    assert g.loc["T1", "exclude"] == ("G06N3/12",)
    assert g.loc["T1", "name"] == "神经网络"
    assert g.loc["T2", "include"] == ("B60L*", "H01M10/00*")
    assert g.loc["T2", "exclude"] == ("H01M10/05*",)


def test_table_format_xlsx_and_gbk(tmp_path):
    df = pd.DataFrame({"tech_id": ["A", "A"], "pattern": ["G06N*", "G06F17*"],
                       "name": ["人工智能", ""]})
    x = tmp_path / "g.xlsx"
    df.to_excel(x, index=False)
    g = read_gold(x)
    assert g.loc[0, "include"] == ("G06N*", "G06F17/00*")
    c = tmp_path / "g.csv"
    c.write_bytes(df.to_csv(index=False).encode("gb18030"))
    assert read_gold(c).loc[0, "name"] == "人工智能"
    plural = tmp_path / "p.csv"
    plural.write_text("tech_id,patterns\nA,G06N*;G06F17*\n", encoding="utf-8")
    assert read_gold(plural).loc[0, "include"] == ("G06N*", "G06F17/00*")


def test_jsonl_with_tech_id_and_string_lists(tmp_path):
    p = tmp_path / "g.jsonl"
    p.write_text(
        json.dumps({"tech_id": "X1", "name": "IGBT", "patterns": "H01L29/739;H10D12*",
                    "exclude": ["H10D12/01"]}) + "\n\n"
        + json.dumps({"name": "光刻胶", "patterns": ["G03F7*"]}) + "\n",
        encoding="utf-8",
    )
    g = read_gold(p)
    assert list(g["tech_id"]) == ["X1", "光刻胶"]
    assert g.loc[0, "include"] == ("H01L29/739", "H10D12/00*")
    assert g.loc[0, "exclude"] == ("H10D12/01",)


def test_bad_pattern_names_row_and_column(tmp_path):
    p = tmp_path / "gold.csv"
    p.write_text("tech_id,pattern\nT1,G06N3*\nT2,Z99Q*\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_gold(p)
    msg = str(e.value)
    assert "gold.csv, row 3, column 'pattern'" in msg
    assert "Z99Q" in msg


def test_bad_exclusion_and_missing_columns(tmp_path):
    p = tmp_path / "gold.csv"
    p.write_text("tech_id,pattern,exclude\nT1,G06N3*,G06N3/\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2, column 'exclude'"):
        read_gold(p)
    q = tmp_path / "other.csv"
    q.write_text("id,code\n1,G06N\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs columns tech_id and pattern"):
        read_gold(q)


def test_jsonl_errors_name_the_line(tmp_path):
    p = tmp_path / "g.jsonl"
    p.write_text('{"tech_id": "a", "patterns": ["G06N*"]}\n{"tech_id": "b", "patterns": ["G6N"]}\n',
                 encoding="utf-8")
    with pytest.raises(InputError, match=r"g.jsonl.*column 'patterns': line 2"):
        read_gold(p)
    p.write_text('{"tech_id": "a", "patterns": ["G06N*"]}\n{"tech_id": "a", "patterns": ["G06F*"]}\n',
                 encoding="utf-8")
    with pytest.raises(InputError, match="line 2: technology 'a' appears twice"):
        read_gold(p)
    p.write_text('{"tech_id": "a", "patterns": ["G06N*"]\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 1: not valid JSON"):
        read_gold(p)


def test_wipo_bad_match_type(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("field_number,field_name,sector_name,match_type,match_value,maingroup\n"
                 "1,Elec,E,subclass,H01B,\n1,Elec,E,range,H01C,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"w.csv, row 3, column 'match_type'"):
        read_gold(p)


def test_gold_catalogue_has_names_only(tmp_path):
    p = tmp_path / "g.jsonl"
    p.write_text(json.dumps({"tech_id": "a", "name": "光刻胶", "patterns": ["G03F7*"],
                             "keywords": ["photoresist"]}) + "\n"
                 + json.dumps({"tech_id": "b", "name": "Bearings", "patterns": ["F16C*"]}) + "\n",
                 encoding="utf-8")
    cat = gold_catalogue(read_gold(p), lang="zh")
    assert list(cat.columns) == ["tech_id", "name_zh", "name_en", "field", "category"]
    assert list(cat["name_zh"]) == ["光刻胶", "Bearings"]
    assert list(cat["name_en"]) == ["", ""]
    assert list(gold_catalogue(read_gold(p), lang="en")["name_en"]) == ["光刻胶", "Bearings"]


def test_gold_catalogue_auto_language(shared):
    kd = gold_catalogue(read_gold(shared / "data/gold/key_digital_2023.jsonl"))
    assert (kd["name_en"] == "").all()
    assert kd.set_index("tech_id").loc["KD-AI-1.1.1", "name_zh"] == "GPU"  # a Chinese-list name
    wipo = gold_catalogue(read_gold(shared / "data/gold/wipo_ipc_technology_concordance.csv"))
    assert (wipo["name_zh"] == "").all() and wipo["name_en"].iloc[0].startswith("Electrical")
