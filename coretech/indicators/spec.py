"""The Nycives indicator system (the paper's Table 1) as a data file.

``coretech/data/nycives_spec.csv`` holds the 41 fourth-level indicators, one per row:

=============  ===============================================================
``id``         N01 ... N41 in the paper's order
``level1_zh``  first-level pillar (要素结构 / 价值跃迁), with ``level1_en``
``level2_zh``  second level, with ``level2_en``
``level3_zh``  third level, with ``level3_en``
``name_zh``    the fourth-level indicator as printed, with ``name_en``
``unit``       unit as printed (Chinese), with ``unit_en``
``direction``  +1 positive (正向) / -1 negative (负向)
``column``     the default panel column holding the indicator (map others in the run spec)
``note``       where the paper's text is garbled, ambiguous or overlapping
=============  ===============================================================

A user's own spec file has the same columns (``id``, ``direction``, ``column`` and at least
one name are required; levels are optional but needed for pillar weights).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import pandas as pd

from coretech.errors import InputError, data_row
from coretech.indicators.pca import parse_direction

SPEC_COLUMNS = (
    "id", "level1_zh", "level1_en", "level2_zh", "level2_en", "level3_zh", "level3_en",
    "name_zh", "name_en", "unit", "unit_en", "direction", "column", "note",
)
REQUIRED = ("id", "direction", "column")
LEVELS = {1: "level1", 2: "level2", 3: "level3"}


def builtin_spec_path() -> Path:
    """Path of the shipped ``nycives_spec.csv`` (Table 1)."""
    return Path(str(resources.files("coretech") / "data" / "nycives_spec.csv"))


def load_spec(path: str | Path | None = "builtin") -> pd.DataFrame:
    """Read and validate an indicator spec (``"builtin"`` or None = the paper's Table 1).

    Checks: required columns, unique non-empty ids and columns, directions +1/-1 (also
    accepted: +, -, positive, negative, 正向, 负向). ``direction`` comes back as int.
    Errors name the file, row and column.
    """
    from coretech.io import read_table

    p = builtin_spec_path() if path in (None, "builtin") else Path(path)
    df = read_table(p, required=REQUIRED)
    if not ({"name_zh", "name_en"} & set(df.columns)):
        raise InputError("an indicator spec needs a name_zh or name_en column", file=p)
    for col in SPEC_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.fillna("")
    for col in ("id", "column"):
        df[col] = df[col].astype(str).str.strip()
        empty = (df[col] == "").to_numpy()
        if empty.any():
            i = int(empty.argmax())
            raise InputError(f"empty {col}", file=p, row=data_row(i), column=col)
        dup = df[col].duplicated().to_numpy()
        if dup.any():
            i = int(dup.argmax())
            raise InputError(f"{col} {df[col].iloc[i]!r} appears twice", file=p,
                             row=data_row(i), column=col)
    dirs = []
    for i, v in enumerate(df["direction"]):
        try:
            dirs.append(parse_direction(v, df["id"].iloc[i]))
        except InputError as exc:
            raise InputError(exc.message, file=p, row=data_row(i), column="direction") from None
    df["direction"] = dirs
    df.attrs["source"] = str(p)
    return df


def map_columns(spec: pd.DataFrame, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Apply a user's map ``{indicator id: panel column}`` to a spec (returns a copy).

    An id of the map that is not in the spec is an error (naming it and the spec file).
    """
    spec = spec.copy()
    columns = dict(columns or {})
    unknown = [k for k in columns if k not in set(spec["id"])]
    if unknown:
        raise InputError(
            f"indicator {unknown[0]!r} of the column map is not in the spec "
            f"(ids {spec['id'].iloc[0]}..{spec['id'].iloc[-1]})",
            file=spec.attrs.get("source"), column="id",
        )
    spec["column"] = [columns.get(i, c) for i, c in zip(spec["id"], spec["column"], strict=True)]
    dup = spec["column"].duplicated().to_numpy()
    if dup.any():
        i = int(dup.argmax())
        raise InputError(f"panel column {spec['column'].iloc[i]!r} is mapped to two indicators",
                         file=spec.attrs.get("source"), column="column")
    return spec


def select(spec: pd.DataFrame, include: list[str] | None = None,
           exclude: list[str] | None = None) -> pd.DataFrame:
    """Keep the indicators of ``include`` (default all) minus ``exclude``; unknown ids error."""
    ids = set(spec["id"])
    for name, lst in (("include", include), ("exclude", exclude)):
        bad = [i for i in (lst or []) if i not in ids]
        if bad:
            raise InputError(f"{name} names indicator {bad[0]!r}, which is not in the spec",
                             file=spec.attrs.get("source"), column="id")
    keep = spec["id"].isin(include) if include else pd.Series(True, index=spec.index)
    if exclude:
        keep &= ~spec["id"].isin(exclude)
    out = spec.loc[keep].reset_index(drop=True)
    out.attrs = dict(spec.attrs)
    if out.empty:
        raise InputError("no indicator left after include / exclude",
                         file=spec.attrs.get("source"))
    return out


def pillar_weights(weights: pd.Series, spec: pd.DataFrame, level: int = 1,
                   lang: str = "zh") -> pd.Series:
    """Sum indicator weights (indexed by ``id`` or by panel ``column``) per hierarchy level.

    ``level`` 1, 2 or 3; ``lang`` "zh" or "en" names the groups. Groups keep spec order.
    """
    if level not in LEVELS:
        raise InputError(f"level must be 1, 2 or 3, got {level!r}")
    key = f"{LEVELS[level]}_{lang}"
    if key not in spec.columns:
        raise InputError(f"the spec has no column {key!r}", column=key)
    by = "id" if set(weights.index) <= set(spec["id"]) else "column"
    lab = spec.set_index(by)[key].reindex(weights.index)
    if lab.isna().any():
        raise InputError(f"weights for {lab.index[lab.isna()][0]!r}, which the spec lacks")
    order = list(dict.fromkeys(lab))
    return weights.groupby(lab.to_numpy()).sum().reindex(order).rename("weight")
