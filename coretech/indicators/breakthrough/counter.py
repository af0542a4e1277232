"""Step 3 of the breakthrough variable: read + check every row and count, in one pass.

:class:`BreakthroughCounter` runs on a DuckDB connection with the patent file opened as the
view ``src`` (:func:`coretech.indicators.patents.open_patents`) and the symbol tables of
:func:`.dictionary.symbol_table`:

1. the IPC pass (:func:`.symbols.symbol_flags`): per-row symbol flags for the few rows that
   have a covered, unusual or invalid piece;
2. duplicate ids: one hash group-by over the id column (the ids behind a repeated hash are
   read again only when there is one);
3. the counting pass: dates (readable, 1985 <= application year <= T, grant not before the
   application), symbol flags, duplicates and the location, aggregated straight to
   (location, application year, grant year, group, core) counts. A rejected row keeps its
   row number (one group each) and its details are read in a filtered pass only when there
   are any. Locations are resolved once each, from the aggregate (a ``city`` column is
   checked against the prefecture list; an address is resolved); rows whose location does
   not resolve are listed in the same filtered pass.

No table as long as the input is materialised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.indicators.breakthrough.dictionary import Scheme, load_scheme, symbol_table
from coretech.indicators.breakthrough.symbols import symbol_flags
from coretech.indicators.patents import (
    PatentSource,
    _missing_sql,
    date_sql,
    parts_sql,
    patent_type_sql,
)

LAG_BY = (None, "type", "section")
LAG_SAMPLES = ("all", "core")
#: First application year accepted: CNIPA received its first applications on 1985-04-01.
FIRST_YEAR = 1985
DATE_HINT = "(expected a date such as 2002-03-06, 2002.03.06, 20020306 or an Excel date number)"


class BreakthroughCounter:
    """Counts core-technology patents of one patent file on a DuckDB connection.

    Parameters are validated up front; :meth:`fit` reads, checks and counts; the results are
    the attributes ``counts_`` (city, year, group, k_raw), ``cells_`` (lag cells),
    ``rejects_``, ``cities_`` and ``stats_``.
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
        allow_unknown_cities: bool = False,
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
        self.allow_unknown_cities = allow_unknown_cities

    # ------------------------------------------------------------------ SQL pieces
    def _typed_view(self, con: Any, source: PatentSource, has_dups: bool, n_null_ipc: int,
                    simple: bool) -> None:
        cols, types = source.columns, source.types
        pid_s = "CAST(s.patent_id AS VARCHAR)" if "patent_id" in cols else "NULL"
        main_given = ("nullif(trim(CAST(s.main_ipc AS VARCHAR)), '')" if "main_ipc" in cols
                      else "NULL::VARCHAR")
        # the main symbol: main_ipc, else the first piece listed. A symbol without a rowflags
        # entry is a canonical scheme symbol outside the dictionary: not core, section = 1st char
        main_section = (
            f"CASE WHEN {main_given} IS NOT NULL THEN coalesce(f.given_section, left({main_given}, 1)) "
            f"ELSE coalesce(f.first_section, left(trim(({parts_sql('s.ipc', False)})[1]), 1)) END"
            if self.lag_by == "section" else "NULL")
        main_core = (f"CASE WHEN {main_given} IS NOT NULL THEN coalesce(f.given_core, FALSE) "
                     "ELSE coalesce(f.first_core, FALSE) END")
        group_expr = {
            None: "'all'",
            "type": "coalesce(ptype, 'unknown')",
            "section": "coalesce(main_section, 'unknown')",
        }[self.lag_by]
        core = main_core if self.main_only else "coalesce(f.any_core, FALSE)"
        flags = "LEFT JOIN rowflags f ON f.row = s.row"
        f = {c: f"f.{c}" for c in ("given_bad", "given_error", "bad_raw", "bad_reason",
                                   "all_skip")}
        if simple:  # only valid symbols: membership in corerows, no per-row flags
            core, flags = "s.row IN (SELECT row FROM corerows)", ""
            f = {"given_bad": "NULL::BOOLEAN", "given_error": "NULL::VARCHAR",
                 "bad_raw": "NULL::VARCHAR", "bad_reason": "NULL::VARCHAR",
                 "all_skip": "NULL::BOOLEAN"}
        no_ipc = "s.ipc IS NULL OR " if n_null_ipc else ""
        loc_src = "city" if "city" in cols else "applicant_address"
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW typed AS SELECT s.row, {pid_s} AS patent_id,
            s.app_date AS app_src, s.grant_date AS grant_src,
            {date_sql('s.app_date', types['app_date'])} AS app,
            {_missing_sql('s.app_date', types['app_date'])} AS app_missing,
            {date_sql('s.grant_date', types['grant_date'])} AS grant_d,
            {_missing_sql('s.grant_date', types['grant_date'])} AS grant_missing,
            {main_given} AS main_raw, coalesce({f['given_bad']}, FALSE) AS main_bad,
            {f['given_error']} AS main_error, {main_section} AS main_section, {core} AS core,
            {f['bad_raw']} AS bad_raw, {f['bad_reason']} AS bad_reason,
            {'d.first_row' if has_dups else 'NULL::BIGINT'} AS first_row,
            ({no_ipc}coalesce({f['all_skip']}, FALSE)) AS no_ipc,
            CAST(s.{loc_src} AS VARCHAR) AS loc_src,
            nullif(trim(CAST(s.{loc_src} AS VARCHAR)), '') AS loc_raw,
            {patent_type_sql('s.patent_type' if 'patent_type' in cols else None)} AS ptype
            FROM src s {flags}
            {f'LEFT JOIN dups d ON d.patent_id = {pid_s}' if has_dups else ''}"""
        )
        T, y0 = self.end_year, FIRST_YEAR
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW checked AS SELECT *,
            CASE
              WHEN app_missing OR app IS NULL OR year(app) < {y0} OR year(app) > {T} THEN 'app_date'
              WHEN NOT grant_missing AND grant_d IS NULL THEN 'grant_date'
              WHEN grant_d < app THEN 'grant_date'
              WHEN no_ipc OR bad_raw IS NOT NULL THEN 'ipc'
              WHEN main_bad THEN 'main_ipc'
              WHEN first_row IS NOT NULL AND first_row <> row THEN 'patent_id'
            END AS rej_column,
            CASE
              WHEN app_missing THEN 'missing application date'
              WHEN app IS NULL THEN 'unreadable application date {DATE_HINT}'
              WHEN year(app) < {y0} THEN 'application date ' || CAST(app AS VARCHAR)
                   || ' before {y0} (CNIPA received its first applications on 1985-04-01)'
              WHEN year(app) > {T} THEN 'application date ' || CAST(app AS VARCHAR)
                   || ' after the end year {T} (--end-year: the data''s last year)'
              WHEN NOT grant_missing AND grant_d IS NULL THEN 'unreadable grant date {DATE_HINT}'
              WHEN grant_d < app THEN 'grant date ' || CAST(grant_d AS VARCHAR)
                   || ' precedes application date ' || CAST(app AS VARCHAR)
              WHEN no_ipc THEN 'no IPC symbol'
              WHEN bad_raw IS NOT NULL THEN 'invalid IPC symbol ''' || bad_raw || ''': ' || bad_reason
              WHEN main_bad THEN 'invalid main IPC symbol: '
                   || coalesce(main_error, 'not a classification symbol')
              WHEN first_row IS NOT NULL AND first_row <> row THEN
                   'duplicate patent_id (first seen in row ' || CAST(first_row AS VARCHAR) || ')'
            END AS rej_reason,
            {group_expr} AS grp
            FROM typed"""
        )

    def _duplicates(self, con: Any, source: PatentSource) -> bool:
        if "patent_id" not in source.columns:
            return False
        pid = "CAST(patent_id AS VARCHAR)"
        # the ids' 64-bit hashes, sorted in numpy: 8 bytes a row and no hash table as long as
        # the file (a GROUP BY over the ids needs ~5x the memory); equal neighbours are the
        # candidates, checked on the ids themselves below
        h = con.execute(f"SELECT hash({pid}) AS h FROM src WHERE {pid} IS NOT NULL"
                        ).fetchnumpy()["h"]
        h = np.sort(np.asarray(h))
        rep = np.unique(h[1:][h[1:] == h[:-1]])
        del h
        if not len(rep):
            return False
        con.register("dup_hashes", pd.DataFrame({"h": rep}))
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE dups AS SELECT {pid} AS patent_id,
            min(row) AS first_row FROM src WHERE hash({pid}) IN (SELECT h FROM dup_hashes)
            GROUP BY ALL HAVING count(*) > 1"""
        )
        return con.execute("SELECT count(*) FROM dups").fetchall()[0][0] > 0

    def _locations(self, names: list[str]) -> pd.DataFrame:
        """Distinct location cells (as in the file) -> ``raw, city`` (None: unresolved; an
        empty cell is unresolved and listed as 'no city')."""
        from coretech.indicators.cities import canonical_city_names, resolve_addresses

        trimmed = sorted({n.strip() for n in names} - {""})
        if self._use_city:
            m = canonical_city_names(trimmed, boundaries=self.boundaries)
            unknown = m["city"].isna()
            self.unknown_cities_ = sorted(m.loc[unknown, "raw"])
            if self.allow_unknown_cities:
                m.loc[unknown, "city"] = m.loc[unknown, "raw"]
        else:
            self.unknown_cities_ = []
            m = resolve_addresses(trimmed, boundaries=self.boundaries)
        city = dict(zip(m["raw"], m["city"], strict=True))
        return pd.DataFrame({"raw": names, "city": [city.get(n.strip()) for n in names]},
                            dtype=object)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        con: Any,
        source: PatentSource,
        cover: pd.DataFrame | None = None,
        progress: Callable[[str], None] | None = None,
        *,
        scheme: Scheme | None = None,
    ) -> BreakthroughCounter:
        """Read, check and count ``source`` (the view ``src`` on ``con``) against ``cover``
        (:func:`.dictionary.scheme_cover`) and ``scheme`` (default: the embedded one). With
        ``cover=None`` the tables of :func:`.dictionary.symbol_table` must exist on ``con``."""
        say = progress or (lambda _m: None)
        if cover is not None:
            symbol_table(con, scheme if scheme is not None else load_scheme(None), cover)
        cols = source.columns
        T = self.end_year
        self._use_city = "city" in cols
        loc_name = "city" if self._use_city else "applicant_address"

        say("reading IPC symbols")
        sym_stats = symbol_flags(con, source,
                                 need_main=self.main_only or self.lag_by == "section")
        say("checking for duplicate ids")
        has_dups = self._duplicates(con, source)
        simple = bool(sym_stats.pop("simple"))
        self._typed_view(con, source, has_dups, _null_count(con, source, "ipc"), simple)
        say("checking and counting rows")
        # one pass: valid rows are aggregated by their location string; rejected rows keep
        # their row number (one group each)
        con.execute(
            """CREATE OR REPLACE TEMP TABLE chk AS SELECT
            CASE WHEN rej_column IS NOT NULL OR loc_src IS NULL THEN row END AS row,
            loc_src, rej_column IS NOT NULL AS rejected,
            year(app) AS app_year, year(grant_d) AS grant_year, grp, core, count(*) AS n
            FROM checked GROUP BY ALL"""
        )
        say("resolving locations")
        names = sorted(r[0] for r in con.execute(
            "SELECT DISTINCT loc_src FROM chk WHERE loc_src IS NOT NULL AND NOT rejected"
        ).fetchall())
        con.register("locmap_df", self._locations(names))
        con.execute(
            """CREATE OR REPLACE TEMP TABLE valid AS SELECT m.city, a.app_year, a.grant_year,
            a.grp, a.core, sum(a.n) AS n FROM chk a JOIN locmap_df m ON m.raw = a.loc_src
            WHERE NOT a.rejected AND m.city IS NOT NULL GROUP BY ALL"""
        )
        unresolved = [r[0] for r in con.execute(
            "SELECT raw FROM locmap_df WHERE city IS NULL").fetchall()]
        say("listing rejected rows")
        self.rejects_ = self._rejects(con, source, unresolved, loc_name)
        self.counts_ = con.execute(
            f"""SELECT city, app_year AS year, grp AS "group", sum(n)::BIGINT AS k_raw FROM valid
            WHERE core AND grant_year IS NOT NULL AND grant_year <= {T}
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
            0::BIGINT AS applied_after_end_year,
            coalesce(sum(n) FILTER (WHERE grant_year <= {T}), 0)::BIGINT AS granted_by_end_year,
            coalesce(sum(n) FILTER (WHERE core), 0)::BIGINT AS core_patents,
            coalesce(sum(n) FILTER (WHERE core AND grant_year <= {T}), 0)::BIGINT
                AS core_granted_by_end_year,
            min(app_year) AS first_app_year, max(app_year) AS last_app_year
            FROM valid"""
        ).df().iloc[0]
        self.cities_ = sorted(r[0] for r in con.execute(
            "SELECT DISTINCT city FROM valid").fetchall())
        unknown_rows = 0
        if self.allow_unknown_cities and self.unknown_cities_:
            unknown = set(self.unknown_cities_)
            con.register("unknown_df", pd.DataFrame(
                {"raw": [n for n in names if n.strip() in unknown]}, dtype=object))
            unknown_rows = con.execute(
                "SELECT coalesce(sum(n), 0) FROM chk WHERE NOT rejected AND loc_src IN "
                "(SELECT raw FROM unknown_df)").fetchall()[0][0]
        rej = self.rejects_
        by_column = rej.groupby("column").size().to_dict() if len(rej) else {}
        by_reason = _reason_counts(rej, loc_name)
        self.stats_ = {
            "rows_read": source.n_rows,
            "rows_rejected": int(len(rej)),
            "rejected_by_column": {str(k): int(v) for k, v in sorted(by_column.items())},
            "rejected_by_reason": by_reason,
            "unresolved_locations": by_reason.get("unresolved location", 0)
            + by_reason.get("unknown city", 0) + by_reason.get("no location", 0),
            "distinct_locations": len(names),
            "unknown_cities": len(self.unknown_cities_),
            "unknown_cities_kept": len(self.unknown_cities_) if self.allow_unknown_cities else 0,
            "rows_with_unknown_city_kept": int(unknown_rows),
            **sym_stats,
            "cities": len(self.cities_),
            **{k: (None if pd.isna(v) else int(v)) for k, v in stat.items()},
        }
        return self

    def _rejects(self, con: Any, source: PatentSource, unresolved: list[str],
                 loc_name: str) -> pd.DataFrame:
        types = source.types

        def raw(name: str, expr: str) -> str:
            t = types[name].upper()
            typed = t.startswith("DATE") or t.startswith("TIMESTAMP")
            return f"CAST(CAST({expr} AS DATE) AS VARCHAR)" if typed else f"CAST({expr} AS VARCHAR)"

        n_listed = con.execute("SELECT count(row) FROM chk").fetchall()[0][0]
        conds = []
        if n_listed:
            conds.append("c.row IN (SELECT row FROM chk WHERE row IS NOT NULL)")
        if unresolved:
            con.register("unresolved_df", pd.DataFrame({"raw": unresolved}))
            conds.append("c.loc_src IN (SELECT raw FROM unresolved_df)")
        if not conds:
            return pd.DataFrame({"row": pd.Series(dtype="int64"), "column": [], "value": [],
                                 "reason": []})
        unknown = ("'not a prefecture-level city (--allow-unknown-cities keeps it)'"
                   if self._use_city else "'cannot resolve to a prefecture-level city'")
        return con.execute(
            f"""SELECT row, coalesce(rej_column, '{loc_name}') AS "column",
            CASE WHEN rej_column IS NULL THEN coalesce(loc_raw, '') ELSE rej_value END AS value,
            coalesce(rej_reason, CASE WHEN loc_raw IS NULL THEN 'no {loc_name}'
                     ELSE {unknown} END) AS reason
            FROM (SELECT c.row, c.loc_raw, c.rej_column, c.rej_reason,
                  CASE c.rej_column
                    WHEN 'app_date' THEN {raw('app_date', 'c.app_src')}
                    WHEN 'grant_date' THEN {raw('grant_date', 'c.grant_src')}
                    WHEN 'ipc' THEN coalesce(c.bad_raw, '')
                    WHEN 'main_ipc' THEN c.main_raw
                    WHEN 'patent_id' THEN c.patent_id END AS rej_value
                  FROM checked c WHERE {' OR '.join(conds)})
            ORDER BY row"""
        ).df()


def _reason_counts(rej: pd.DataFrame, loc_name: str) -> dict[str, int]:
    """Rejected rows by kind of reason (the reason text without its values)."""
    if not len(rej):
        return {}
    r = rej["reason"].astype(str)
    kinds = pd.Series("other", index=rej.index)
    for key, pat in [
        ("missing application date", "^missing application date"),
        ("unreadable date", "^unreadable"),
        ("application date before 1985", "before 1985"),
        ("application date after end year", "after the end year"),
        ("grant before application", "precedes application"),
        ("no IPC symbol", "^no IPC symbol"),
        ("invalid IPC symbol", "^invalid IPC symbol"),
        ("invalid main IPC symbol", "^invalid main IPC"),
        ("duplicate patent_id", "^duplicate patent_id"),
        ("no location", f"^no {loc_name}"),
        ("unknown city", "^not a prefecture-level city"),
        ("unresolved location", "^cannot resolve"),
    ]:
        kinds[r.str.contains(pat, regex=True)] = key
    return {str(k): int(v) for k, v in sorted(kinds.value_counts().items())}


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
