"""The estimation core of Stata's ``ivreg2`` (Baum, Schaffer & Stillman), METHODS.md section 7
(Table 4), as it is coded in ``ivreghdfe.ado`` (sergiocorreia/ivreghdfe, which carries ivreg2
4.1.11 verbatim; the lines quoted below are from ``src/ivreghdfe.ado`` at commit
1361b8a34e6e87e96815a8c6005df31063c1637e).

Notation (ivreg2's): X = [X1 X2] regressors (X1 endogenous, K1 columns; X2 included exogenous,
with the constant last when there is one), Z = [Z1 X2] instruments (Z1 excluded, L1 columns),
K = cols(X), L = cols(Z), Q_AB = A'B/N. ``dofminus`` (d) is ivreg2's large-sample adjustment,
``sdofminus`` (s) its small-sample one.

- S, the covariance of the moment conditions (Mata ``m_omega``): homoskedastic
  S = sigma^2 Q_ZZ with sigma^2 = e'e/(N - d); robust S = sum e_i^2 z_i z_i' / (N - d);
  cluster S = sum_g (Z_g'e_g)(Z_g'e_g)' / N (no d: "dofminus does NOT appear in cluster VCV
  scaling"); two-way S = S_1 + S_2 - S_12 (Cameron, Gelbach & Miller).
- 2SLS (``s_gmm1s``/``s_iegmm``): b = (Q_XZ Q_ZZ^-1 Q_ZX)^-1 Q_XZ Q_ZZ^-1 Q_Zy; homoskedastic
  V = sigma^2 (Q_XZ Q_ZZ^-1 Q_ZX)^-1 / N; otherwise V = A S A' / N with
  A = (Q_XZ Q_ZZ^-1 Q_ZX)^-1 Q_XZ Q_ZZ^-1; J = Sargan (homoskedastic) or Hansen's J of the
  two-step efficient GMM with that S.
- two-step GMM (``s_egmm``): S1 from the 2SLS residuals (homoskedastic S1 when no robust or
  cluster option: efficient GMM under homoskedasticity = 2SLS), b = (Q_XZ S1^-1 Q_ZX)^-1
  Q_XZ S1^-1 Q_Zy, V = (Q_XZ S1^-1 Q_ZX)^-1 / N, J = N g'S1^-1 g, g = Z'e/N.
- LIML (``s_liml``): lambda = min eig of Q_WW^-1/2 Q_WW1 Q_WW^-1/2 with W = [y X1] residuals on
  Z (Q_WW) and on X2 (Q_WW1); k = lambda (1 if exactly identified); b = (Q_XhXh)^-1
  ((1-k) Q_Xy + k Q_XZ Q_ZZ^-1 Q_Zy), Q_XhXh = (1-k) Q_XX + k Q_XZ Q_ZZ^-1 Q_ZX; homoskedastic
  V = sigma^2 Q_XhXh^-1 / N, else V = B' S B / N with B = Q_ZZ^-1 Q_ZX Q_XhXh^-1;
  Anderson-Rubin overidentification (N - d) ln(lambda), linearised (N - d)(lambda - 1).
- ``small`` ("RSS, counts, dofs, F-stat, small-sample corrections" block):
  V x (N - d)/(N - K - d - s) without cluster, V x (N - 1)/(N - K - s) x M/(M - 1) with
  cluster (M = the smaller number of clusters); sigma^2 = RSS/(N - K - d - s); t and F on
  df_r = N - K - d - s, or M - 1 with cluster.
- model F (Wald test of all regressors but the constant, Fdf1 = K - cons): without ``small``
  F = W/Fdf1 x df_r/(N - d), with cluster F = W/Fdf1 x (M-1)/M x (N - K - s)/(N - 1);
  with ``small`` F = W/Fdf1.
- R^2: centred 1 - RSS/TSS with a constant, else uncentred 1 - RSS/y'y; adjusted
  1 - (1 - R^2)(N - 1 or N)/(N - K - d - s).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, stats

from coretech.models.covariance import cluster_meat

ESTIMATORS = ("gmm2s", "2sls", "liml")
COVS = ("unadjusted", "robust", "cluster")


@dataclass
class Moments:
    """Cross-products of one IV problem (ivreg2's ``s_crossprods``) and its covariance setup."""

    y: np.ndarray
    x1: np.ndarray
    x2: np.ndarray
    z1: np.ndarray
    cov: str = "unadjusted"
    clusters: list[np.ndarray] = field(default_factory=list)
    dofminus: int = 0

    def __post_init__(self) -> None:
        self.n = len(self.y)
        self.x = np.column_stack([self.x1, self.x2])
        self.z = np.column_stack([self.z1, self.x2])
        n = self.n
        self.qzz = self.z.T @ self.z / n
        self.qxz = self.x.T @ self.z / n
        self.qzy = self.z.T @ self.y / n
        self.qzz_inv = np.linalg.inv(self.qzz)

    @property
    def n_clusters(self) -> int | None:
        if not self.clusters:
            return None
        return min(int(c.max()) + 1 for c in self.clusters[:2])

    def omega(self, e: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """S of the moment conditions z_i e_ij (m_omega); ``e`` is (N,) or (N, m)."""
        z = self.z if z is None else z
        e2 = e.reshape(self.n, -1)
        n, d = self.n, self.dofminus
        if self.cov == "unadjusted":
            sig = e2.T @ e2 / (n - d)
            return np.kron(sig, z.T @ z / n)
        scores = np.concatenate([z * e2[:, [j]] for j in range(e2.shape[1])], axis=1)
        if self.cov == "robust":
            return scores.T @ scores / (n - d)
        return multiway_meat(scores, self.clusters) / n


def multiway_meat(scores: np.ndarray, clusters: list[np.ndarray]) -> np.ndarray:
    """sum_g s_g s_g' (one-way) or the Cameron-Gelbach-Miller two-way S_1 + S_2 - S_12."""
    if len(clusters) == 1:
        return cluster_meat(scores, clusters[0])
    c1, c2 = clusters
    both = c1.astype(np.int64) * (int(c2.max()) + 1) + c2
    _, c12 = np.unique(both, return_inverse=True)
    return cluster_meat(scores, c1) + cluster_meat(scores, c2) - cluster_meat(scores, c12)


def _efficient(m: Moments, s: np.ndarray, z: np.ndarray | None = None, x: np.ndarray | None = None):
    """Efficient GMM with weight S^-1: (b, (Q_XZ S^-1 Q_ZX)^-1, residuals, J)."""
    z = m.z if z is None else z
    x = m.x if x is None else x
    n = m.n
    qxz, qzy = x.T @ z / n, z.T @ m.y / n
    aux1 = np.linalg.solve(s, qxz.T)
    aux3 = qxz @ aux1
    aux3 = (aux3 + aux3.T) / 2
    b = np.linalg.solve(aux3, qxz @ np.linalg.solve(s, qzy))
    e = m.y - x @ b
    g = z.T @ e / n
    j = float(n * g @ np.linalg.solve(s, g)) if z.shape[1] > x.shape[1] else 0.0
    return b, np.linalg.inv(aux3), e, j


def tsls(m: Moments) -> np.ndarray:
    aux3 = m.qxz @ m.qzz_inv @ m.qxz.T
    return np.linalg.solve(aux3, m.qxz @ m.qzz_inv @ m.qzy)


def estimate(m: Moments, estimator: str) -> dict:
    """b, the large-sample V, residuals, S, J and (LIML) lambda, as ivreg2 computes them."""
    n, d = m.n, m.dofminus
    overid = m.z.shape[1] > m.x.shape[1]
    out: dict = {}
    if estimator == "liml":
        b, lam, k, qxhxh = _liml(m)
        e = m.y - m.x @ b
        sigmasq = float(e @ e) / (n - d)
        s = m.omega(e)
        if m.cov == "unadjusted":
            v = sigmasq * np.linalg.inv(qxhxh) / n
            g = m.z.T @ e / n
            j = float(n * g @ np.linalg.solve(s, g)) if overid else 0.0
        else:
            aux5 = np.linalg.solve(qxhxh, m.qxz)
            aux9 = np.linalg.solve(m.qzz, aux5.T)
            v = aux9.T @ s @ aux9 / n
            j = _efficient(m, s)[3] if overid else 0.0
        out.update(lam=lam, kclass=k, arubin=(n - d) * np.log(lam), arubin_lin=(n - d) * (lam - 1))
    else:
        b = tsls(m)
        e = m.y - m.x @ b
        s = m.omega(e)
        if estimator == "gmm2s":
            b, inv_aux, e, j = _efficient(m, s)
            v = inv_aux / n
        elif m.cov == "unadjusted":
            aux3 = m.qxz @ m.qzz_inv @ m.qxz.T
            v = float(e @ e) / (n - d) * np.linalg.inv(aux3) / n
            g = m.z.T @ e / n
            j = float(n * g @ np.linalg.solve(s, g)) if overid else 0.0
        else:
            aux3 = m.qxz @ m.qzz_inv @ m.qxz.T
            a = np.linalg.solve(aux3, m.qxz @ m.qzz_inv)
            v = a @ s @ a.T / n
            j = _efficient(m, s)[3] if overid else 0.0
    v = (v + v.T) / 2
    out.update(b=b, v=v, resid=e, s=s, j=j, rss=float(e @ e))
    return out


def _liml(m: Moments):
    n = m.n
    yy = np.column_stack([m.y, m.x1])
    # residual cross-products (numerically closer to Stata's quad-precision quadcross than
    # Q_YY - Q_YZ Q_ZZ^-1 Q_ZY); lambda = min generalised eigenvalue of (Q_WW1, Q_WW)
    ez = yy - m.z @ np.linalg.lstsq(m.z, yy, rcond=None)[0]
    e2 = yy - m.x2 @ np.linalg.lstsq(m.x2, yy, rcond=None)[0] if m.x2.shape[1] else yy
    qww, qww1 = ez.T @ ez / n, e2.T @ e2 / n
    lam = float(linalg.eigh((qww1 + qww1.T) / 2, (qww + qww.T) / 2, eigvals_only=True).min())
    if m.z.shape[1] == m.x.shape[1]:
        lam = 1.0
    k = lam
    # k-class with the residual form X'(I - k M_Z)X, M_Z X by least squares
    mzx = m.x - m.z @ np.linalg.lstsq(m.z, m.x, rcond=None)[0]
    mzy = ez[:, 0]
    qxh = (m.x.T @ m.x - k * mzx.T @ mzx) / n
    qxh = (qxh + qxh.T) / 2
    b = np.linalg.solve(qxh, (m.x.T @ m.y - k * mzx.T @ mzy) / n)
    return b, lam, k, qxh


def small_sample(res: dict, m: Moments, *, small: bool, sdofminus: int, cons: bool) -> dict:
    """ivreg2's counts, df_r, small-sample V, sigma, R^2 and model F (see module docstring)."""
    n, d, s = m.n, m.dofminus, sdofminus
    k = m.x.shape[1]
    mcl = m.n_clusters
    v = res["v"]
    rss = res["rss"]
    if small:
        if mcl is None:
            v = v * (n - d) / (n - k - d - s)
        else:
            v = v * (n - 1) / (n - k - s) * mcl / (mcl - 1)
        sigmasq = rss / (n - k - d - s)
    else:
        sigmasq = rss / (n - d)
    df_r = (n - k - d - s) if mcl is None else mcl - 1
    yy = float(m.y @ m.y)
    yc = m.y - m.y.mean()
    yyc = float(yc @ yc)
    r2u, r2c = 1 - rss / yy, 1 - rss / yyc
    r2 = r2c if cons else r2u
    r2_a = 1 - (1 - r2) * ((n - 1) if cons else n) / (n - k - d - s)
    slopes = list(range(k - 1)) if cons else list(range(k))
    fdf1 = len(slopes)
    f = fp = float("nan")
    if fdf1:
        bb = res["b"][slopes]
        w = float(bb @ np.linalg.solve(v[np.ix_(slopes, slopes)], bb))
        if small:
            f = w / fdf1
        elif mcl is None:
            f = w / fdf1 * df_r / (n - d)
        else:
            f = w / fdf1 * (mcl - 1) / mcl * (n - k - s) / (n - 1)
        fp = float(stats.f.sf(f, fdf1, df_r))
    return {**res, "v": v, "sigmasq": sigmasq, "rmse": float(np.sqrt(sigmasq)), "df_r": df_r,
            "r2": r2, "r2u": r2u, "r2c": r2c, "r2_a": r2_a, "F": f, "F_p": fp,
            "F_df": (fdf1, df_r), "K": k, "L": m.z.shape[1]}


def endogeneity_test(m: Moments, tested: list[int]) -> tuple[float, int, float]:
    """ivreg2's ``endog()`` C statistic (difference-in-Sargan/Hansen), "Endog option" block.

    The tested columns of X1 move to the instruments; the unrestricted model (they are
    exogenous) is fitted by 2SLS (= OLS here when all of X1 is tested), S from its residuals;
    C = J(unrestricted, two-step efficient with S) - J(restricted: the original instruments,
    efficient GMM with the submatrix of that S, ``orthog``'s ``smatrix``). chi2(#tested).
    The same for 2SLS, LIML and two-step GMM (ivreg2's recursive calls reduce to this).
    """
    keep = [i for i in range(m.x1.shape[1]) if i not in tested]
    zu = np.column_stack([m.z1, m.x1[:, tested], m.x2])
    mu = Moments(m.y, m.x1[:, keep], np.column_stack([m.x1[:, tested], m.x2]), m.z1,
                 cov=m.cov, clusters=m.clusters, dofminus=m.dofminus)
    x = np.column_stack([m.x1[:, keep], m.x1[:, tested], m.x2])
    e0 = m.y - x @ tsls(mu)
    su = mu.omega(e0)
    ju = _efficient(mu, su, z=zu, x=x)[3]
    l1, t = m.z1.shape[1], len(tested)
    idx = list(range(l1)) + list(range(l1 + t, zu.shape[1]))
    jr = _efficient(mu, su[np.ix_(idx, idx)], z=zu[:, idx], x=x)[3]
    c = ju - jr
    return float(c), t, float(stats.chi2.sf(c, t))


def orthog_test(m: Moments, res: dict, tested: list[int]) -> tuple[float, int, float]:
    """ivreg2's ``orthog()`` C statistic for the excluded instruments ``tested`` (columns of Z1):
    J of the model minus J of the model without them, efficient GMM with the submatrix of the
    model's S ("orthog option" block: ``smatrix``, which keeps C >= 0). chi2(#tested)."""
    keep = [i for i in range(m.z.shape[1]) if i not in tested]
    jr = _efficient(m, res["s"][np.ix_(keep, keep)], z=m.z[:, keep])[3]
    c = res["j"] - jr
    return float(c), len(tested), float(stats.chi2.sf(c, len(tested)))
