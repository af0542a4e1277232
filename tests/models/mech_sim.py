"""Simulation of the mechanism tests (issue 15.2, docs/models.md).

The simulated panel of :mod:`coretech.models.simulate` (``n_cities`` cities, 10 years, city
and year effects, six controls, AR(1) errors) with the effect of the mediator ``Sicoughs``
on Y set to ``b`` (0 under H0; D -> M stays 0.45). Rejection = the (1 - alpha) bootstrap
interval of a*b excludes 0 (two-sided; ``holds`` also needs it above 0), the delta-method
test, and the paper's rule (eq. (2) and (3) both significantly positive).

Reproduce the figures of docs/models.md::

    PYTHONPATH=$PWD python tests/models/mech_sim.py --reps 400 --boot 199
"""

from __future__ import annotations

import argparse

CONTROLS = ["Idetion", "Eoryity", "Mentel", "Fialevel", "Tinevel", "Fprises"]


def rejection_rates(*, reps: int, boot: int, b: float = 0.0, n_cities: int = 100,
                    seed0: int = 0, alpha: float = 0.05, paper_reps: int | None = None) -> dict[str, float]:
    """Rejection rates over ``reps`` panels; the paper's rule on the first ``paper_reps`` (all)."""
    from coretech.models.mechanism import mechanism
    from coretech.models.simulate import simulate_panel

    hits = {"bootstrap": 0, "delta": 0, "holds": 0, "paper": 0}
    paper_reps = reps if paper_reps is None else min(paper_reps, reps)
    for r in range(reps):
        df = simulate_panel(n_cities=n_cities, seed=seed0 + r, effects={"m_to_y": {"Sicoughs": b}})
        c = mechanism(df, "Nycives", "Cialomy", ["Sicoughs"], CONTROLS, n_boot=boot, seed=r, alpha=alpha)[0]
        hits["bootstrap"] += not (c.boot_ci[0] <= 0 <= c.boot_ci[1])
        hits["delta"] += c.indirect_p < alpha
        hits["holds"] += c.holds
        if r < paper_reps:
            hits["paper"] += mechanism(df, "Nycives", "Cialomy", ["Sicoughs"], CONTROLS, rule="paper",
                                       alpha=alpha)[0].holds
    out = {k: v / reps for k, v in hits.items()}
    out["paper"] = hits["paper"] / max(paper_reps, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--power-reps", type=int, default=200)
    ap.add_argument("--boot", type=int, default=199)
    ap.add_argument("--bs", default="0.05,0.1", help="effects of M on Y for the power")
    a = ap.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        size = rejection_rates(reps=a.reps, boot=a.boot)
        print(f"b=0 (size, {a.reps} reps): " + "  ".join(f"{k} {v:.3f}" for k, v in size.items()), flush=True)
        for b in a.bs.split(","):
            pw = rejection_rates(reps=a.power_reps, boot=a.boot, b=float(b), seed0=10_000)
            print(f"b={b} (power, {a.power_reps} reps): " + "  ".join(f"{k} {v:.3f}" for k, v in pw.items()),
                  flush=True)


if __name__ == "__main__":
    main()
