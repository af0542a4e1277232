"""PCA composite (METHODS.md §4 robustness): eigenvalue rule, weights, sign convention."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.indicators import PCAIndex, pca_index


def _data(seed: int = 1, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    g = rng.normal(size=n)
    return pd.DataFrame({
        "a": f + 0.3 * rng.normal(size=n),
        "b": 2 * f + 0.3 * rng.normal(size=n) + 10,
        "c": -f + 0.3 * rng.normal(size=n),      # a negative indicator
        "d": g + 0.2 * rng.normal(size=n),
        "e": g + 0.2 * rng.normal(size=n),
    })


def test_two_by_two_by_hand():
    # two indicators with correlation rho: eigenvalues 1 +- rho, first eigenvector (1,1)/sqrt2
    X = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [1.0, 3, 2, 4]})
    rho = np.corrcoef(X["x"], X["y"])[0, 1]
    m = PCAIndex().fit(X)
    assert m.explained_variance_.tolist() == pytest.approx([1 + rho, 1 - rho])
    assert m.n_components_ == 1 and m.weights_.tolist() == pytest.approx([1.0])
    assert m.components_.loc["PC1"].tolist() == pytest.approx([2 ** -0.5, 2 ** -0.5])
    z = (X - X.mean()) / X.std(ddof=1)
    assert m.transform(X).tolist() == pytest.approx(((z["x"] + z["y"]) / 2 ** 0.5).tolist())


def test_kaiser_rule_weights_and_sign():
    X = _data()
    m = PCAIndex({"c": -1}).fit(X)
    ev = m.explained_variance_
    assert ev.sum() == pytest.approx(5.0)  # correlation matrix: trace = number of indicators
    corr_ev = np.sort(np.linalg.eigvalsh(np.corrcoef(X.to_numpy().T)))[::-1]
    assert ev.tolist() == pytest.approx(corr_ev.tolist())
    assert m.n_components_ == int((corr_ev > 1).sum()) == 2
    assert m.weights_.sum() == pytest.approx(1.0)
    assert m.weights_.tolist() == pytest.approx((corr_ev[:2] / corr_ev[:2].sum()).tolist())
    assert (m.components_.sum(axis=1) > 0).all()
    # with c reversed, all three f-indicators load positively on the f-component
    pc_f = m.components_.loc[:, ["a", "b", "c"]].abs().sum(axis=1).idxmax()
    assert (m.components_.loc[pc_f, ["a", "b", "c"]] > 0).all()
    s = pca_index(X, {"c": -1})
    assert s.name == "Nycives_pca" and s.corr(X["a"]) > 0.5
    w_all = PCAIndex({"c": -1}, weights="all").fit(X).weights_
    assert w_all.tolist() == pytest.approx((corr_ev[:2] / 5).tolist())


def test_index_invariant_to_positive_affine_rescaling():
    X = _data()
    Y = X.assign(b=X["b"] * 1000 - 7)
    assert pca_index(X, {"c": -1}).tolist() == pytest.approx(pca_index(Y, {"c": -1}).tolist())


def test_bad_input():
    X = _data()
    with pytest.raises(InputError, match="constant"):
        pca_index(X.assign(a=1.0))
    with pytest.raises(InputError, match="row 4"):
        pca_index(X.assign(a=[1.0, 2, np.nan] + [0.0] * (len(X) - 3)))
    with pytest.raises(InputError, match="not in the data"):
        pca_index(X, {"zz": -1})
    with pytest.raises(InputError, match="direction"):
        pca_index(X, {"a": 2})
