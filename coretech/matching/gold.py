"""Gold concordances: expert lists of IPC patterns per technology, read into one frame.

:func:`read_gold` reads three formats and returns one row per technology with the columns
:data:`GOLD_COLUMNS`:

``tech_id``     the technology's id (string), the key that meets the dictionary's ``tech_id``
``name``        its name, where the file gives one
``field``       a grouping for coverage tables (sub-system, WIPO sector, or the file's ``field``)
``category``    a second grouping (the file's ``category``, WIPO field name), may be empty
``include``     tuple of canonical pattern strings (``'G06N3/00*'``, ``'H04K*'``, ``'G06F30/27'``)
``exclude``     tuple of canonical pattern strings whose subtrees are removed
``keywords``    tuple of the file's keywords (key_digital only; never used to score a match)

Formats
-------
1. The INTERFACES table: ``tech_id, pattern[, exclude][, name][, field][, category]`` in any
   table format :func:`coretech.io.read_table` reads, one row per pattern (a cell may hold
   several patterns separated by ``;``); ``exclude`` is ``;``-separated. Rows of one
   ``tech_id`` are merged.
2. JSON Lines (``.jsonl``): one object per technology with ``tech_id`` (or ``name``),
   ``patterns`` and optional ``exclude`` (lists, or ``;``-separated strings). CNIPA's
   key-digital-technology file (``subsys``, ``branch``, ``name``, ``patterns``, ``keywords``)
   is recognised: its key is (``subsys``, ``branch``) and its ``tech_id`` is built by
   :func:`key_digital_tech_id` as ``KD-<SUBSYSTEM>-<branch>``, e.g. ``KD-AI-1.1`` for
   人工智能 1.1 (the seven sub-systems and their codes are :data:`KEY_DIGITAL_SUBSYSTEMS`;
   an unknown sub-system keeps its own name: ``KD-<subsys>-<branch>``).
3. The WIPO IPC-technology concordance (Schmoch 2008) as published by the wipo-patents
   repository (``field_number, field_name, sector_name, match_type, match_value,
   maingroup``): one technology per field, ``tech_id`` = ``WIPO-<nn>`` (two-digit field
   number, ``WIPO-01`` ... ``WIPO-35``); ``match_type`` ``prefix3`` is a class (``F21*``),
   ``subclass`` a subclass (``H01B*``), ``maingroup`` a main group (``H04N3*``).

Every pattern is validated; a bad one is an :class:`~coretech.errors.InputError` naming the
file, row (or JSONL line) and column.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import read_jsonl, read_table
from coretech.ipc import IPCSymbolError, Pattern

GOLD_COLUMNS = ("tech_id", "name", "field", "category", "include", "exclude", "keywords")

#: CNIPA 关键数字技术专利分类体系 (2023): sub-system -> code used in ``tech_id``.
KEY_DIGITAL_SUBSYSTEMS: dict[str, str] = {
    "人工智能": "AI",
    "高端芯片": "CHIP",
    "量子信息": "QUANTUM",
    "物联网": "IOT",
    "区块链": "BLOCKCHAIN",
    "工业互联网": "IIOT",
    "元宇宙": "METAVERSE",
}

_WIPO_COLUMNS = ("field_number", "field_name", "match_type", "match_value")


def key_digital_tech_id(subsys: str, branch: str) -> str:
    """``('人工智能', '1.1')`` -> ``'KD-AI-1.1'`` (deterministic; see the module docstring)."""
    code = KEY_DIGITAL_SUBSYSTEMS.get(str(subsys).strip(), str(subsys).strip())
    return f"KD-{code}-{str(branch).strip()}"


def canonical_pattern(text: str) -> str:
    """Canonical text of a pattern: ``'g06n 3*'`` -> ``'G06N3/00*'``; raises IPCSymbolError."""
    return str(Pattern.parse(text))


def split_patterns(value: object) -> list[str]:
    """A list, or a ``;``/``；``/``,``-separated string, of pattern texts (empties dropped)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, (list, tuple)):
        items: Iterable[object] = value
    else:
        items = str(value).replace("；", ";").replace(",", ";").split(";")
    return [str(x).strip() for x in items if str(x).strip()]


def _parse_patterns(values: Iterable[str], *, file: Path, row: int | None, column: str,
                    line: int | None = None) -> list[str]:
    out = []
    for v in values:
        try:
            out.append(canonical_pattern(v))
        except IPCSymbolError as exc:
            where = f"line {line}: " if line is not None else ""
            raise InputError(f"{where}{exc.message}", file=file, row=row, column=column) from exc
    return out


def _unique(seq: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(seq))


def read_gold(path: str | Path) -> pd.DataFrame:
    """Read a gold concordance (any of the three formats above) -> one row per technology.

    Rows are sorted by ``tech_id`` order of first appearance in the file; ``attrs['source']``
    holds the path and ``attrs['format']`` one of ``table``, ``jsonl``, ``key_digital``,
    ``wipo_concordance``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        df, fmt = _read_jsonl(path)
    else:
        table = read_table(path)
        if all(c in table.columns for c in _WIPO_COLUMNS):
            df, fmt = _read_wipo(table, path), "wipo_concordance"
        else:
            df, fmt = _read_table(table, path), "table"
    if df.empty:
        raise InputError("the gold concordance holds no technology", file=path)
    df = df.reset_index(drop=True)
    df.attrs["source"] = str(path)
    df.attrs["format"] = fmt
    return df


def _frame(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records, columns=list(GOLD_COLUMNS))


def _read_jsonl(path: Path) -> tuple[pd.DataFrame, str]:
    records: dict[str, dict] = {}
    fmt = "jsonl"
    for lineno, obj in read_jsonl(path):
        if obj.get("tech_id") not in (None, ""):
            tech_id = str(obj["tech_id"]).strip()
        elif obj.get("subsys") not in (None, "") and obj.get("branch") not in (None, ""):
            tech_id = key_digital_tech_id(obj["subsys"], obj["branch"])
            fmt = "key_digital"
        elif obj.get("name") not in (None, ""):
            tech_id = str(obj["name"]).strip()
        else:
            raise InputError(
                f"line {lineno}: needs 'tech_id', or 'subsys' and 'branch', or 'name'", file=path
            )
        if tech_id in records:
            raise InputError(
                f"line {lineno}: technology {tech_id!r} appears twice "
                f"(first on line {records[tech_id]['_line']})", file=path
            )
        raw_pat = obj.get("patterns", obj.get("pattern"))
        include = _parse_patterns(split_patterns(raw_pat), file=path, row=None,
                                  column="patterns", line=lineno)
        exclude = _parse_patterns(split_patterns(obj.get("exclude")), file=path, row=None,
                                  column="exclude", line=lineno)
        if not include:
            raise InputError(f"line {lineno}: technology {tech_id!r} has no pattern", file=path)
        kw = obj.get("keywords") or []
        records[tech_id] = {
            "_line": lineno,
            "tech_id": tech_id,
            "name": str(obj.get("name") or ""),
            "field": str(obj.get("field") or obj.get("subsys") or ""),
            "category": str(obj.get("category") or ""),
            "include": _unique(include),
            "exclude": _unique(exclude),
            "keywords": tuple(split_patterns(kw) if isinstance(kw, str) else map(str, kw)),
        }
    return _frame(list(records.values())), fmt


def _read_table(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    if "pattern" not in table.columns and "patterns" in table.columns:
        table = table.rename(columns={"patterns": "pattern"})
    if "tech_id" not in table.columns or "pattern" not in table.columns:
        raise InputError(
            "a gold table needs columns tech_id and pattern (optional: exclude, name, field, "
            f"category); found {', '.join(map(str, table.columns))}",
            file=path,
        )
    records: dict[str, dict] = {}
    for i, row in enumerate(table.to_dict("records")):
        r = data_row(i)
        tech_id = str(row["tech_id"]).strip()
        if not tech_id:
            raise InputError("tech_id is empty", file=path, row=r, column="tech_id")
        include = _parse_patterns(split_patterns(row["pattern"]), file=path, row=r,
                                  column="pattern")
        exclude = _parse_patterns(split_patterns(row.get("exclude", "")), file=path, row=r,
                                  column="exclude")
        if not include and not exclude:
            raise InputError("neither a pattern nor an exclusion", file=path, row=r,
                             column="pattern")
        rec = records.setdefault(tech_id, {
            "tech_id": tech_id, "name": "", "field": "", "category": "",
            "include": (), "exclude": (), "keywords": (), "_row": r,
        })
        rec["include"] = _unique([*rec["include"], *include])
        rec["exclude"] = _unique([*rec["exclude"], *exclude])
        for col in ("name", "field", "category"):
            val = str(row.get(col, "") or "").strip()
            if val and not rec[col]:
                rec[col] = val
    for rec in records.values():
        if not rec["include"]:
            raise InputError(f"technology {rec['tech_id']!r} has exclusions but no pattern",
                             file=path, row=rec["_row"], column="pattern")
    return _frame(list(records.values()))


def _read_wipo(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    records: dict[str, dict] = {}
    for i, row in enumerate(table.to_dict("records")):
        r = data_row(i)
        num = str(row["field_number"]).strip()
        if not num.isdigit():
            raise InputError(f"expected a field number, got {num!r}", file=path, row=r,
                             column="field_number")
        tech_id = f"WIPO-{int(num):02d}"
        mtype = str(row["match_type"]).strip()
        value = str(row["match_value"]).strip()
        if mtype in {"prefix3", "class", "subclass"}:
            text = f"{value}*"
        elif mtype == "maingroup":
            mg = str(row.get("maingroup", "")).strip()
            if not mg.isdigit():
                raise InputError(f"expected a main-group number, got {mg!r}", file=path, row=r,
                                 column="maingroup")
            text = f"{value}{int(mg)}*"
        else:
            raise InputError(
                f"unknown match_type {mtype!r} (expected prefix3, subclass or maingroup)",
                file=path, row=r, column="match_type",
            )
        pattern = _parse_patterns([text], file=path, row=r, column="match_value")
        rec = records.setdefault(tech_id, {
            "tech_id": tech_id,
            "name": str(row["field_name"]).strip(),
            "field": str(row.get("sector_name", "") or "").strip(),
            "category": str(row["field_name"]).strip(),
            "include": (), "exclude": (), "keywords": (),
        })
        rec["include"] = _unique([*rec["include"], *pattern])
    return _frame(list(records.values()))


def gold_catalogue(gold: pd.DataFrame, *, lang: str = "auto") -> pd.DataFrame:
    """A technology catalogue (INTERFACES columns) holding only the gold's names.

    For evaluating a matcher on a gold set: ``tech_id``, ``name_zh`` or ``name_en`` (by
    ``lang``; ``auto``: every name goes to ``name_zh`` when most names hold a CJK character --
    so that ``GPU`` in a Chinese list stays a Chinese-list name -- else to ``name_en``),
    ``field``, ``category``. Patterns and keywords are never copied: the matcher must not
    see them.
    """
    names = gold["name"].astype(str)
    if lang == "auto":
        lang = "zh" if names.str.contains(r"[\u3400-\u9fff]", regex=True).mean() > 0.5 else "en"
    if lang not in {"zh", "en"}:
        raise InputError(f"lang must be zh, en or auto, got {lang!r}")
    is_zh = pd.Series(lang == "zh", index=gold.index)
    return pd.DataFrame({
        "tech_id": gold["tech_id"].astype(str),
        "name_zh": names.where(is_zh, ""),
        "name_en": names.where(~is_zh, ""),
        "field": gold["field"].astype(str),
        "category": gold["category"].astype(str),
    })
