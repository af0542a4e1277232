"""Prior concordances (issue 13, class 4): reading, similarity, support, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from scheme_fixture import chinese_scheme

from coretech.cli import main
from coretech.errors import InputError
from coretech.ipc.scheme import write_scheme
from coretech.matching.matcher import Matcher
from coretech.matching.prior import Prior, read_prior


@pytest.fixture(scope="module")
def zh_matcher() -> Matcher:
    # the shipped calibration gives a prior's support a positive weight; a fixed one here keeps
    # the test about the mechanism, not about fitted numbers
    cal = {"features": ["spec", "prior", "score_rel"], "coef": [2.0, 6.0, 1.0],
           "intercept": -3.0, "floor": 0.0}
    return Matcher(cache_dir=False, term_min_df=1, calibration_model=cal).fit(chinese_scheme())


def test_read_prior_jsonl_and_tables(tmp_path: Path) -> None:
    j = tmp_path / "old.jsonl"
    j.write_text(json.dumps({"name": "水力机械", "patterns": ["F16C33*", "H01M"],
                             "exclude": ["F16C33/62"], "keywords": ["水轮机"]},
                            ensure_ascii=False) + "\n", encoding="utf-8")
    p = read_prior(j)
    assert p.to_dict("records") == [{"name": "水力机械", "patterns": ("F16C33/00*", "H01M"),
                                     "exclude": ("F16C33/62",), "source": "old"}]
    c = tmp_path / "conc.csv"
    c.write_text("name_zh,name_en,pattern,source\n锂电池,lithium battery,H01M10*,CNIPA\n"
                 "锂电池,lithium battery,H01M4*,CNIPA\n", encoding="utf-8")
    t = read_prior(c)
    assert set(t["name"]) == {"锂电池", "lithium battery"}
    assert t.loc[t["name"] == "锂电池", "patterns"].item() == ("H01M10/00*", "H01M4/00*")
    assert set(t["source"]) == {"CNIPA"}
    s = tmp_path / "semi.csv"
    s.write_text("name,patterns\nA,G06N*;H01M10*\n", encoding="utf-8")
    assert read_prior(s)["patterns"].item() == ("G06N*", "H01M10/00*")


def test_bad_prior_files_name_the_place(tmp_path: Path) -> None:
    b = tmp_path / "bad.csv"
    b.write_text("name,pattern\nA,G06N*\nB,not-a-code\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv.*row 3.*pattern"):
        read_prior(b)
    n = tmp_path / "noname.csv"
    n.write_text("title,pattern\nA,G06N*\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs a name column"):
        read_prior(n)
    with pytest.raises(InputError, match="not found"):
        read_prior(tmp_path / "missing.csv")


def test_similar_name_inherits_the_prior_patterns(zh_matcher: Matcher) -> None:
    """Class 4: the names say nothing of bearings; the prior does."""
    prior = Prior(pd.DataFrame([
        {"name": "高速铁路轮对", "patterns": ("F16C33/00*",), "exclude": (), "source": "old"},
        {"name": "人工智能芯片", "patterns": ("G06N3/00*",), "exclude": (), "source": "old"},
    ]))
    cat = pd.DataFrame({"tech_id": ["T"], "name_zh": ["高速铁路轮对技术"]})
    without = zh_matcher.match(cat)
    assert "F16C33/00" not in set(without.candidates["ipc_code"])
    res = zh_matcher.match(cat, prior=prior)
    row = res.candidates[res.candidates["ipc_code"] == "F16C33/00"].iloc[0]
    assert row["method"].startswith("prior+")
    assert "prior '高速铁路轮对' (old, similarity" in row["evidence"]
    assert "F16C33/00*" in row["evidence"]
    assert row["rank"] == 1 and row["decision"] == "auto"
    # a dissimilar prior name proposes nothing
    assert not res.candidates["evidence"].str.contains("人工智能芯片").any()


def test_prior_exclusions_and_similarity(zh_matcher: Matcher) -> None:
    tok = zh_matcher.indexes_["zh"].tokenizer()
    prior = Prior(pd.DataFrame([
        {"name": "锂离子电池", "patterns": ("H01M*",), "exclude": ("H01M10/00*",),
         "source": "p"}]))
    s = prior.similarity(["锂离子电池", "溅射靶材"], tok)
    assert s[0, 0] == pytest.approx(1.0, abs=1e-6) and s[1, 0] < 0.1
    res = zh_matcher.match(pd.DataFrame({"tech_id": ["T"], "name_zh": ["锂离子电池"]}),
                           prior=prior)
    c = res.candidates.set_index("ipc_code")
    assert c.loc["H01M", "method"].startswith("prior+")
    assert not c.loc["H01M10/0525", "method"].startswith("prior+")  # excluded subtree


def test_cli_prior_option(tmp_path: Path) -> None:
    write_scheme(chinese_scheme(), tmp_path / "ipc.parquet")
    cat = tmp_path / "cat.csv"
    cat.write_text("tech_id,name_zh\nT1,高速铁路轮对技术\n", encoding="utf-8")
    prior = tmp_path / "earlier.csv"
    prior.write_text("name,pattern\n高速铁路轮对,F16C33*\n", encoding="utf-8")
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps({"features": ["spec", "prior"], "coef": [2.0, 6.0],
                               "intercept": -2.0, "floor": 0.0}))
    args = ["match", str(cat), "--ipc", str(tmp_path / "ipc.parquet"), "--out",
            str(tmp_path / "d.csv"), "--candidates", str(tmp_path / "c.csv"),
            "--no-cache", "--calibration", str(cal), "--prior", str(prior)]
    assert main(args) == 0
    d = pd.read_csv(tmp_path / "d.csv", dtype=str)
    assert "F16C33/00" in set(d["ipc_code"])
    assert d.loc[d["ipc_code"] == "F16C33/00", "evidence"].str.contains("earlier").all()
    meta = json.loads((tmp_path / "d.meta.json").read_text())
    assert len(meta["inputs"]["prior_1"]["sha256"]) == 64
    assert meta["options"]["calibration_coef"]["coef"] == [2.0, 6.0]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,pattern\nx,zz\n", encoding="utf-8")
    assert main([*args[:-1], str(bad)]) == 2
