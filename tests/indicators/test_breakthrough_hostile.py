"""Hostile inputs to ``coretech breakthrough`` (issue 17 items 5-8, issue 16 item 6, issue 14/18).

Each test fails on the code before these changes: ``reject`` / ``拒绝`` / ``bogus`` counted as
accepted; ``London`` and ``=HYPERLINK(...)`` became panel cities and ``北京`` a second 北京;
an application of 1899 stretched the panel back to 1899; a code outside the scheme passed
silently; an unadjustable year read 0; the whole hierarchy was built for the embedded scheme.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators.breakthrough import (
    national_table,
    read_dictionary,
    run_breakthrough,
    summary_lines,
)
from coretech.matching.decisions import normalize_decision, read_decisions

SCHEME = """code,parent,edition
H,,2024.01
H01,H,2024.01
H01L,H01,2024.01
H01L21/00,H01L,2024.01
H01L21/02,H01L21/00,2024.01
G,,2024.01
G06,G,2024.01
G06F,G06,2024.01
G06F3/00,G06F,2024.01
"""


def _patents(tmp_path: Path, rows: list[str], name: str = "p.csv") -> Path:
    p = tmp_path / name
    p.write_text("patent_id,app_date,grant_date,ipc,city\n" + "\n".join(rows) + "\n",
                 encoding="utf-8")
    return p


def _run(tmp_path: Path, patents: Path, dictionary: str = "ipc_code\nH01L\n", **kw):
    d = tmp_path / "d.csv"
    d.write_text(dictionary, encoding="utf-8")
    s = tmp_path / "scheme.csv"
    s.write_text(SCHEME, encoding="utf-8")
    out = tmp_path / "out" / "s.csv"
    kw.setdefault("reference", (2015, 2016))
    kw.setdefault("ipc", s)
    rec = run_breakthrough(patents, dictionary=d, out=out, **kw)
    rej = pd.read_csv(out.with_name("s.rejects.csv"), dtype={"value": str}, keep_default_na=False)
    return rec, pd.read_csv(out), rej


# --------------------------------------------------------------------------- 17.5 decisions
@pytest.mark.parametrize("word, kept", [
    ("reject", False), ("rejected", False), ("拒绝", False), (" REJECT ", False), ("删除", False),
    ("accept", True), ("accepted", True), ("auto", True), ("added", True), ("接受", True),
    ("", True),
])
def test_dictionary_decisions_share_one_vocabulary(tmp_path, word, kept):
    p = tmp_path / "d.csv"
    p.write_text(f"tech_id,ipc_code,decision\nt1,G06F,accepted\nt2,H01L,{word}\n",
                 encoding="utf-8")
    codes = set(read_dictionary(p)["ipc_code"])
    assert ("H01L" in codes) is kept


def test_unknown_decision_names_file_row_and_value(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("tech_id,ipc_code,decision\nt1,G06F,accepted\nt2,H01L,bogus\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"d\.csv, row 3, column 'decision': decision 'bogus'"):
        read_dictionary(p)


def test_overrides_and_review_read_the_same_words(tmp_path):
    from coretech.matching.dictionary import read_overrides

    p = tmp_path / "o.csv"
    p.write_text("tech_id,ipc_code,decision\nt,H01L,拒绝\nt,G06F,接受\nt,H04W,reject\n",
                 encoding="utf-8")
    ov = read_overrides(p).set_index("ipc_code")["decision"].to_dict()
    assert ov == {"H01L": "rejected", "G06F": "accepted", "H04W": "rejected"}
    assert normalize_decision("Rejected") == "rejected" and normalize_decision(None) is None
    with pytest.raises(InputError, match=r"x\.csv, row 4, column 'decision'.*'maybe'"):
        read_decisions(["accept", "reject", "maybe"], file="x.csv")


# --------------------------------------------------------------------------- 17.6 cities
CITY_ROWS = [
    "A,2015-01-01,2016-01-01,H01L21/02,北京市",
    "B,2015-02-01,2016-01-01,H01L21/02,北京",                 # short form -> 北京市
    "C,2015-03-01,2016-01-01,H01L21/02,London",               # not a prefecture
    'D,2015-04-01,2016-01-01,H01L21/02,"=HYPERLINK(""x"")"',  # formula, not a city
    "E,2016-01-01,2017-01-01,H01L21/02,上海",
]


def test_city_names_are_validated_and_canonicalised(tmp_path):
    rec, table, rej = _run(tmp_path, _patents(tmp_path, CITY_ROWS))
    assert sorted(table["city"].unique()) == ["上海市", "北京市"]
    assert int(table.loc[(table["city"] == "北京市") & (table["year"] == 2015), "k_raw"].iloc[0]) == 2
    bad = rej[rej["column"] == "city"]
    assert bad["row"].tolist() == [4, 5]
    assert bad["value"].tolist() == ["London", '=HYPERLINK("x")']
    assert bad["reason"].str.contains("not a prefecture-level city").all()
    assert rec["counts"]["rejected_by_reason"]["unknown city"] == 2
    assert rec["counts"]["unknown_cities"] == 2
    assert any("rejected 2 rows whose city is not a prefecture-level city" in line
               for line in summary_lines(rec))


def test_allow_unknown_cities_keeps_and_counts_them(tmp_path):
    rec, table, rej = _run(tmp_path, _patents(tmp_path, CITY_ROWS), allow_unknown_cities=True)
    assert "London" in set(table["city"]) and rej.empty
    assert rec["counts"]["unknown_cities_kept"] == 2
    assert rec["counts"]["rows_with_unknown_city_kept"] == 2
    assert rec["options"]["allow_unknown_cities"] is True


# --------------------------------------------------------------------------- 17.7 dates
def test_implausible_application_dates_are_rejected(tmp_path):
    rows = [
        "A,2015-01-01,2016-01-01,H01L21/02,北京市",
        "B,1899-12-31,2016-01-01,H01L21/02,北京市",   # Excel's day 0
        "C,9999-01-01,,H01L21/02,北京市",
        "D,1984-12-31,1990-01-01,H01L21/02,北京市",   # before the first CNIPA filing
        "E,2016-03-01,2017-01-01,H01L21/02,北京市",
    ]
    rec, table, rej = _run(tmp_path, _patents(tmp_path, rows), end_year=2022)
    assert table["year"].min() == 2015  # not 1899
    got = rej.set_index("row")
    assert got.loc[3, "column"] == "app_date" and "before 1985" in got.loc[3, "reason"]
    assert "after the end year 2022" in got.loc[4, "reason"]
    assert "before 1985" in got.loc[5, "reason"]
    by = rec["counts"]["rejected_by_reason"]
    assert by["application date before 1985"] == 2 and by["application date after end year"] == 1
    assert any("implausible dates" in line for line in summary_lines(rec))


# --------------------------------------------------------------------------- 17.8 codes
def test_dictionary_codes_not_in_the_scheme_are_named_with_the_edition(tmp_path):
    rows = ["A,2015-01-01,2016-01-01,H01L21/02,北京市", "B,2016-01-01,2017-01-01,G06F3/00,北京市"]
    rec, table, _ = _run(tmp_path, _patents(tmp_path, rows),
                         dictionary="ipc_code\nH01L21/02\nH10B\nH10K10/00\n")
    assert rec["counts"]["dictionary_codes_not_in_scheme"] == ["H10B", "H10K10/00"]
    warn = [line for line in summary_lines(rec) if "not in" in line]
    assert warn and "H10B, H10K10/00" in warn[0] and "edition 2024.01" in warn[0]
    assert int(table["k_raw"].sum()) == 1  # H01L21/02 still counts


# --------------------------------------------------------------------------- 16.6 lag display
def test_unadjustable_year_is_empty_not_zero_and_large_factors_are_flagged(tmp_path):
    # every reference application is granted 3 years later: T_0 = T_1 = T_2 = 0, so 2020-2022
    # (seen < 3 years by T = 2022) cannot be adjusted; 2019 has factor 1 / T_3 = 1
    rows = [f"P{i},{y}-03-01,{y + 3}-03-01,H01L21/02,北京市" for i, y in
            enumerate([2010, 2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019])]
    rows += ["Q1,2021-01-01,2021-06-01,H01L21/02,北京市"]  # granted fast: k_raw 2021 = 1
    rec, table, _ = _run(tmp_path, _patents(tmp_path, rows), reference=(2010, 2016))
    nat = pd.read_csv(tmp_path / "out" / "s.national.csv")
    n = nat.set_index("year")
    assert math.isnan(n.loc[2021, "k_adj"]) and n.loc[2021, "k_raw"] == 1
    assert n.loc[2021, "status"] == "not adjustable (denominator 0)"
    assert n.loc[2012, "in_reference"] and not n.loc[2018, "in_reference"]
    assert n.loc[2012, "status"].startswith("not adjusted (before --adjust-from 2017)")
    assert rec["counts"]["years_with_zero_denominator"] == [2020, 2021, 2022]
    # the report-style sum of the city table would print 0.000 here; the national table never does
    assert (nat.loc[nat["status"].str.startswith("not adjustable"), "k_adj"].isna()).all()


def test_national_table_flags_large_factors():
    table = pd.DataFrame({
        "city": ["a", "a", "a"], "year": [2020, 2021, 2022], "k_raw": [10, 2, 0],
        "lag_share_cum": [0.8, 1 / 517, 0.0], "k_adj": [12.5, 1034.0, math.nan],
        "sicoughs": [0.0, 0.0, math.nan],
    })
    nat = national_table(table, reference=(2000, 2016), adjust_from=2017).set_index("year")
    assert nat.loc[2021, "flag"] == "large factor (x517.0)" and nat.loc[2020, "flag"] == ""
    assert math.isnan(nat.loc[2022, "k_adj"]) and math.isnan(nat.loc[2022, "factor"])
    assert not nat["in_reference"].any()


# --------------------------------------------------------------------------- 14 / 18 structure
def test_breakthrough_is_split_by_step_with_the_same_public_names():
    import coretech.indicators.breakthrough as bt

    for name in ("run_breakthrough", "summary_lines", "read_dictionary", "cover_table",
                 "load_hierarchy", "BreakthroughCounter", "estimate_shares", "adjust_counts",
                 "bootstrap_interval", "lag_table_frame", "OUTPUT_COLUMNS"):
        assert hasattr(bt, name), name
    folder = Path(bt.__file__).parent
    for mod in ("dictionary", "symbols", "counter", "adjust", "command"):
        importlib.import_module(f"coretech.indicators.breakthrough.{mod}")
        n = len((folder / f"{mod}.py").read_text(encoding="utf-8").splitlines())
        assert n < 600, (mod, n)


def test_no_hierarchy_is_built_for_the_embedded_scheme(tmp_path, monkeypatch):
    """The embedded scheme has no subgroup under a subgroup: a subgroup covers itself, and the
    full hierarchy (0.8-0.9 s) is never built."""
    from coretech.ipc import Hierarchy

    def boom(*_a, **_k):
        raise AssertionError("the full hierarchy was built")

    monkeypatch.setattr(Hierarchy, "from_scheme", classmethod(boom))
    rows = ["A,2015-01-01,2016-01-01,H01L21/02,北京市", "B,2015-01-01,2016-01-01,H01L21/04,北京市"]
    rec, table, _ = _run(tmp_path, _patents(tmp_path, rows), dictionary="ipc_code\nH01L21/02\n",
                         ipc=None)
    assert int(table["k_raw"].sum()) == 1
