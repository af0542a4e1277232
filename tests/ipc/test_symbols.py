from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coretech.ipc import (
    Hierarchy,
    IPCSymbolError,
    PatternSet,
    kind,
    normalize,
    structural_ancestors,
    to_fourteen,
    truncate,
    within,
)
from coretech.ipc.symbols import sort_key


@pytest.mark.parametrize(
    "text",
    [
        "H01L 29/739",
        "H01L29/739",
        "H01L0029739000",
        "h01l29/739 (2006.01)",
        "H01L  29/739 (2006.01)",
        "Ｈ０１Ｌ２９／７３９",
        "  H01L 29 / 739  ",
        "H01L29/739[2006.01]",
    ],
)
def test_every_notation_gives_the_canonical_form(text: str) -> None:
    assert normalize(text) == "H01L29/739"


@pytest.mark.parametrize(
    ("text", "canonical", "k"),
    [
        ("H", "H", "section"),
        ("h01", "H01", "class"),
        ("H01L", "H01L", "subclass"),
        ("H01L0029000000", "H01L29/00", "main_group"),
        ("G06N3", "G06N3/00", "main_group"),
        ("A01B0001020000", "A01B1/02", "subgroup"),
        ("G06F0003010100", "G06F3/0101", "subgroup"),
        ("B01D 53/1", "B01D53/10", "subgroup"),
        ("C12N 15/10", "C12N15/10", "subgroup"),
    ],
)
def test_kinds_and_padding(text: str, canonical: str, k: str) -> None:
    assert normalize(text) == canonical
    assert kind(text) == k


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("X12", "section must be a letter A-H"),
        ("H1L", "class must be two digits"),
        ("H011", "subclass must be a letter"),
        ("H01L29/", "group must read like"),
        ("H01L0/00", "main-group number is 0"),
        ("(2006.01)", "edition stamp"),
    ],
)
def test_bad_symbols_raise_a_named_error(text: str, reason: str) -> None:
    with pytest.raises(IPCSymbolError) as info:
        normalize(text)
    assert reason in str(info.value)
    assert repr(text) in str(info.value)


def test_fourteen_and_truncation() -> None:
    assert to_fourteen("H01L29/739") == "H01L0029739000"
    assert to_fourteen("G06N3/00") == "G06N0003000000"
    assert truncate("H01L29/739", "subclass") == "H01L"
    assert truncate("H01L29/739", "main_group") == "H01L29/00"
    assert truncate("H01L", "main_group") == "H01L"  # coarser stays as it is
    assert structural_ancestors("H01L29/739") == ["H", "H01", "H01L", "H01L29/00"]


def test_sort_key_orders_subgroups_as_decimal_fractions() -> None:
    codes = ["H01L29/74", "H01L29/739", "H01L29/73", "H01L3/00", "H01L29/00"]
    assert sorted(codes, key=sort_key) == [
        "H01L3/00",
        "H01L29/00",
        "H01L29/73",
        "H01L29/739",
        "H01L29/74",
    ]


def _igbt_hierarchy() -> Hierarchy:
    return Hierarchy(
        {
            "H01L29/00": "H01L",
            "H01L29/66": "H01L29/00",
            "H01L29/68": "H01L29/66",
            "H01L29/70": "H01L29/68",
            "H01L29/72": "H01L29/70",
            "H01L29/73": "H01L29/72",
            "H01L29/739": "H01L29/73",
            "H01L29/74": "H01L29/70",
        }
    )


def test_patterns_subtrees_and_exclusions() -> None:
    h = _igbt_hierarchy()
    assert within("H01L29/739", "H01L*")
    assert within("H01L29/739", "H01L29*")
    assert not within("H01L29/739", "H01L29/00")
    assert within("H01L 29/739", "H01L29/72*", h)
    assert not within("H01L29/74", "H01L29/72*", h)
    assert not within("H01L31/00", "H01L29*")
    with pytest.raises(ValueError, match="needs the scheme"):
        within("H01L29/739", "H01L29/72*")
    ps = PatternSet.parse(["H01L29*"], exclude=["H01L29/72*"])
    assert ps.expand(h) == ["H01L29/00", "H01L29/66", "H01L29/68", "H01L29/70", "H01L29/74"]
    assert h.ancestors("H01L29/739")[-3:] == ["H01L29/70", "H01L29/72", "H01L29/73"]
    assert h.ancestors("H01L29/739")[:3] == ["H", "H01", "H01L"]


# ------------------------------------------------------------------ hypothesis fuzzing
subclasses = st.builds(
    lambda s, c, letter: f"{s}{c:02d}{letter}",
    st.sampled_from("ABCDEFGH"),
    st.integers(1, 99),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
)
subgroup_digits = st.one_of(
    st.just("00"),
    st.from_regex(r"\A[0-9][1-9]\Z"),
    st.from_regex(r"\A[0-9]{2,5}[1-9]\Z"),
)
canonical_groups = st.builds(
    lambda sc, m, sub: f"{sc}{m}/{sub}", subclasses, st.integers(1, 9999), subgroup_digits
)


@given(canonical_groups)
def test_canonical_fourteen_canonical_round_trip(code: str) -> None:
    assert normalize(code) == code
    f = to_fourteen(code)
    assert len(f) == 14
    assert normalize(f) == code


@given(canonical_groups, st.sampled_from([" ", "  ", ""]), st.booleans())
def test_spacing_and_case_never_change_the_symbol(code: str, gap: str, lower: bool) -> None:
    sc, rest = code[:4], code[4:]
    text = f"{sc}{gap}{rest}"
    assert normalize(text.lower() if lower else text) == code


@given(st.text(max_size=20))
def test_garbage_only_raises_the_documented_error(text: str) -> None:
    try:
        out = normalize(text)
    except IPCSymbolError:
        return
    assert normalize(out) == out  # whatever parses is canonical and stable

