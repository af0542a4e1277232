"""Reading patent exports as users have them: encodings, formats, headers, dates, bad rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators.breakthrough import run_breakthrough
from coretech.indicators.patents import normalize_symbols, parse_column_map

DICT = "tech_id,ipc_code,decision\nt1,H01L,auto\n"


@pytest.fixture
def dictionary(tmp_path: Path) -> Path:
    p = tmp_path / "dictionary.csv"
    p.write_text(DICT, encoding="utf-8")
    return p


def run(path: Path, dictionary: Path, **kw):
    out = path.parent / "out" / "sicoughs.csv"
    kw.setdefault("end_year", 2022)
    kw.setdefault("reference", (2000, 2016))
    rec = run_breakthrough(path, dictionary=dictionary, out=out, **kw)
    table = pd.read_csv(out)
    rejects = pd.read_csv(out.with_name("sicoughs.rejects.csv"), dtype={"value": str},
                          keep_default_na=False)
    return rec, table, rejects


def k(table: pd.DataFrame, city: str, year: int) -> int:
    return int(table.loc[(table["city"] == city) & (table["year"] == year), "k_raw"].iloc[0])


def test_gbk_csv_with_chinese_headers(tmp_path, dictionary):
    df = pd.DataFrame({
        "申请号": ["CN1", "CN2", "CN3"],
        "申请日": ["2010-01-05", "2010.03.06", "20100708"],
        "授权公告日": ["2012/3/6", "2013年1月2日", ""],
        "IPC分类号": ["H01L 29/739 (2006.01);G06F", "Ｈ０１Ｌ２１／０２", "H01L0029739000"],
        "申请人地址": ["山东省济南市历下区经十路", "广东省深圳市南山区科技园", "深圳南山区"],
    })
    p = tmp_path / "export.csv"
    df.to_csv(p, index=False, encoding="gbk")
    assert "深圳".encode("gbk") in p.read_bytes()  # really GBK, not UTF-8
    rec, table, rejects = run(p, dictionary)
    assert rec["options"]["encoding"] == "gb18030"
    assert k(table, "济南市", 2010) == 1
    assert k(table, "深圳市", 2010) == 1  # CN3 is not granted
    assert rec["counts"]["rows_rejected"] == 0
    assert rec["options"]["columns"]["app_date"] == "申请日"


@pytest.mark.parametrize(
    "text, year",
    [("2002-03-06", 2002), ("2002.03.06", 2002), ("20020306", 2002), ("2002/3/6", 2002),
     ("2002年3月6日", 2002), ("37321", 2002), ("2002-03-06 00:00:00", 2002)],
)
def test_date_forms(tmp_path, dictionary, text, year):
    p = tmp_path / "p.csv"
    p.write_text(
        "patent_id,app_date,grant_date,ipc,city\n"
        f"A,{text},2005-01-01,H01L21/02,苏州市\n", encoding="utf-8",
    )
    rec, table, rejects = run(p, dictionary, reference=None)
    assert rejects.empty
    assert k(table, "苏州市", year) == 1


def test_excel_with_datetime_cells_and_serials(tmp_path, dictionary):
    df = pd.DataFrame({
        "patent_id": ["A", "B"],
        "app_date": [dt.datetime(2015, 5, 1), dt.datetime(2016, 2, 1)],
        "grant_date": [dt.datetime(2018, 1, 1), None],
        "ipc": ["H01L21/02", "H01L"],
        "city": ["北京市", "北京市"],
    })
    p = tmp_path / "p.xlsx"
    df.to_excel(p, index=False)
    rec, table, rejects = run(p, dictionary)
    assert rejects.empty
    assert k(table, "北京市", 2015) == 1 and k(table, "北京市", 2016) == 0


def test_parquet_and_dta_give_the_same_counts(tmp_path, dictionary):
    df = pd.DataFrame({
        "patent_id": ["A", "B", "C"],
        "app_date": pd.to_datetime(["2015-05-01", "2015-06-01", "2016-01-01"]),
        "grant_date": pd.to_datetime(["2018-01-01", "2019-01-01", "2020-01-01"]),
        "ipc": ["H01L21/02;G06F3/00", "G06F3/00", "H01L"],
        "city": ["北京市", "北京市", "上海市"],
    })
    pq = tmp_path / "p.parquet"
    df.to_parquet(pq)
    dta = tmp_path / "p.dta"
    df.to_stata(dta, write_index=False, version=118)
    _, t1, _ = run(pq, dictionary)
    _, t2, _ = run(dta, dictionary)
    pd.testing.assert_frame_equal(t1, t2)
    assert k(t1, "北京市", 2015) == 1 and k(t1, "上海市", 2016) == 1


def test_columns_mapping(tmp_path, dictionary):
    p = tmp_path / "p.csv"
    p.write_text("no,filed,granted,codes,where\nA,2015-01-01,2016-01-01,H01L21/02,广州市\n",
                 encoding="utf-8")
    rec, table, _ = run(p, dictionary, columns=["no=patent_id", "filed=app_date",
                                                "granted=grant_date", "codes=ipc", "where=city"])
    assert k(table, "广州市", 2015) == 1
    with pytest.raises(InputError) as e:
        run(p, dictionary, columns=["nope=patent_id"])
    assert "p.csv" in str(e.value) and "column 'nope'" in str(e.value)
    with pytest.raises(InputError, match="not a patent column"):
        parse_column_map(["no=identifier"])


def test_missing_required_column_names_file_and_column(tmp_path, dictionary):
    p = tmp_path / "p.csv"
    p.write_text("patent_id,app_date,ipc,city\nA,2015-01-01,H01L,X\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        run(p, dictionary)
    msg = str(e.value)
    assert str(p) in msg and "column 'grant_date'" in msg
    q = tmp_path / "q.csv"
    q.write_text("patent_id,app_date,grant_date,ipc\nA,2015-01-01,,H01L\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'city'"):
        run(q, dictionary)


def test_bad_rows_go_to_the_rejects_file_with_row_column_reason(tmp_path, dictionary):
    p = tmp_path / "p.csv"
    p.write_text(
        "patent_id,app_date,grant_date,ipc,city\n"
        "A,2015-01-01,2016-01-01,H01L21/02,苏州市\n"     # row 2: fine
        "B,2015-13-01,2016-01-01,H01L21/02,苏州市\n"     # row 3: month 13
        "C,2015-01-01,2014-01-01,H01L21/02,苏州市\n"     # row 4: grant before application
        "D,2015-01-01,2016-01-01,Z99Q1/00,苏州市\n"      # row 5: invalid symbol
        "E,,2016-01-01,H01L21/02,苏州市\n"               # row 6: missing application date
        "F,2015-01-01,someday,H01L21/02,苏州市\n"        # row 7: unreadable grant date
        "A,2015-02-01,2016-01-01,H01L21/02,苏州市\n"     # row 8: duplicate id
        "G,2015-01-01,2016-01-01,H01L21/02,\n"        # row 9: no city
        "H,2015-01-01,2016-01-01,,苏州市\n",             # row 10: no IPC
        encoding="utf-8",
    )
    rec, table, rejects = run(p, dictionary)
    got = {int(r.row): (r.column, r.reason) for r in rejects.itertuples()}
    assert set(got) == {3, 4, 5, 6, 7, 8, 9, 10}
    assert got[3][0] == "app_date" and "unreadable application date" in got[3][1]
    assert got[4] == ("grant_date", "grant date 2014-01-01 precedes application date 2015-01-01")
    assert got[5][0] == "ipc" and "Z99Q1/00" in got[5][1]
    assert got[6] == ("app_date", "missing application date")
    assert got[7][0] == "grant_date" and "unreadable grant date" in got[7][1]
    assert got[8] == ("patent_id", "duplicate patent_id (first seen in row 2)")
    assert got[9][0] == "city"
    assert got[10] == ("ipc", "no IPC symbol")
    assert (rejects["file"] == str(p)).all()
    assert rec["counts"]["rows_read"] == 9 and rec["counts"]["rows_rejected"] == 8
    assert k(table, "苏州市", 2015) == 1


def test_indexing_codes_are_dropped_not_rejected(tmp_path, dictionary):
    p = tmp_path / "p.csv"
    p.write_text(
        "patent_id,app_date,grant_date,ipc,city\n"
        "A,2015-01-01,2016-01-01,\"G06F3/00;B29L31:52;//(H01L21/02,31:045)\",苏州市\n",
        encoding="utf-8",
    )
    rec, table, rejects = run(p, dictionary)
    assert rejects.empty
    assert rec["counts"]["rows_with_indexing_codes"] == 1
    assert k(table, "苏州市", 2015) == 0  # H01L only appears as indexing information


def test_normalize_symbols_keys():
    m = normalize_symbols(["H01L 29/739", "bad", " ", "B29L31:52", "G06F"]).set_index("raw")
    assert m.loc["H01L 29/739", "code"] == "H01L29/739"
    assert m.loc["H01L 29/739", "main_group"] == "H01L29/00"
    assert m.loc["G06F", "subclass"] == "G06F" and pd.isna(m.loc["G06F", "main_group"])
    assert pd.isna(m.loc["bad", "code"]) and m.loc["bad", "error"]
    assert m.loc[" ", "skip"] and m.loc["B29L31:52", "skip"]


def test_real_sample_reads_with_latin1(shared, tmp_path, dictionary):
    path = shared / "data" / "patents" / "cnipa_invention_sample_2002.csv"
    rec, table, rejects = run(
        path, dictionary, encoding="latin-1", end_year=2014, reference=None,
        columns=["app_num=patent_id", "grant_c=grant_date",
                 "nation_province_code_2=city", "main_IPC=main_ipc"],
        lag_table=tmp_path / "lags.csv",
        allow_unknown_cities=True,  # province codes (11, 51 ...) stand in for cities here
    )
    # the 4 misaligned records (each split over two lines) are the only rejects
    assert len(rejects) == 8
    assert set(rejects["column"]) == {"app_date", "city"}
    # the whole command reproduces the README's pooled shares among the 2,537 granted
    lags = pd.read_csv(tmp_path / "lags.csv").set_index("s")
    assert lags["n"].sum() == 2537
    expected = [0.0, 0.002, 0.127, 0.263, 0.263, 0.189, 0.068, 0.035, 0.031, 0.011]
    assert lags["share"].round(3).iloc[:10].tolist() == expected
    assert round(lags.loc[10:, "share"].sum(), 3) == 0.011
    assert rec["counts"]["rows_with_indexing_codes"] == 153


def test_parquet_fast_paths_keep_every_check(tmp_path, dictionary):
    """Parquet input: empty IPC cells found from the footer, a ','-separated cell forcing the
    full split, a duplicate id and a missing city are all still rejected with row numbers."""
    df = pd.DataFrame({
        "patent_id": ["A", "B", "C", "A", "D"],
        "app_date": pd.to_datetime(["2015-05-01", "2015-06-01", "2016-01-01", "2016-02-01",
                                    "2016-03-01"]),
        "grant_date": pd.to_datetime(["2018-01-01", "2019-01-01", "2020-01-01", "2020-01-01",
                                      "2020-01-01"]),
        "ipc": ["H01L21/02;G06F3/00", None, "G06F3/00,H01L29/739", "H01L21/02", "H01L21/02"],
        "city": ["北京市", "北京市", "上海市", "上海市", None],
    })
    pq = tmp_path / "p.parquet"
    df.to_parquet(pq)
    rec, table, rejects = run(pq, dictionary)
    got = {r.row: (r.column, r.reason) for r in rejects.itertuples()}
    assert got == {
        3: ("ipc", "no IPC symbol"),
        5: ("patent_id", "duplicate patent_id (first seen in row 2)"),
        6: ("city", "no city"),
    }
    assert k(table, "北京市", 2015) == 1 and k(table, "上海市", 2016) == 1
    # the canonical scheme symbols outside the dictionary (G06F3/00) need no lookup
    # (the ','-cell is re-split in full: H01L21/02 and H01L29/739 are looked up)
    assert rec["counts"]["symbols_looked_up"] == 2
    assert rec["counts"]["rows_with_indexing_codes"] == 0


def test_canonical_fast_path_matches_parse():
    raws = ["H01L29/739", "H01L029/739", "H01L29/7", "H01L0/00", "H01L29/00", "h01L29/739",
            "H01L12345/00", "H01L1/000000", "Ｈ01L29/739", "H01L29/٣٣", "G06F3/00 "]
    m = normalize_symbols(raws).set_index("raw")
    assert m.loc["H01L29/739", "main_group"] == "H01L29/00"
    assert m.loc["H01L029/739", "code"] == "H01L29/739"
    assert m.loc["H01L29/7", "code"] == "H01L29/70"
    assert pd.isna(m.loc["H01L0/00", "code"]) and "0" in m.loc["H01L0/00", "error"]
    assert m.loc["Ｈ01L29/739", "code"] == "H01L29/739"
    assert m.loc["G06F3/00 ", "subclass"] == "G06F"
