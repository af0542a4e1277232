"""Fixtures shared by the matcher tests: matchers fitted once per module on the small
Chinese and English schemes of ``scheme_fixture`` (a module may define its own instead)."""

from __future__ import annotations

import pytest
from scheme_fixture import chinese_scheme, english_scheme

from coretech.matching.matcher import Matcher


@pytest.fixture(scope="module")
def zh_matcher() -> Matcher:
    return Matcher(cache_dir=False, term_min_df=1).fit(chinese_scheme())


@pytest.fixture(scope="module")
def en_matcher() -> Matcher:
    return Matcher(cache_dir=False, term_min_df=1).fit(english_scheme())
