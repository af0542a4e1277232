"""Differences between two dictionary versions: codes added, removed and re-scored.

A dictionary's codes are its rows with ``decision`` other than ``rejected``. For each
(technology, code) of either version, :func:`diff_dictionaries` reports ``change``:

``added``      in NEW only
``removed``    in OLD only
``rescored``   in both, with |score_new - score_old| > ``tolerance`` (or a score appears/vanishes)
``redecided``  in both with the same score, but another ``decision`` (e.g. auto -> accepted)
``unchanged``  in both, same score and decision

:func:`diff_summary` counts them overall and per technology (with the Jaccard similarity of the
two code sets). ``coretech diff OLD NEW [--out changes.csv]`` prints the summary and writes
the changed rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import read_table, write_table
from coretech.ipc import IPCSymbolError, normalize, sort_key

CHANGES = ("added", "removed", "rescored", "redecided", "unchanged")
DIFF_COLUMNS = ("tech_id", "ipc_code", "change", "score_old", "score_new", "delta",
                "rank_old", "rank_new", "decision_old", "decision_new")


def _prepare(df: pd.DataFrame, label: str) -> pd.DataFrame:
    src = df.attrs.get("source", label)
    for col in ("tech_id", "ipc_code"):
        if col not in df.columns:
            raise InputError(f"missing column {col}", file=src)
    codes = []
    for i, v in enumerate(df["ipc_code"].tolist()):
        try:
            codes.append(normalize(str(v)))
        except IPCSymbolError as exc:
            raise InputError(exc.message, file=src, row=data_row(i), column="ipc_code") from exc
    out = pd.DataFrame({
        "tech_id": df["tech_id"].astype(str).str.strip().to_numpy(),
        "ipc_code": codes,
        "score": pd.to_numeric(df["score"].replace("", np.nan), errors="coerce").to_numpy()
        if "score" in df.columns else np.nan,
        "rank": pd.to_numeric(df["rank"].replace("", np.nan), errors="coerce").to_numpy()
        if "rank" in df.columns else np.nan,
        "decision": df["decision"].fillna("").astype(str).str.strip().to_numpy()
        if "decision" in df.columns else "",
        "_row": [data_row(i) for i in range(len(df))],
    })
    out = out[out["decision"] != "rejected"]
    dup = out.duplicated(["tech_id", "ipc_code"], keep=False)
    if dup.any():
        rows = out.loc[dup, "_row"].tolist()
        t, c = out.loc[dup].iloc[0][["tech_id", "ipc_code"]]
        raise InputError(f"{t} {c} appears more than once (rows {', '.join(map(str, rows[:5]))})",
                         file=src, row=rows[1], column="ipc_code")
    return out.drop(columns="_row")


def diff_dictionaries(old: pd.DataFrame, new: pd.DataFrame, *,
                      tolerance: float = 1e-9) -> pd.DataFrame:
    """One row per (technology, code) in either version, with its ``change`` (see module)."""
    if tolerance < 0:
        raise InputError("--tolerance must be >= 0")
    a, b = _prepare(old, "OLD"), _prepare(new, "NEW")
    m = a.merge(b, on=["tech_id", "ipc_code"], how="outer", suffixes=("_old", "_new"),
                indicator=True)
    s_old, s_new = m["score_old"], m["score_new"]
    delta = s_new - s_old
    score_changed = (delta.abs() > tolerance) | (s_old.isna() != s_new.isna())
    change = np.select(
        [m["_merge"] == "right_only", m["_merge"] == "left_only", score_changed,
         m["decision_old"].fillna("") != m["decision_new"].fillna("")],
        ["added", "removed", "rescored", "redecided"], default="unchanged")
    m["change"] = change
    m["delta"] = delta.round(12)
    for col in ("rank_old", "rank_new"):
        r = m[col]
        if r.dropna().eq(r.dropna().round()).all():
            m[col] = r.astype("Int64")
    order = {t: i for i, t in enumerate(dict.fromkeys([*a["tech_id"], *b["tech_id"]]))}
    m["_t"] = m["tech_id"].map(order)
    m["_c"] = m["ipc_code"].map(sort_key)
    m = m.sort_values(["_t", "_c"], kind="mergesort")
    return m[list(DIFF_COLUMNS)].reset_index(drop=True)


def diff_summary(diff: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    """Overall counts and a per-technology table (``tech_id, n_old, n_new, added, removed,
    rescored, redecided, unchanged, jaccard``; technologies with any change first)."""
    counts = {c: int((diff["change"] == c).sum()) for c in CHANGES}
    per = pd.crosstab(diff["tech_id"], diff["change"]).reindex(columns=list(CHANGES),
                                                               fill_value=0)
    per["n_old"] = per["removed"] + per["rescored"] + per["redecided"] + per["unchanged"]
    per["n_new"] = per["added"] + per["rescored"] + per["redecided"] + per["unchanged"]
    union = per[list(CHANGES)].sum(axis=1)
    per["jaccard"] = (per["rescored"] + per["redecided"] + per["unchanged"]) / union
    order = {t: i for i, t in enumerate(dict.fromkeys(diff["tech_id"]))}
    per = per.reset_index()
    per["_changed"] = (per[["added", "removed", "rescored", "redecided"]].sum(axis=1) > 0)
    per = per.assign(_t=per["tech_id"].map(order)).sort_values(
        ["_changed", "_t"], ascending=[False, True], kind="mergesort")
    per = per[["tech_id", "n_old", "n_new", "added", "removed", "rescored", "redecided",
               "unchanged", "jaccard"]].reset_index(drop=True)
    techs_old = set(diff.loc[diff["change"] != "added", "tech_id"])
    techs_new = set(diff.loc[diff["change"] != "removed", "tech_id"])
    summary = {
        "codes": counts,
        "codes_old": int(per["n_old"].sum()),
        "codes_new": int(per["n_new"].sum()),
        "technologies_old": len(techs_old),
        "technologies_new": len(techs_new),
        "technologies_only_old": sorted(techs_old - techs_new),
        "technologies_only_new": sorted(techs_new - techs_old),
        "technologies_changed": int(((per["added"] + per["removed"] + per["rescored"]
                                      + per["redecided"]) > 0).sum()),
        "jaccard": None if len(diff) == 0 else float(
            (counts["rescored"] + counts["redecided"] + counts["unchanged"]) / len(diff)),
    }
    return summary, per


def run_diff(
    old: str | Path,
    new: str | Path,
    *,
    out: str | Path | None = None,
    include_unchanged: bool = False,
    tolerance: float = 1e-9,
) -> dict[str, Any]:
    """Compare two dictionaries; write the changed rows to ``out`` (CSV/XLSX/...) if given.

    Returns the provenance record with the summary under ``summary`` (also written beside
    ``out`` as ``<stem>.meta.json``) and the per-technology table under ``per_technology``
    (records; not written to the meta file).
    """
    from coretech.provenance import provenance, write_provenance

    a = read_table(old, required=("tech_id", "ipc_code"))
    b = read_table(new, required=("tech_id", "ipc_code"))
    d = diff_dictionaries(a, b, tolerance=tolerance)
    summary, per = diff_summary(d)
    rec = provenance(stage="diff", inputs={"old": old, "new": new},
                     options={"include_unchanged": include_unchanged, "tolerance": tolerance},
                     outputs={"changes": None if out is None else str(out)},
                     summary=summary)
    if out is not None:
        rows = d if include_unchanged else d[d["change"] != "unchanged"]
        write_table(rows, out)
        write_provenance(out, rec)
    return {**rec, "per_technology": per.to_dict("records")}
