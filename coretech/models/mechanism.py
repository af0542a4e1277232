"""Mechanism tests (Table 7); METHODS.md section 7, eqs. (2)-(3) of the paper.

The paper's equations (Jiang Ting 2022 two-step), for each mediator M:

    (2)  Y_it = b0 + b1 M_it + b2' Controls_it + mu_i + lambda_t + e_it      (Y on M)
    (3)  M_it = d0 + d1 D_it + d2' Controls_it + mu_i + lambda_t + e_it      (M on D)

and the paper's verdict "the channel holds when b1 and d1 are both significantly positive".
Eq. (2) omits D, so b1 picks up D's own effect on Y through the correlation of M with D: when
M has no effect on Y the paper's rule still finds a channel in (nearly) every sample. That
rule is kept as ``rule="paper"`` (old name ``"both"``), labelled so in Table 7; ``"d_to_m"`` is
Jiang's eq. (3) alone.

The default ``rule="mediation"`` is a test of the indirect effect (product of coefficients,
MacKinnon et al. 2002; Imai, Keele & Tingley 2010 under sequential ignorability):

    (3)   M_it = a D_it + d2' Controls_it + mu_i + lambda_t + u_it                     -> a
    (2')  Y_it = b M_it + c D_it + b2' Controls_it + mu_i + lambda_t + e_it            -> b

indirect effect a*b; delta-method SE sqrt(b^2 V_a + a^2 V_b + 2ab C_ab), with V_a, V_b the
equations' own covariances (cluster-robust as the tables) and C_ab their cross-covariance
from the cluster sums of the two equations' influence rows (same small-sample factors, so
V_a and V_b are exactly the printed SEs squared); and a seeded percentile bootstrap interval:
clusters (cities) drawn with replacement, both equations re-estimated on the within-
transformed data (the fixed effects partialled out once on the full sample). The channel
holds when the (1 - alpha) bootstrap interval of a*b lies above 0. Simulated size and power:
docs/models.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from coretech.errors import InputError
from coretech.models.absorb import Absorber, codes_of
from coretech.models.fe import CONST, _as_list, prepare_sample, twfe
from coretech.models.results import RegressionResult

RULES = ("mediation", "paper", "both", "d_to_m")
RULE_LABELS = {
    "mediation": "indirect effect a·b (M on D, eq. 3; Y on M and D)",
    "paper": "paper's rule as written (eqs. 2 and 3 both significantly positive)",
    "d_to_m": "Jiang (2022): eq. (3) only",
}


@dataclass
class Channel:
    """The regressions of one mediator, the indirect effect and the verdict.

    ``y_on_m`` is the outcome equation: Y on M and D (``mediation``) or Y on M, eq. (2)
    (``paper``, ``d_to_m``); ``m_on_d`` is eq. (3).
    """

    mediator: str
    y_on_m: RegressionResult
    m_on_d: RegressionResult
    holds: bool
    rule: str
    alpha: float
    indirect: float | None = None
    indirect_se: float | None = None
    indirect_p: float | None = None
    delta_ci: tuple[float, float] | None = None
    boot_ci: tuple[float, float] | None = None
    n_boot: int | None = None
    seed: int | None = None
    boot_draws: np.ndarray | None = field(default=None, repr=False)
    cov_ab: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> str:
        b, d = self.y_on_m, self.m_on_d
        s = (f"{self.mediator}: Y on M {b.params[self.mediator]:.4f} (p {b.pvalues[self.mediator]:.3g}); "
             f"M on D {d.params.iloc[0]:.4f} (p {d.pvalues.iloc[0]:.3g})")
        if self.indirect is not None:
            s += (f"; a*b = {self.indirect:.4f} (delta SE {self.indirect_se:.4f}, p {self.indirect_p:.3g}; "
                  f"bootstrap {100 * (1 - self.alpha):g}% CI [{self.boot_ci[0]:.4f}, {self.boot_ci[1]:.4f}])")
        return s + f"; holds = {self.holds} ({self.rule})"


def _sig_pos(res: RegressionResult, name: str, alpha: float) -> bool:
    return bool(res.params[name] > 0 and res.pvalues[name] < alpha)


def mechanism(
    df,
    y: str,
    d: str,
    mediators: str | Sequence[str],
    controls: Sequence[str] = (),
    *,
    fe: Sequence[str] = ("city", "year"),
    cluster: str | Sequence[str] | None = "city",
    alpha: float = 0.05,
    rule: str = "mediation",
    n_boot: int = 999,
    seed: int = 0,
    keep_draws: bool = False,
) -> list[Channel]:
    """Estimate the mechanism equations for every mediator and say whether the channel holds.

    ``rule``: ``"mediation"`` (default: eq. (3) and Y on M and D, the indirect effect a*b with
    delta-method and bootstrap intervals), ``"paper"`` (eqs. (2) and (3) as written; ``"both"``
    is its old name) or ``"d_to_m"`` (eq. (3) only). ``n_boot``/``seed``: the bootstrap.
    """
    if rule not in RULES:
        raise InputError(f"rule must be one of {', '.join(RULES)}, not {rule!r}")
    rule = "paper" if rule == "both" else rule
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    if rule == "mediation" and n_boot < 1:
        raise InputError(f"n_boot must be at least 1, got {n_boot}")
    ctrls = _as_list(controls)
    cls = _as_list(cluster)
    out = []
    for m in _as_list(mediators):
        if rule != "mediation":
            r2 = twfe(df, y, [m, *ctrls], fe=list(fe), cluster=cluster)
            r3 = twfe(df, m, [d, *ctrls], fe=list(fe), cluster=cluster)
            ok3 = _sig_pos(r3, d, alpha)
            holds = ok3 and _sig_pos(r2, m, alpha) if rule == "paper" else ok3
            out.append(Channel(m, r2, r3, holds, rule, alpha))
            continue
        # one sample for both equations: rows complete in y, m, d and the controls
        data, _ = prepare_sample(df, [y, m, d, *ctrls], [*fe, *cls])
        rb = twfe(data, y, [m, d, *ctrls], fe=list(fe), cluster=cluster)
        ra = twfe(data, m, [d, *ctrls], fe=list(fe), cluster=cluster)
        for r, nm in ((ra, d), (rb, m)):
            if nm not in r.params.index:
                raise InputError(f"{nm} is omitted because of collinearity in the mechanism equation "
                                 f"of {m}; the indirect effect is not identified", column=nm)
        out.append(_indirect(data, y, m, d, ra, rb, list(fe), cls, alpha, n_boot, seed, keep_draws))
    return out


def _indirect(data: pd.DataFrame, y: str, m: str, d: str, ra: RegressionResult, rb: RegressionResult,
              fe: list[str], cls: list[str], alpha: float, n_boot: int, seed: int,
              keep_draws: bool) -> Channel:
    sub = data.loc[rb.info["index"]]
    xa = [c for c in ra.params.index if c != CONST]
    xb = [c for c in rb.params.index if c != CONST]
    cols = list(dict.fromkeys([y, m, *xa, *xb]))
    z = Absorber([codes_of(sub[f]) for f in fe]).demean(sub[cols].to_numpy(float)) if fe else \
        sub[cols].to_numpy(float) - sub[cols].to_numpy(float).mean(axis=0)
    pos = {c: i for i, c in enumerate(cols)}
    ia, ib = [pos[c] for c in xa], [pos[c] for c in xb]
    a, b = float(ra.params[d]), float(rb.params[m])
    # influence rows of a and b (FWL: within-transformed regressors, the fits' residuals)
    za, zb = z[:, ia], z[:, ib]
    ha = np.linalg.solve(za.T @ za, za.T)[xa.index(d)] * ra.info["resid"]
    hb = np.linalg.solve(zb.T @ zb, zb.T)[xb.index(m)] * rb.info["resid"]
    h = np.column_stack([ha, hb])
    n = len(sub)
    k = np.array([ra.info["n_params_dof"], rb.info["n_params_dof"]], dtype=float)
    if cls:
        labels = [sub[c].astype(str).to_numpy() for c in cls]
        terms = [(labels[0], 1.0)]
        if len(labels) == 2:
            terms += [(labels[1], 1.0), (np.char.add(np.char.add(labels[0], "#"), labels[1]), -1.0)]
        v = np.zeros((2, 2))
        for lab, sign in terms:
            codes = codes_of(lab)
            g = int(codes.max()) + 1
            sums = np.zeros((g, 2))
            np.add.at(sums, codes, h)
            q = g / (g - 1) * (n - 1) / (n - k)
            v += sign * np.sqrt(np.outer(q, q)) * (sums.T @ sums)
        boot_codes = codes_of(labels[0])
    else:
        q = n / (n - k)
        v = np.sqrt(np.outer(q, q)) * (h.T @ h)
        boot_codes = np.arange(n)
    ab = a * b
    se = float(np.sqrt(max(b * b * v[0, 0] + a * a * v[1, 1] + 2 * a * b * v[0, 1], 0.0)))
    zc = stats.norm.isf(alpha / 2)
    p = float(2 * stats.norm.sf(abs(ab) / se)) if se > 0 else float("nan")
    # cluster (pairs) bootstrap from per-cluster cross-products of the within data
    g = int(boot_codes.max()) + 1
    pp = z.shape[1]
    cross = np.zeros((g, pp, pp))
    np.add.at(cross, boot_codes, z[:, :, None] * z[:, None, :])
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    flat = cross.reshape(g, -1)
    done = 0
    while done < n_boot:
        nb = min(200, n_boot - done)
        counts = rng.multinomial(g, np.full(g, 1.0 / g), size=nb).astype(float)  # (nb, g)
        s = (counts @ flat).reshape(nb, pp, pp)
        a_star = np.linalg.solve(s[:, ia][:, :, ia], s[:, ia, pos[m]][..., None])[:, xa.index(d), 0]
        b_star = np.linalg.solve(s[:, ib][:, :, ib], s[:, ib, pos[y]][..., None])[:, xb.index(m), 0]
        draws[done : done + nb] = a_star * b_star
        done += nb
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Channel(
        m, rb, ra, bool(lo > 0), "mediation", alpha, ab, se, p, (ab - zc * se, ab + zc * se),
        (float(lo), float(hi)), n_boot, seed, draws if keep_draws else None, v,
    )
