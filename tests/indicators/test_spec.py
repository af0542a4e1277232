"""The shipped Table 1 spec (41 indicators) and spec validation."""

from __future__ import annotations

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators import entropy_weights, load_spec, pillar_weights
from coretech.indicators.spec import map_columns, select


def test_builtin_spec_is_table_1():
    s = load_spec()
    assert len(s) == 41 and s["id"].tolist()[0] == "N01" and s["id"].tolist()[-1] == "N41"
    negative = s.loc[s.direction == -1, "name_zh"].tolist()
    assert negative == ["未上过学人口数量", "煤炭消耗总量", "石油消耗总量", "一次电力及其他能源消耗总量",
                        "碳排放量", "废水排放规模", "废气排放规模（SO₂、CO₂）", "工业固体废物产生量"]
    assert s.groupby("level1_zh", sort=False).size().to_dict() == {"要素结构": 20, "价值跃迁": 21}
    assert s["level2_zh"].nunique() == 8 and s["level3_zh"].nunique() == 19
    assert (s["name_en"] != "").all() and (s["unit"] != "").all()
    assert s["column"].is_unique
    assert s.loc[s.id == "N09", "unit"].item() == "亿户"
    assert "garbled" not in s.loc[s.id == "N01", "note"].item()
    assert "subscripts" in s.loc[s.id == "N38", "note"].item()


def test_pillar_weights_sum_per_level():
    s = load_spec()
    w = pd.Series(1 / 41, index=s["id"])
    p1 = pillar_weights(w, s, level=1)
    assert p1.to_dict() == pytest.approx({"要素结构": 20 / 41, "价值跃迁": 21 / 41})
    p2 = pillar_weights(w.set_axis(s["column"]), s, level=2, lang="en")
    assert p2.sum() == pytest.approx(1.0) and p2["Green development"] == pytest.approx(5 / 41)
    with pytest.raises(InputError, match="level must be"):
        pillar_weights(w, s, level=4)


def test_user_spec_validation_names_row(tmp_path):
    p = tmp_path / "spec.csv"
    p.write_text("id,name_en,direction,column\nX1,a,+1,a\nX2,b,正向,b\nX1,c,-1,c\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        load_spec(p)
    assert "spec.csv" in str(ei.value) and "row 4" in str(ei.value) and "'id'" in str(ei.value)
    p.write_text("id,name_en,direction,column\nX1,a,+1,a\nX2,b,up,b\n")
    with pytest.raises(InputError) as ei:
        load_spec(p)
    assert "row 3" in str(ei.value) and "direction" in str(ei.value)
    p.write_text("id,name_en,direction\nX1,a,+1\n")
    with pytest.raises(InputError, match="column"):
        load_spec(p)
    p.write_text("id,name_en,direction,column\nX1,a,+1,a\nX2,b,负向,b\n", encoding="utf-8")
    s = load_spec(p)
    assert s["direction"].tolist() == [1, -1]


def test_column_map_and_selection():
    s = load_spec()
    m = map_columns(s, {"N01": "schooling"})
    assert m.loc[m.id == "N01", "column"].item() == "schooling"
    with pytest.raises(InputError, match="'N99'"):
        map_columns(s, {"N99": "x"})
    with pytest.raises(InputError, match="mapped to two"):
        map_columns(s, {"N01": "road_km"})
    assert len(select(s, exclude=["N08", "N09"])) == 39
    assert select(s, include=["N01", "N02"])["id"].tolist() == ["N01", "N02"]
    with pytest.raises(InputError, match="'N42'"):
        select(s, exclude=["N42"])


def test_directions_from_spec_feed_entropy():
    s = select(load_spec(), include=["N01", "N02"])
    X = pd.DataFrame({"edu_years": [8.0, 9.0, 12.0], "pop_no_school": [5.0, 1.0, 3.0]})
    w = entropy_weights(X, dict(zip(s["column"], s["direction"], strict=True)))
    w_flip = entropy_weights(X.assign(pop_no_school=-X.pop_no_school))
    assert w.tolist() == pytest.approx(w_flip.tolist())


def test_spec_matches_the_papers_table_1(shared):
    """Every indicator name, unit and direction against the rows of Table 1 in the paper."""
    text = (shared / "reference" / "000_849c5e49bec892e4.txt").read_text(encoding="utf-8")
    start = text.index("表1 新质生产力评价指标体系")
    end = text.index("设定数字经济核心产业集聚为解释变量")
    rows = []
    for line in text[start:end].splitlines():
        cells = [c.strip() for c in line.split("\t") if c.strip()]
        if cells and cells[-1] in ("正向", "负向"):
            rows.append(cells)
    assert len(rows) == 41
    s = load_spec()

    def norm(x: str) -> str:
        return x.replace(" ", "")

    assert [norm(r[-3]) for r in rows] == [norm(n) for n in s["name_zh"]]
    assert [r[-2] for r in rows] == s["unit"].tolist()
    assert [1 if r[-1] == "正向" else -1 for r in rows] == s["direction"].tolist()
    # third-level groups, where a row names one, are those of the spec
    for r, l3 in zip(rows, s["level3_zh"], strict=True):
        if len(r) >= 4:
            assert r[-4] == l3
