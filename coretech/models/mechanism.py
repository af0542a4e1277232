"""Mechanism tests (Table 7), Jiang Ting (2022) two-step approach; METHODS.md eqs. (2)-(3).

For each mediator M:

    (2)  Y_it = b0 + b1 M_it + b2' Controls_it + mu_i + lambda_t + e_it
    (3)  M_it = d0 + d1 D_it + d2' Controls_it + mu_i + lambda_t + e_it

both by :func:`coretech.models.fe.twfe`. Jiang (2022) argues that only (3) needs estimating
(the link M -> Y should be "direct and evident" from theory) and warns against the
three-step Sobel/Baron-Kenny procedure; METHODS.md, following the paper, reports both and
says the channel holds when b1 and d1 are both significantly positive. ``rule`` exposes the
choice: ``"both"`` (default, METHODS.md) or ``"d_to_m"`` (Jiang: d1 significantly positive).
Significance is a two-sided test at level ``alpha`` (default 0.05) with a positive estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coretech.errors import InputError
from coretech.models.fe import _as_list, twfe
from coretech.models.results import RegressionResult

RULES = ("both", "d_to_m")


@dataclass
class Channel:
    """The two regressions of one mediator and the verdict."""

    mediator: str
    y_on_m: RegressionResult
    m_on_d: RegressionResult
    holds: bool
    rule: str
    alpha: float

    def summary(self) -> str:
        b, d = self.y_on_m, self.m_on_d
        return (
            f"{self.mediator}: Y on M {b.params[self.mediator]:.4f} (p {b.pvalues[self.mediator]:.3g}); "
            f"M on D {d.params.iloc[0]:.4f} (p {d.pvalues.iloc[0]:.3g}); holds = {self.holds} ({self.rule})"
        )


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
    rule: str = "both",
) -> list[Channel]:
    """Estimate eqs. (2) and (3) for every mediator and say whether the channel holds."""
    if rule not in RULES:
        raise InputError(f"rule must be one of {', '.join(RULES)}, not {rule!r}")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    ctrls = _as_list(controls)
    out = []
    for m in _as_list(mediators):
        r2 = twfe(df, y, [m, *ctrls], fe=list(fe), cluster=cluster)
        r3 = twfe(df, m, [d, *ctrls], fe=list(fe), cluster=cluster)
        ok3 = _sig_pos(r3, d, alpha)
        holds = ok3 and _sig_pos(r2, m, alpha) if rule == "both" else ok3
        out.append(Channel(m, r2, r3, holds, rule, alpha))
    return out
