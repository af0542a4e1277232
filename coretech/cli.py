"""The ``coretech`` command. Each stage registers its commands from its own ``cli`` module.

Errors in the user's input (:class:`coretech.errors.CoretechError`) print one line naming
the file, row and column and exit with status 2; nothing else is printed as a traceback.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from coretech.errors import CoretechError

app = typer.Typer(
    name="coretech",
    help="Measure technological breakthroughs from patents: IPC dictionaries, grant-lag "
    "adjusted counts, city indicators and the paper's panel models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ipc_app = typer.Typer(
    help="IPC symbols and the IPC scheme table.", no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(ipc_app, name="ipc")

#: Modules that add commands; each defines ``register(app, ipc_app)``.
COMMAND_MODULES = (
    "coretech.ipc.cli",
    "coretech.crawler.cli",
    "coretech.matching.cli",
    "coretech.matching.audit_cli",
    "coretech.indicators.cli",
    "coretech.indicators.breakthrough_cli",
    "coretech.models.cli",
    "coretech.pipeline.cli",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app, ipc_app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``coretech`` script; returns the exit status."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except CoretechError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except click.exceptions.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 1
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
