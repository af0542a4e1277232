"""Differences between two dictionary versions: codes added, removed, re-scored, re-decided.

A dictionary's codes are its rows with ``decision`` other than ``rejected``. The comparison
reads codes, scores and decisions only -- never provenance columns (``method``, ``evidence``,
``review_cell``, ``review_note``, ...). A decision is one of three states: ``machine``
(``auto`` or blank: the matcher's choice), ``human`` (``accepted`` or ``added``: a reviewer's)
and ``rejected``. For each (technology, code) of either version, :func:`diff_dictionaries`
reports ``change``:

``added``      a code in NEW, not in OLD (absent or rejected there)
``removed``    a code in OLD, not in NEW (absent or rejected there)
``rescored``   a code in both, with |score_new - score_old| > ``tolerance`` (or a score
               appears/vanishes)
``redecided``  same score, but a reviewer's decision was dropped (human -> machine), or a
               rejection of a code outside the dictionary appeared or vanished
``confirmed``  same score, machine -> human: a reviewer kept the matcher's code (not a change)
``unchanged``  same score and decision state

So after ``coretech review apply`` the diff of the matcher's dictionary and the reviewed one
lists exactly the rows the reviewer changed: the pre-filled ``accept`` cells left as they were
turn ``auto`` into ``accepted``, which is a confirmation, not a change. :func:`diff_summary`
counts them overall and per technology (with the Jaccard similarity of the two code sets).
``coretech diff OLD NEW [--out changes.csv]`` prints the summary and writes the changed rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import read_table, write_table
from coretech.ipc import IPCSymbolError, normalize, sort_key

CHANGES = ("added", "removed", "rescored", "redecided", "confirmed", "unchanged")
#: Changes that alter the dictionary or a human decision (``confirmed`` does neither).
CHANGED = ("added", "removed", "rescored", "redecided")
DIFF_COLUMNS = ("tech_id", "ipc_code", "change", "score_old", "score_new", "delta",
                "rank_old", "rank_new", "decision_old", "decision_new", "in_old", "in_new")
_HUMAN = {"accepted", "added"}


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
    rej = out["decision"] == "rejected"
    keep = out[~rej]
    dup = keep.duplicated(["tech_id", "ipc_code"], keep=False)
    if dup.any():
        rows = keep.loc[dup, "_row"].tolist()
        t, c = keep.loc[dup].iloc[0][["tech_id", "ipc_code"]]
        raise InputError(f"{t} {c} appears more than once (rows {', '.join(map(str, rows[:5]))})",
                         file=src, row=rows[1], column="ipc_code")
    # a rejection counts only where the code is not also kept (then the code is in)
    kept = set(zip(keep["tech_id"], keep["ipc_code"], strict=True))
    rejected = out[rej].drop_duplicates(["tech_id", "ipc_code"])
    rejected = rejected[[k not in kept for k in zip(rejected["tech_id"], rejected["ipc_code"],
                                                    strict=True)]]
    return pd.concat([keep, rejected]).sort_values("_row", kind="mergesort").drop(columns="_row")


def _state(decision: pd.Series) -> np.ndarray:
    d = decision.fillna("").astype(str).str.strip().str.lower()
    return np.select([decision.isna(), d == "rejected", d.isin(_HUMAN)],
                     ["absent", "rejected", "human"], default="machine")


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
    st_old = _state(m["decision_old"].where(m["_merge"] != "right_only"))
    st_new = _state(m["decision_new"].where(m["_merge"] != "left_only"))
    in_old = np.isin(st_old, ["machine", "human"])
    in_new = np.isin(st_new, ["machine", "human"])
    change = np.select(
        [in_new & ~in_old, in_old & ~in_new, ~in_old & ~in_new & (st_old != st_new),
         ~in_old & ~in_new, score_changed, (st_old == "human") & (st_new == "machine"),
         (st_old == "machine") & (st_new == "human")],
        ["added", "removed", "redecided", "unchanged", "rescored", "redecided", "confirmed"],
        default="unchanged")
    m["change"] = change
    m["in_old"], m["in_new"] = in_old, in_new
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
    rescored, redecided, confirmed, unchanged, jaccard``; technologies with any change first).

    ``n_old`` / ``n_new`` count codes (rejected rows are not codes); Jaccard = |codes in
    both| / |codes in either|."""
    counts = {c: int((diff["change"] == c).sum()) for c in CHANGES}
    o, n = diff["in_old"].astype(bool).to_numpy(), diff["in_new"].astype(bool).to_numpy()
    per = pd.crosstab(diff["tech_id"], diff["change"]).reindex(columns=list(CHANGES),
                                                               fill_value=0)
    inn = diff.assign(_o=diff["in_old"].astype(bool), _n=diff["in_new"].astype(bool))
    g = inn.groupby("tech_id")
    per["n_old"] = g["_o"].sum().reindex(per.index).astype(int)
    per["n_new"] = g["_n"].sum().reindex(per.index).astype(int)
    both = (inn["_o"] & inn["_n"]).groupby(inn["tech_id"]).sum().reindex(per.index)
    union = (inn["_o"] | inn["_n"]).groupby(inn["tech_id"]).sum().reindex(per.index)
    per["jaccard"] = (both / union.where(union > 0)).astype(float)
    order = {t: i for i, t in enumerate(dict.fromkeys(diff["tech_id"]))}
    per = per.reset_index()
    per["_changed"] = (per[list(CHANGED)].sum(axis=1) > 0)
    per = per.assign(_t=per["tech_id"].map(order)).sort_values(
        ["_changed", "_t"], ascending=[False, True], kind="mergesort")
    per = per[["tech_id", "n_old", "n_new", *CHANGES, "jaccard"]].reset_index(drop=True)
    techs_old = set(diff.loc[diff["in_old"].astype(bool), "tech_id"])
    techs_new = set(diff.loc[diff["in_new"].astype(bool), "tech_id"])
    summary = {
        "codes": counts,
        "codes_old": int(per["n_old"].sum()),
        "codes_new": int(per["n_new"].sum()),
        "technologies_old": len(techs_old),
        "technologies_new": len(techs_new),
        "technologies_only_old": sorted(techs_old - techs_new),
        "technologies_only_new": sorted(techs_new - techs_old),
        "technologies_changed": int((per[list(CHANGED)].sum(axis=1) > 0).sum()),
        "jaccard": None if not (o | n).any() else float((o & n).sum() / (o | n).sum()),
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
        rows = d if include_unchanged else d[d["change"].isin(CHANGED)]
        write_table(rows, out)
        write_provenance(out, rec)
    return {**rec, "per_technology": per.to_dict("records")}
