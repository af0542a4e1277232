"""``path_title`` of a scheme table: the titles from the subclass down to each entry.

Moved out of :mod:`coretech.ipc.scheme` (which re-exports these names) to keep modules short.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PATH_SEPARATOR = " > "
#: Kinds whose title starts a path_title (a section or class path is its own title).
_PATH_ROOT_KINDS = {"section", "class", "subclass"}


def build_paths(df: pd.DataFrame, *, heading_column: str | None = "heading") -> pd.Series:
    """``path_title`` of every row: the titles from the subclass down to the entry, `` > ``-joined.

    The chain follows ``parent`` links within the same ``lang`` (rows of one language never
    borrow titles of another). A section or class path is its own title; a subclass starts
    the path. When ``heading_column`` is present and filled for a main group (the guidance
    heading it sits under), the heading is put before the main group's title, so that its
    subgroups carry it too. A parent missing from the table ends the chain there. Returns a
    Series aligned with ``df``.

    Computed level by level (every row whose parent's path is known, at once); a table with
    a parent cycle is left to the row-by-row walk (:func:`_build_paths_rows`), which this
    equals otherwise.
    """
    n = len(df)
    if n == 0:
        return pd.Series([], dtype=object, index=df.index)

    def text(col: str, empty: Any) -> np.ndarray:
        return df[col].astype(object).where(df[col].notna(), empty).to_numpy(dtype=object)

    langs, parents, titles = text("lang", ""), text("parent", None), text("title", "")
    codes, kinds = df["code"].to_numpy(dtype=object), df["kind"].to_numpy(dtype=object)
    has_heading = bool(heading_column and heading_column in df.columns)
    own = titles.copy()
    own[own == None] = ""  # noqa: E711 - elementwise
    if has_heading:
        headings = text(heading_column, None)  # type: ignore[arg-type]
        for i in np.flatnonzero(headings != None).tolist():  # noqa: E711 - elementwise
            h = headings[i]
            if h and kinds[i] == "main_group" and h != own[i]:
                own[i] = f"{h}{PATH_SEPARATOR}{own[i]}" if own[i] else h
    # the first row of each (lang, code), and each row's parent row among them (-1: none)
    lang_s = [x if isinstance(x, str) else str(x) for x in langs.tolist()]
    keys = pd.Index([f"{lg}\x00{c}" if isinstance(c, str) else None
                     for lg, c in zip(lang_s, codes.tolist(), strict=True)])
    first = ~keys.duplicated(keep="first")
    uniq, pos = keys[first], np.flatnonzero(first)
    parent_of = np.full(n, -1, dtype=np.int64)
    asks = np.flatnonzero(np.array([bool(p) for p in parents.tolist()], dtype=bool)
                          & ~pd.Series(kinds).isin(list(_PATH_ROOT_KINDS)).to_numpy())
    if len(asks):
        pkeys = [f"{lang_s[i]}\x00{parents[i]}" for i in asks.tolist()]
        j = uniq.get_indexer(pkeys)
        found = j >= 0
        parent_of[asks[found]] = pos[j[found]]
    path = np.empty(n, dtype=object)
    done = parent_of < 0
    path[done] = own[done]  # a root, or a parent not in the table: the chain starts here
    todo = np.flatnonzero(~done)
    while len(todo):
        ready = done[parent_of[todo]]
        if not ready.any():  # a cycle: the walk decides (order-dependent, as it always was)
            return _build_paths_rows(df, heading_column=heading_column)
        r = todo[ready]
        bases, pieces = path[parent_of[r]].tolist(), own[r].tolist()
        path[r] = [f"{b}{PATH_SEPARATOR}{p}" if b and p else (b or p)
                   for b, p in zip(bases, pieces, strict=True)]
        done[r] = True
        todo = todo[~ready]
    return pd.Series(path, index=df.index, dtype=object)


def _build_paths_rows(df: pd.DataFrame, *, heading_column: str | None = "heading") -> pd.Series:
    """The row-by-row walk of :func:`build_paths` (same arguments, same result): follows each
    row's ``parent`` chain in turn; the reference the level-by-level version is tested
    against, and the fallback for a table with a parent cycle."""
    n = len(df)
    if n == 0:
        return pd.Series([], dtype=object, index=df.index)
    langs = df["lang"].astype(object).where(df["lang"].notna(), "").tolist()
    codes = df["code"].tolist()
    parents = df["parent"].astype(object).where(df["parent"].notna(), None).tolist()
    titles = df["title"].astype(object).where(df["title"].notna(), "").tolist()
    kinds = df["kind"].tolist()
    headings: list[Any] = (
        df[heading_column].astype(object).where(df[heading_column].notna(), None).tolist()
        if heading_column and heading_column in df.columns
        else [None] * n
    )
    index: dict[tuple[str, str], int] = {}
    for i, (lang, code) in enumerate(zip(langs, codes, strict=True)):
        index.setdefault((lang, code), i)

    memo: dict[int, str] = {}

    def own(i: int) -> str:
        t = titles[i] or ""
        h = headings[i]
        if h and kinds[i] == "main_group" and h != t:
            return f"{h}{PATH_SEPARATOR}{t}" if t else h
        return t

    def path(i: int) -> str:
        if i in memo:
            return memo[i]
        # fast path: the parent's path is known already (rows come parents first)
        if kinds[i] not in _PATH_ROOT_KINDS:
            p = parents[i]
            j = index.get((langs[i], p)) if p else None
            if j is not None and j in memo and j != i:
                base, piece = memo[j], own(i)
                memo[i] = f"{base}{PATH_SEPARATOR}{piece}" if base and piece else (base or piece)
                return memo[i]
        # iterative walk up, then fill the memo top-down (deep chains, no recursion limit)
        chain: list[int] = []
        seen: set[int] = set()
        cur: int | None = i
        while cur is not None and cur not in memo and cur not in seen:
            seen.add(cur)
            chain.append(cur)
            if kinds[cur] in _PATH_ROOT_KINDS:
                cur = None
                break
            p = parents[cur]
            cur = index.get((langs[cur], p)) if p else None
        base = memo.get(cur, "") if cur is not None else ""
        for j in reversed(chain):
            piece = own(j)
            if kinds[j] in _PATH_ROOT_KINDS or not base:
                base = piece
            elif piece:
                base = f"{base}{PATH_SEPARATOR}{piece}"
            memo[j] = base
        return memo[i]

    return pd.Series([path(i) for i in range(n)], index=df.index, dtype=object)


def with_paths(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``path_title`` filled by :func:`build_paths` (a copy)."""
    out = df.copy()
    out["path_title"] = build_paths(out).where(lambda s: s != "", None)
    return out
