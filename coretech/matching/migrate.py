"""Move a dictionary from one IPC edition to the next with WIPO's revision concordance list.

WIPO publishes, with each IPC edition, ``ipc_concordancelist_<edition>.xml`` (the Revision
Concordance List, RCL): a root ``IPCConcordanceList`` (older files: ``rcl``) with
``from-version`` / ``to-version``, and one ``concordance`` element per symbol of the old
edition whose scope changed (``from-symbol``, ``modification``), holding a
``concordance-to`` element per symbol of the new edition that received part of it
(``to-symbol``, ``modification``, ``default-reclassification``). Symbols are in WIPO's
14-character form (``H01L0029739000``); any notation is accepted. The namespace
(``http://www.wipo.int/classifications/ipc/masterfiles``) is optional.

Each dictionary code that is a ``from-symbol`` is replaced by its *kept* targets:

* ``--split default`` (the default): the targets marked ``default-reclassification`` (true,
  yes, 1); if none is marked, all targets;
* ``--split all``: every target.

and the change is reported as

``moved``       one target, another symbol (H01L29/739 -> H10D12/00)
``split``       several targets (the code's scope is now spread over them; the kept ones
                follow ``--split``, the others are listed in the report)
``narrowed``    the symbol itself is a target: it stays, part of its scope went elsewhere
                (the other targets are listed; with ``--split all`` they are added too)
``deleted``     no target: the code is removed
``merged``      after the move, two or more old codes of one technology share a new code
                (one row is kept: the best score, the best rank; ``migrated_from`` lists all)

Codes not in the list are unchanged. With ``--ipc NEW_SCHEME`` every code of the result is
checked against the new edition and those it lacks are reported (``not_in_new_scheme``),
e.g. a main group whose subgroups all moved but which the list does not name.

The migrated dictionary keeps every column and adds ``migrated_from`` (the old code(s));
``--report`` writes one row per changed (technology, old code).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import read_table, write_table
from coretech.ipc import IPCSymbolError, kind, normalize

SPLIT_MODES = ("default", "all")
_TRUE = {"true", "yes", "y", "1", "t"}
REPORT_COLUMNS = ("tech_id", "old_code", "change", "new_codes", "other_targets", "score")


@dataclass(frozen=True)
class Target:
    symbol: str
    default: bool
    modification: str = ""


@dataclass
class Concordance:
    """A parsed concordance list: ``entries`` maps an old symbol to its targets."""

    from_version: str
    to_version: str
    entries: dict[str, list[Target]] = field(default_factory=dict)
    modifications: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def kept(self, symbol: str, split: str) -> list[str]:
        targets = self.entries[symbol]
        if split == "all":
            chosen = targets
        else:
            chosen = [t for t in targets if t.default] or targets
        return list(dict.fromkeys(t.symbol for t in chosen))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_concordance(path: str | Path) -> Concordance:
    """Parse WIPO's ``ipc_concordancelist_<edition>.xml`` (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"not well-formed XML: {exc}", file=path) from exc
    if _local(root.tag) not in {"IPCConcordanceList", "rcl", "ipcConcordanceList"}:
        raise InputError(f"expected a WIPO concordance list (root IPCConcordanceList), got "
                         f"<{_local(root.tag)}>", file=path)
    conc = Concordance(root.get("from-version", ""), root.get("to-version", ""),
                       source=str(path))
    n = 0
    for el in root.iter():
        if _local(el.tag) != "concordance":
            continue
        n += 1
        raw = el.get("from-symbol")
        where = f"concordance #{n}"
        if not raw:
            raise InputError(f"{where}: no from-symbol attribute", file=path)
        try:
            sym = normalize(raw)
        except IPCSymbolError as exc:
            raise InputError(f"{where}: from-symbol {exc.message}", file=path) from exc
        targets = []
        for to in el:
            if _local(to.tag) != "concordance-to":
                continue
            t_raw = to.get("to-symbol")
            if not t_raw:
                raise InputError(f"{where} ({sym}): a concordance-to without to-symbol",
                                 file=path)
            try:
                t_sym = normalize(t_raw)
            except IPCSymbolError as exc:
                raise InputError(f"{where} ({sym}): to-symbol {exc.message}", file=path) from exc
            targets.append(Target(t_sym, str(to.get("default-reclassification", "")).strip()
                                  .lower() in _TRUE, to.get("modification", "")))
        if sym in conc.entries:
            conc.entries[sym].extend(t for t in targets if t not in conc.entries[sym])
        else:
            conc.entries[sym] = targets
        conc.modifications[sym] = el.get("modification", "")
    if not conc.entries:
        raise InputError("the concordance list holds no <concordance> entry", file=path)
    return conc


def migrate_dictionary(dictionary: pd.DataFrame, concordance: Concordance, *,
                       split: str = "default",
                       scheme_codes: set[str] | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Migrate the rows of ``dictionary``; returns (dictionary, report, counts)."""
    if split not in SPLIT_MODES:
        raise InputError(f"--split must be one of {', '.join(SPLIT_MODES)}, got {split!r}")
    src = dictionary.attrs.get("source")
    for col in ("tech_id", "ipc_code"):
        if col not in dictionary.columns:
            raise InputError(f"missing column {col}", file=src)
    out_rows: list[dict] = []
    report: list[dict] = []
    for i, rec in enumerate(dictionary.to_dict("records")):
        try:
            code = normalize(str(rec["ipc_code"]))
        except IPCSymbolError as exc:
            raise InputError(exc.message, file=src, row=data_row(i), column="ipc_code") from exc
        tid = str(rec["tech_id"]).strip()
        if code not in concordance.entries:
            out_rows.append({**rec, "ipc_code": code, "migrated_from": ""})
            continue
        targets = [t.symbol for t in concordance.entries[code]]
        kept = concordance.kept(code, split)
        others = [t for t in targets if t not in kept]
        if not targets:
            change = "deleted"
        elif code in targets:
            change = "narrowed"
        elif len(targets) == 1:
            change = "moved"
        else:
            change = "split"
        report.append({"tech_id": tid, "old_code": code, "change": change,
                       "new_codes": ";".join(kept), "other_targets": ";".join(others),
                       "score": rec.get("score", "")})
        for new in kept:
            row = {**rec, "ipc_code": new, "migrated_from": "" if new == code else code}
            if "kind" in row:
                row["kind"] = kind(new)
            out_rows.append(row)
    out = pd.DataFrame(out_rows, columns=[*dictionary.columns, "migrated_from"])
    out, merged = _merge_duplicates(out)
    for (tid, new), olds in merged.items():
        for r in report:
            if r["tech_id"] == tid and r["old_code"] in olds and new in r["new_codes"].split(";"):
                r["change"] = "merged" if r["change"] in ("moved", "narrowed") else r["change"]
    missing: list[str] = []
    if scheme_codes is not None:
        missing = sorted(set(out["ipc_code"]) - scheme_codes)
        for tid, code in zip(out["tech_id"], out["ipc_code"], strict=True):
            if code in missing:
                report.append({"tech_id": str(tid), "old_code": code,
                               "change": "not_in_new_scheme", "new_codes": code,
                               "other_targets": "", "score": ""})
    rep = pd.DataFrame(report, columns=list(REPORT_COLUMNS))
    counts: dict[str, Any] = {c: int((rep["change"] == c).sum()) for c in
                              ("moved", "split", "narrowed", "merged", "deleted",
                               "not_in_new_scheme")}
    counts.update({
        "rows_in": len(dictionary), "rows_out": len(out),
        "technologies_affected": int(rep.loc[rep["change"] != "not_in_new_scheme",
                                             "tech_id"].nunique()),
    })
    return out, rep, counts


def _merge_duplicates(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[tuple[str, str], set[str]]]:
    """One row per (technology, code): the best-scoring row, the best rank, and
    ``migrated_from`` listing every old code that landed there."""
    key = ["tech_id", "ipc_code"]
    merged: dict[tuple[str, str], set[str]] = {}
    if not df.duplicated(key).any():
        return df.reset_index(drop=True), merged
    work = df.reset_index(drop=True).assign(
        _pos=range(len(df)),
        _score=pd.to_numeric(df["score"], errors="coerce").to_numpy()
        if "score" in df.columns else float("nan"),
        _rank=pd.to_numeric(df["rank"], errors="coerce").to_numpy()
        if "rank" in df.columns else float("nan"),
        _old=[m or c for m, c in zip(df["migrated_from"], df["ipc_code"], strict=True)],
    )
    keep = []
    for k, g in work.groupby(key, sort=False):
        best = g.sort_values(["_score", "_pos"], ascending=[False, True],
                             na_position="last").iloc[0].copy()
        olds = list(dict.fromkeys(g["_old"]))
        if len(g) > 1:
            merged[(str(k[0]), str(k[1]))] = set(olds)
            best["migrated_from"] = ";".join(o for o in olds if o != k[1])
            if g["_rank"].notna().any():
                best["rank"] = g.loc[g["_rank"].idxmin(), "rank"]
        best["_first"] = int(g["_pos"].min())
        keep.append(best)
    out = pd.DataFrame(keep).sort_values("_first", kind="mergesort")
    return out[list(df.columns)].reset_index(drop=True), merged


def run_migrate(
    dictionary: str | Path,
    *,
    concordance: str | Path,
    out: str | Path,
    report: str | Path | None = None,
    split: str = "default",
    ipc: str | Path | None = None,
) -> dict[str, Any]:
    """Migrate ``dictionary`` with the concordance list; write it to ``out`` (and the change
    report to ``report``). ``ipc``: the new edition's scheme, to flag codes it lacks.
    Returns the provenance record (also written as ``<out stem>.meta.json``)."""
    from coretech.provenance import provenance, write_provenance

    conc = read_concordance(concordance)
    dic = read_table(dictionary, required=("tech_id", "ipc_code"))
    codes = None
    if ipc is not None:
        from coretech.matching.audit_report import load_scheme

        codes = set(load_scheme(ipc)["code"])
    out_df, rep, counts = migrate_dictionary(dic, conc, split=split, scheme_codes=codes)
    write_table(out_df, out)
    if report is not None:
        write_table(rep, report)
    rec = provenance(stage="migrate",
                     inputs={"dictionary": dictionary, "concordance": concordance, "ipc": ipc},
                     options={"split": split},
                     outputs={"dictionary": str(out),
                              "report": None if report is None else str(report)},
                     counts=counts, from_version=conc.from_version,
                     to_version=conc.to_version)
    write_provenance(out, rec)
    return rec
