"""Hostile inputs and a hostile machine at the command line (issue 17): each gives one line
naming the path or option and what is wrong, a non-zero exit status, no traceback, and no
partial or temporary file left behind.

Other stages keep their own hostile cases beside their tests; this file keeps those of the
command line and of writing outputs (docs/checks.md lists them all).
"""

from __future__ import annotations

import errno
import os
import re
import resource
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from cli_run import assert_one_line_error, run_cli

from coretech import io as cio
from coretech.cli import main
from coretech.errors import OutputError, describe_os_error

SCHEME = "code,parent\nG,\nG06,G\nG06N,G06\nG06N3/00,G06N\nG06N3/02,G06N3/00\nC12N,\n"
PATENTS = """patent_id,app_date,grant_date,ipc,main_ipc,city,patent_type
P1,2015-01-01,2016-06-01,G06N3/02,G06N3/02,北京市,invention
P2,2015-03-01,2017-06-01,A01B1/02;G06N3/02,A01B1/02,北京市,invention
P3,2016-01-01,2017-01-01,C12N15/00,C12N15/00,上海市,utility_model
"""


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    (tmp_path / "scheme.csv").write_text(SCHEME, encoding="utf-8")
    (tmp_path / "patents.csv").write_text(PATENTS, encoding="utf-8")
    (tmp_path / "dict.csv").write_text("tech_id,ipc_code,decision\nt1,G06N3/02,auto\n"
                                       "t2,C12N,accepted\n", encoding="utf-8")
    return tmp_path


def breakthrough_args(out: str | Path, *more: str) -> list[str]:
    return ["breakthrough", "patents.csv", "--dictionary", "dict.csv", "--ipc", "scheme.csv",
            "--reference", "2015-2016", "--out", str(out), *more]


def run_in_process(argv: list[str], cwd: Path, capsys, monkeypatch) -> tuple[int, list[str]]:
    """main(argv) in ``cwd``; returns the status and the stderr lines that are not progress."""
    monkeypatch.chdir(cwd)  # the CLI resolves relative paths against the caller's folder
    status = main(argv)
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("... ")]
    return status, err


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.rglob(".*.tmp")]


# --------------------------------------------------------------------------- --out is a folder
def test_out_naming_an_existing_folder(inputs):
    (inputs / "results").mkdir()
    res = run_cli(*breakthrough_args("results"), cwd=inputs)
    line = assert_one_line_error(_without_progress(res), 2, "results", "folder")
    assert "file name is expected" in line
    assert (inputs / "results").is_dir() and not any((inputs / "results").iterdir())
    assert no_temporary_files(inputs)


def test_out_inside_an_existing_file(inputs):
    res = run_cli(*breakthrough_args("patents.csv/s.csv"), cwd=inputs)
    assert_one_line_error(_without_progress(res), 2, "patents.csv/s.csv",
                          "patents.csv: exists and is not a folder")
    assert (inputs / "patents.csv").read_text(encoding="utf-8") == PATENTS


def test_plots_folder_naming_an_existing_file(inputs, capsys, monkeypatch):
    status, err = run_in_process(breakthrough_args("s.csv", "--plots", "dict.csv"), inputs,
                                 capsys, monkeypatch)
    assert status == 2
    assert err == ["error: dict.csv: exists and is not a folder"]


# --------------------------------------------------------------------------- --years past --end-year
def test_years_past_end_year(inputs):
    res = run_cli(*breakthrough_args("s.csv", "--years", "2015-2030", "--end-year", "2022"),
                  cwd=inputs)
    line = assert_one_line_error(res, 2, "--years 2015-2030", "--end-year 2022")
    assert "Traceback" not in res.stderr and "ValueError" not in line
    assert not (inputs / "s.csv").exists()


def test_years_within_end_year_still_work(inputs, capsys, monkeypatch):
    status, err = run_in_process(breakthrough_args("s.csv", "--years", "2015-2020"), inputs,
                                 capsys, monkeypatch)
    assert status == 0, err
    t = pd.read_csv(inputs / "s.csv")
    assert sorted(set(t["year"])) == list(range(2015, 2021))


# --------------------------------------------------------------------------- read-only folder
@pytest.fixture
def read_only_dir(inputs: Path, monkeypatch) -> Path:
    """A folder nobody may write into. root ignores mode bits, so there the refusal the
    kernel would give (EACCES when creating a file in it) is simulated at the same call."""
    ro = inputs / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):  # running as root
        real = tempfile.mkstemp

        def mkstemp(*a, **kw):
            d = Path(kw.get("dir") or a[2])
            if d.resolve() == ro.resolve():
                tmp = d / f"{kw['prefix']}k2j4h1z9{kw['suffix']}"  # as mkstemp names it
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp))
            return real(*a, **kw)

        monkeypatch.setattr(cio.tempfile, "mkstemp", mkstemp)
    yield ro
    ro.chmod(0o755)


def test_read_only_output_folder(inputs, read_only_dir, capsys, monkeypatch):
    status, err = run_in_process(breakthrough_args("ro/s.csv"), inputs, capsys, monkeypatch)
    assert status == 1
    assert len(err) == 1, err
    assert re.fullmatch(r"error: cannot write (ro/s\.rejects\.csv|ro/s\.csv): permission denied.*",
                        err[0]), err
    assert list(read_only_dir.iterdir()) == []


# --------------------------------------------------------------------------- full disk
def test_full_disk_while_writing(inputs, monkeypatch, capsys):
    """ENOSPC in the middle of writing the table (as a real full disk gives it: on write,
    without a file name): one line naming the output, nothing half-written left behind."""
    real = pd.DataFrame.to_csv

    def to_csv(self, path_or_buf=None, *a, **kw):
        if path_or_buf is not None and Path(str(path_or_buf)).name.startswith(".s.csv."):
            Path(path_or_buf).write_bytes(b"city,year,k_r")  # a partial file, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, path_or_buf, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    (inputs / "s.csv").write_text("the previous table\n", encoding="utf-8")
    status, err = run_in_process(breakthrough_args("s.csv"), inputs, capsys, monkeypatch)
    assert status == 1
    assert err == ["error: cannot write s.csv: no space left on device (the disk is full)"]
    assert (inputs / "s.csv").read_text(encoding="utf-8") == "the previous table\n"
    assert no_temporary_files(inputs)


def _no_file_writes() -> None:  # pragma: no cover - runs in the child before exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_file_size_limit_reached_for_real(inputs):
    """A real refusal by the kernel: with RLIMIT_FSIZE 0 every write to a file fails (EFBIG;
    Python ignores SIGXFSZ). The CLI names the output and stops with status 1."""
    res = run_cli(*breakthrough_args("s.csv"), cwd=inputs, preexec_fn=_no_file_writes)
    line = assert_one_line_error(_without_progress(res), 1, "cannot write", "file too large")
    assert re.search(r"cannot write s(\.rejects)?\.csv", line), line
    assert not (inputs / "s.csv").exists()
    assert no_temporary_files(inputs)


# --------------------------------------------------------------------------- the messages
@pytest.mark.parametrize(("code", "words", "status"), [
    (errno.ENOSPC, "no space left on device", 1),
    (errno.EROFS, "read-only file system", 1),
    (errno.EACCES, "permission denied", 1),
    (errno.EISDIR, "is a folder", 2),
    (errno.EDQUOT, "disk quota exceeded", 1),
])
def test_output_error_names_the_users_path_not_the_temporary_file(tmp_path, code, words, status):
    tmp = tmp_path / ".out.csv.k2j4h1z9.tmp"
    err = OutputError(tmp_path / "out.csv", OSError(code, os.strerror(code), str(tmp)))
    assert str(err) == f"cannot write {tmp_path / 'out.csv'}: {describe_os_error(OSError(code, 'x'))[0]}"
    assert words in str(err) and ".tmp" not in str(err)
    assert err.exit_code == status
    assert isinstance(err, OSError)  # code that caught OSError before still catches it


def test_atomic_write_into_a_folder_path_raises_output_error(tmp_path):
    (tmp_path / "x.csv").mkdir()
    with pytest.raises(OutputError, match=r"x\.csv: is a folder"):
        cio.write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")
    assert no_temporary_files(tmp_path)


def _without_progress(res):
    """The same result with the ``... step`` progress lines taken out of stderr."""
    res.stderr = "".join(ln for ln in res.stderr.splitlines(keepends=True)
                         if not ln.startswith("... "))
    return res
