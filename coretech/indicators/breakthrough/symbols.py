"""Step 2b of the breakthrough variable: the patents' IPC lists -> per-row symbol flags.

One pass over the IPC column splits every list and keeps only the pieces that need a look:
a piece that is a canonical scheme symbol outside the dictionary (table ``plain``, from
:func:`.dictionary.symbol_table`) -- the vast majority -- is dropped in the same hash probe.
What is left (covered symbols, other notations, symbols not in the scheme, invalid strings,
indexing codes) is small; its distinct strings are normalised in Python once each
(:func:`coretech.indicators.patents.normalize_symbols`) and matched to the dictionary's cover
table. The result is ``rowflags``: one row per patent row that has such a piece:

    any_core    a piece within a dictionary code (not the main_ipc column's)
    bad_raw     the first invalid piece (the row is rejected), bad_reason why
    all_skip    every piece is empty or an indexing code (the row has no IPC symbol)
    given_*     the main_ipc column's symbol: core, invalid (given_bad/given_error), section
    first_*     the first piece of the list (the main symbol when main_ipc is empty)

A row without an entry has only valid, uncovered symbols. When every kept piece is a valid
covered symbol (the usual case) only the table ``corerows`` (row numbers with a covered
piece) is made and ``rowflags`` is not: ``simple`` in the returned counts. Cells with another separator
(``,`` ``；`` ...) or ``//`` are found among the kept pieces and re-split in full, those rows
only.
"""

from __future__ import annotations

from typing import Any

from coretech.indicators.patents import (
    SEPARATOR_CHARS,
    PatentSource,
    normalize_symbols,
    parts_sql,
)

_ODD = " OR ".join(f"contains(raw, '{c}')" for c in ["//", *SEPARATOR_CHARS])


def _pieces(simple: bool, need_first: bool, where: str = "") -> str:
    parts = parts_sql("ipc", simple)
    idx = f", unnest(range(1, len({parts}) + 1)) = 1 AS is_first" if need_first else \
        ", FALSE AS is_first"
    return (f"SELECT row, unnest({parts}) AS raw{idx}, FALSE AS is_given FROM src "
            f"WHERE ipc IS NOT NULL {where}")


def symbol_flags(con: Any, source: PatentSource, *, need_main: bool) -> dict[str, int]:
    """Create ``rowflags`` on ``con`` (see the module docstring); return counts:
    ``rows_with_indexing_codes``, ``symbols_looked_up`` (distinct strings normalised)."""
    cols = source.columns
    need_first = need_main
    main_given = "nullif(trim(CAST(main_ipc AS VARCHAR)), '')"
    given = (f" UNION ALL SELECT row, {main_given}, FALSE, TRUE FROM src "
             f"WHERE {main_given} IS NOT NULL" if "main_ipc" in cols else "")
    # an anti join (a piece is never NULL, nor is a code of ``plain``: the same rows as
    # NOT IN, without its NULL bookkeeping; ~15% faster on the pass over every piece)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hits AS SELECT h.* FROM ({_pieces(True, need_first)}{given})
        h ANTI JOIN plain p ON h.raw = p.code"""
    )
    # the distinct kept strings tell whether any row needs a second look (one small query)
    raws = sorted(r[0] for r in con.execute("SELECT DISTINCT raw FROM hits").fetchall())
    marks = ("//", ":")
    n_indexing = 0
    if any(m in r for r in raws for m in marks):
        n_indexing = con.execute(
            "SELECT count(DISTINCT row) FROM hits WHERE NOT is_given AND "
            "(contains(raw, '//') OR contains(raw, ':'))").fetchall()[0][0]
    # cells that need the full split (another separator or '//'): re-split those rows only
    if any(c in r for r in raws for c in ("//", *SEPARATOR_CHARS)):
        con.execute(f"""CREATE OR REPLACE TEMP TABLE odd_rows AS
            SELECT DISTINCT row FROM hits WHERE NOT is_given AND ({_ODD})""")
        con.execute("DELETE FROM hits WHERE NOT is_given AND row IN (SELECT row FROM odd_rows)")
        con.execute(
            f"""INSERT INTO hits SELECT h.* FROM ({_pieces(False, need_first,
                'AND row IN (SELECT row FROM odd_rows)')}) h ANTI JOIN plain p ON h.raw = p.code"""
        )
        raws = sorted(r[0] for r in con.execute("SELECT DISTINCT raw FROM hits").fetchall())
    con.register("symmap_df", normalize_symbols(raws))
    con.execute(
        """CREATE OR REPLACE TEMP TABLE symmap AS SELECT m.*, (m.code IS NOT NULL AND (
        m.code IN (SELECT key FROM cover_df WHERE level = 'code')
        OR m.main_group IN (SELECT key FROM cover_df WHERE level = 'main_group')
        OR m.subclass IN (SELECT key FROM cover_df WHERE level = 'subclass')
        OR m."class" IN (SELECT key FROM cover_df WHERE level = 'class')
        OR m.section IN (SELECT key FROM cover_df WHERE level = 'section'))) AS core
        FROM symmap_df m"""
    )
    plain_hits = con.execute(
        "SELECT count(*) FROM symmap WHERE skip OR code IS NULL OR NOT core").fetchall()[0][0]
    if not plain_hits and not need_first and "main_ipc" not in cols:
        # the usual case: every kept piece is a covered symbol; a row's flags reduce to
        # "has a covered piece": the counting pass tests membership in ``corerows`` (a row
        # may be listed more than once) and needs no per-row aggregate or join
        con.execute("ALTER TABLE hits RENAME TO corerows")
        return {"rows_with_indexing_codes": int(n_indexing), "symbols_looked_up": len(raws),
                "simple": True}
    con.execute(
        """CREATE OR REPLACE TEMP TABLE rowflags AS SELECT h.row,
        coalesce(bool_or(m.core) FILTER (WHERE NOT h.is_given), FALSE) AS any_core,
        min(h.raw) FILTER (WHERE NOT h.is_given AND m.code IS NULL AND NOT m.skip) AS bad_raw,
        arg_min(m.error, h.raw) FILTER (WHERE NOT h.is_given AND m.code IS NULL AND NOT m.skip)
            AS bad_reason,
        count(*) FILTER (WHERE NOT h.is_given AND m.skip) AS n_skip,
        FALSE AS all_skip,
        bool_or(m.core) FILTER (WHERE h.is_given) AS given_core,
        bool_or(m.code IS NULL) FILTER (WHERE h.is_given) AS given_bad,
        min(m.error) FILTER (WHERE h.is_given) AS given_error,
        min(m.section) FILTER (WHERE h.is_given) AS given_section,
        bool_or(m.core) FILTER (WHERE h.is_first) AS first_core,
        min(m.section) FILTER (WHERE h.is_first) AS first_section
        FROM hits h JOIN symmap m ON m.raw = h.raw GROUP BY h.row"""
    )
    # a row whose every piece is skipped (empty, indexing code) has no IPC symbol
    if con.execute("SELECT count(*) FROM rowflags WHERE n_skip > 0").fetchall()[0][0]:
        con.execute(
            f"""UPDATE rowflags SET all_skip = TRUE WHERE row IN (
            SELECT s.row FROM src s JOIN rowflags f ON f.row = s.row
            WHERE f.n_skip > 0 AND f.n_skip = len({parts_sql('s.ipc', False)}))"""
        )
    con.execute("DROP TABLE hits")
    return {"rows_with_indexing_codes": int(n_indexing), "symbols_looked_up": len(raws),
            "simple": False}
