"""The ``coretech`` command. Each stage registers its commands from its own ``cli`` module.

Errors in the user's input (:class:`coretech.errors.CoretechError`) print one line naming
the file, row and column and exit with status 2; usage errors (an unknown command or option,
a missing argument, a value of the wrong type) print one line naming the option and a hint
to ``--help``, exit status 2; an operating-system error (read-only folder, full disk, a folder
where a file is expected) prints one line naming the path. Nothing is printed as a traceback
unless ``CORETECH_DEBUG=1`` is set. docs/checks.md lists what is checked.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable

import typer
from typer.core import TyperGroup

from coretech.errors import CoretechError, describe_os_error

# Recent typer (0.29 here) bundles its own copy of click (typer._click) and raises that
# copy's exception classes; older typer raises click's. The public typer.BadParameter is one
# of them in both cases, so its base classes are the ones to catch (no import of click, which
# coretech does not depend on).
_BASES = {c.__name__: c for c in typer.BadParameter.__mro__}
ClickException: type[Exception] = _BASES["ClickException"]
UsageError: type[Exception] = _BASES["UsageError"]


class CoretechGroup(TyperGroup):
    """The root command group: tidies every command's help once before it runs."""

    def main(self, *args, **kwargs):  # click's signature
        tidy_help(self)
        return super().main(*args, **kwargs)


app = typer.Typer(
    name="coretech",
    help="Measure technological breakthroughs from patents: IPC dictionaries, grant-lag "
    "adjusted counts, city indicators and the paper's panel models.\n\n"
    "Examples:\n"
    "coretech demo\n"
    "coretech run study.toml\n"
    "coretech match --help",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=CoretechGroup,
)
ipc_app = typer.Typer(
    help="IPC symbols and the IPC scheme table.\n\n"
    "Examples:\n"
    "coretech ipc load --out ipc.parquet\n"
    "coretech ipc normalize G06N3/08", no_args_is_help=True,
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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"coretech {version()}")
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version,
        help="Print the installed version (coretech X.Y.Z) and exit."),
) -> None:
    """Root options (the group's help text is the Typer's ``help``)."""


def version() -> str:
    """The installed distribution's version (importlib.metadata), else the package's."""
    from importlib import metadata

    try:
        return metadata.version("coretech")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        from coretech import __version__

        return __version__


# --------------------------------------------------------------------------- help text
_EXAMPLE = re.compile(r"^\s*Examples?:", re.IGNORECASE)


def _reflow(text: str) -> str:
    """Join the lines of each prose paragraph (the terminal width wraps them); keep the lines
    of an ``Examples:`` paragraph whole, one command per line (``Example: CMD`` on one line
    becomes the heading and the command below it)."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in para.splitlines()]
        if _EXAMPLE.match(lines[0]):
            head, _, first = lines[0].partition(":")
            out.append("\n".join([f"{head.strip()}:", *filter(None, [first.strip()]),
                                  *lines[1:]]))
        else:
            out.append(" ".join(lines))
    return "\n\n".join(out)


def _escape_markup(text: str | None) -> str | None:
    """``[study]`` stays ``[study]``: rich would read it as a style tag and drop it."""
    return None if text is None else re.sub(r"(?<!\\)\[", r"\\[", text)


def _plain_type(show: Callable) -> Callable:
    """``<list[Path]>`` -> ``<path>...``: a repeatable value, in the words of the other types."""
    def display(ctx):
        text = show(ctx)
        m = re.fullmatch(r"<list\[(\w+)\]>(?:\.\.\.)?", text or "")
        return f"<{m.group(1).lower()}>..." if m else text
    return display


def _tidy_param(param) -> None:  # a click (typer) Parameter
    if param.param_type_name == "argument":
        name = (param.name or "").upper()
        param.metavar = name
        usage = f"{name}..." if param.nargs != 1 else name
        if not param.required:
            usage = f"[{usage}]"
        param.get_usage_pieces = lambda ctx, _u=usage: [_u]  # click's usage, not typer's {name}
    elif getattr(param, "is_flag", False) or getattr(param, "count", False):
        param.metavar = ""  # a switch takes no value: no "<bool>"
    if hasattr(param, "display_type_rich"):
        param.display_type_rich = _plain_type(param.display_type_rich)


def tidy_help(command) -> None:  # a click (typer) Command or Group
    """Make ``--help`` read as plain words: arguments as NAME (not ``{name}``), switches
    without a ``<bool>`` type, ``<path>...`` for repeatable values, prose paragraphs wrapped
    to the terminal, example lines kept whole and ``[brackets]`` shown as written.

    Applied to the whole command tree once (idempotent)."""
    if getattr(command, "_coretech_tidy", False):
        return
    command._coretech_tidy = True
    rich = getattr(command, "rich_markup_mode", None) == "rich"
    if command.help:
        command.help = _reflow(command.help)
        if rich:
            command.help = _escape_markup(command.help)
    params = list(command.params)
    try:  # --help itself is made on first use: make it now, so that it is tidied too
        help_option = command.get_help_option(command.context_class(command))
    except Exception:  # noqa: BLE001 - an older typer/click: leave --help as it is
        help_option = None
    for param in [*params, *([help_option] if help_option is not None else [])]:
        _tidy_param(param)
        if rich:
            param.help = _escape_markup(param.help)
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


# --------------------------------------------------------------------------- errors
def _report(exc: Exception) -> int:
    """Print ``exc`` as one line (a usage error adds the ``--help`` hint); the exit status."""
    if isinstance(exc, CoretechError):
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    if isinstance(exc, OSError):  # not through coretech.io (plots, folders, ...): name the path
        msg, status = describe_os_error(exc)
        print(f"error: {msg}", file=sys.stderr)
        return status
    ctx = getattr(exc, "ctx", None)
    msg = exc.format_message().strip()
    if ctx is not None and (type(exc).__name__ == "NoArgsIsHelpError" or not msg):
        # the help went to stdout (typer prints it); say what is missing in one line
        msg = f"'{ctx.command_path}' needs a command: {', '.join(ctx.command.list_commands(ctx))}"
    print(f"error: {' '.join(msg.split())}", file=sys.stderr)  # one line, whatever it held
    if isinstance(exc, UsageError):
        print(f"Try '{ctx.command_path if ctx else 'coretech'} --help' for help.", file=sys.stderr)
    return exc.exit_code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``coretech`` script; returns the exit status."""
    try:
        rv = app(args=argv, prog_name="coretech", standalone_mode=False)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CoretechError, ClickException, OSError) as exc:
        if os.environ.get("CORETECH_DEBUG", "") not in ("", "0"):
            raise
        return _report(exc)
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
