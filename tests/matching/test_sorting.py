"""coretech.matching.sorting.lexsort gives np.lexsort's order (ties, signs, zeros, floats)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coretech.matching.sorting import lexsort

_N = st.integers(min_value=0, max_value=60)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=_N, n_keys=st.integers(min_value=1, max_value=4))
def test_same_order_as_numpy_lexsort(data: st.DataObject, n: int, n_keys: int) -> None:
    keys = []
    for _ in range(n_keys):
        if data.draw(st.booleans()):  # few distinct values: many ties
            k = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-3, 3)))
        else:
            k = data.draw(hnp.arrays(np.float64, n, elements=st.sampled_from(
                [0.0, -0.0, 0.25, -1.5, 1e-12, 0.1 + 0.2, 0.3, 7.0])))
        keys.append(k)
    assert np.array_equal(lexsort(keys), np.lexsort(keys))


def test_large_ranges_fall_back_to_numpy() -> None:
    rng = np.random.default_rng(1)
    keys = [rng.integers(0, 2**40, 500), rng.integers(0, 2**40, 500), rng.normal(size=500)]
    assert np.array_equal(lexsort(keys), np.lexsort(keys))


def test_bad_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        lexsort([np.arange(3), np.arange(4)])
    with pytest.raises(ValueError, match="at least one key"):
        lexsort([])


@settings(max_examples=100, deadline=None)
@given(key=hnp.arrays(np.int64, st.integers(0, 50), elements=st.integers(-2, 3)))
def test_position_in_group_counts_earlier_occurrences(key: np.ndarray) -> None:
    from coretech.matching.sorting import position_in_group

    seen: dict[int, int] = {}
    want = []
    for k in key.tolist():
        want.append(seen.get(k, 0))
        seen[k] = seen.get(k, 0) + 1
    assert position_in_group(key).tolist() == want
