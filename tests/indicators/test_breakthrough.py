"""Counting core-technology patents per city-year, eq. (5) end to end, options and outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from coretech.cli import main
from coretech.errors import CoretechError, InputError
from coretech.indicators.breakthrough import cover_table, read_dictionary, run_breakthrough
from coretech.ipc import Hierarchy
from coretech.provenance import check_output_set

# A hand-built scheme fragment with dot levels: G06N3/02 > G06N3/04 > G06N3/045; G06N3/08 apart.
SCHEME = """code,parent
G,
G06,G
G06N,G06
G06N3/00,G06N
G06N3/02,G06N3/00
G06N3/04,G06N3/02
G06N3/045,G06N3/04
G06N3/08,G06N3/02
G06N3/10,G06N3/00
"""

PATENTS = """patent_id,app_date,grant_date,ipc,main_ipc,city,patent_type
P1,2015-01-01,2016-06-01,G06N3/045,G06N3/045,北京市,invention
P2,2015-02-01,2016-06-01,G06N3/10;H01L21/02,G06N3/10,北京市,invention
P3,2015-03-01,2017-06-01,A01B1/02;G06N3/02,A01B1/02,北京市,invention
P4,2015-04-01,2016-06-01,A01B1/02,A01B1/02,上海市,utility_model
P5,2016-01-01,2030-01-01,G06N3/045,G06N3/045,上海市,invention
P6,2016-01-01,,G06N3/04,G06N3/04,上海市,invention
P7,2016-05-01,2017-01-01,C12N15/00,C12N15/00,上海市,utility_model
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "scheme.csv").write_text(SCHEME, encoding="utf-8")
    (tmp_path / "patents.csv").write_text(PATENTS, encoding="utf-8")
    (tmp_path / "dict.csv").write_text(
        "tech_id,ipc_code,decision\n"
        "t1,G06N3/02,auto\n"      # subgroup: covers 3/02, 3/04, 3/045, 3/08 - not 3/10
        "t2,C12N,accepted\n"      # subclass
        "t3,H01L21/00,rejected\n",  # rejected: not used
        encoding="utf-8",
    )
    return {"dir": tmp_path, "scheme": tmp_path / "scheme.csv",
            "patents": tmp_path / "patents.csv", "dict": tmp_path / "dict.csv"}


def _run(files, name="s.csv", **kw):
    out = files["dir"] / name
    kw.setdefault("ipc", files["scheme"])
    kw.setdefault("reference", (2015, 2016))
    kw.setdefault("end_year", 2022)
    rec = run_breakthrough(files["patents"], dictionary=files["dict"], out=out, **kw)
    return rec, pd.read_csv(out)


def _k(t, city, year, col="k_raw"):
    return t.loc[(t["city"] == city) & (t["year"] == year), col].iloc[0]


def test_subtree_coverage_and_counting(files):
    rec, t = _run(files)
    # 北京市 2015: P1 (3/045 under 3/02), P3 (3/02 itself); not P2 (3/10 is outside 3/02's subtree;
    # H01L21/02 only in a rejected dictionary row)
    assert _k(t, "北京市", 2015) == 2
    # 上海市 2016: P5 granted after T, P6 not granted, P7 C12N15/00 in subclass C12N -> 1
    assert _k(t, "上海市", 2016) == 1
    assert _k(t, "上海市", 2015) == 0
    assert list(t.columns) == ["city", "year", "k_raw", "lag_share_cum", "k_adj", "sicoughs"]
    assert sorted(set(t["year"])) == list(range(2015, 2023))
    ok = t["k_adj"].notna()
    assert t.loc[ok, "sicoughs"].tolist() == pytest.approx(t.loc[ok, "k_adj"].map(math.log1p).tolist())
    assert t.loc[~ok, "year"].unique().tolist() == [2022]  # T_0 = 0: no grant seen in year 0
    assert rec["counts"]["core_granted_by_end_year"] == 3


def test_cover_table_levels():
    h = Hierarchy.from_scheme(pd.read_csv(pd.io.common.StringIO(SCHEME)).fillna(""))
    c = cover_table(["G06N3/02", "C12N", "A01B1/00", "H"], h)
    got = {(r.level, r.key) for r in c.itertuples()}
    assert ("code", "G06N3/045") in got and ("code", "G06N3/08") in got
    assert ("code", "G06N3/10") not in got
    assert ("subclass", "C12N") in got and ("main_group", "A01B1/00") in got
    assert ("section", "H") in got


def test_main_only(files):
    _, t = _run(files, main_only=True)
    # P3's main symbol is A01B1/02 (not covered) -> only P1 counts in 北京市 2015
    assert _k(t, "北京市", 2015) == 1


def test_end_year_limits_grants(files):
    _, t = _run(files, end_year=2016, reference=(2015, 2015), name="e.csv")
    # granted by 2016 only: P1 (北京市 2015)
    assert _k(t, "北京市", 2015) == 1
    assert set(t["year"]) == {2015, 2016}


def test_eq5_end_to_end(files):
    # lags among reference grants (2015-2016, granted by 2022): P1 1, P2 1, P3 2, P4 1, P7 1
    # -> T_1 = 4/5, T_2 = 1/5. adjust_from = 2017 by default; with adjust_from=2015:
    rec, t = _run(files, adjust_from=2015, lag_table=files["dir"] / "lags.csv")
    lags = pd.read_csv(files["dir"] / "lags.csv")
    assert lags["share"].tolist() == pytest.approx([0.0, 0.8, 0.2])
    assert lags["n"].tolist() == [0, 4, 1]
    # 2015 and 2016: T - t >= 2 -> denominator 1; 2021: T_0 + T_1 = .8; 2022: T_0 = 0
    assert _k(t, "北京市", 2021, "lag_share_cum") == pytest.approx(0.8)
    assert math.isnan(_k(t, "北京市", 2022, "k_adj"))
    assert rec["counts"]["years_with_zero_denominator"] == [2022]
    _, t2 = _run(files, name="t2.csv")  # paper default: adjust from 2017
    assert _k(t2, "北京市", 2015, "lag_share_cum") == 1.0


def test_lag_by_type_and_section(files):
    rec, t = _run(files, lag_by="type", lag_table=files["dir"] / "lt.csv", adjust_from=2015)
    lt = pd.read_csv(files["dir"] / "lt.csv")
    assert {"share_invention", "share_utility_model"} <= set(lt.columns)
    # inventions: P1 1, P2 1, P3 2 -> T_1 = 2/3; utility models: P4 1, P7 1 -> T_1 = 1
    assert lt["share_invention"].tolist()[:3] == pytest.approx([0, 2 / 3, 1 / 3])
    assert lt["share_utility_model"].tolist()[:2] == pytest.approx([0, 1])
    assert rec["options"]["lag_by"] == "type"
    _, _ = _run(files, lag_by="section", lag_table=files["dir"] / "ls.csv", name="sec.csv")
    ls = pd.read_csv(files["dir"] / "ls.csv")
    assert {"share_A", "share_G", "share_C"} <= set(ls.columns)


def test_lag_sample_core_and_years(files):
    rec, t = _run(files, lag_sample="core", years="2015-2017", lag_table=files["dir"] / "lc.csv")
    lc = pd.read_csv(files["dir"] / "lc.csv")
    # core reference grants: P1 (lag 1), P3 (lag 2), P7 (lag 1)
    assert lc["share"].tolist() == pytest.approx([0, 2 / 3, 1 / 3])
    assert sorted(set(t["year"])) == [2015, 2016, 2017]
    _, t15 = _run(files, years="2015-2015", name="y15.csv")  # counts after the years dropped
    assert set(t15["year"]) == {2015} and _k(t15, "北京市", 2015) == 2
    assert rec["options"]["lag_sample"] == "core" and rec["options"]["years"] == [2015, 2017]


def test_bootstrap_is_deterministic_with_a_seed(files):
    _, a = _run(files, bootstrap=199, seed=3, adjust_from=2015, name="a.csv")
    _, b = _run(files, bootstrap=199, seed=3, adjust_from=2015, name="b.csv")
    pd.testing.assert_frame_equal(a, b)
    assert (files["dir"] / "a.csv").read_bytes() == (files["dir"] / "b.csv").read_bytes()
    assert {"k_adj_lo", "k_adj_hi"} <= set(a.columns)
    row = a[(a["city"] == "北京市") & (a["year"] == 2015)].iloc[0]
    assert row["k_adj_lo"] <= row["k_adj"] <= row["k_adj_hi"]
    _, c = _run(files, bootstrap=199, seed=4, adjust_from=2015, name="c.csv")
    assert (c["k_adj_hi"] >= c["k_adj_lo"]).all()


def test_reruns_are_byte_identical_with_provenance_and_plots(files):
    d = files["dir"]
    _run(files, name="r1.csv", plots=d / "p1", lag_table=d / "l1.csv")
    _run(files, name="r2.csv", plots=d / "p2", lag_table=d / "l2.csv")
    assert (d / "r1.csv").read_bytes() == (d / "r2.csv").read_bytes()
    for f in ("lag_distribution.png", "raw_vs_adjusted.png"):
        assert (d / "p1" / f).read_bytes() == (d / "p2" / f).read_bytes()
        assert (d / "p1" / f).stat().st_size > 1000
    _run(files, name="v1.csv", plots=d / "v1", plot_format="svg")
    _run(files, name="v2.csv", plots=d / "v2", plot_format="svg")
    assert (d / "v1" / "lag_distribution.svg").read_bytes() == (d / "v2" / "lag_distribution.svg").read_bytes()
    meta = json.loads((d / "r1.meta.json").read_text(encoding="utf-8"))
    for key in ("reference", "lag_unit", "lag_method", "lag_by", "ipc_counted", "end_year",
                "boundaries", "adjust_from"):
        assert key in meta["options"]
    assert meta["options"]["ipc_counted"] == "any"
    assert meta["inputs"]["patents"]["sha256"]
    assert meta["counts"]["rows_read"] == 7


def test_dictionary_errors_name_file_row_column(tmp_path, files):
    bad = tmp_path / "bad.csv"
    bad.write_text("tech_id,ipc_code\nt1,G06N3/02\nt2,not-a-code\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_dictionary(bad)
    assert str(e.value).startswith(f"{bad}, row 3, column 'ipc_code'")
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("tech_id,code\nt1,G06N\n", encoding="utf-8")
    with pytest.raises(InputError, match="ipc_code"):
        read_dictionary(nocol)


def test_option_errors(files):
    with pytest.raises(InputError, match="--lag-by"):
        _run(files, lag_by="field")
    with pytest.raises(InputError, match="ends after --end-year"):
        _run(files, reference=(2015, 2023))
    with pytest.raises(InputError, match="FIRST-LAST"):
        _run(files, reference="2015")


def test_command_line(files, capsys):
    d = files["dir"]
    rc = main(["breakthrough", str(files["patents"]), "--dictionary", str(files["dict"]),
               "--out", str(d / "cli.csv"), "--ipc", str(files["scheme"]),
               "--reference", "2015-2016", "--lag-method", "kaplan_meier",
               "--lag-table", str(d / "cli_lags.csv")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "read 7 rows; rejected 0" in out
    assert pd.read_csv(d / "cli.csv").shape[0] == 16
    rc = main(["breakthrough", str(d / "missing.csv"), "--dictionary", str(files["dict"]),
               "--out", str(d / "x.csv")])
    assert rc == 2
    assert "missing.csv: file not found" in capsys.readouterr().err


# --------------------------------------------------------------------------- output sets (17.9)
# A failing --plots leaves the last run's files as they were; the meta, written last, tells a
# table from another run.
def _run_set(files, **kw):
    out = files["dir"] / "s.csv"
    run_breakthrough(files["patents"], dictionary=files["dict"], out=out, ipc=files["scheme"],
                     reference=(2015, 2016), lag_table=files["dir"] / "lags.csv", **kw)
    return out


def test_failing_plots_leave_the_previous_set_whole(files: dict[str, Path]) -> None:
    out = _run_set(files, end_year=2022)
    before = {p.name: p.read_bytes() for p in files["dir"].iterdir() if p.name.startswith(("s.", "lags"))}
    blocker = files["dir"] / "plots"
    blocker.write_text("a file where the plots folder should go", encoding="utf-8")
    with pytest.raises((CoretechError, OSError)):
        _run_set(files, end_year=2021, plots=blocker)
    after = {p.name: p.read_bytes() for p in files["dir"].iterdir() if p.name.startswith(("s.", "lags"))}
    assert after == before
    rec = check_output_set(out)
    assert rec["options"]["end_year"] == 2022
    assert set(rec["output_sha256"]) == {"s.csv", "s.rejects.csv", "s.national.csv", "lags.csv"}


def test_a_table_from_another_run_is_detected(files: dict[str, Path]) -> None:
    out = _run_set(files, end_year=2022)
    check_output_set(out)
    good = out.read_bytes()
    # what a kill between the table and its meta leaves: a new table beside the old meta
    out.write_text(out.read_text(encoding="utf-8").replace("2015", "2014", 1), encoding="utf-8")
    with pytest.raises(InputError, match="differs from the file its meta describes"):
        check_output_set(out)
    out.write_bytes(good)
    check_output_set(out)
    (files["dir"] / "s.national.csv").unlink()
    with pytest.raises(InputError, match="missing"):
        check_output_set(out)
