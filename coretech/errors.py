"""Errors that name the file, row and column of bad input.

Row numbers follow what a user sees in a spreadsheet: the header is row 1, the first data
row is row 2 (for a CSV file this is also its line number when no field spans lines).
"""

from __future__ import annotations

import errno
from pathlib import Path


class CoretechError(Exception):
    """Base class of every error coretech raises on purpose."""


class InputError(CoretechError, ValueError):
    """Bad input: says which file, row and column, and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


def data_row(index: int) -> int:
    """Spreadsheet row number of the 0-based data-row ``index`` (header is row 1)."""
    return int(index) + 2


# --------------------------------------------------------------------------- operating system
#: errno -> (what the user reads, exit status). 2: the path given is of the wrong kind (a
#: usage error); 1: the machine refused (permissions, a full or read-only disk).
_OS_REASONS = {
    errno.ENOENT: ("not found", 2),
    errno.EISDIR: ("is a folder; a file name is expected here", 2),
    errno.ENOTDIR: ("a part of this path is a file, not a folder", 2),
    errno.EEXIST: ("exists and is not a folder", 2),
    errno.EACCES: ("permission denied (is the folder read-only or someone else's?)", 1),
    errno.EPERM: ("operation not permitted", 1),
    errno.EROFS: ("read-only file system", 1),
    errno.ENOSPC: ("no space left on device (the disk is full)", 1),
    errno.EDQUOT: ("disk quota exceeded", 1),
    errno.EFBIG: ("file too large (the file-size limit was reached)", 1),
}


def describe_os_error(exc: OSError, path: str | Path | None = None) -> tuple[str, int]:
    """One line for an operating-system error and the exit status (see ``_OS_REASONS``).

    With ``path`` (an output the user named): "cannot write PATH: reason", naming the error's
    own file too when it is another one (a parent that is a file), never the temporary file
    that :func:`coretech.io.atomic_path` writes first."""
    reason, status = _OS_REASONS.get(exc.errno, ((exc.strerror or str(exc)).lower(), 1))
    where = exc.filename
    if path is None:
        return (f"{where}: {reason}" if where is not None else reason), status
    path = Path(path)
    if where is None or Path(where) == path or Path(where).name.startswith(f".{path.name}."):
        return f"cannot write {path}: {reason}", status
    return f"cannot write {path}: {where}: {reason}", status


class OutputError(CoretechError, OSError):
    """An output could not be written: names the output and why, in one line."""

    def __init__(self, path: str | Path, exc: OSError) -> None:
        self.path = str(path)
        self.message, self.exit_code = describe_os_error(exc, path)
        super().__init__(exc.errno, self.message)

    def __str__(self) -> str:
        return self.message
