"""Property tests: dotted lines round-trip any hierarchy; title cleaning is idempotent and total."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from coretech.ipc.readers import clean_title, parse_cnipa_lines
from coretech.ipc.scheme import build_paths

# a valid dot sequence: each subgroup at most one level deeper than the one before
dot_steps = st.lists(st.integers(-3, 1), min_size=1, max_size=25)


def _dots(steps: list[int]) -> list[int]:
    out, cur = [], 0
    for s in steps:
        cur = max(1, min(cur + s, cur + 1)) if out else 1
        out.append(cur)
    return out


@settings(max_examples=60, deadline=None)
@given(dot_steps, st.booleans())
def test_cnipa_lines_round_trip_any_dot_tree(steps: list[int], fullwidth_dots: bool) -> None:
    dots = _dots(steps)
    dot = "．" if fullwidth_dots else "."
    lines = ["G06N3/00   计算模型"]
    expected_parent, stack = {}, ["G06N3/00"]
    for k, d in enumerate(dots, 1):
        code = f"G06N3/{k * 2:02d}"
        lines.append(f"{code}   {' '.join([dot] * d)}   标题{k}")
        stack = stack[:d]
        expected_parent[code] = stack[-1]
        stack.append(code)
    res = parse_cnipa_lines(lines, source_name="p")
    t = res.table.set_index("code")
    assert len(t) == len(dots) + 1 and res.rejects.empty
    for k, d in enumerate(dots, 1):
        code = f"G06N3/{k * 2:02d}"
        assert t.loc[code, "depth"] == d
        assert t.loc[code, "parent"] == expected_parent[code]
        # the path has one title per level below the main group
        assert t.loc[code, "path_title"].count(" > ") == d


alphabet = st.sampled_from(
    list("abcXYZ 的犁铲；，（）()[]〔〕.-入") + ["A01B1/02", "H01L0029739000", "G06N", "2006.01", "20250101", " ", "  "]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(alphabet, max_size=30).map("".join))
def test_clean_title_is_total_and_idempotent(raw: str) -> None:
    once = clean_title(raw)
    assert once.title == once.title.strip()
    assert "  " not in once.title
    twice = clean_title(once.title)
    assert twice.title == once.title


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.text(min_size=1, max_size=5)), min_size=1, max_size=15))
def test_build_paths_never_loops_on_bad_parent_links(links: list[tuple[int, str]]) -> None:
    # parents pointing anywhere, cycles included: every path is finite and ends in the own title
    codes = [f"A01B1/{i + 1:02d}" for i in range(len(links))]
    df = pd.DataFrame({
        "code": codes,
        "kind": "subgroup",
        "parent": [codes[p % len(codes)] for p, _ in links],
        "title": [t for _, t in links],
        "lang": "en",
    })
    paths = build_paths(df)
    for title, path in zip(df["title"], paths, strict=True):
        assert path.endswith(title)
        assert path.count(" > ") <= len(codes)
