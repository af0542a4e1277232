"""Patents matched once to every candidate (technology, code): the input of every variant.

A dictionary variant is a set of candidate rows ``c`` (technology, IPC code). A patent counts
in the breakthrough variable of a variant when one of its IPC symbols lies within one of the
variant's codes (METHODS.md §2, "any of a patent's IPC codes counting once per patent"):

    K_raw(v; i, t) = sum_p 1[city(p) = i, app_year(p) = t, granted by T] * 1[H_p . m_v > 0]

with ``H`` the patent x candidate incidence (``H_pc = 1`` when a symbol of ``p`` lies within
code ``c``) and ``m_v`` the 0/1 membership of each candidate in variant ``v``. Patents with the
same city-year and the same incidence row are the same for every variant, so they are kept
once with a weight (a *profile*): at national scale millions of patents reduce to the few
distinct combinations of covering candidates.

The patents are read with the breakthrough stage's own reader (:mod:`coretech.indicators.patents`)
and the rows that stage rejected (its rejects file, by row number) are left out, so the
counted rows are the same; :func:`check_against_breakthrough` asserts it cell by cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from coretech.errors import InputError
from coretech.ipc import parse

LEVELS = ("section", "class", "subclass", "main_group")


@dataclass
class Profiles:
    """Distinct (city-year, covering candidates) combinations of the counted patents.

    ``cells``: the distinct city-years (columns ``city``, ``year``); ``cell_of``: the row of
    ``cells`` of each profile; ``weight``: how many patents have the profile; ``incidence``: profiles x candidates (CSR, 0/1); ``n_patents``: patents
    counted (granted by the end year) with at least one covering candidate.
    """

    cells: pd.DataFrame
    cell_of: np.ndarray
    weight: np.ndarray
    incidence: sp.csr_matrix
    n_patents: int

    def counts(self, member: np.ndarray) -> np.ndarray:
        """K_raw of every cell (rows of ``cells``) for a 0/1 candidate membership ``member``."""
        hit = self.incidence @ np.asarray(member, dtype=np.float64)
        w = np.where(hit > 0, self.weight, 0)
        return np.bincount(self.cell_of, weights=w, minlength=len(self.cells)).astype(np.int64)


def candidate_cover(codes: Iterable[str], hierarchy: Any = None) -> pd.DataFrame:
    """``cand, level, key``: what each candidate code covers (as the breakthrough stage does).

    Sections, classes, subclasses and main groups cover by structure; a subgroup covers itself
    and the subgroups below it in the scheme's hierarchy (``level == 'code'``).
    """
    rows: list[tuple[int, str, str]] = []
    for i, c in enumerate(codes):
        k = parse(c).kind
        if k != "subgroup":
            rows.append((i, k, c))
            continue
        subtree = hierarchy.subtree(c) if hierarchy is not None else [c]
        rows.extend((i, "code", x) for x in subtree)
    return pd.DataFrame(rows, columns=["cand", "level", "key"])


def build_profiles(
    patents: str | Path,
    codes: list[str],
    *,
    end_year: int,
    rejected_rows: Iterable[int] = (),
    hierarchy: Any = None,
    boundaries: int = 2022,
    encoding: str | None = None,
    columns: Mapping[str, str] | Iterable[str] | None = None,
    sheet: str | int | None = 0,
) -> Profiles:
    """Read ``patents`` once and match every counted patent to the candidate ``codes``.

    Counted rows: not in ``rejected_rows`` (the breakthrough stage's rejects, by file row),
    a resolved city, applied and granted by ``end_year``.
    """
    import duckdb

    from coretech.indicators.cities import map_city_names, resolve_addresses
    from coretech.indicators.patents import (
        date_sql,
        explode_symbols_sql,
        normalize_symbols,
        open_patents,
    )

    if not codes:
        raise InputError("no candidate code to build the sensitivity variants from")
    cover = candidate_cover(codes, hierarchy)
    con = duckdb.connect()
    try:
        src = open_patents(con, patents, encoding=encoding, columns=columns, sheet=sheet)
        cols, types = src.columns, src.types
        raws = [r[0] for r in con.execute(
            f"SELECT DISTINCT raw FROM ({explode_symbols_sql('src', 'ipc', False)}) "
            "WHERE raw IS NOT NULL").fetchall()]
        symmap = normalize_symbols(sorted(raws))
        symmap = symmap[symmap["code"].notna()]
        con.register("symmap", symmap[["raw", "code", *LEVELS]])
        con.register("cover", cover)
        con.register("rejected", pd.DataFrame({"row": sorted({int(r) for r in rejected_rows})},
                                              dtype="int64"))
        loc = "city" if "city" in cols else "applicant_address"
        locs = sorted(r[0] for r in con.execute(
            f"SELECT DISTINCT nullif(trim(CAST({loc} AS VARCHAR)), '') AS l FROM src "
            "WHERE l IS NOT NULL").fetchall())
        cmap = (map_city_names(locs, boundaries=boundaries) if loc == "city"
                else resolve_addresses(locs, boundaries=boundaries))
        con.register("citymap", cmap[["raw", "city"]].dropna())
        app = date_sql("app_date", types["app_date"])
        grant = date_sql("grant_date", types["grant_date"])
        T = int(end_year)
        con.execute(
            f"""CREATE TEMP TABLE counted AS SELECT s.row, m.city, year({app}) AS year
            FROM src s JOIN citymap m ON m.raw = nullif(trim(CAST(s.{loc} AS VARCHAR)), '')
            WHERE s.row NOT IN (SELECT row FROM rejected)
              AND year({grant}) <= {T} AND year({app}) <= {T}"""
        )
        joins = " UNION ALL ".join(
            f"SELECT e.row, c.cand FROM pieces e JOIN symmap m ON m.raw = e.raw "
            f"JOIN cover c ON c.level = '{lv}' AND c.key = m.{'code' if lv == 'code' else lv}"
            for lv in ("code", *LEVELS)
        )
        con.execute(
            f"""CREATE TEMP TABLE pieces AS SELECT e.row, e.raw FROM
            ({explode_symbols_sql('src', 'ipc', False)}) e
            WHERE e.row IN (SELECT row FROM counted)"""
        )
        prof = con.execute(
            f"""WITH hits AS (SELECT DISTINCT row, cand FROM ({joins})),
            per_row AS (SELECT row, list(cand ORDER BY cand) AS cands FROM hits GROUP BY row)
            SELECT c.city, c.year, p.cands, count(*) AS weight
            FROM per_row p JOIN counted c ON c.row = p.row
            GROUP BY ALL ORDER BY c.city, c.year, p.cands"""
        ).df()
    finally:
        con.close()
    n_cand = len(codes)
    lengths = prof["cands"].map(len).to_numpy() if len(prof) else np.zeros(0, dtype=int)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = (np.concatenate([np.asarray(c, dtype=np.int64) for c in prof["cands"]])
               if len(prof) else np.zeros(0, dtype=np.int64))
    inc = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(prof), n_cand))
    weight = prof["weight"].to_numpy(dtype=np.int64)
    keys = prof[["city", "year"]].astype({"city": str, "year": "int64"})
    cell_of = keys.groupby(["city", "year"], sort=True).ngroup().to_numpy(np.int64)
    cells = keys.drop_duplicates().sort_values(["city", "year"], kind="mergesort")
    return Profiles(cells=cells.reset_index(drop=True), cell_of=cell_of,
                    weight=weight, incidence=inc, n_patents=int(weight.sum()))


def cell_counts(profiles: Profiles, member: np.ndarray) -> pd.DataFrame:
    """``city, year, k_raw`` of the cells with a counted patent under ``member``."""
    df = profiles.cells.assign(k_raw=profiles.counts(member))
    return df[df["k_raw"] > 0].reset_index(drop=True)


def check_against_breakthrough(counts: pd.DataFrame, table: pd.DataFrame, *, file: Any) -> None:
    """Raise when the base variant's K_raw differs from the breakthrough table in any cell."""
    mine = counts.set_index(["city", "year"])["k_raw"]
    theirs = table.assign(city=table["city"].astype(str)).set_index(["city", "year"])["k_raw"]
    theirs = theirs[theirs > 0]
    both = pd.concat([mine.rename("sensitivity"), theirs.rename("breakthrough")], axis=1)
    both = both.fillna(0)
    diff = both[both["sensitivity"] != both["breakthrough"]]
    if len(diff):
        (c, y), r = next(iter(diff.iterrows()))
        raise InputError(
            f"the sensitivity reader counts differently from the breakthrough stage in "
            f"{len(diff)} city-years (first: {c} {y}: {int(r['sensitivity'])} vs "
            f"{int(r['breakthrough'])}); re-run breakthrough with the same patents and options",
            file=file,
        )
