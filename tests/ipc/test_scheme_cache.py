"""The cached embedded scheme: Parquet + JSON checked against a manifest, never trusted blind."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from coretech.ipc import scheme
from coretech.ipc.cache import CacheSafetyWarning

LIST = ("A\tHUMAN NECESSITIES\nA01\tAGRICULTURE\nA01B\tSOIL WORKING\n"
        "A01B0001000000\tHand tools (edge trimmers A01G0003060000)\n"
        "A01B0001020000\tSpades; Shovels\nA01B0001040000\twith teeth\n")


@pytest.fixture
def small_default(tmp_path: Path, monkeypatch):
    src = tmp_path / "all_ipc.csv"
    src.write_text(LIST, encoding="utf-8")
    monkeypatch.setattr(scheme, "default_source_path", lambda: src)
    cache = tmp_path / "cache"
    monkeypatch.setenv("CORETECH_CACHE_DIR", str(cache))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "private"))

    def fresh():
        scheme.default_read_result.cache_clear()
        scheme.default_scheme.cache_clear()
        return scheme.default_read_result()

    yield cache, fresh
    scheme.default_read_result.cache_clear()
    scheme.default_scheme.cache_clear()
    scheme.default_scheme_columns.cache_clear()


def test_cache_round_trip_and_manifest(small_default) -> None:
    cache, fresh = small_default
    built = fresh()
    names = sorted(p.name for p in cache.iterdir())
    assert [n.split(".", 1)[1] for n in names] == ["json", "manifest.json", "parquet"]
    again = fresh()
    pd.testing.assert_frame_equal(again.table, built.table)
    assert again.stats == built.stats and len(again.table) == 6


def test_a_tampered_cached_scheme_is_detected_and_rebuilt(small_default) -> None:
    """Issue 17.3: a cached table with rows removed was trusted ("wrote 75,287 rows")."""
    cache, fresh = small_default
    built = fresh()
    parquet = next(cache.glob("default_scheme-*.parquet"))
    built.table.iloc[:4].to_parquet(parquet, index=False)  # two rows gone
    res = fresh()
    assert len(res.table) == 6 == res.stats["rows"]
    pd.testing.assert_frame_equal(res.table, built.table)
    # a changed record (counts) is not trusted either
    record = next(p for p in cache.glob("default_scheme-*.json") if "manifest" not in p.name)
    record.write_text(record.read_text().replace('"rows": 6', '"rows": 4'))
    assert fresh().stats["rows"] == 6


def test_a_world_writable_cache_folder_is_not_used(small_default, tmp_path: Path) -> None:
    cache, fresh = small_default
    cache.mkdir()
    os.chmod(cache, 0o777)
    with pytest.warns(CacheSafetyWarning, match="not used"):
        res = fresh()
    assert len(res.table) == 6
    assert not list(cache.iterdir())
    assert list((tmp_path / "private" / "coretech").glob("default_scheme-*.parquet"))


def test_some_columns_read_alone_from_the_cache_equal_the_full_scheme(small_default) -> None:
    """coretech breakthrough reads code/kind/parent/edition alone from the cached table."""
    cache, fresh = small_default
    cols = ("code", "parent", "kind", "edition", "depth")
    built = fresh().table
    scheme.default_read_result.cache_clear()
    scheme.default_scheme.cache_clear()
    scheme.default_scheme_columns.cache_clear()
    part = scheme.default_scheme_columns(cols)
    assert scheme.default_read_result.cache_info().currsize == 0  # read from disk, not built
    pd.testing.assert_frame_equal(part, built[list(cols)])
    assert part["parent"].tolist()[:2] == [None, "A"]
    # a tampered table is not read: the scheme is rebuilt, the columns still equal
    parquet = next(cache.glob("default_scheme-*.parquet"))
    built.iloc[:4].to_parquet(parquet, index=False)
    scheme.default_scheme_columns.cache_clear()
    pd.testing.assert_frame_equal(scheme.default_scheme_columns(cols), built[list(cols)])
    assert scheme.default_read_result.cache_info().currsize == 1
