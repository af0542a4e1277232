"""Re-compute the breakthrough variable and re-estimate the headline coefficients per variant.

For a variant v (a set of candidate codes, :mod:`coretech.sensitivity.variants`):

    K_raw(v; i, t)  from the patent profiles (:mod:`coretech.sensitivity.profiles`)
    K_adj(v; i, t) = K_raw(v; i, t) / sum_{s=0}^{T-t} T_s                          (eq. 5)
    Sicoughs(v; i, t) = ln(1 + K_adj(v; i, t))

with the breakthrough stage's own :func:`~coretech.indicators.breakthrough.adjust_counts` and
its estimated lag shares T_s (held fixed across variants: with the default ``lag_sample =
'all'`` they do not depend on the dictionary). The variant's Sicoughs replaces the measured
column of the models' panel, city-years whose denominator is below ``min_lag_share`` left
empty as the panel stage does, and each target regression is the two-way FE model of
eq. (1)-(3) (:func:`coretech.models.twfe`, city-clustered):

- ``mechanism_a`` (eq. 3): Sicoughs on D and controls, the coefficient of D;
- ``mechanism_b`` (valid mediation rule): Y on Sicoughs, D and controls, the coefficient of
  Sicoughs;
- ``{"name", "y", "x", "coef"}``: any other regression on the panel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from coretech.errors import CoretechError, InputError
from coretech.sensitivity.profiles import Profiles
from coretech.sensitivity.variants import Candidates, Variant

PAPER_CONTROLS = ("Idetion", "Eoryity", "Mentel", "Fialevel", "Tinevel", "Fprises")


@dataclass(frozen=True)
class Target:
    """One regression whose coefficient ``coef`` is followed across variants."""

    name: str
    y: str
    x: tuple[str, ...]
    coef: str


def default_targets(panel: pd.DataFrame, measured: str, *, d: str = "Cialomy", y: str = "Nycives",
                    controls: Sequence[str] | None = None, names: Iterable[str] = ("mechanism_a", "mechanism_b")
                    ) -> list[Target]:
    """The mechanism regressions of the breakthrough variable (Table 7) on ``panel``."""
    ctl = tuple(c for c in (PAPER_CONTROLS if controls is None else controls) if c in panel.columns)
    for col in (measured, d, y):
        if col not in panel.columns:
            raise InputError(f"the models' panel has no column {col!r}", column=col)
    known = {
        "mechanism_a": Target("mechanism_a", measured, (d, *ctl), d),
        "mechanism_b": Target("mechanism_b", y, (measured, d, *ctl), measured),
    }
    out = []
    for n in names:
        if n not in known:
            raise InputError(f"unknown sensitivity target {n!r}; expected one of {', '.join(known)}")
        out.append(known[n])
    return out


@dataclass
class SensitivityRun:
    """Counts, adjusts and re-estimates for each variant (fit once, then :meth:`evaluate`).

    ``table``: the breakthrough table of the run (its cities and years define the panel of
    eq. 5); ``shares``: the lag shares by group; ``panel``: the models' panel; ``measured``:
    the panel column holding the measured Sicoughs.
    """

    profiles: Profiles
    candidates: Candidates
    table: pd.DataFrame
    shares: Mapping[str, pd.DataFrame]
    panel: pd.DataFrame
    measured: str
    targets: list[Target]
    end_year: int
    adjust_from: int | None
    min_lag_share: float = 0.0
    level: float = 0.95
    base_rtol: float = 1e-14
    _pos: np.ndarray = field(init=False, repr=False)
    _techinc: tuple[sp.csr_matrix, list[str]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from coretech.indicators.breakthrough import adjust_counts

        self.cities = sorted(self.table["city"].astype(str).unique())
        years = pd.to_numeric(self.table["year"]).astype(int)
        self.years = (int(years.min()), int(years.max()))
        grid = pd.MultiIndex.from_product([self.cities, range(self.years[0], self.years[1] + 1)])
        key = pd.MultiIndex.from_arrays([self.panel["city"].astype(str),
                                         pd.to_numeric(self.panel["year"]).astype(int)])
        self._pos = grid.get_indexer(key)
        cells = self.profiles.cells
        self._cell_pos = grid.get_indexer(pd.MultiIndex.from_arrays(
            [cells["city"].astype(str), cells["year"].astype(int)]))
        # the pooled denominator of eq. (5) per grid cell, from the breakthrough stage itself
        empty = pd.DataFrame({"city": [], "year": [], "group": [], "k_raw": []})
        zero = adjust_counts(empty, self.shares, cities=self.cities, years=self.years,
                             end_year=self.end_year, adjust_from=self.adjust_from)
        self._den = zero["lag_share_cum"].to_numpy(float)
        self._grid = zero[["city", "year"]]
        self._n_grid = len(zero)

    def counts(self, variant: Variant) -> np.ndarray:
        """K_raw per cell of the profiles (fractional for a bootstrap variant)."""
        if variant.tech_weight is None:
            return self.profiles.counts(variant.member)
        b, techs = self._tech_incidence()
        m = np.array([variant.tech_weight.get(t, 0.0) for t in techs])
        n_p = np.asarray(b.sum(axis=1)).ravel()
        share = np.divide(b @ m, n_p, out=np.zeros(len(n_p)), where=n_p > 0)
        return np.bincount(self.profiles.cell_of, weights=self.profiles.weight * share,
                           minlength=len(self.profiles.cells))

    def _tech_incidence(self) -> tuple[sp.csr_matrix, list[str]]:
        """Profiles x dictionary technologies: 1 when a dictionary code of the technology
        covers the profile."""
        if self._techinc is None:
            f = self.candidates.frame
            base = self.candidates.base
            techs = sorted(f.loc[base, "tech_id"].unique())
            col = pd.Index(techs).get_indexer(f["tech_id"])
            rows = np.flatnonzero(base)
            c = sp.csr_matrix((np.ones(len(rows)), (rows, col[rows])), shape=(len(f), len(techs)))
            inc = (self.profiles.incidence @ c).tocsr()
            inc.data[:] = 1.0
            self._techinc = (inc, techs)
        return self._techinc

    def sicoughs(self, variant: Variant) -> pd.DataFrame:
        """The breakthrough table of a variant: eq. (5) on the balanced city x year grid.

        The same arithmetic as :func:`~coretech.indicators.breakthrough.adjust_counts` with
        the pooled lag shares (K_adj = K_raw / den where den > 0, empty where den = 0), which
        also takes the fractional counts of bootstrap variants; the dictionary variant is
        checked against the breakthrough table's own values (:meth:`check_base`).
        """
        k = self.counts(variant)
        inside = self._cell_pos >= 0
        grid_k = np.bincount(self._cell_pos[inside], weights=k[inside], minlength=self._n_grid)
        den = self._den
        with np.errstate(divide="ignore", invalid="ignore"):
            k_adj = np.where(den > 0, grid_k / den, np.nan)
        return self._grid.assign(k_raw=grid_k, lag_share_cum=den, k_adj=k_adj,
                                 sicoughs=np.log1p(k_adj))

    def check_base(self, variant: Variant, *, file: Any = None) -> None:
        """The dictionary variant must give the breakthrough table's Sicoughs exactly."""
        mine = self.sicoughs(variant)
        theirs = self.table.assign(city=self.table["city"].astype(str)).merge(
            mine[["city", "year"]], on=["city", "year"], how="right")
        a = mine["sicoughs"].to_numpy(float)
        b = pd.to_numeric(theirs["sicoughs"], errors="coerce").to_numpy(float)
        same = (a == b) | (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=self.base_rtol, atol=0)
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            raise InputError(
                f"the dictionary variant's Sicoughs differs from the breakthrough table at "
                f"{mine['city'].iat[i]} {mine['year'].iat[i]} ({a[i]!r} vs {b[i]!r}) in "
                f"{int((~same).sum())} city-years", file=file)

    def panel_for(self, table: pd.DataFrame) -> pd.DataFrame:
        """The models' panel with the variant's Sicoughs in the measured column."""
        s = table["sicoughs"].to_numpy(float)
        if self.min_lag_share > 0:
            s = np.where(np.nan_to_num(self._den) < self.min_lag_share, np.nan, s)
        vals = np.where(self._pos >= 0, s[np.maximum(self._pos, 0)], np.nan)
        return self.panel.assign(**{self.measured: vals})

    def estimate(self, variant: Variant) -> list[dict[str, Any]]:
        """One row per target: the coefficient, its SE, interval and N under ``variant``."""
        from coretech.models import twfe

        tab = self.sicoughs(variant)
        df = self.panel_for(tab)
        rows = []
        for t in self.targets:
            row = {"target": t.name, "variant": variant.name, "kind": variant.kind,
                   "parameter": variant.parameter, "n_codes": int(variant.member.sum()),
                   "n_patents": int(tab["k_raw"].sum())}
            try:
                res = twfe(df, t.y, list(t.x), fe=["city", "year"], cluster="city")
            except (CoretechError, np.linalg.LinAlgError) as exc:
                rows.append({**row, "coef": np.nan, "se": np.nan, "ci_lo": np.nan, "ci_hi": np.nan,
                             "nobs": 0, "note": str(exc).splitlines()[0]})
                continue
            ci = res.conf_int(self.level).loc[t.coef]
            rows.append({**row, "coef": float(res.params[t.coef]),
                         "se": float(res.std_errors[t.coef]), "ci_lo": float(ci["lower"]),
                         "ci_hi": float(ci["upper"]), "nobs": int(res.nobs), "note": ""})
        return rows


def influence(results: pd.DataFrame, names: Mapping[str, str], n_codes: Mapping[str, int]) -> pd.DataFrame:
    """Jackknife influence: ``target, tech_id, name, n_codes, coef_without, delta, delta_se``.

    delta = b(without j) - b(dictionary); delta_se = delta / se(dictionary); sorted by
    |delta_se| within each target (largest first).
    """
    base = results[results["kind"] == "dictionary"].set_index("target")
    jk = results[results["kind"] == "jackknife"].copy()
    if jk.empty:
        return pd.DataFrame(columns=["target", "tech_id", "name", "n_codes", "coef_without",
                                     "delta", "delta_se"])
    jk["tech_id"] = jk["parameter"]
    jk["name"] = jk["tech_id"].map(lambda t: names.get(t, ""))
    jk["n_codes"] = jk["tech_id"].map(lambda t: int(n_codes.get(t, 0)))
    jk["coef_without"] = jk["coef"]
    jk["delta"] = jk["coef"] - jk["target"].map(base["coef"])
    jk["delta_se"] = jk["delta"] / jk["target"].map(base["se"])
    jk["_abs"] = jk["delta_se"].abs()
    jk = jk.sort_values(["target", "_abs", "tech_id"], ascending=[True, False, True], kind="mergesort")
    return jk[["target", "tech_id", "name", "n_codes", "coef_without", "delta", "delta_se"]].reset_index(drop=True)
