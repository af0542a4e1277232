"""Addresses -> prefecture-level cities on one set of boundaries (莱芜 -> 济南, 巢湖 split, ...)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from coretech.indicators.breakthrough import run_breakthrough
from coretech.indicators.cities import (
    backward_name,
    city_changes,
    forward_name,
    map_city_names,
    resolve_addresses,
)


def resolved(addresses, boundaries=2022):
    r = resolve_addresses(addresses, boundaries)
    return dict(zip(r["raw"], r["city"], strict=True))


def test_legacy_and_current_addresses_resolve_to_2022_prefectures():
    got = resolved([
        "山东省莱芜市莱城区凤城西大街1号",  # 莱芜 merged into 济南 (2019)
        "莱芜市钢城区",
        "济南市莱芜区汶源大街",
        "安徽省巢湖市无为县",              # 巢湖 split (2011): 无为 -> 芜湖
        "安徽省巢湖市含山县城关镇",        # 含山 -> 马鞍山
        "安徽省巢湖市居巢区",              # 居巢 -> 合肥 (now county-level 巢湖市)
        "湖北省襄樊市樊城区",              # renamed 襄阳 (2010)
        "云南省思茅市",                    # 思茅 -> 普洱 (2007)
        "江苏省淮阴市清河区",              # 淮阴 -> 淮安 (2001)
        "内蒙古伊克昭盟东胜市",            # 伊克昭盟 -> 鄂尔多斯 (2001)
        "宁夏中卫县",                      # 中卫县 -> 地级中卫市 (2004)
        "北京市海淀区中关村",
        "深圳南山区科技园",                # short form, via cpca
        "美国加州",                        # foreign: unresolved
    ])
    assert got["山东省莱芜市莱城区凤城西大街1号"] == "济南市"
    assert got["莱芜市钢城区"] == "济南市"
    assert got["济南市莱芜区汶源大街"] == "济南市"
    assert got["安徽省巢湖市无为县"] == "芜湖市"
    assert got["安徽省巢湖市含山县城关镇"] == "马鞍山市"
    assert got["安徽省巢湖市居巢区"] == "合肥市"
    assert got["湖北省襄樊市樊城区"] == "襄阳市"
    assert got["云南省思茅市"] == "普洱市"
    assert got["江苏省淮阴市清河区"] == "淮安市"
    assert got["内蒙古伊克昭盟东胜市"] == "鄂尔多斯市"
    assert got["宁夏中卫县"] == "中卫市"
    assert got["北京市海淀区中关村"] == "北京市"
    assert got["深圳南山区科技园"] == "深圳市"
    assert got["美国加州"] is None


def test_earlier_boundaries_go_back_by_district():
    got = resolved(["济南市莱芜区汶源大街", "山东省莱芜市莱城区", "安徽省芜湖市无为市",
                    "湖北省襄阳市樊城区", "济南市历下区"], boundaries=2015)
    assert got["济南市莱芜区汶源大街"] == "莱芜市"
    assert got["山东省莱芜市莱城区"] == "莱芜市"
    assert got["安徽省芜湖市无为市"] == "芜湖市"  # the 2011 split is before 2015
    assert got["湖北省襄阳市樊城区"] == "襄阳市"
    assert got["济南市历下区"] == "济南市"
    assert resolved(["安徽省芜湖市无为市"], boundaries=2010)["安徽省芜湖市无为市"] == "巢湖市"
    assert resolved(["湖北省襄阳市樊城区"], boundaries=2009)["湖北省襄阳市樊城区"] == "襄樊市"
    assert backward_name("和平区", "和平区", 2005) == "和平区"  # 和县 is not 和平区


def test_city_names_given_directly():
    m = map_city_names(["莱芜市", "莱芜", "思茅地区", "济南市", "JP"], 2022)
    assert m["city"].tolist() == ["济南市", "济南市", "普洱市", "济南市", "JP"]
    assert map_city_names(["莱芜市", "襄阳市"], 2008)["city"].tolist() == ["莱芜市", "襄樊市"]


def test_laiwu_counts_for_jinan_in_every_year(tmp_path: Path):
    rows = [
        ("A", "2010-03-01", "2012-01-01", "H01L21/02", "山东省莱芜市莱城区鲁中大街"),
        ("B", "2010-05-01", "2012-01-01", "H01L21/02", "山东省济南市历下区经十路"),
        ("C", "2020-03-01", "2021-06-01", "H01L21/02", "山东省济南市莱芜区鲁中大街"),
        ("D", "2020-03-01", "2021-06-01", "H01L21/02", "安徽省巢湖市无为县"),  # old name, late
    ]
    p = tmp_path / "p.csv"
    pd.DataFrame(rows, columns=["申请号", "申请日", "授权公告日", "IPC分类号", "申请人地址"]).to_csv(
        p, index=False, encoding="utf-8"
    )
    d = tmp_path / "d.csv"
    d.write_text("tech_id,ipc_code\nt,H01L\n", encoding="utf-8")
    out = tmp_path / "s.csv"
    rec = run_breakthrough(p, dictionary=d, out=out, reference=(2010, 2016))
    t = pd.read_csv(out).set_index(["city", "year"])["k_raw"]
    assert t[("济南市", 2010)] == 2 and t[("济南市", 2020)] == 1
    assert t[("芜湖市", 2020)] == 1
    assert "莱芜市" not in set(pd.read_csv(out)["city"])
    assert rec["options"]["boundaries"] == 2022
    out15 = tmp_path / "s15.csv"
    run_breakthrough(p, dictionary=d, out=out15, reference=(2010, 2016), boundaries=2015)
    t15 = pd.read_csv(out15).set_index(["city", "year"])["k_raw"]
    assert t15[("莱芜市", 2010)] == 1 and t15[("莱芜市", 2020)] == 1 and t15[("济南市", 2010)] == 1


def test_unresolved_addresses_are_rejected_and_counted(tmp_path: Path):
    p = tmp_path / "p.csv"
    p.write_text(
        "patent_id,app_date,grant_date,ipc,applicant_address\n"
        "A,2015-01-01,2016-01-01,H01L21/02,美国加利福尼亚州\n"
        "B,2015-01-01,2016-01-01,H01L21/02,广东省广州市天河区\n",
        encoding="utf-8",
    )
    d = tmp_path / "d.csv"
    d.write_text("ipc_code\nH01L\n", encoding="utf-8")
    rec = run_breakthrough(p, dictionary=d, out=tmp_path / "o.csv", reference=(2015, 2016))
    rej = pd.read_csv(tmp_path / "o.rejects.csv")
    assert rej[["row", "column"]].values.tolist() == [[2, "applicant_address"]]
    assert "cannot resolve" in rej["reason"].iloc[0]
    assert rec["counts"]["unresolved_locations"] == 1


# --------------------------------------------------------------------------- reference data
def _crosswalk_events(shared: Path) -> list[dict]:
    path = shared / "data" / "cities" / "crosswalk" / "events_2000_2026.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_change_table_covers_every_crosswalk_event(shared):
    ours = city_changes()
    pairs = {(r.approval_year, r.old_name) for r in ours.itertuples()}
    pairs |= {(r.approval_year, r.new_name) for r in ours.itertuples()}
    for ev in _crosswalk_events(shared):
        year, old = int(ev["年份"]), ev["原单位"]
        assert (year, old) in pairs or (year, ev["新单位"]) in pairs, (year, old, ev["新单位"])


def test_forward_names_match_the_crosswalk_chains(shared):
    events = _crosswalk_events(shared)
    succ = {ev["原单位"]: ev["新单位"] for ev in events if ev["新单位"] and ev["原单位"] != ev["新单位"]}

    def chain(name):
        seen = set()
        while name in succ and name not in seen:
            seen.add(name)
            name = succ[name]
        return name

    for ev in events:
        old = ev["原单位"]
        if not ev["新单位"] or ev["原层级/类型"] in ("县级市",):
            continue
        assert forward_name(old, 2024) == chain(old), old
    # 莱芜 (2019) and the legacy roster agree: 莱芜市 is a prefecture through 2018 only
    roster = pd.read_csv(shared / "data" / "cities" / "crosswalk" / "legal_roster_2000_2024.csv")
    laiwu = roster.loc[roster["legal_name_zh"] == "莱芜市", "year"]
    assert laiwu.max() == 2018
    eff = city_changes().set_index("old_name").loc["莱芜市"]
    assert int(eff["effective_year"]) == laiwu.max() + 1
