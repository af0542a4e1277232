"""The ``coretech`` command itself: usage errors, --version and every command's --help.

Usage errors run the CLI in a fresh interpreter (``python -m coretech.cli``), as a user
would: one line naming what was wrong (and at most a "Try ... --help" hint), exit status 2,
no traceback.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import typer.main
from cli_run import REPO, assert_one_line_error, run_cli

from coretech import cli

# --------------------------------------------------------------------------- usage errors
USAGE_CASES = [
    pytest.param([], ["needs a command", "match", "breakthrough"], id="no-command"),
    pytest.param(["ipc"], ["coretech ipc", "needs a command", "load"], id="group-no-command"),
    pytest.param(["match"], ["CATALOGUE"], id="missing-argument"),
    pytest.param(["review", "apply"], ["WORKBOOK"], id="missing-argument-subgroup"),
    pytest.param(["match", "cat.csv", "--out", "o.csv", "--thresh", "0.3"],
                 ["--thresh", "--threshold"], id="unknown-option"),
    pytest.param(["mtach"], ["mtach", "match"], id="misspelt-command"),
    pytest.param(["match", "cat.csv", "--out", "o.csv", "--max-codes", "many"],
                 ["--max-codes"], id="not-an-integer"),
    pytest.param(["breakthrough", "p.csv", "--dictionary", "d.csv", "--out", "o.csv",
                  "--end-year", "2022.5"], ["--end-year"], id="not-an-integer-2"),
    pytest.param(["match", "cat.csv", "--out", "o.csv", "--threshold", "high"],
                 ["--threshold"], id="not-a-number"),
    pytest.param(["match", "cat.csv"], ["--out"], id="missing-option"),
    pytest.param(["ipc", "load", "--out"], ["--out"], id="option-without-value"),
    pytest.param(["match", "no_such_catalogue.csv", "--out", "o.csv"],
                 ["no_such_catalogue.csv", "not found"], id="missing-file"),
    pytest.param(["models", "no_such_panel.csv", "--out", "tables"],
                 ["no_such_panel.csv", "not found"], id="missing-file-2"),
]


@pytest.mark.parametrize(("argv", "names"), USAGE_CASES)
def test_usage_error_is_one_line_with_exit_2(argv, names, tmp_path):
    res = run_cli(*argv, cwd=tmp_path)
    assert_one_line_error(res, 2, *names)
    assert not (tmp_path / "o.csv").exists()


def test_no_command_also_shows_the_commands_on_stdout(tmp_path):
    res = run_cli(cwd=tmp_path)
    assert res.returncode == 2
    assert "Commands" in res.stdout and "breakthrough" in res.stdout


def test_debug_variable_shows_the_traceback(monkeypatch):
    """CORETECH_DEBUG=1 is for developers: the exception propagates with its traceback."""
    monkeypatch.setenv("CORETECH_DEBUG", "1")
    with pytest.raises(cli.UsageError):
        cli.main(["mtach"])
    monkeypatch.delenv("CORETECH_DEBUG")
    assert cli.main(["mtach"]) == 2


def test_usage_exception_classes_are_the_ones_typer_raises():
    """typer >= 0.2x bundles click: the classes caught are those typer itself raises."""
    assert issubclass(typer.BadParameter, cli.UsageError)
    assert issubclass(cli.UsageError, cli.ClickException)
    assert cli.ClickException.__module__.split(".")[0] in {"typer", "click"}


# --------------------------------------------------------------------------- --version
def test_version_prints_the_installed_distribution_version(tmp_path):
    res = run_cli("--version", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert res.stdout == f"coretech {declared}\n"
    assert re.fullmatch(r"coretech \d+\.\d+\.\d+\S*\n", res.stdout)


# --------------------------------------------------------------------------- --help
def _command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(cli.app)
    out: list[tuple[str, ...]] = []

    def walk(cmd, path: tuple[str, ...]) -> None:
        out.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))

    walk(root, ())
    return out


COMMANDS = _command_paths()


def test_every_command_is_covered():
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "match", "breakthrough", "indicators", "models", "run", "demo", "ipc",
            "ipc load", "ipc fetch", "ipc normalize", "review export", "review apply",
            "audit", "diff", "migrate"} <= names


def _click_command(path: tuple[str, ...]):
    cmd = typer.main.get_command(cli.app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def _help(path: tuple[str, ...], monkeypatch, capsys) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main([*path, "--help"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    return out.out


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "coretech")
def test_help_has_examples_and_no_raw_placeholders(path, monkeypatch, capsys):
    text = _help(path, monkeypatch, capsys)
    lines = [ln.strip(" │") for ln in text.splitlines()]
    assert f"Usage: coretech {' '.join(path)}".replace("  ", " ").strip() in text
    # an Examples section with at least one example of this very command, each line whole
    start = [i for i, ln in enumerate(lines) if ln.strip() in ("Examples:", "Example:")]
    assert start, text
    examples = []
    for ln in lines[start[0] + 1:]:
        if not ln.strip():
            break
        examples.append(ln.strip())
    prefix = " ".join(("coretech", *path))
    assert examples and any(e.startswith(prefix) for e in examples), examples
    for e in examples:
        assert e.startswith("coretech "), f"an example line was wrapped: {e!r}"
    # no raw type placeholders: switches show no <bool>, arguments no {name}
    assert "<bool>" not in text
    params = {p.name for p in _click_command(path).params}
    braced = set(re.findall(r"\{(\w+)\}", text))
    assert not braced & params, braced  # typer's {name} for an argument
    assert braced <= {"date"}, braced  # {date}: a template the --scheme-file help explains
    assert "list[" not in text


def test_help_example_lines_are_whole_in_the_source_too(monkeypatch, capsys):
    """Every example line written in a docstring fits an 80-column terminal (so rich does not
    break it): the rendered help has it as one line, character for character."""
    seen = 0
    for path in COMMANDS:
        cmd = _click_command(path)
        cli.tidy_help(cmd)
        help_src = re.split(r"Examples?:", cmd.help, maxsplit=1)[1].split("\n\n")[0]
        text = _help(path, monkeypatch, capsys)
        rendered = {ln.strip(" │") for ln in text.splitlines()}
        for ex in filter(None, (x.strip() for x in help_src.splitlines())):
            assert ex in rendered, (path, ex)
            seen += 1
    assert seen >= 2 * len(COMMANDS) - 8


def test_arguments_are_named_in_capitals_in_usage(monkeypatch, capsys):
    text = _help(("diff",), monkeypatch, capsys)
    assert "Usage: coretech diff [OPTIONS] OLD NEW" in text
    text = _help(("ipc", "load"), monkeypatch, capsys)
    assert "Usage: coretech ipc load [OPTIONS] [SOURCES...]" in text


def test_square_brackets_in_help_are_shown_not_read_as_markup(monkeypatch, capsys):
    """rich reads [word] as a style tag and drops it: help texts mention TOML tables."""
    text = " ".join(_help(("run",), monkeypatch, capsys).split())
    assert "(default: [study] out," in text
    text = " ".join(_help(("models",), monkeypatch, capsys).split())
    assert "its [models] table" in text and "\\[" not in text


def test_a_one_line_example_becomes_a_heading_and_a_command():
    assert cli._reflow("Do it.\n\nExample: coretech x a.csv") == \
        "Do it.\n\nExample:\ncoretech x a.csv"
    assert cli._reflow("Do it\nnow.\n\nExamples:\n  coretech x\n  coretech y --z") == \
        "Do it now.\n\nExamples:\ncoretech x\ncoretech y --z"
