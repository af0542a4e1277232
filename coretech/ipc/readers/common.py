"""Turning collected rows into a scheme table, and the counts every reader reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from coretech.ipc.readers.result import Collector, ReadResult
from coretech.ipc.readers.text import Cleaned, is_fragment
from coretech.ipc.scheme import coerce_scheme, empty_scheme, with_paths
from coretech.ipc.symbols import IPCSymbol


def make_row(
    sym: IPCSymbol | tuple[str, str],
    *,
    depth: int | None,
    depth_source: str,
    parent: str | None,
    cleaned: Cleaned,
    lang: str,
    edition: str | None,
    source: str,
    heading: str | None = None,
) -> dict[str, Any]:
    code, kind = (sym if isinstance(sym, tuple) else (str(sym), sym.kind))
    return {
        "code": code,
        "kind": kind,
        "depth": depth,
        "depth_source": depth_source,
        "parent": parent,
        "title": cleaned.title or None,
        "path_title": None,
        "references": "; ".join(cleaned.references) or None,
        "lang": lang,
        "edition": edition or cleaned.stamp,
        "source": source,
        "heading": heading,
        "entry_edition": cleaned.stamp,
    }


def count_cleaning(col: Collector, cleaned: Cleaned) -> None:
    """Count the cleaning steps that changed a title (one count per title)."""
    if cleaned.removed_stamps:
        col.defects["edition_stamps_removed"] += 1
    if cleaned.note_cut:
        col.defects["notes_cut_from_titles"] += 1
    if cleaned.han_spaces:
        col.defects["cjk_line_break_spaces_removed"] += 1
    elif cleaned.removed_cjk_spaces:
        col.defects["cjk_punctuation_spaces_removed"] += 1


def row_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """The rows :func:`make_row` would give, from column lists (str or None; depth int or
    None), in make_row's column order."""
    order = ["code", "kind", "depth", "depth_source", "parent", "title", "path_title",
             "references", "lang", "edition", "source", "heading", "entry_edition"]
    n = len(columns["code"])
    return pd.DataFrame({c: pd.Series(columns[c] if c in columns else [None] * n, dtype=object)
                         for c in order})


def finish(col: Collector, frame: pd.DataFrame | None = None) -> ReadResult:
    """Build the ReadResult of a collector: table with path_title, stats, rejects.

    ``frame``: the rows as a frame (:func:`row_frame`) instead of ``col.rows``."""
    if frame is not None and len(frame):
        df = frame
        df["depth"] = pd.array(df["depth"].tolist(), dtype="Int64")
        df = coerce_scheme(df, clean=True)
        df = with_paths(df)
    elif frame is None and col.rows:
        df = pd.DataFrame(col.rows, dtype=object)  # str or None in every cell
        df["depth"] = pd.array(df["depth"].tolist(), dtype="Int64")
        df = coerce_scheme(df, clean=True)
        df = with_paths(df)
    else:
        df = empty_scheme()
    stats: Counter[str] = Counter(col.stats)
    add_table_stats(stats, df)
    if len(df):
        present = set(zip(df["lang"], df["code"], strict=True))
        missing = sum(
            1
            for lang, p in zip(df["lang"], df["parent"], strict=True)
            if isinstance(p, str) and (lang, p) not in present
        )
        if missing:
            col.defects["parent_not_in_source"] += missing
    return ReadResult(
        table=df,
        defects={k: int(v) for k, v in sorted(col.defects.items()) if v},
        rejects=col.rejects_frame(),
        stats={k: int(v) for k, v in sorted(stats.items())},
        sources=[col.source],
    )


def add_table_stats(stats: Counter[str], df: pd.DataFrame) -> None:
    """Rows by kind, headings, fragments, references of a scheme table (added to ``stats``)."""
    for k in ("section", "class", "subclass", "main_group", "subgroup"):
        stats[f"rows_{k}"] = int((df["kind"] == k).sum()) if len(df) else 0
    stats["rows"] = len(df)
    if not len(df):
        return
    if "heading" in df.columns:
        stats["headings"] = int(df["heading"].notna().sum())
    en = df["lang"] == "en"
    stats["fragments"] = int(sum(is_fragment(t) for t in df.loc[en, "title"] if isinstance(t, str)))
    stats["rows_with_references"] = int(df["references"].notna().sum())
    stats["references"] = int(
        sum(len(r.split("; ")) for r in df["references"] if isinstance(r, str))
    )
    stats["depth_known"] = int(df["depth"].notna().sum())
