"""Dictionary sensitivity on simulated data with a planted true dictionary.

The simulation plants one technology (T1) whose patents respond to D (Cialomy), four whose
patents do not, and noise candidate codes (low scores) with many patents unrelated to D.
The breakthrough variable is computed by the real breakthrough stage; the sensitivity run must
reproduce it exactly for the dictionary, keep the estimate where the dictionary is unchanged,
drift as noise codes are admitted, and put T1 at the top of the influence table.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from coretech.indicators.breakthrough import run_breakthrough
from coretech.models import twfe
from coretech.models.simulate import sample_cities
from coretech.sensitivity import run_sensitivity
from coretech.sensitivity.variants import Variant, combine, generate

TECHS = {  # tech -> (true main groups, noise main groups)
    "T1": (["A01B1/00", "A01B3/00"], ["C07D201/00"]),
    "T2": (["B01D1/00", "B01D3/00"], ["C07D203/00"]),
    "T3": (["F16C19/00"], ["C07D205/00"]),
    "T4": (["G06N3/00"], ["C07D207/00"]),
    "T5": (["H01M10/00"], ["C07D209/00"]),
}


def _simulate(tmp_path, seed: int = 7):
    rng = np.random.default_rng(seed)
    cities = sample_cities()["city"].tolist()[:40]
    years = np.arange(2008, 2022)
    ce = rng.normal(0, 0.5, len(cities))
    panel = pd.DataFrame([(c, y) for c in cities for y in years], columns=["city", "year"])
    ci = np.repeat(np.arange(len(cities)), len(years))
    yi = np.tile(years - years[0], len(cities))
    panel["Cialomy"] = ce[ci] + 0.05 * yi + rng.normal(0, 0.5, len(panel))
    d = panel["Cialomy"].to_numpy()
    rows = []
    for tech, (true, noise) in TECHS.items():
        for code in true:
            lam = np.exp(1.0 + 0.8 * d) if tech == "T1" else np.full(len(d), np.exp(1.4))
            rows.append((code, rng.poisson(lam)))
        for code in noise:
            rows.append((code, rng.poisson(np.full(len(d), np.exp(2.6)))))
    recs = []
    for code, n in rows:
        sub = code.replace("/00", "/02")
        for i in np.flatnonzero(n):
            for _ in range(int(n[i])):
                app = int(panel["year"].iat[i])
                s = 1 + int(rng.random() < 0.5)
                recs.append((panel["city"].iat[i], f"{app}-03-01", f"{app + s}-06-01", sub))
    pat = pd.DataFrame(recs, columns=["city", "app_date", "grant_date", "ipc"])
    pat.insert(0, "patent_id", [f"P{i:07d}" for i in range(len(pat))])
    pat_path = tmp_path / "patents.csv"
    pat.to_csv(pat_path, index=False)

    dic, cand = [], []
    for tech, (true, noise) in TECHS.items():
        for r, code in enumerate(true, 1):
            dic.append((tech, code, 0.9 - 0.01 * r, r, "auto"))
        for r, code in enumerate(noise, len(true) + 1):
            cand.append((tech, code, 0.2 - 0.01 * r, r, ""))
    cols = ["tech_id", "ipc_code", "score", "rank", "decision"]
    dic_path = tmp_path / "dictionary.csv"
    pd.DataFrame(dic, columns=cols).to_csv(dic_path, index=False)
    cand_path = tmp_path / "candidates.csv"
    pd.DataFrame(dic + cand, columns=cols).to_csv(cand_path, index=False)

    bt = tmp_path / "bt" / "sicoughs.csv"
    run_breakthrough(pat_path, dictionary=dic_path, out=bt, end_year=2022,
                     reference=(2008, 2016), lag_table=tmp_path / "bt" / "lags.csv")
    sic = pd.read_csv(bt)[["city", "year", "sicoughs"]].rename(columns={"sicoughs": "Sicoughs"})
    panel = panel.merge(sic, on=["city", "year"], how="left")
    panel["Nycives"] = 0.5 * panel["Cialomy"] + 0.3 * panel["Sicoughs"] + rng.normal(0, 0.3, len(panel))
    panel_path = tmp_path / "panel.csv"
    panel.to_csv(panel_path, index=False)
    return dict(patents=pat_path, dictionary=dic_path, candidates=cand_path, breakthrough=bt,
                panel=panel_path), panel


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planted")
    files, panel = _simulate(tmp)
    rec = run_sensitivity(**files, out=tmp / "out", targets=("mechanism_a",), n_bootstrap=30,
                          base=tmp, seed=3)
    res = pd.read_csv(tmp / "out" / "sensitivity.csv")
    inf = pd.read_csv(tmp / "out" / "influence.csv")
    return dict(tmp=tmp, files=files, panel=panel, rec=rec, res=res, inf=inf)


def test_dictionary_variant_equals_the_models_coefficient(planted):
    """The all-codes (dictionary) variant reproduces the FE coefficient on the stage's own
    Sicoughs, to the last digits."""
    panel = planted["panel"]
    fit = twfe(panel, "Sicoughs", ["Cialomy"], fe=["city", "year"], cluster="city")
    base = planted["res"].query("kind == 'dictionary'").iloc[0]
    assert base["coef"] == pytest.approx(float(fit.params["Cialomy"]), rel=1e-12)
    assert base["se"] == pytest.approx(float(fit.std_errors["Cialomy"]), rel=1e-10)
    assert base["nobs"] == fit.nobs
    assert base["n_codes"] == 7


def test_stable_around_the_true_dictionary_and_drifts_with_noise(planted):
    res = planted["res"]
    base = res.query("kind == 'dictionary'").iloc[0]
    thr = res.query("kind == 'threshold'").assign(t=lambda d: d["parameter"].astype(float))
    # every threshold between the noise scores (<= 0.19) and the true ones (>= 0.88) keeps
    # exactly the true dictionary: the same estimate
    same = thr[(thr["t"] > 0.2) & (thr["t"] <= 0.88)]
    assert len(same) >= 3
    assert np.allclose(same["coef"], base["coef"], rtol=1e-12)
    # admitting the noise codes (the lowest threshold) pulls the estimate towards zero,
    # outside the dictionary's 95% interval
    low = thr.sort_values("t").iloc[0]
    assert low["n_codes"] == 12
    assert low["coef"] < base["ci_lo"]
    assert 0 <= low["coef"] < 0.6 * base["coef"]


def test_planted_technology_tops_the_influence_table(planted):
    inf = planted["inf"]
    assert inf.iloc[0]["tech_id"] == "T1"
    assert inf.iloc[0]["delta"] < 0
    assert abs(inf.iloc[0]["delta_se"]) > 1.5 * abs(inf.iloc[1]["delta_se"])
    assert sorted(inf["tech_id"]) == sorted(TECHS)


def test_outputs_columns_provenance_and_reading(planted):
    res, tmp = planted["res"], planted["tmp"]
    for col in ["variant", "kind", "parameter", "n_codes", "coef", "se", "ci_lo", "ci_hi", "nobs"]:
        assert col in res.columns
    assert set(res["kind"]) == {"dictionary", "threshold", "topk", "jackknife", "bootstrap"}
    assert (res.query("kind == 'topk'")["parameter"].astype(int).tolist()
            == [1, 2, 3, 5, 10, 20])
    meta = json.loads((tmp / "out" / "sensitivity.meta.json").read_text(encoding="utf-8"))
    assert meta["inputs"]["patents"]["sha256"]
    assert meta["counts"]["variants"] == len(res)
    text = meta["reading"]["mechanism_a"]
    assert "removing T1 alone" in text and "bootstrap" in text
    assert (tmp / "out" / "sensitivity_mechanism_a.png").stat().st_size > 1000


def test_rerun_is_byte_identical(planted, tmp_path):
    files = planted["files"]
    run_sensitivity(**files, out=tmp_path / "again", targets=("mechanism_a",), n_bootstrap=30,
                    base=planted["tmp"], seed=3)
    for name in ["sensitivity.csv", "influence.csv", "sensitivity.meta.json",
                 "sensitivity_mechanism_a.png"]:
        assert (tmp_path / "again" / name).read_bytes() == (planted["tmp"] / "out" / name).read_bytes()


def test_bootstrap_counts_are_unbiased_for_the_dictionary_count():
    """A bootstrap draw weights technology j by its draw count m_j and a patent by the mean
    of m_j over the technologies covering it, so the weights of all-ones give the dictionary."""
    import scipy.sparse as sp

    from coretech.sensitivity.engine import SensitivityRun
    from coretech.sensitivity.profiles import Profiles

    frame = pd.DataFrame({"tech_id": ["a", "a", "b"], "ipc_code": ["A01B1/00", "A01B3/00", "B01D1/00"],
                          "score": [0.9, 0.8, 0.7], "rank": [1, 2, 1],
                          "in_dictionary": [True, True, True], "auto": [True, True, True]})
    from coretech.sensitivity.variants import Candidates

    cands = Candidates(frame)
    # three profiles in one cell: covered by a only (2 patents), by a and b (1), by b (4)
    inc = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=float))
    prof = Profiles(cells=pd.DataFrame({"city": ["x"], "year": [2010]}), cell_of=np.zeros(3, int),
                    weight=np.array([2, 1, 4]), incidence=inc, n_patents=7)
    table = pd.DataFrame({"city": ["x"], "year": [2010], "k_raw": [7], "sicoughs": [np.log(8)]})
    panel = pd.DataFrame({"city": ["x"], "year": [2010], "S": [0.0]})
    shares = {"all": pd.DataFrame({"s": [0], "share": [1.0]})}
    run = SensitivityRun(profiles=prof, candidates=cands, table=table, shares=shares,
                         panel=panel, measured="S", targets=[], end_year=2022, adjust_from=None)
    ones = Variant("b", "bootstrap", "1", cands.base, tech_weight={"a": 1.0, "b": 1.0})
    assert run.counts(ones)[0] == pytest.approx(7.0)
    twice_a = Variant("b", "bootstrap", "2", cands.base, tech_weight={"a": 2.0, "b": 0.0})
    # a-only patents 2 * 2, the shared one (2 + 0) / 2, b-only 0
    assert run.counts(twice_a)[0] == pytest.approx(5.0)
    run.check_base(Variant("dictionary", "dictionary", "", cands.base))


def test_variant_generation_rules():
    dic = pd.DataFrame({"tech_id": ["a", "a", "b"], "ipc_code": ["A01B1/00", "A01B3/00", "B01D1/00"],
                        "score": [0.9, 0.5, 0.7], "rank": [1, 2, 1],
                        "decision": ["auto", "rejected", "added"]})
    cand = pd.DataFrame({"tech_id": ["a", "a", "b", "b"],
                         "ipc_code": ["A01B1/00", "A01B3/00", "B01D3/00", "B01D1/00"],
                         "score": [0.9, 0.5, 0.8, 0.3], "rank": [1, 2, 1, 2],
                         "decision": ["auto", "auto", "auto", ""]})
    c = combine(dic, cand)
    f = c.frame.set_index(["tech_id", "ipc_code"])
    # the rejected row is not in the dictionary; the added one is
    assert not f.loc[("a", "A01B3/00"), "in_dictionary"]
    assert f.loc[("b", "B01D1/00"), "in_dictionary"]
    vs = {v.name: v for v in generate(c, n_bootstrap=2, seed=1)}
    assert vs["dictionary"].member.sum() == 2
    assert vs["top1"].member.sum() == 2  # one per technology
    assert "without a" in vs and "without b" in vs
    # reviewed dictionary: the matcher's own (auto) rows form a variant of their own
    assert vs["auto (before review)"].member.sum() == 3
    with pytest.raises(Exception, match="unknown sensitivity kind"):
        list(generate(c, kinds=("dictionary", "nope")))
