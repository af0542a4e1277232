"""Errors that name the file, row and column of bad input.

Row numbers follow what a user sees in a spreadsheet: the header is row 1, the first data
row is row 2 (for a CSV file this is also its line number when no field spans lines).
"""

from __future__ import annotations

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
