"""Reading the tables users have and writing outputs atomically and reproducibly.

Every reader accepts CSV/TSV (UTF-8, UTF-8 with BOM, GBK/GB18030; detected or given),
Excel (.xlsx/.xls), Parquet and Stata (.dta). Every writer picks the format from the file
extension and writes to a temporary file in the same folder, then renames it, so a crash
never leaves a half-written output. Writers are deterministic: the same frame gives the same
bytes.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io as _io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from coretech.errors import InputError, OutputError

TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
#: Encodings tried in order when none is given. GB18030 is a superset of GBK and GB2312.
DEFAULT_ENCODINGS = ("utf-8-sig", "gb18030")
#: A fixed timestamp for file formats that embed one (xlsx, dta), so outputs are byte-identical.
FIXED_TIMESTAMP = _dt.datetime(2000, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- encodings
def detect_encoding(path: str | Path, encodings: tuple[str, ...] = DEFAULT_ENCODINGS) -> str:
    """Return the first of ``encodings`` that decodes the whole file without error.

    Raises :class:`InputError` naming the file and the byte offset that no candidate decodes.
    """
    raw = Path(path).read_bytes()
    last: UnicodeDecodeError | None = None
    for enc in encodings:
        try:
            raw.decode(enc)
            return enc
        except UnicodeDecodeError as exc:
            last = exc
    assert last is not None
    line = raw[: last.start].count(b"\n") + 1
    raise InputError(
        f"cannot decode the file as {' or '.join(encodings)} (first bad byte at offset "
        f"{last.start}, line {line}); give the encoding explicitly (e.g. --encoding latin-1)",
        file=path,
    )


def read_text(path: str | Path, encoding: str | None = None) -> tuple[str, str]:
    """Read a text file, detecting the encoding when none is given. Returns (text, encoding)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    enc = encoding or detect_encoding(path)
    try:
        text = path.read_bytes().decode(enc)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot decode as {enc} at byte offset {exc.start}", file=path
        ) from exc
    except LookupError as exc:
        raise InputError(f"unknown encoding {enc!r}", file=path) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, enc


def sniff_delimiter(first_line: str, suffix: str) -> str:
    """Tab for .tsv, else the most frequent of comma, tab, semicolon, pipe in the header."""
    if suffix in {".tsv", ".tab"}:
        return "\t"
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


# --------------------------------------------------------------------------- reading
def read_table(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | int | None = 0,
    as_text: bool = True,
    required: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read a table from CSV/TSV, Excel, Parquet or Stata.

    With ``as_text`` (default) text files are read with every cell as a string (empty cells
    as ""), so that each stage parses and validates values itself and can name the row of a
    bad one. ``required`` columns are checked and a missing one is an :class:`InputError`
    that lists the columns found. The frame's ``attrs`` record ``source`` and ``encoding``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path)
    suffix = path.suffix.lower()
    enc_used: str | None = None
    try:
        if suffix in EXCEL_SUFFIXES:
            df = pd.read_excel(path, sheet_name=sheet, dtype=str if as_text else None)
            if as_text:
                df = df.fillna("")
        elif suffix == ".parquet":
            df = pd.read_parquet(path)
        elif suffix == ".dta":
            df = pd.read_stata(path, convert_categoricals=False)
        else:
            text, enc_used = read_text(path, encoding)
            if not text.strip():
                raise InputError("the file is empty", file=path)
            first = text.split("\n", 1)[0]
            sep = sniff_delimiter(first, suffix)
            df = pd.read_csv(
                _io.StringIO(text),
                sep=sep,
                dtype=str if as_text else None,
                keep_default_na=not as_text,
                na_filter=not as_text,
                skipinitialspace=False,
                quoting=csv.QUOTE_MINIMAL,
                on_bad_lines="error",
            )
    except InputError:
        raise
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise InputError(f"cannot read the table: {exc}", file=path) from exc
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}",
            file=path,
        )
    df.attrs["source"] = str(path)
    df.attrs["encoding"] = enc_used
    return df


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line of a JSON Lines file (encoding
    detected as for tables); a line that is not a JSON object is an InputError naming it."""
    import json

    text, _ = read_text(path)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"line {lineno}: not valid JSON ({exc.msg})", file=path) from exc
        if not isinstance(obj, dict):
            raise InputError(f"line {lineno}: expected a JSON object", file=path)
        yield lineno, obj


# --------------------------------------------------------------------------- writing
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    An operating-system error (read-only folder, full disk, ``path`` an existing folder)
    becomes an :class:`~coretech.errors.OutputError` naming ``path``."""
    path = Path(path)
    tmp_path = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get normal modes
        os.replace(tmp_path, path)
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(path, exc) from exc
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_with(path: str | Path, writer: Callable[[IO[bytes]], Any]) -> None:
    """Call ``writer`` with a binary file handle on a temp file, then rename it onto ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        writer(fh)


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically with sorted keys (byte-identical for equal objects)."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default)
    atomic_write_text(path, text + "\n")


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (Path, _dt.date)):
        return str(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_table(df: pd.DataFrame, path: str | Path, *, sheet_name: str = "Sheet1") -> Path:
    """Write ``df`` atomically in the format its extension names (.csv .tsv .xlsx .parquet .dta).

    CSV is UTF-8 without BOM and with ``\\n`` line ends; floats are written with ``repr``
    precision, so a re-read gives the same numbers.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix in {".csv", ".txt", ""}:
            df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        elif suffix in {".tsv", ".tab"}:
            df.to_csv(tmp, index=False, sep="\t", encoding="utf-8", lineterminator="\n")
        elif suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif suffix in {".xlsx", ".xlsm"}:
            buf = _io.BytesIO()
            with pd.ExcelWriter(buf, engine="openpyxl") as xw:
                df.to_excel(xw, index=False, sheet_name=sheet_name)
                text_cells_as_text(xw.book)
                fix_workbook_timestamps(xw.book)
            tmp.write_bytes(normalise_zip(buf.getvalue()))
        elif suffix == ".dta":
            df.to_stata(tmp, write_index=False, time_stamp=FIXED_TIMESTAMP, version=118)
        else:
            raise InputError(
                f"unknown output format {suffix!r}; use .csv, .tsv, .xlsx, .parquet or .dta",
                file=path,
            )
    return path


#: First characters that make a spreadsheet read typed or imported text as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")


def text_cells_as_text(book: Any) -> int:
    """Make every text cell of an openpyxl workbook a text cell (no formula injection).

    openpyxl (and pandas' ``to_excel`` through it) stores a string beginning with ``=`` as a
    live formula, so a catalogue name ``=HYPERLINK(...)`` would run in Excel and read back
    as empty. Here such cells are stored as strings (``data_type = "s"``), and every string
    beginning with ``= + - @`` also gets Excel's quote prefix, so it stays text when a user
    edits the cell. Returns the number of cells that were formulas.
    """
    n = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, str) and v.startswith(FORMULA_STARTS):
                    if cell.data_type == "f":
                        cell.data_type = "s"
                        n += 1
                    cell.quotePrefix = True
    return n


def fix_workbook_timestamps(book: Any) -> None:
    """Pin an openpyxl workbook's created/modified stamps so saving is byte-identical."""
    props = getattr(book, "properties", None)
    if props is not None:
        props.created = FIXED_TIMESTAMP
        props.modified = FIXED_TIMESTAMP
        props.lastModifiedBy = "coretech"
        props.creator = "coretech"


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def normalise_zip(data: bytes) -> bytes:
    """Re-pack a zip archive (.xlsx, .docx) with a fixed timestamp on every entry.

    Zip entries carry the time of writing, and openpyxl stamps ``docProps/core.xml`` with the
    time of saving whatever the workbook's properties say; both are pinned here, so saving the
    same content twice gives byte-identical files.
    """
    src = zipfile.ZipFile(_io.BytesIO(data))
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                payload = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", payload)
            dst.writestr(zi, payload)
    return buf.getvalue()
