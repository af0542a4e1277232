"""Simulated patent records (never real data), for the demo and the tests.

:func:`simulate_patents` draws applications in the INTERFACES patent-record columns: their IPC
symbols are real codes of an IPC scheme (a share of them inside a dictionary's codes), their
cities and city-year volumes follow a panel (:func:`weights_from_panel`), and their
application-to-grant lags are drawn from the pooled lag distribution measured on the real CNIPA
sample (``../shared/data/README.md``), so that grants after the last year are unseen exactly as
eq. (5) of METHODS.md assumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from coretech.errors import InputError

#: Application-to-grant lag shares T_s (s = calendar years) used to simulate grants: the pooled
#: shares of the 2,537 granted applications of the real CNIPA sample (s >= 10 put at s = 10).
DEMO_LAG_SHARES: dict[int, float] = {
    0: 0.0,
    1: 0.002,
    2: 0.127,
    3: 0.263,
    4: 0.263,
    5: 0.189,
    6: 0.068,
    7: 0.035,
    8: 0.031,
    9: 0.011,
    10: 0.011,
}
PATENT_COLUMNS = ["patent_id", "app_date", "grant_date", "ipc", "main_ipc", "city", "patent_type"]



def scheme_symbols(codes: Sequence[str]) -> np.ndarray:
    """The group-level symbols (main groups and subgroups) among ``codes``, sorted, unique."""
    arr = (codes.to_numpy(dtype=object) if isinstance(codes, (pd.Series, pd.Index))
           else np.array(list(codes), dtype=object))
    return np.array(sorted(c for c in pd.unique(arr) if "/" in c), dtype=object)


def codes_within(symbols: np.ndarray, dictionary_codes: Sequence[str]) -> np.ndarray:
    """The symbols inside any dictionary code's subtree, by prefix of the canonical form.

    A section, class or subclass covers the symbols that start with it; a main group
    ``H01L29/00`` covers ``H01L29/...``; a subgroup covers itself (its deeper subtree needs the
    scheme's dot levels, which the simulation does not need).
    """
    prefixes: set[str] = set()
    exact: set[str] = set()
    for code in dictionary_codes:
        code = str(code)
        if "/" not in code:
            prefixes.add(code)
        elif code.endswith("/00"):
            prefixes.add(code[:-2])
        else:
            exact.add(code)
    sym = np.asarray(symbols, dtype=object)
    mask = pd.Series(sym, dtype=object).isin(exact).to_numpy(copy=True)
    if prefixes:  # the symbols starting with a prefix are one run of the sorted symbols
        order = np.argsort(sym, kind="stable")
        ordered = sym[order]
        pres = sorted(prefixes)
        lo = np.searchsorted(ordered, np.array(pres, dtype=object), side="left")
        hi = np.searchsorted(ordered, np.array([p + "\U0010ffff" for p in pres], dtype=object),
                             side="left")
        inside = np.zeros(len(sym) + 1, dtype=np.int64)
        np.add.at(inside, lo, 1)
        np.add.at(inside, hi, -1)
        mask[order[np.cumsum(inside)[:-1] > 0]] = True
    return symbols[mask]


def simulate_patents(
    symbols: Sequence[str],
    dictionary_codes: Sequence[str],
    cities: Sequence[str],
    *,
    seed: int = 20240404,
    n_patents: int = 40_000,
    first_year: int = 2000,
    last_year: int = 2022,
    core_share: float = 0.35,
    grant_rate: float = 0.6,
    growth: float = 0.12,
    lag_shares: Mapping[int, float] = DEMO_LAG_SHARES,
    city_weights: Mapping[str, float] | None = None,
    cell_weights: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Simulate patent applications in the INTERFACES patent-record columns.

    Each application gets a city (by ``city_weights``, default log-normal sizes), an application
    year (growing by ``growth`` a year), 1–4 IPC symbols drawn from ``symbols`` (real scheme
    codes; with probability ``core_share`` the main one is inside ``dictionary_codes``), and,
    with probability ``grant_rate``, a grant ``s`` calendar years later with ``s`` drawn from
    ``lag_shares``; a grant after ``last_year`` is not seen (empty ``grant_date``), exactly the
    truncation eq. (5) corrects. Deterministic for a given ``seed``.
    """
    if n_patents < 1:
        raise InputError(f"n_patents must be at least 1, got {n_patents}")
    if not 0 <= core_share <= 1 or not 0 < grant_rate <= 1:
        raise InputError("core_share must be in [0, 1] and grant_rate in (0, 1]")
    if last_year < first_year:
        raise InputError(f"last_year {last_year} is before first_year {first_year}")
    all_sym = scheme_symbols(symbols)
    if len(all_sym) == 0:
        raise InputError("the IPC scheme has no main groups or subgroups to draw symbols from")
    core = codes_within(all_sym, dictionary_codes)
    if len(core) == 0 and core_share > 0:
        raise InputError("no scheme symbol lies inside the dictionary's codes")
    cities = list(cities)
    if not cities:
        raise InputError("no cities to place patents in")
    rng = np.random.default_rng(seed)

    if city_weights is None:
        w = rng.lognormal(0.0, 1.2, size=len(cities))
    else:
        w = np.array([max(float(city_weights.get(c, 0.0)), 0.0) for c in cities])
        if w.sum() <= 0:
            raise InputError("city weights are all zero")
    w = w / w.sum()
    years = np.arange(first_year, last_year + 1)
    yw = (1.0 + growth) ** (years - first_year)
    yw = yw / yw.sum()

    n = int(n_patents)
    cells = np.outer(w, yw)  # city x year
    if cell_weights is not None:
        cw = cell_weights.pivot_table(index="city", columns="year", values="weight",
                                      aggfunc="sum").reindex(index=cities)
        cw = cw.reindex(columns=[y for y in cw.columns if first_year <= y <= last_year])
        if cw.shape[1]:
            known = cw.to_numpy(dtype=float)
            mean = np.nanmean(np.where(np.isfinite(known), known, np.nan), axis=1)
            mean = np.where(np.isfinite(mean), mean, 0.0)
            ref = min(cw.columns)
            base = mean[:, None] * (1.0 + growth) ** (years[None, :] - ref)
            col = {y: j for j, y in enumerate(years)}
            for k, y in enumerate(cw.columns):
                v = known[:, k]
                base[:, col[y]] = np.where(np.isfinite(v), np.maximum(v, 0.0), base[:, col[y]])
            if base.sum() > 0:
                cells = base
    cells = cells / cells.sum()
    flat = rng.choice(cells.size, size=n, p=cells.ravel())
    city_idx, year_idx = np.divmod(flat, len(years))
    app_year = years[year_idx]
    app_doy = rng.integers(0, 365, size=n)
    is_core = rng.random(n) < core_share
    n_sym = rng.choice([1, 2, 3, 4], size=n, p=[0.35, 0.35, 0.2, 0.1])
    main = np.where(
        is_core,
        core[rng.integers(0, max(len(core), 1), size=n)] if len(core) else all_sym[0],
        all_sym[rng.integers(0, len(all_sym), size=n)],
    )
    extra = all_sym[rng.integers(0, len(all_sym), size=(n, 3))]
    lags = np.array(sorted(lag_shares))
    p = np.array([lag_shares[s] for s in lags], dtype=float)
    p = p / p.sum()
    s = rng.choice(lags, size=n, p=p)
    granted = rng.random(n) < grant_rate
    grant_year = app_year + s
    grant_doy = rng.integers(0, 365, size=n)
    same_year = s == 0
    grant_doy = np.where(same_year, np.maximum(grant_doy, app_doy + 1), grant_doy)
    seen = granted & (grant_year <= last_year)

    order = np.lexsort((app_doy, app_year))
    app_dates = pd.to_datetime(app_year.astype(str), format="%Y") + pd.to_timedelta(app_doy, "D")
    grant_dates = pd.to_datetime(grant_year.astype(str), format="%Y") + pd.to_timedelta(
        np.minimum(grant_doy, 364), "D"
    )
    ipc = [
        ";".join([m, *list(dict.fromkeys(x[: k - 1]))]) if k > 1 else m
        for m, x, k in zip(main.tolist(), extra.tolist(), n_sym.tolist(), strict=True)
    ]
    df = pd.DataFrame(
        {
            "patent_id": "",
            "app_date": app_dates.strftime("%Y-%m-%d"),
            "grant_date": np.where(seen, grant_dates.strftime("%Y-%m-%d"), ""),
            "ipc": ipc,
            "main_ipc": main,
            "city": np.array(cities, dtype=object)[city_idx],
            "patent_type": "invention",
        }
    ).iloc[order].reset_index(drop=True)
    seq = df.groupby(df["app_date"].str[:4]).cumcount() + 1
    df["patent_id"] = "SIM" + df["app_date"].str[:4] + seq.map("{:07d}".format)
    return df[PATENT_COLUMNS]


def weights_from_panel(panel: pd.DataFrame, column: str = "Sicoughs") -> pd.DataFrame:
    """City-year weights exp(column) - 1 (city, year, weight); equal weights without it.

    With these the simulated core-technology counts follow the panel's simulated Sicoughs, so
    the measured Sicoughs of the demo tracks the panel's (up to scale and noise).
    """
    w = (np.expm1(pd.to_numeric(panel[column], errors="coerce")).clip(lower=0)
         if column in panel.columns else pd.Series(1.0, index=panel.index))
    return pd.DataFrame({"city": panel["city"].astype(str),
                         "year": pd.to_numeric(panel["year"]).astype(int),
                         "weight": w.fillna(0.0).astype(float)})


#: Cities used only when no panel is available to take city names from.
FALLBACK_CITIES = (
    "广州市", "深圳市", "杭州市", "南京市", "苏州市", "成都市", "武汉市", "西安市", "长沙市",
    "合肥市", "青岛市", "济南市", "郑州市", "沈阳市", "大连市", "厦门市", "宁波市", "无锡市",
    "福州市", "昆明市", "南昌市", "哈尔滨市", "长春市", "石家庄市", "太原市", "南宁市",
    "贵阳市", "兰州市", "乌鲁木齐市", "呼和浩特市",
)


def fallback_cities() -> list[str]:
    """The :data:`FALLBACK_CITIES` (patents need cities; a study without a panel has none)."""
    return list(FALLBACK_CITIES)
