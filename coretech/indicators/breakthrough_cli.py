"""Commands of this stage (registered on the ``coretech`` app by :mod:`coretech.cli`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    """Add this stage's commands to ``app`` / ``ipc_app`` (none yet)."""
