from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.io import atomic_write_text, read_table, write_table
from coretech.provenance import provenance, write_provenance


def test_outputs_get_ordinary_file_modes(tmp_path: Path) -> None:
    out = tmp_path / "x.txt"
    atomic_write_text(out, "a")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]  # no temp file left behind


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_read_table_detects_chinese_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("申请号,申请日\nCN1,2002.03.06\n".encode(encoding))
    df = read_table(path)
    assert list(df.columns) == ["申请号", "申请日"]
    assert df.iloc[0].tolist() == ["CN1", "2002.03.06"]
    assert df.attrs["encoding"] in {"utf-8-sig", "gb18030"}


def test_read_table_errors_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.csv: the file is empty"):
        read_table(empty)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n\xff\xfe\xfa,1\n")
    with pytest.raises(InputError, match=r"bad.csv: cannot decode .* line 2"):
        read_table(bad)
    cols = tmp_path / "cols.csv"
    cols.write_text("x,y\n1,2\n")
    with pytest.raises(InputError, match=r"missing column\(s\) tech_id; found x, y"):
        read_table(cols, required=("tech_id",))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx", ".parquet", ".dta"])
def test_write_table_round_trips_and_is_byte_identical(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame({"city": ["济南", "青岛"], "year": [2019, 2020], "k": [1.5, 0.25]})
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    write_table(df, a)
    time.sleep(2.1 if suffix == ".xlsx" else 0)  # zip entries carry a 2-second clock
    write_table(df, b)
    assert a.read_bytes() == b.read_bytes()
    back = read_table(a, as_text=False)
    assert back["city"].tolist() == ["济南", "青岛"]
    assert back["k"].astype(float).tolist() == [1.5, 0.25]


def test_provenance_records_hashes_and_is_deterministic(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    out = tmp_path / "out.csv"
    rec = provenance(stage="t", inputs={"data": src}, options={"x": 1})
    assert rec["inputs"]["data"]["sha256"] == hashlib.sha256(b"a\n1\n").hexdigest()
    p1 = write_provenance(out, rec)
    first = p1.read_bytes()
    write_provenance(out, provenance(stage="t", inputs={"data": src}, options={"x": 1}))
    assert p1.name == "out.meta.json" and p1.read_bytes() == first
