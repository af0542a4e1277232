"""The breakthrough variable (METHODS.md §2): patents -> city-year core-technology counts ->
grant-lag adjustment, eq. (5) -> Sicoughs = ln(1 + K_adj).

    K_raw(c, t) = #{patents of city c applied in t, granted by T, with a symbol within a
                   dictionary code}                     (each patent counts once per city-year)
    K_adj(c, t) = K_raw(c, t) / sum_{s=0}^{T-t} T_s                                  (eq. 5)
    Sicoughs(c, t) = ln(1 + K_adj(c, t))

A dictionary code covers its subtree: a section, class, subclass or main group by the symbol's
structure; a subgroup through the scheme's dot levels (``ipc``: a scheme table; default the
embedded one). DuckDB runs every row-wise step: the dictionary is expanded once into a table
of covered keys, then joined to the patents' symbols in SQL.

:func:`run_breakthrough` is the file-level entry point behind ``coretech breakthrough``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.indicators.lag import METHODS, cumulative_share, shares_from_cells
from coretech.indicators.patents import (
    SEPARATOR_CHARS,
    PatentSource,
    _missing_sql,
    date_sql,
    explode_symbols_sql,
    indexing_rows_sql,
    normalize_symbols,
    open_patents,
    parts_sql,
    patent_type_sql,
)
from coretech.io import read_table, write_table
from coretech.ipc import IPCSymbolError, parse

OUTPUT_COLUMNS = ["city", "year", "k_raw", "lag_share_cum", "k_adj", "sicoughs"]
LAG_BY = (None, "type", "section")
LAG_SAMPLES = ("all", "core")
COVER_LEVELS = ("section", "class", "subclass", "main_group", "code")


# --------------------------------------------------------------------------- dictionary
def read_dictionary(path: str | Path, *, include_rejected: bool = False) -> pd.DataFrame:
    """Read a dictionary (``ipc_code`` column, optional ``decision``) into canonical codes.

    Rows with ``decision == 'rejected'`` are left out unless ``include_rejected``. A code that
    is not an IPC symbol is an :class:`InputError` naming the file, row and column.
    """
    df = read_table(path, required=("ipc_code",))
    codes = df["ipc_code"].astype(str).str.strip()
    keep = pd.Series(True, index=df.index)
    if "decision" in df.columns and not include_rejected:
        keep = df["decision"].astype(str).str.strip().str.lower() != "rejected"
    out = []
    for i in np.flatnonzero(keep.to_numpy()):
        raw = codes.iloc[i]
        if raw == "" or raw.lower() == "nan":
            raise InputError("empty IPC code", file=path, row=data_row(i), column="ipc_code")
        try:
            out.append(str(parse(raw)))
        except IPCSymbolError as exc:
            raise InputError(
                f"{raw!r} is not an IPC symbol: {exc.reason}",
                file=path, row=data_row(i), column="ipc_code",
            ) from exc
    if not out:
        raise InputError("the dictionary has no (accepted) IPC code", file=path, column="ipc_code")
    return pd.DataFrame({"ipc_code": sorted(set(out))})


def load_hierarchy(ipc: str | Path | pd.DataFrame | None):  # noqa: ANN201 - Hierarchy
    """The scheme's hierarchy: from a scheme file/frame, or the embedded default scheme."""
    from coretech.ipc import Hierarchy

    if isinstance(ipc, pd.DataFrame):
        return Hierarchy.from_scheme(ipc)
    if ipc is not None:
        # any table with columns code and parent (a scheme written by `coretech ipc load`)
        scheme = read_table(ipc, required=("code", "parent"))
        return Hierarchy.from_scheme(scheme)
    from coretech.ipc.scheme import default_scheme

    return Hierarchy.from_scheme(default_scheme())


def cover_table(codes: Iterable[str], hierarchy: Any = None) -> pd.DataFrame:
    """Expand dictionary codes into the keys they cover: ``level, key``.

    Sections, classes, subclasses and main groups cover by structure (``level`` names the key
    to compare: a patent symbol's section, class, subclass or main group). A subgroup covers
    itself and every subgroup below it in the scheme (``level == 'code'``).
    """
    rows: set[tuple[str, str]] = set()
    for c in codes:
        k = parse(c).kind
        if k != "subgroup":
            rows.add((k, c))
            continue
        subtree = hierarchy.subtree(c) if hierarchy is not None else [c]
        rows.update(("code", x) for x in subtree)
    return pd.DataFrame(sorted(rows), columns=["level", "key"])


# --------------------------------------------------------------------------- engine
class BreakthroughCounter:
    """Counts and adjusts core-technology patents of one patent file on a DuckDB connection.

    Parameters are validated up front; :meth:`fit` reads, checks and counts; the results are
    the attributes ``counts_`` (city, year[, group], k_raw), ``cells_`` (lag cells),
    ``rejects_`` and ``stats_``.
    """

    def __init__(
        self,
        *,
        end_year: int = 2022,
        main_only: bool = False,
        lag_by: str | None = None,
        lag_sample: str = "all",
        boundaries: int = 2022,
        years: tuple[int, int] | None = None,
    ) -> None:
        if lag_by not in LAG_BY:
            raise InputError(f"--lag-by must be 'type' or 'section', got {lag_by!r}")
        if lag_sample not in LAG_SAMPLES:
            raise InputError(f"--lag-sample must be 'all' or 'core', got {lag_sample!r}")
        if years is not None and years[0] > years[1]:
            raise InputError(f"--years {years[0]}-{years[1]} is empty")
        self.end_year = int(end_year)
        self.main_only = main_only
        self.lag_by = lag_by
        self.lag_sample = lag_sample
        self.boundaries = int(boundaries)
        self.years = years

    def fit(
        self,
        con: Any,
        source: PatentSource,
        cover: pd.DataFrame,
        progress: Callable[[str], None] | None = None,
    ) -> BreakthroughCounter:
        """Read, check and count ``source`` (the view ``src`` on ``con``) in a few SQL passes.

        Pass 1 collects the distinct IPC strings (normalised in Python, once each, then matched
        to the dictionary's cover table); pass 2 keeps the symbol pieces that matter (covered,
        invalid or skipped) per row; pass 3 aggregates the checked rows to (location, year,
        grant year, group, core) counts; pass 4 lists the rejected rows. No table as wide or
        as long as the input is kept.
        """
        say = progress or (lambda _m: None)
        cols, types = source.columns, source.types
        T = self.end_year

        def col(name: str) -> str:
            return name if name in cols else "NULL"

        def raw(name: str, expr: str) -> str:
            t = types[name].upper()
            typed = t.startswith("DATE") or t.startswith("TIMESTAMP")
            c = expr
            return f"CAST(CAST({c} AS DATE) AS VARCHAR)" if typed else f"CAST({c} AS VARCHAR)"

        say("reading IPC symbols")
        main_given = f"nullif(trim(CAST({col('main_ipc')} AS VARCHAR)), '')"
        extra = (f" UNION ALL SELECT NULL, {main_given}, FALSE FROM src"
                 if "main_ipc" in cols else "")

        def distinct_pieces(simple: bool) -> list[tuple[str, bool]]:
            return con.execute(
                f"SELECT DISTINCT raw, from_ipc FROM (SELECT *, TRUE AS from_ipc FROM "
                f"({explode_symbols_sql('src', 'ipc', simple)}){extra}) WHERE raw IS NOT NULL"
            ).fetchall()

        # Split on ';' first. A cell holds another separator or '//' exactly when one of its
        # ';'-pieces does, so the distinct pieces tell whether the full split is needed (a
        # second pass, only then) and whether any row carries indexing information.
        pairs = distinct_pieces(simple=True)
        first = [r for r, from_ipc in pairs if from_ipc]
        simple = not any("//" in r or any(ch in r for ch in SEPARATOR_CHARS) for r in first)
        if not simple:
            pairs = distinct_pieces(simple=False)
        n_indexing = (
            con.execute(indexing_rows_sql()).fetchall()[0][0]
            if any("//" in r or ":" in r for r in first) else 0
        )
        n_null_ipc = _null_count(con, source, "ipc")
        raws = sorted({r for r, _ in pairs})
        parts = parts_sql("ipc", simple)
        # the main symbol: main_ipc, else the first piece listed (already among the pieces)
        main_expr = f"coalesce({main_given}, ({parts})[1])"
        need_main = "main_ipc" in cols or self.main_only or self.lag_by == "section"
        symmap = normalize_symbols(raws)
        con.register("symmap_df", symmap)
        con.register("cover_df", cover)
        con.execute(
            """CREATE OR REPLACE TEMP TABLE symmap AS SELECT m.*, (m.code IS NOT NULL AND (
            m.code IN (SELECT key FROM cover_df WHERE level = 'code')
            OR m.main_group IN (SELECT key FROM cover_df WHERE level = 'main_group')
            OR m.subclass IN (SELECT key FROM cover_df WHERE level = 'subclass')
            OR m."class" IN (SELECT key FROM cover_df WHERE level = 'class')
            OR m.section IN (SELECT key FROM cover_df WHERE level = 'section'))) AS core
            FROM symmap_df m"""
        )
        say("matching symbols to the dictionary")
        core_piece = "FALSE" if self.main_only else "m.core"
        problems = con.execute(
            "SELECT count(*) FROM symmap WHERE skip OR code IS NULL").fetchall()[0][0]
        if not problems:
            # fast path (every distinct piece is a valid symbol): the per-row flags reduce to
            # "has a covered piece", one semi-join and no per-row aggregates
            sel = (f"SELECT DISTINCT e.row FROM ({explode_symbols_sql('src', 'ipc', simple)}) e "
                   "JOIN (SELECT raw FROM symmap WHERE core) m ON m.raw = e.raw"
                   if not self.main_only else "SELECT NULL::BIGINT AS row WHERE FALSE")
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE rowflags AS SELECT row, TRUE AS any_core,
                NULL::VARCHAR AS bad_raw, NULL::VARCHAR AS bad_reason, NULL::BIGINT AS n_skip
                FROM ({sel})"""
            )
        else:
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE rowflags AS SELECT e.row,
                bool_or({core_piece}) AS any_core,
                min(e.raw) FILTER (WHERE m.code IS NULL AND NOT m.skip) AS bad_raw,
                arg_min(m.error, e.raw) FILTER (WHERE m.code IS NULL AND NOT m.skip) AS bad_reason,
                count(*) FILTER (WHERE m.skip) AS n_skip
                FROM ({explode_symbols_sql('src', 'ipc', simple)}) e
                JOIN (SELECT * FROM symmap WHERE {core_piece.replace('m.', '')} OR skip OR code IS NULL) m
                ON m.raw = e.raw GROUP BY e.row"""
            )
        pid = f"CAST({col('patent_id')} AS VARCHAR)"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE dup_hashes AS SELECT hash({pid}) AS h FROM src
            WHERE {pid} IS NOT NULL GROUP BY ALL HAVING count(*) > 1"""
        )
        # the ids behind repeated hashes (a second, filtered look only when there are any)
        any_hash = con.execute("SELECT count(*) FROM dup_hashes").fetchall()[0][0] > 0
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE dups AS SELECT {pid} AS patent_id, min(row) AS first_row
            FROM src WHERE {'hash(' + pid + ') IN (SELECT h FROM dup_hashes)' if any_hash else 'FALSE'}
            GROUP BY ALL HAVING count(*) > 1"""
        )
        pid_s = "CAST(s.patent_id AS VARCHAR)" if "patent_id" in cols else "NULL"
        # no duplicate id (the usual case): no join, and the ids are not read again
        has_dups = con.execute("SELECT count(*) FROM dups").fetchall()[0][0] > 0
        dup_join = f"LEFT JOIN dups d ON d.patent_id = {pid_s}" if has_dups else ""
        first_row = "d.first_row" if has_dups else "NULL::BIGINT"
        use_city = "city" in cols
        loc_src = "city" if use_city else "applicant_address"
        loc_name = loc_src
        app = date_sql("app_date", types["app_date"])
        grant = date_sql("grant_date", types["grant_date"])
        group_expr = {
            None: "'all'",
            "type": "coalesce(ptype, 'unknown')",
            "section": "coalesce(main_section, 'unknown')",
        }[self.lag_by]
        core_expr = "coalesce(main_core, false)" if self.main_only else "coalesce(any_core, false)"
        def mm(c: str) -> str:
            return f"mm.{c}" if need_main else "NULL"

        main_join = f"LEFT JOIN symmap mm ON mm.raw = {main_expr}" if need_main else ""
        # a row has no IPC symbol when the cell is empty or every piece is skipped; without
        # skipped pieces (or empty cells) in the file that needs no second look at the cells
        if problems:
            no_ipc = (f"CASE WHEN s.ipc IS NULL THEN TRUE WHEN f.n_skip IS NULL THEN FALSE "
                      f"ELSE f.n_skip = len({parts_sql('s.ipc', simple)}) END")
        else:
            no_ipc = "s.ipc IS NULL" if n_null_ipc else "FALSE"
        date_hint = "(expected a date such as 2002-03-06, 2002.03.06, 20020306 or an Excel date number)"
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW typed AS SELECT s.row, {pid_s} AS patent_id,
            s.app_date AS app_src, s.grant_date AS grant_src,
            {app} AS app, {_missing_sql('app_date', types['app_date'])} AS app_missing,
            {grant} AS grant_d, {_missing_sql('grant_date', types['grant_date'])} AS grant_missing,
            {main_given} AS main_raw, {mm('code')} AS main_code, {mm('error')} AS main_error,
            {mm('section')} AS main_section, {mm('core')} AS main_core,
            f.any_core, f.bad_raw, f.bad_reason, {first_row} AS first_row,
            {no_ipc} AS no_ipc,
            nullif(trim(CAST(s.{loc_src} AS VARCHAR)), '') AS loc_raw,
            {patent_type_sql('s.patent_type' if 'patent_type' in cols else None)} AS ptype
            FROM src s LEFT JOIN rowflags f ON f.row = s.row
            {main_join}
            {dup_join}"""
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW checked AS SELECT *,
            CASE
              WHEN app_missing OR app IS NULL THEN 'app_date'
              WHEN NOT grant_missing AND grant_d IS NULL THEN 'grant_date'
              WHEN grant_d < app THEN 'grant_date'
              WHEN no_ipc OR bad_raw IS NOT NULL THEN 'ipc'
              WHEN main_raw IS NOT NULL AND main_code IS NULL THEN 'main_ipc'
              WHEN first_row IS NOT NULL AND first_row <> row THEN 'patent_id'
            END AS rej_column,
            CASE
              WHEN app_missing THEN 'missing application date'
              WHEN app IS NULL THEN 'unreadable application date {date_hint}'
              WHEN NOT grant_missing AND grant_d IS NULL THEN 'unreadable grant date {date_hint}'
              WHEN grant_d < app THEN 'grant date ' || CAST(grant_d AS VARCHAR) || ' precedes application date ' || CAST(app AS VARCHAR)
              WHEN no_ipc THEN 'no IPC symbol'
              WHEN bad_raw IS NOT NULL THEN 'invalid IPC symbol ''' || bad_raw || ''': ' || bad_reason
              WHEN main_raw IS NOT NULL AND main_code IS NULL THEN 'invalid main IPC symbol: ' || coalesce(main_error, 'not a classification symbol')
              WHEN first_row IS NOT NULL AND first_row <> row THEN 'duplicate patent_id (first seen in row ' || CAST(first_row AS VARCHAR) || ')'
            END AS rej_reason,
            {core_expr} AS core, {group_expr} AS grp
            FROM typed"""
        )
        say("resolving cities")
        from coretech.indicators.cities import map_city_names, resolve_addresses

        # each distinct location once (before checking, so that the one checking pass can
        # keep row numbers only for the rows that end up rejected or unresolved)
        all_locs = sorted(r[0] for r in con.execute(
            f"SELECT DISTINCT nullif(trim(CAST({loc_src} AS VARCHAR)), '') AS l FROM src "
            "WHERE l IS NOT NULL").fetchall())
        if use_city:
            cmap = map_city_names(all_locs, boundaries=self.boundaries)
        else:
            cmap = resolve_addresses(all_locs, boundaries=self.boundaries)
        con.register("citymap_df", cmap[["raw", "city"]])
        con.execute("CREATE OR REPLACE TEMP TABLE citymap AS SELECT row_number() OVER () AS loc_id, "
                    "* FROM citymap_df")
        say("checking and counting rows")
        # one pass: valid, resolved rows are aggregated; rejected or unresolved rows keep
        # their row number (one group each); their details are read in a second, filtered
        # pass only when there are any
        rej_cond = (
            "app_missing OR app IS NULL OR (NOT grant_missing AND grant_d IS NULL) "
            "OR grant_d < app OR no_ipc OR bad_raw IS NOT NULL "
            "OR (main_raw IS NOT NULL AND main_code IS NULL) "
            "OR (first_row IS NOT NULL AND first_row <> row)"
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE chk AS SELECT
            CASE WHEN rejected OR loc_id IS NULL OR NOT resolved THEN row END AS row,
            loc_id, app_year, grant_year, grp, core, rejected, count(*) AS n
            FROM (SELECT c.row, m.loc_id, m.city IS NOT NULL AS resolved,
                  coalesce({rej_cond}, FALSE) AS rejected,
                  year(c.app) AS app_year, year(c.grant_d) AS grant_year, c.grp, c.core
                  FROM checked c LEFT JOIN citymap m ON m.raw = c.loc_raw)
            GROUP BY ALL"""
        )
        n_locs = con.execute(
            "SELECT count(DISTINCT loc_id) FROM chk WHERE NOT rejected").fetchall()[0][0]
        con.execute(
            """CREATE OR REPLACE TEMP TABLE valid AS SELECT m.city, a.app_year, a.grant_year,
            a.grp, a.core, sum(a.n) AS n FROM chk a JOIN citymap m ON m.loc_id = a.loc_id
            WHERE NOT a.rejected AND m.city IS NOT NULL GROUP BY ALL"""
        )
        say("listing rejected rows")
        n_listed = con.execute("SELECT count(row) FROM chk").fetchall()[0][0]
        where = ("c.row IN (SELECT row FROM chk WHERE row IS NOT NULL)" if n_listed else "FALSE")
        self.rejects_ = con.execute(
            f"""SELECT row, coalesce(rej_column, '{loc_name}') AS "column",
            CASE WHEN rej_column IS NULL THEN coalesce(loc_raw, '') ELSE rej_value END AS value,
            coalesce(rej_reason, CASE WHEN loc_raw IS NULL THEN 'no {loc_name}'
                     ELSE 'cannot resolve to a prefecture-level city' END) AS reason
            FROM (SELECT c.row, c.loc_raw, c.rej_column, c.rej_reason, m.city,
                  CASE c.rej_column
                    WHEN 'app_date' THEN {raw('app_date', 'c.app_src')}
                    WHEN 'grant_date' THEN {raw('grant_date', 'c.grant_src')}
                    WHEN 'ipc' THEN coalesce(c.bad_raw, '')
                    WHEN 'main_ipc' THEN c.main_raw
                    WHEN 'patent_id' THEN c.patent_id END AS rej_value
                  FROM checked c LEFT JOIN citymap m ON m.raw = c.loc_raw WHERE {where})
            WHERE rej_reason IS NOT NULL OR city IS NULL ORDER BY row"""
        ).df()
        self.counts_ = con.execute(
            f"""SELECT city, app_year AS year, grp AS "group", sum(n)::BIGINT AS k_raw FROM valid
            WHERE core AND grant_year IS NOT NULL AND grant_year <= {T} AND app_year <= {T}
            GROUP BY ALL ORDER BY ALL"""
        ).df()
        lag_filter = "AND core" if self.lag_sample == "core" else ""
        self.cells_ = con.execute(
            f"""SELECT grp AS "group", app_year AS t, grant_year - app_year AS s,
            sum(n)::BIGINT AS n FROM valid WHERE grant_year IS NOT NULL {lag_filter}
            GROUP BY ALL ORDER BY ALL"""
        ).df()
        stat = con.execute(
            f"""SELECT coalesce(sum(n), 0)::BIGINT AS valid_rows,
            coalesce(sum(n) FILTER (WHERE app_year > {T}), 0)::BIGINT AS applied_after_end_year,
            coalesce(sum(n) FILTER (WHERE grant_year <= {T}), 0)::BIGINT AS granted_by_end_year,
            coalesce(sum(n) FILTER (WHERE core), 0)::BIGINT AS core_patents,
            coalesce(sum(n) FILTER (WHERE core AND grant_year <= {T} AND app_year <= {T}), 0)::BIGINT
                AS core_granted_by_end_year,
            min(app_year) AS first_app_year, max(app_year) AS last_app_year
            FROM valid"""
        ).df().iloc[0]
        self.cities_ = sorted(r[0] for r in con.execute(
            "SELECT DISTINCT city FROM valid").fetchall())
        by_column = (
            self.rejects_.groupby("column").size().to_dict() if len(self.rejects_) else {}
        )
        self.stats_ = {
            "rows_read": source.n_rows,
            "rows_rejected": int(len(self.rejects_)),
            "rejected_by_column": {str(k): int(v) for k, v in sorted(by_column.items())},
            "unresolved_locations": int(
                self.rejects_["reason"].isin(
                    [f"no {loc_name}", "cannot resolve to a prefecture-level city"]).sum()
            ) if len(self.rejects_) else 0,
            "distinct_locations": int(n_locs),
            "distinct_symbols": int(len(symmap)),
            "rows_with_indexing_codes": int(n_indexing),
            "cities": len(self.cities_),
            **{k: (None if pd.isna(v) else int(v)) for k, v in stat.items()},
        }
        return self


def _null_count(con: Any, source: PatentSource, name: str) -> int:
    """Empty cells of a column: from the Parquet footer's statistics when it has them (no
    scan of the column), else counted."""
    if source.path.suffix.lower() == ".parquet":
        got = con.execute(
            "SELECT sum(stats_null_count), count(*) = count(stats_null_count) "
            "FROM parquet_metadata(?) WHERE path_in_schema = ?",
            [str(source.path), source.columns[name]],
        ).fetchall()[0]
        if got[0] is not None and got[1]:
            return int(got[0])
    return int(con.execute(f"SELECT count(*) FROM src WHERE {name} IS NULL").fetchall()[0][0])


# --------------------------------------------------------------------------- adjustment
def estimate_shares(
    cells: pd.DataFrame,
    *,
    method: str,
    reference: tuple[int, int] | None,
    end_year: int,
    s_max: int | None,
) -> dict[str, pd.DataFrame]:
    """T_s per group (``'all'`` = pooled over groups) from the lag cells."""
    out = {"all": shares_from_cells(cells.groupby(["t", "s"], as_index=False)["n"].sum(),
                                    method=method, reference=reference, end_year=end_year,
                                    s_max=s_max)}
    groups = sorted(set(cells["group"])) if "group" in cells.columns else []
    if groups != ["all"]:
        for g in groups:
            sub = cells[cells["group"] == g]
            try:
                out[g] = shares_from_cells(sub, method=method, reference=reference,
                                           end_year=end_year, s_max=s_max)
            except ValueError:
                out[g] = out["all"]  # too few grants in the group: fall back to pooled
    return out


def adjust_counts(
    counts: pd.DataFrame,
    shares: Mapping[str, pd.DataFrame],
    *,
    cities: list[str],
    years: tuple[int, int],
    end_year: int,
    adjust_from: int | None,
) -> pd.DataFrame:
    """Balanced city x year panel of k_raw, lag_share_cum, k_adj, sicoughs (eq. 5 per group).

    With groups, K_adj = sum_g K_raw,g / cum_g(T - t) and ``lag_share_cum`` = K_raw / K_adj
    (the pooled denominator where K_raw = 0).
    """
    yr = np.arange(years[0], years[1] + 1)
    panel = pd.MultiIndex.from_product([cities, yr], names=["city", "year"]).to_frame(index=False)
    pooled_den = _denominators(shares["all"], yr, end_year, adjust_from)
    if counts.empty:
        k = pd.DataFrame(columns=["city", "year", "k_raw", "k_adj"])
    else:
        c = counts[(counts["year"] >= years[0]) & (counts["year"] <= years[1])]
        c = c.reset_index(drop=True)
        den = np.ones(len(c))
        for g, sub_idx in c.groupby("group").groups.items():
            tab = shares.get(str(g), shares["all"])
            d = _denominators(tab, yr, end_year, adjust_from)
            pos = np.asarray(sub_idx)
            den[pos] = d[c.loc[pos, "year"].to_numpy() - yr[0]]
        with np.errstate(divide="ignore", invalid="ignore"):
            c["k_adj"] = np.where(den > 0, c["k_raw"] / den, np.nan)
        k = c.groupby(["city", "year"], as_index=False)[["k_raw", "k_adj"]].sum(min_count=1)
    out = panel.merge(k, on=["city", "year"], how="left")
    out["k_raw"] = out["k_raw"].fillna(0).astype("int64")
    pden = pooled_den[out["year"].to_numpy() - yr[0]]
    out["k_adj"] = np.where(out["k_raw"] == 0, np.where(pden > 0, 0.0, np.nan),
                            out["k_adj"].astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = np.where(out["k_adj"] > 0, out["k_raw"] / out["k_adj"], pden)
    out["lag_share_cum"] = eff
    out["sicoughs"] = np.log1p(out["k_adj"])
    return out[OUTPUT_COLUMNS]


def _denominators(tab: pd.DataFrame, yr: np.ndarray, end_year: int, adjust_from: int | None) -> np.ndarray:
    d = cumulative_share(tab, yr, end_year)
    if adjust_from is not None:
        d = np.where(yr >= adjust_from, d, 1.0)
    return d


def bootstrap_interval(
    counts: pd.DataFrame,
    cells: pd.DataFrame,
    panel: pd.DataFrame,
    *,
    n_boot: int,
    seed: int,
    level: float,
    method: str,
    reference: tuple[int, int] | None,
    end_year: int,
    s_max: int | None,
    adjust_from: int | None,
    fallback: Mapping[str, pd.DataFrame],
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of K_adj from resampling the reference applications' lags.

    Each replicate draws the (group, cohort, lag) cell counts from a multinomial with the
    observed cell shares (= resampling granted applications with replacement, within group),
    re-estimates T_s with the same method and recomputes eq. (5). K_raw is held fixed: the
    interval reflects the uncertainty of T_s only.
    """
    rng = np.random.default_rng(seed)
    yr = np.arange(int(panel["year"].min()), int(panel["year"].max()) + 1)
    groups = sorted(set(cells["group"]))
    key = panel.set_index(["city", "year"]).index
    # k_raw per group aligned to the panel rows
    kg = {}
    for g in groups:
        sub = counts[counts["group"] == g].set_index(["city", "year"])["k_raw"]
        kg[g] = sub.reindex(key, fill_value=0).to_numpy(dtype=float)
    year_idx = panel["year"].to_numpy() - yr[0]
    draws = np.empty((len(panel), n_boot))
    cell_groups = {g: cells[cells["group"] == g].reset_index(drop=True) for g in groups}
    for b in range(n_boot):
        total = np.zeros(len(panel))
        for g in groups:
            cg = cell_groups[g]
            n = cg["n"].to_numpy()
            resampled = cg.assign(n=rng.multinomial(int(n.sum()), n / n.sum()))
            try:
                tab = shares_from_cells(resampled, method=method, reference=reference,
                                        end_year=end_year, s_max=s_max)
            except ValueError:  # too few grants drawn in the group: keep its point estimate
                tab = fallback.get(g, fallback["all"])
            den = _denominators(tab, yr, end_year, adjust_from)[year_idx]
            with np.errstate(divide="ignore", invalid="ignore"):
                total += np.where(kg[g] > 0, kg[g] / den, 0.0)
        draws[:, b] = total
    alpha = (1 - level) / 2
    lo = np.nanquantile(draws, alpha, axis=1)
    hi = np.nanquantile(draws, 1 - alpha, axis=1)
    return lo, hi


# --------------------------------------------------------------------------- the command
def _parse_window(value: str | tuple[int, int] | None, name: str) -> tuple[int, int] | None:
    if value is None or isinstance(value, tuple):
        return value
    text = str(value).strip()
    if text.lower() in {"", "none", "all"}:
        return None
    try:
        a, b = (int(x) for x in text.replace("–", "-").split("-", 1))
    except ValueError as exc:
        raise InputError(f"{name} expects FIRST-LAST years such as 2000-2016, got {value!r}") from exc
    if a > b:
        raise InputError(f"{name} {a}-{b} is empty")
    return (a, b)


def run_breakthrough(
    patents: str | Path,
    *,
    dictionary: str | Path,
    out: str | Path,
    end_year: int = 2022,
    reference: tuple[int, int] | str | None = (2000, 2016),
    lag_table: str | Path | None = None,
    ipc: str | Path | None = None,
    encoding: str | None = None,
    columns: Mapping[str, str] | Iterable[str] | None = None,
    sheet: str | int | None = 0,
    main_only: bool = False,
    boundaries: int = 2022,
    lag_method: str = "pooled",
    s_max: int | None = None,
    lag_by: str | None = None,
    lag_sample: str = "all",
    adjust_from: int | None = None,
    years: tuple[int, int] | str | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.95,
    plots: str | Path | None = None,
    plot_format: str = "png",
    rejects: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Patents -> Sicoughs file (+ rejects, lag table, plots, provenance). Returns provenance.

    ``adjust_from`` defaults to the year after the reference window (the paper adjusts
    2017-2022 with reference 2000-2016); ``years`` defaults to the first application year in
    the data through ``end_year``. See docs/breakthrough.md for every option.
    """
    import duckdb

    from coretech.provenance import provenance, write_provenance

    reference = _parse_window(reference, "--reference")
    years = _parse_window(years, "--years")
    if lag_method not in METHODS:
        raise InputError(f"--lag-method must be one of {', '.join(METHODS)}, got {lag_method!r}")
    if bootstrap < 0:
        raise InputError("--bootstrap must be >= 0")
    if not 0 < level < 1:
        raise InputError("--level must be between 0 and 1")
    if reference is not None and reference[1] > end_year:
        raise InputError(f"--reference {reference[0]}-{reference[1]} ends after --end-year {end_year}")
    if years is not None and years[1] > end_year:
        raise InputError(f"--years {years[0]}-{years[1]} ends after --end-year {end_year}: no "
                         "grant after the end year is seen, so those years cannot be counted")
    if adjust_from is None:
        adjust_from = reference[1] + 1 if reference is not None else None
    say = progress or (lambda _m: None)
    out = Path(out)
    rejects_path = Path(rejects) if rejects else out.with_name(out.stem + ".rejects.csv")

    counter = BreakthroughCounter(end_year=end_year, main_only=main_only, lag_by=lag_by,
                                  lag_sample=lag_sample, boundaries=boundaries, years=years)
    say(f"reading the dictionary {dictionary}")
    dic = read_dictionary(dictionary)
    needs_scheme = any(parse(c).kind == "subgroup" for c in dic["ipc_code"])
    hierarchy = load_hierarchy(ipc) if (needs_scheme or ipc is not None) else None
    cover = cover_table(dic["ipc_code"], hierarchy)

    con = duckdb.connect()
    # every result below is ordered explicitly: let DuckDB stream and aggregate out of order
    con.execute("SET preserve_insertion_order = false")
    try:
        say(f"reading {patents}")
        source = open_patents(con, patents, encoding=encoding, columns=columns, sheet=sheet)
        counter.fit(con, source, cover, progress=say)
    finally:
        con.close()
    stats = counter.stats_
    if stats["valid_rows"] == 0:
        raise InputError("no valid patent row (see the rejects file)", file=patents)
    if years is None:
        years = (int(stats["first_app_year"]), end_year)
    say("estimating the grant-lag distribution")
    try:
        shares = estimate_shares(counter.cells_, method=lag_method, reference=reference,
                                 end_year=end_year, s_max=s_max)
    except ValueError as exc:
        raise InputError(f"cannot estimate the lag distribution: {exc}", file=patents) from exc
    table = adjust_counts(counter.counts_, shares, cities=counter.cities_, years=years,
                          end_year=end_year, adjust_from=adjust_from)
    if bootstrap:
        say(f"bootstrap ({bootstrap} replicates)")
        lo, hi = bootstrap_interval(
            counter.counts_, counter.cells_, table, n_boot=bootstrap, seed=seed, level=level,
            method=lag_method, reference=reference, end_year=end_year, s_max=s_max,
            adjust_from=adjust_from, fallback=shares,
        )
        table["k_adj_lo"] = lo
        table["k_adj_hi"] = hi
    write_table(table, out)
    rej = counter.rejects_.copy()
    rej.insert(0, "file", str(patents))
    write_table(rej[["file", "row", "column", "value", "reason"]], rejects_path)
    lag_out = lag_table_frame(shares)
    if lag_table is not None:
        write_table(lag_out, lag_table)
    plot_files: list[str] = []
    if plots is not None:
        from coretech.indicators.breakthrough_plots import write_plots

        plot_files = write_plots(Path(plots), lag_out, table, fmt=plot_format)
    zero_den = sorted(int(y) for y in table.loc[table["k_adj"].isna(), "year"].unique())
    options = {
        "end_year": end_year,
        "reference": list(reference) if reference else None,
        "lag_unit": "calendar years (grant year - application year)",
        "lag_method": lag_method,
        "s_max": s_max,
        "lag_by": lag_by,
        "lag_sample": lag_sample,
        "adjust_from": adjust_from,
        "years": list(years),
        "ipc_counted": "main" if main_only else "any",
        "count_unit": "patent once per city-year (application year), granted by end_year",
        "boundaries": boundaries,
        "city_source": "city column" if "city" in source.columns else "applicant_address",
        "encoding": encoding or source.encoding,
        "columns": dict(sorted(source.columns.items())),
        "bootstrap": bootstrap,
        "seed": seed if bootstrap else None,
        "level": level if bootstrap else None,
        "dictionary_codes": int(len(dic)),
        "scheme": str(ipc) if ipc is not None else ("embedded default" if hierarchy else None),
    }
    counts = dict(stats)
    counts["years_with_zero_denominator"] = zero_den
    record = provenance(
        stage="breakthrough",
        inputs={"patents": patents, "dictionary": dictionary, "ipc": ipc},
        options=options,
        counts=counts,
        outputs={"table": str(out), "rejects": str(rejects_path),
                 "lag_table": str(lag_table) if lag_table else None, "plots": plot_files},
        lag_shares={g: [round(float(x), 12) for x in t["share"]] for g, t in shares.items()},
    )
    write_provenance(out, record)
    return record


def lag_table_frame(shares: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """``s, n, share, cum_share`` (pooled) plus ``share_<group>`` per group."""
    base = shares["all"].copy()
    for g in sorted(k for k in shares if k != "all"):
        t = shares[g].set_index("s")["share"]
        smax = max(int(base["s"].max()), int(t.index.max()))
        base = base.set_index("s").reindex(range(smax + 1)).reset_index()
        base["n"] = base["n"].fillna(0).astype("int64")
        base["share"] = base["share"].fillna(0.0)
        base["cum_share"] = base["share"].cumsum()
        base[f"share_{g}"] = t.reindex(range(smax + 1), fill_value=0.0).to_numpy()
    return base


def summary_lines(record: Mapping[str, Any]) -> list[str]:
    """What the command prints: counts read / rejected / unresolved, and where files went."""
    c = record["counts"]
    lines = [
        f"read {c['rows_read']} rows; rejected {c['rows_rejected']} "
        + (f"({', '.join(f'{k}: {v}' for k, v in c['rejected_by_column'].items())})"
           if c["rejected_by_column"] else ""),
        f"unresolved locations: {c['unresolved_locations']}; cities: {c['cities']}",
        f"core-technology patents granted by {record['options']['end_year']}: "
        f"{c['core_granted_by_end_year']}",
        f"wrote {record['outputs']['table']} (rejects: {record['outputs']['rejects']})",
    ]
    if c.get("years_with_zero_denominator"):
        lines.append(
            "warning: no grant is seen within T - t years for application year(s) "
            f"{c['years_with_zero_denominator']}: k_adj is empty there"
        )
    return lines

