"""Normalisation of technology names and IPC titles (Chinese and English)."""

from __future__ import annotations

import pytest

from coretech.matching.normalize import (
    DEFAULT_STOPWORDS,
    has_cjk,
    normalize_stopwords,
    normalize_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("IGBT芯片", "igbt 芯片"),  # Latin run inside Chinese is set apart
        ("碳化硅(SiC)", "碳化硅 sic"),  # bracket content kept, bracket gone
        ("ＳｉＣ（碳化硅）功率器件", "sic 碳化硅 功率器件"),  # full width -> half width, case
        ("处理草地或草坪用的 犁", "处理草地或草坪用的犁"),  # PDF line break inside Chinese
        ("锹；铲[2006.01]", "锹 铲"),  # edition stamp and Chinese punctuation
        ("无机电子半导体器件[20250101]", "无机电子半导体器件"),
        ("Field-effect  Transistors, e.g. IGBT", "field effect transistors e g igbt"),
        ("5G通信", "5g 通信"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_text_is_idempotent_and_total() -> None:
    for s in ["IGBT芯片", "碳化硅(SiC)", "Ｈ０１Ｌ ２９／７３９", "a  b"]:
        once = normalize_text(s)
        assert normalize_text(once) == once
    assert normalize_text(None) == ""
    assert normalize_text(3.5) == ""


def test_has_cjk() -> None:
    assert has_cjk("igbt 芯片")
    assert not has_cjk("insulated gate")
    assert not has_cjk(None)


def test_default_stopwords_hold_the_subjectless_words() -> None:
    for w in ["等", "制造", "技术", "相关", "及其", "用", "technology", "manufacturing"]:
        assert w in DEFAULT_STOPWORDS
    for w in ["芯片", "溅射", "transistor", "battery"]:
        assert w not in DEFAULT_STOPWORDS


def test_custom_stopword_list_is_normalised_and_validated() -> None:
    sw = normalize_stopwords(["ＡＢＣ", "芯片", "Foo Bar"])
    assert sw == frozenset({"abc", "芯片", "foo", "bar"})
    assert normalize_stopwords(None) is DEFAULT_STOPWORDS
    with pytest.raises(ValueError, match="list of words"):
        normalize_stopwords("technology")
    with pytest.raises(ValueError, match="strings"):
        normalize_stopwords(["ok", 3])
