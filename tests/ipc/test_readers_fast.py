"""The fast paths of `ipc load` give what the per-row reading gives, row for row (issue 18)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from coretech.io import read_table
from coretech.ipc.readers import read_wipo_titles
from coretech.ipc.readers.cnipa import read_cnipa_flat, read_cnipa_flat_rows
from coretech.ipc.readers.result import canonical_symbol, structural_parent
from coretech.ipc.readers.text import clean_title, clean_titles
from coretech.ipc.scheme import default_source_path, validate_scheme
from coretech.ipc.symbols import IPCSymbolError, fast_kinds, parse


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.rejects, b.rejects)
    assert a.defects == b.defects and a.stats == b.stats


def test_flat_chinese_table_fast_equals_per_row(shared) -> None:
    df = read_table(shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv")
    fast = read_cnipa_flat(df, source="zh.tsv", edition="2026.01")
    _same(fast, read_cnipa_flat_rows(df, source="zh.tsv", edition="2026.01"))
    assert len(fast.table) > 75_000 and len(fast.rejects) > 1_000  # the real table, both kinds


def test_flat_table_with_odd_rows_fast_equals_per_row() -> None:
    df = pd.DataFrame({
        "code": ["A01B", "A01B1/00", "a01b 1/02", "A01B0001040000", "A01B1/00", "", "X99",
                 "A01B1/7", "H01L029/00", "A01B1/06", "A01B1/08"],
        "level": ["subclass", "maingroup", "subgroup", "subgroup", "maingroup", "subgroup",
                  "subgroup", "subgroup", "maingroup", "subgroup", "subgroup"],
        "main_group": ["", "", "A01B1/00", "A01B9/00", "", "", "", "", "", "A01B1/00", ""],
        "subclass_dir": ["A01B", "A01B", "A01B", "A01C", "A01B", "", "", "A01B", "H01L", "", ""],
        "title_zh": ["土壤 耕作", "手动工具（草坪修整机入A01G3/06）", "锹；铲[2006.01]", "带齿的",
                     "重复", "无代码", "坏符号", "短", "主组", "12", "（见A01B1/02）"],
    })
    _same(read_cnipa_flat(df, source="t.tsv"), read_cnipa_flat_rows(df, source="t.tsv"))


@pytest.mark.parametrize("fragment_context", [False, True])
def test_embedded_wipo_list_fast_equals_per_row(fragment_context: bool) -> None:
    path = default_source_path()
    fast = read_wipo_titles(path, lang="en", fragment_context=fragment_context)
    _same(fast, read_wipo_titles(path, lang="en", fragment_context=fragment_context, fast=False))
    assert fast.defects["guidance_headings"] > 500


def test_wipo_list_with_bad_lines_fast_equals_per_row() -> None:
    text = ("A\tHUMAN NECESSITIES\nA01B\tSOIL WORKING (see A01C0005000000)\n"
            "A01B0001000000\tHeading\nA01B0001000000\tHand tools\nA01B0001020000\tSpades;\n"
            " Shovels\nZ99\tnot a symbol\nA01B0001020000\tagain\nA01B0001040000\t(A01B0003000000)\n"
            "A01B0001060000\twith teeth [2006.01]\n")
    a = read_wipo_titles("t.txt", text=text, lang="en", fragment_context=True)
    _same(a, read_wipo_titles("t.txt", text=text, lang="en", fragment_context=True, fast=False))
    assert len(a.rejects) == 3


def test_canonical_symbol_equals_the_parser() -> None:
    rng = random.Random(5)
    samples = ["H", "H01", "H01L", "H01L29/00", "H01L29/739", "H01L29/7390", "H01L1/02",
               "H01L9999/999999", "H01L029/00", "H01L29/7", "h01l29/739", "H01L 29/739",
               "H01L0029739000", "H01L0000000000", "Ｈ０１Ｌ２９／７３９", "I01", "H1", ""]
    for _ in range(400):
        samples.append(f"{rng.choice('ABH')}{rng.randint(0, 99):02d}{rng.choice('ALZ')}"
                       f"{rng.randint(0, 12000)}/{rng.randint(0, 10 ** rng.randint(1, 7))}")
    for s in samples:
        try:
            p = parse(s)
        except IPCSymbolError:
            with pytest.raises(IPCSymbolError):
                canonical_symbol(s)
            continue
        assert canonical_symbol(s) == (str(p), p.kind, structural_parent(p)), s


def test_clean_titles_equals_clean_title_on_odd_titles() -> None:
    titles = ["Spades; Shovels", "  spaced   out ; ", "锹；铲", "锹；铲；", "处理草地或草坪用的 犁",
              "手动工具（草坪修整机入A01G3/06）", "with teeth [2006.01]", "A01B in text",
              "tools (edge trimmers A01G0003060000)", "空白　全角", "H01L", "注意 本小类", "",
              "（见A01B1/02）", "a,b", "泵，", "x\ny"]
    got, slow = clean_titles(titles)
    for i, t in enumerate(titles):
        want = clean_title(t)
        assert got[i] == want.title, t
        if i in slow:
            assert slow[i] == want
        else:  # the fast paths only ever skip titles whose cleaning counts nothing
            assert (want.references, want.stamp, want.note_cut, want.removed_stamps,
                    want.removed_cjk_spaces) == ([], None, False, 0, 0), t


def test_vectorised_kind_check_agrees_with_validate(shared) -> None:
    t = read_cnipa_flat(read_table(shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv"),
                        source="zh.tsv").table
    assert (fast_kinds(t["code"].tolist()) == t["kind"].to_numpy(dtype=object)).all()
    bad = t.head(400).copy()
    i = int((bad["kind"] == "main_group").to_numpy().nonzero()[0][0])
    bad.loc[i, "kind"] = "subgroup"  # a main group called a subgroup
    from coretech.errors import InputError

    with pytest.raises(InputError, match="does not fit code") as err:
        validate_scheme(bad)
    assert err.value.row == i + 2 and err.value.column == "kind"


def test_level_by_level_paths_equal_the_row_walk(shared) -> None:
    from coretech.ipc.scheme import _build_paths_rows, build_paths, default_scheme

    zh = read_cnipa_flat(read_table(shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv"),
                         source="zh.tsv").table
    for t in (default_scheme(), zh):
        assert build_paths(t).tolist() == _build_paths_rows(t).tolist()
    # dotted levels, a heading, a missing parent, an empty title, and a parent cycle
    df = pd.DataFrame({
        "code": ["A01B", "A01B1/00", "A01B1/02", "A01B1/04", "A01B2/02", "A01B3/02", "A01B3/04"],
        "kind": ["subclass", "main_group", "subgroup", "subgroup", "subgroup", "subgroup",
                 "subgroup"],
        "parent": ["A01", "A01B", "A01B1/00", "A01B1/02", "A01B2/00", "A01B3/04", "A01B3/02"],
        "title": ["Soil", "Hand tools", None, "with teeth", "orphan", "loop a", "loop b"],
        "heading": [None, "Tools", None, None, None, None, None],
        "lang": ["en"] * 7,
    })
    assert build_paths(df).tolist() == _build_paths_rows(df).tolist()
    acyclic = df.iloc[:5]
    got = build_paths(acyclic).tolist()
    assert got == _build_paths_rows(acyclic).tolist()
    assert got[3] == "Soil > Tools > Hand tools > with teeth" and got[4] == "orphan"


def _classes_py(raws: list[str]) -> list[int]:
    from coretech.ipc.readers.text import _NEEDS_MORE, _NEEDS_WORK

    return [0 if not _NEEDS_WORK.search(r) else 1 if not _NEEDS_MORE.search(r) else 2 for r in raws]


def test_title_classes_equal_python_regexes(shared) -> None:
    from coretech.ipc.readers.text import title_classes

    df = read_table(shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv")
    zh = df["title_zh"].astype(str).tolist()
    en = pd.read_csv(default_source_path(), sep="\t", header=None, quoting=3, dtype=str,
                     on_bad_lines="skip")[1].dropna().tolist()
    odd = ["", "plain text", "A01", "A٠١ Arabic-Indic digits", "B１２ full-width", "x\u2003y",
           "a\x1cb", "锹；铲", "锹 铲", "see (H01L)", "G06N", "h01l", "[2006.01]", "〔4〕", "A0",
           "Z99", "C\u0660\u0661", "E2x3", "\u3000"]
    for raws in (zh, en, odd):
        got = title_classes(raws)
        assert got == _classes_py(raws)
    assert title_classes(zh).count(2) > 10_000 and title_classes(zh).count(1) > 50_000
    assert title_classes(odd)[3] == 2 and title_classes(odd)[4] == 2  # non-ASCII digits


def test_python_whitespace_set_is_complete() -> None:
    import re

    from coretech.ipc.readers.text import PY_SPACES

    spaces = re.compile(f"[{PY_SPACES}]")
    for c in range(0x110000):
        ch = chr(c)
        assert bool(spaces.fullmatch(ch)) == ch.isspace() == bool(re.fullmatch(r"\s", ch)), hex(c)


def test_group_symbols_equal_canonical_symbol() -> None:
    from coretech.ipc.readers.cnipa import _group_symbols

    codes = ["H01L29/739", "H01L29/00", "A01B1/02", "H01L029/00", "H01L0/00", "A01B1/7",
             "A01B", "A01", "A", "", "a01b1/02", "A01B 1/02", "A01B12345/00", "A01B1234/00",
             "I01B1/00", "A01B1/0200", "H01L29/7391"]
    code, kind, parent = _group_symbols(codes)
    for c, k, p, text in zip(code, kind, parent, codes, strict=True):
        if c is None:
            continue
        assert (c, k, p) == canonical_symbol(text) and c == text
    assert code[0] == "H01L29/739" and code[3] is None and code[6] is None


def test_scheme_order_keys_and_order_equal_python(shared) -> None:
    import numpy as np

    from coretech.ipc import scheme as S

    df = read_cnipa_flat(read_table(shared / "data" / "ipc" / "ipc_zh_2026_flat.tsv"),
                         source="zh.tsv").table
    rng = random.Random(3)
    idx = list(range(len(df)))
    rng.shuffle(idx)
    extra = pd.DataFrame({"code": ["H01L029/00", "Ｈ01L", "H01L29/739", "H01L29/739", "A01B1/02"],
                          "lang": ["zh", "en", "zh", "zh", "en"], "source": ["s", "s", "a", "a", "b"]})
    frame = pd.concat([df.iloc[idx][["code", "lang", "source"]], extra], ignore_index=True)
    codes, langs, srcs = frame["code"].tolist(), frame["lang"].tolist(), frame["source"].tolist()
    skeys = [S._string_key(c) for c in codes]
    assert S._group_string_keys(codes) == skeys and None not in skeys
    keys = [f"{a}\x00{b}\x00{c}" for a, b, c in zip(langs, skeys, srcs, strict=True)]
    ref = np.argsort(np.array(keys, dtype=object), kind="stable")
    assert S._stable_order(langs, skeys, srcs).tolist() == ref.tolist()  # ties in row order
    assert S._group_string_keys(["H01L29/739", None, "A01B"]) == ["H01L00029739", None, "A01B"]
