"""Identification and first-stage statistics with two endogenous regressors (the Card oracles
have one): Kleibergen-Paap and Cragg-Donald against linearmodels, Sanderson-Windmeijer and
Angrist-Pischke F against their textbook definitions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from coretech.models.iv import iv_gmm

ENDOG, INSTR = ["x", "x2"], ["z1", "z2", "z3"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    n = 400
    z1, z2, z3, w, v1, v2 = rng.normal(size=(6, n))
    x = 0.8 * z1 + 0.4 * z2 + 0.3 * w + v1
    x2 = 0.5 * z2 + 0.6 * z3 + 0.4 * v1 + v2
    y = 1.5 * x - x2 + 0.5 * w + 0.6 * v1 + rng.normal(size=n) * (1 + 0.5 * np.abs(w))
    return pd.DataFrame({"y": y, "x": x, "x2": x2, "z1": z1, "z2": z2, "z3": z3, "w": w,
                         "g": np.arange(n) // 8})


@pytest.mark.parametrize(("cov", "family"), [("unadjusted", "unadjusted"), ("robust", "robust"),
                                             ("cluster", "clustered")])
def test_kleibergen_paap_and_cragg_donald_equal_linearmodels(data, cov, family):
    from linearmodels.iv.common import cragg_donald_f, kleibergen_paap, kleibergen_paap_f

    r = iv_gmm(data, "y", ENDOG, INSTR, exog=["w"], cov=cov, cluster="g" if cov == "cluster" else None,
               estimator="2sls")
    g = r.diagnostics
    n = len(data)
    ex = np.column_stack([data.w, np.ones(n)])
    en, ins = data[ENDOG].to_numpy(), data[INSTR].to_numpy()
    cfg = {"clusters": pd.factorize(data.g)[0]} if cov == "cluster" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = kleibergen_paap(en, ins, ex, cov_type=family, cov_config=cfg)
        f = kleibergen_paap_f(en, ins, ex, cov_type=family, cov_config=cfg)
        cd = cragg_donald_f(en, ins, ex)
    assert g["kp_lm"] == pytest.approx(lm.stat, rel=1e-9)
    assert g["kp_lm_df"] == 3 - 2 + 1
    assert g["kp_f"] == pytest.approx(f, rel=1e-9)
    assert g["cd_f"] == pytest.approx(cd, rel=1e-9)


def _conditional_f(data, j, fitted):
    """Sanderson-Windmeijer (fitted=False) / Angrist-Pischke (fitted=True) F, homoskedastic:
    x_j on the other endogenous regressor (instrumented) and w, residual on all instruments,
    F of the excluded ones on (L1 - K1 + 1, N - L)."""
    n = len(data)
    z = np.column_stack([data[INSTR], data.w, np.ones(n)])
    other = [e for e in ENDOG if e != ENDOG[j]][0]
    xo = np.column_stack([data[other], data.w, np.ones(n)])
    xo_hat = z @ np.linalg.lstsq(z, xo, rcond=None)[0]
    delta = np.linalg.lstsq(xo_hat, data[ENDOG[j]], rcond=None)[0]
    e = data[ENDOG[j]].to_numpy() - (xo_hat if fitted else xo) @ delta
    e_z = e - z @ np.linalg.lstsq(z, e, rcond=None)[0]
    zr = np.column_stack([data.w, np.ones(n)])
    e_r = e - zr @ np.linalg.lstsq(zr, e, rcond=None)[0]
    df1, df2 = 3 - 2 + 1, n - z.shape[1]
    return ((e_r @ e_r - e_z @ e_z) / df1) / ((e_z @ e_z) / df2)


def test_sanderson_windmeijer_and_angrist_pischke_by_definition(data):
    fs = iv_gmm(data, "y", ENDOG, INSTR, exog=["w"], cov="unadjusted", estimator="2sls").diagnostics["first_stage"]
    for j, name in enumerate(ENDOG):
        assert fs[name]["sw_f"] == pytest.approx(_conditional_f(data, j, fitted=False), rel=1e-9)
        assert fs[name]["ap_f"] == pytest.approx(_conditional_f(data, j, fitted=True), rel=1e-9)
        assert fs[name]["sw_df"] == (2, len(data) - 5)
