"""ivreg2's identification, weak-instrument and first-stage statistics (METHODS.md section 7,
Table 4), coded from ``src/ivreghdfe.ado`` (ivreg2 4.1.11; commit 1361b8a3) and the
``ranktest`` port in restatr/ivreg2r ``R/diagnostics-id.R``. N, d (``dofminus``),
s (``sdofminus``), L (all instruments, the constant included), L1 excluded, K1 endogenous, M
clusters; X1~ and Z1~ are X1 and Z1 with the included exogenous X2 partialled out.

- Canonical correlations r_1 >= ... of X1~ and Z1~ (``ranktest``). Anderson LM (homoskedastic
  underidentification) = (N - d) r_K1^2, chi2(L1 - K1 + 1).
- Cragg-Donald Wald F = r^2/(1 - r^2) (N - s - L - d)/L1 with r = r_K1 ("scalar `cdf'=..."):
  a homoskedastic statistic, identical whatever the covariance option.
- Kleibergen-Paap rk LM: ranktest's chi2 (score covariance with 1/N) x (N - d)/N, but not
  adjusted with a cluster option ("No dofminus adjustment needed for cluster-robust");
  chi2(L1 - K1 + 1). KP rk Wald F: chi2/N (N - L - s - d)/L1, with cluster
  chi2/(N - 1) (N - L - s) (M - 1)/M / L1.
- First stage (``s_ffirst``) per endogenous regressor: F = W/(N - d) (N - d - L - s)/L1 on
  (L1, N - d - L - s), with cluster F = W/(N - 1) (N - L - s)(M - 1)/M/L1 on (L1, M - 1), W the
  Wald statistic of the excluded instruments (robust W with the robust options); partial R^2
  from the homoskedastic W; Shea partial R^2 = [(X'X)^-1]_ii / [(X'P_Z X)^-1]_ii; the
  Sanderson-Windmeijer and Angrist-Pischke F on (L1 - K1 + 1, ...) (= F when K1 = 1).
- Anderson-Rubin (same block): Wald test of Z1 in the reduced form of y, chi2(L1) and
  F = W/(N - d) (N - d - L - s)/L1 (cluster: as the first-stage F); Stock-Wright S = N g'S^-1 g
  with the residuals of y on X2.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from coretech.models.ivreg2 import Moments, multiway_meat


def partial_out(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    if not x.shape[1]:
        return a
    return a - x @ np.linalg.solve(x.T @ x, x.T @ a)


def _sqrtm(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T


def _rk(x1p, z1p, n):
    """Cholesky-standardised reduced form theta and its SVD (ranktest)."""
    qzz, qzy, qyy = z1p.T @ z1p / n, z1p.T @ x1p / n, x1p.T @ x1p / n
    rzz = np.linalg.cholesky(qzz).T  # upper: rzz' rzz = Qzz
    ryy = np.linalg.cholesky(qyy).T
    irzz, iryy = np.linalg.inv(rzz), np.linalg.inv(ryy)
    pihat = np.linalg.solve(qzz, qzy)
    theta = rzz @ pihat @ iryy
    u, sv, vh = np.linalg.svd(theta, full_matrices=True)
    return theta, u, sv, vh.T, pihat, iryy, irzz


def _kp_chi2(rk, z1p, vhat, n, cov, clusters):
    theta, u, _, v, _, iryy, irzz = rk
    l1, k1 = theta.shape
    scores = np.concatenate([z1p * vhat[:, [j]] for j in range(k1)], axis=1)
    shat = (scores.T @ scores if cov != "cluster" else multiway_meat(scores, clusters)) / n
    t = np.kron(iryy.T, irzz.T)
    kpvar = t @ shat @ t.T
    kk = k1 - 1
    u12, u22 = u[:kk, kk:], u[kk:, kk:]
    v12, v22 = v[:kk, kk:], v[kk:, kk:]
    aq = np.vstack([u12, u22]) @ np.linalg.inv(u22) @ _sqrtm(u22 @ u22.T)
    bq = _sqrtm(v22 @ v22.T) @ np.linalg.inv(v22.T) @ np.vstack([v12, v22]).T
    kr = np.kron(bq, aq.T)
    lab = kr @ theta.flatten(order="F")
    vlab = kr @ kpvar @ kr.T
    vlab = (vlab + vlab.T) / 2
    w, vec = np.linalg.eigh(vlab)
    pos = w > w.max() * np.finfo(float).eps * max(vlab.shape)
    # ranktest: a generalised inverse when the covariance is rank deficient (few clusters),
    # with the degrees of freedom reduced by the deficiency
    q = vec[:, pos].T @ lab
    return float(n * q @ (q / w[pos])), l1 - kk - int((~pos).sum())


def identification(m: Moments, *, sdofminus: int = 0, cd_sdofminus: int | None = None) -> dict:
    """Anderson LM, Cragg-Donald F, Kleibergen-Paap rk LM and Wald F (see module docstring).

    ``cd_sdofminus`` is the s used in the Cragg-Donald F when it differs from ``sdofminus``
    (ivreghdfe with effects nested in the cluster variable: the homoskedastic statistic counts
    every absorbed effect, so that it does not change with the covariance option); the
    value ivreghdfe prints is then ``cd_f_ivreghdfe``.
    """
    n, d, s = m.n, m.dofminus, sdofminus
    k1, l1, big_l = m.x1.shape[1], m.z1.shape[1], m.z.shape[1]
    x1p, z1p = partial_out(m.x1, m.x2), partial_out(m.z1, m.x2)
    rk = _rk(x1p, z1p, n)
    r2min = float(rk[2][:k1].min() ** 2)
    df = l1 - k1 + 1
    cd_s = s if cd_sdofminus is None else cd_sdofminus
    out = {
        "cd_f": r2min / (1 - r2min) * (n - cd_s - big_l - d) / l1,
        "anderson_lm": (n - d) * r2min,
        "anderson_lm_df": df,
        "canonical_correlations": [float(c) for c in rk[2][:k1]],
    }
    out["anderson_lm_p"] = float(stats.chi2.sf(out["anderson_lm"], df))
    if cd_s != s:
        out["cd_f_ivreghdfe"] = r2min / (1 - r2min) * (n - s - big_l - d) / l1
    if m.cov == "unadjusted":
        out.update(kp_lm=out["anderson_lm"], kp_lm_df=df, kp_lm_p=out["anderson_lm_p"], kp_f=out["cd_f"])
        out["idstat_name"], out["widstat_name"] = "Anderson canon. corr. LM", "Cragg-Donald Wald F"
        return out
    lm, lm_df = _kp_chi2(rk, z1p, x1p, n, m.cov, m.clusters)
    wald, _ = _kp_chi2(rk, z1p, x1p - z1p @ rk[4], n, m.cov, m.clusters)
    mcl = m.n_clusters
    if mcl is None:
        kp_lm = lm / n * (n - d)
        kp_f = wald / n * (n - big_l - s - d) / l1
    else:
        kp_lm = lm
        kp_f = wald / (n - 1) * (n - big_l - s) * (mcl - 1) / mcl / l1
    out.update(kp_lm=kp_lm, kp_lm_df=lm_df, kp_lm_p=float(stats.chi2.sf(kp_lm, lm_df)), kp_f=kp_f,
               idstat_name="Kleibergen-Paap rk LM", widstat_name="Kleibergen-Paap rk Wald F")
    return out


def _f_scale(w, n, d, big_l, s, df1, mcl):
    """Wald -> F with ivreg2's first-stage / AR counting; returns (F, df_r)."""
    if mcl is None:
        df_r = n - d - big_l - s
        return w / (n - d) * df_r / df1, df_r
    return w / (n - 1) * (n - big_l - s) * (mcl - 1) / mcl / df1, mcl - 1


def first_stage(m: Moments, *, sdofminus: int = 0, names: list[str] | None = None) -> dict:
    """First-stage, Anderson-Rubin and Stock-Wright statistics (ivreg2 ``s_ffirst``)."""
    n, d, s = m.n, m.dofminus, sdofminus
    k1, l1, big_l, k2 = m.x1.shape[1], m.z1.shape[1], m.z.shape[1], m.x2.shape[1]
    mcl = m.n_clusters
    robust = m.cov != "unadjusted"
    names = names or [f"x{i + 1}" for i in range(k1)]
    yall = np.column_stack([m.y, m.x1])
    bz = np.linalg.solve(m.qzz, m.z.T @ yall / n)
    eall = yall - m.z @ bz
    ee = eall.T @ eall
    zz_inv = np.linalg.inv(m.z.T @ m.z)
    v = np.kron(ee / (n - d), zz_inv)
    rmse = np.sqrt(np.diag(ee) / (n - big_l - d - s))
    kinv = np.kron(np.eye(k1 + 1), m.qzz_inv)
    vr = kinv @ m.omega(eall) @ kinv / n
    vr = (vr + vr.T) / 2
    rb = bz[:l1, 0]
    ar_w = float(rb @ np.linalg.solve(vr[:l1, :l1], rb))
    ar_f, ar_df2 = _f_scale(ar_w, n, d, big_l, s, l1, mcl)
    out = {
        "ar_chi2": ar_w, "ar_chi2_p": float(stats.chi2.sf(ar_w, l1)), "ar_df": l1,
        "ar_f": ar_f, "ar_f_p": float(stats.f.sf(ar_f, l1, ar_df2)), "ar_df_r": ar_df2,
    }
    e = m.y - m.x2 @ np.linalg.solve(m.x2.T @ m.x2, m.x2.T @ m.y) if k2 else m.y.copy()
    g = m.z.T @ e / n
    sstat = float(n * g @ np.linalg.solve(m.omega(e), g))
    out.update(sstat=sstat, sstat_df=l1, sstat_p=float(stats.chi2.sf(sstat, l1)))
    xx_inv = np.linalg.inv(m.x.T @ m.x)
    xpzx_inv = np.linalg.inv(m.x.T @ m.z @ zz_inv @ m.z.T @ m.x)
    shea = np.diag(xx_inv)[:k1] / np.diag(xpzx_inv)[:k1]
    xhat = np.column_stack([(m.z @ bz)[:, 1:], m.x2])
    per: dict[str, dict] = {}
    for i in range(k1):
        blk = slice((i + 1) * big_l, (i + 1) * big_l + l1)
        b = bz[:l1, i + 1]
        w = float(b @ np.linalg.solve(v[blk, blk], b))
        pr2 = (w / (n - d)) / (1 + w / (n - d))
        if robust:
            w = float(b @ np.linalg.solve(vr[blk, blk], b))
        f, df_r = _f_scale(w, n, d, big_l, s, l1, mcl)
        row = {"rmse": float(rmse[i + 1]), "shea_partial_r2": float(shea[i]), "partial_r2": pr2,
               "F": f, "F_df": (l1, df_r), "F_p": float(stats.f.sf(f, l1, df_r)), "wald_chi2": w}
        if k1 == 1:
            row.update(sw_f=f, sw_df=(l1, df_r), sw_p=row["F_p"], sw_chi2=w, sw_r2=pr2,
                       ap_f=f, ap_df=(l1, df_r), ap_p=row["F_p"], ap_chi2=w, ap_r2=pr2)
        else:
            row.update(_conditional_f(m, i, xhat, zz_inv, robust, n, d, s, mcl))
        per[names[i]] = row
    out["first_stage"] = per
    return out


def _conditional_f(m, i, xhat, zz_inv, robust, n, d, s, mcl):
    """Angrist-Pischke and Sanderson-Windmeijer F for endogenous regressor i (K1 > 1)."""
    k1, l1, big_l = m.x1.shape[1], m.z1.shape[1], m.z.shape[1]
    sel = [j for j in range(m.x.shape[1]) if j != i]
    xh = xhat[:, sel]
    b1 = np.linalg.solve(xh.T @ xh, xh.T @ m.x1[:, i])
    res = {}
    fdf1 = l1 - k1 + 1
    for tag, e1 in (("ap", m.x1[:, i] - xh @ b1), ("sw", m.x1[:, i] - m.x[:, sel] @ b1)):
        b2 = np.linalg.solve(m.z.T @ m.z, m.z.T @ e1)
        e2 = e1 - m.z @ b2
        vi = float(e2 @ e2) / (n - d) * zz_inv
        rb = b2[:l1]
        w = float(rb @ np.linalg.solve(vi[:l1, :l1], rb))
        r2 = (w / (n - d)) / (1 + w / (n - d))
        if robust:
            vi = m.qzz_inv @ m.omega(e2) @ m.qzz_inv / n
            w = float(rb @ np.linalg.solve(vi[:l1, :l1], rb))
        f, df_r = _f_scale(w, n, d, big_l, s, fdf1, mcl)
        res.update({f"{tag}_f": f, f"{tag}_df": (fdf1, df_r), f"{tag}_p": float(stats.f.sf(f, fdf1, df_r)),
                    f"{tag}_chi2": w, f"{tag}_r2": r2})
    return res


def ar_confidence_set(m: Moments, level: float = 0.95, *, grid: int = 4001) -> list[tuple[float, float]]:
    """Anderson-Rubin confidence set for the single endogenous coefficient: the b0 with
    AR(b0) = r(b0)' V(b0)^-1 r(b0) <= chi2_{L1}(level), r(b0) = pi_y - b0 pi_x the reduced-form
    coefficients of Z1 in y - b0 x, V(b0) = V_yy - b0 (V_yx + V_xy) + b0^2 V_xx their covariance
    under the chosen option (exact: S is quadratic in the residuals). Returned as intervals,
    possibly unbounded (+-inf) or a union of two rays (weak instruments)."""
    if m.x1.shape[1] != 1:
        raise ValueError("the Anderson-Rubin interval needs exactly one endogenous regressor")
    n, l1 = m.n, m.z1.shape[1]
    big_l = m.z.shape[1]
    yall = np.column_stack([m.y, m.x1])
    bz = np.linalg.solve(m.qzz, m.z.T @ yall / n)
    kinv = np.kron(np.eye(2), m.qzz_inv)
    vr = kinv @ m.omega(yall - m.z @ bz) @ kinv / n
    a, c = slice(0, l1), slice(big_l, big_l + l1)
    v00, v01, v11 = vr[a, a], vr[a, c], vr[c, c]
    py, px = bz[:l1, 0], bz[:l1, 1]
    crit = stats.chi2.isf(1 - level, l1)

    def h(theta: np.ndarray) -> np.ndarray:
        b0 = np.tan(np.atleast_1d(theta))[:, None, None]
        r = (py[None, :] - b0[:, :, 0] * px[None, :])[:, :, None]
        vv = v00[None] - b0 * (v01 + v01.T)[None] + b0 * b0 * v11[None]
        return (r * np.linalg.solve(vv, r)).sum(axis=(1, 2)) - crit

    th = np.linspace(-np.pi / 2, np.pi / 2, grid)[1:-1]
    inside = h(th) <= 0
    cuts = [optimize.brentq(lambda t: float(h(t)[0]), th[j], th[j + 1], xtol=1e-14)
            for j in range(len(th) - 1) if inside[j] != inside[j + 1]]
    edges = [-np.pi / 2, *cuts, np.pi / 2]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if h((lo + hi) / 2)[0] <= 0:
            out.append((float(np.tan(lo)) if lo > -np.pi / 2 else -np.inf,
                        float(np.tan(hi)) if hi < np.pi / 2 else np.inf))
    return out
