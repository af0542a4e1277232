"""``coretech ipc normalize`` (and, from the scheme readers, ``coretech ipc load``)."""

from __future__ import annotations

import sys

import typer

from coretech.ipc.symbols import IPCSymbolError, normalize


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    @ipc_app.command("normalize")
    def normalize_cmd(
        symbols: list[str] = typer.Argument(..., help="IPC symbols in any notation."),
        fourteen: bool = typer.Option(False, "--fourteen", help="Print WIPO 14-character forms."),
    ) -> None:
        """Print the canonical form of each SYMBOL, one per line; exit 2 naming a bad one."""
        from coretech.ipc.symbols import to_fourteen

        bad = 0
        for s in symbols:
            try:
                typer.echo(to_fourteen(s) if fourteen else normalize(s))
            except IPCSymbolError as exc:
                print(f"error: {exc}", file=sys.stderr)
                bad += 1
        if bad:
            raise typer.Exit(2)
