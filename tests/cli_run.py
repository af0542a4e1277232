"""Running the ``coretech`` command in a fresh interpreter, as a user does (shared by the
command-line tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None, **popen) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "80"}
    env.pop("CORETECH_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "coretech.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, **popen)


def assert_one_line_error(res: subprocess.CompletedProcess, status: int, *names: str) -> str:
    """Exit ``status``, no traceback, at most two lines on stderr (error + hint), the first
    naming each of ``names``; returns that line."""
    err = res.stderr.strip().splitlines()
    assert res.returncode == status, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    assert 1 <= len(err) <= 2, res.stderr
    assert err[0].startswith("error: "), err
    for name in names:
        assert name in err[0], (name, err[0])
    if len(err) == 2:
        assert re.fullmatch(r"Try 'coretech( [a-z]+)* --help' for help\.", err[1]), err[1]
    return err[0]
