"""Shared fixtures: where ../shared lives, and a skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CORETECH_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder (real samples and reference lists); skip when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): this test reads real shared data")
    return SHARED
