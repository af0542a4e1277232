"""jieba tokenisation with a domain dictionary: the hard cases of the matching issue."""

from __future__ import annotations

import logging

import jieba

from coretech.matching.tokenize import Tokenizer, stem_en, title_terms


def test_sputtering_target_is_split_wrongly_without_and_kept_whole_with_the_user_dictionary() -> None:
    plain = Tokenizer()
    assert plain.cut("溅射靶材") != ["溅射靶材"]  # jieba alone: 溅/射靶/材
    tok = Tokenizer(["溅射靶材"])
    assert tok.cut("溅射靶材") == ["溅射靶材"]
    # and in context, with subject-less words dropped
    assert tok.cut("溅射靶材制造技术等") == ["溅射靶材"]
    # search mode also yields the parts, so titles that say 溅射 ... 靶材 are found
    parts = tok.cut("溅射靶材", search=True)
    assert "溅射" in parts and "溅射靶材" in parts


def test_bracketed_latin_and_latin_runs_inside_chinese() -> None:
    tok = Tokenizer(["碳化硅"])
    assert tok.cut("碳化硅(SiC)") == ["碳化硅", "sic"]
    assert tok.cut("碳化硅（ＳｉＣ）") == ["碳化硅", "sic"]
    assert tok.cut("IGBT芯片") == ["igbt", "芯片"]


def test_english_tokens_are_stemmed_and_stopwords_dropped() -> None:
    tok = Tokenizer()
    assert tok.cut("Insulated gate bipolar transistors technology") == [
        "insulated", "gate", "bipolar", "transistor"]
    assert tok.cut("the technology", keep_stopwords=True) == ["the", "technology"]
    assert [stem_en(w) for w in ["batteries", "bearings", "glass", "processes", "gas"]] == [
        "battery", "bearing", "glass", "process", "gas"]


def test_private_tokenizer_leaves_the_global_jieba_alone() -> None:
    before = len(jieba.dt.FREQ) if jieba.dt.initialized else None
    tok = Tokenizer(["溅射靶材", "某某专用词"])
    tok.cut("某某专用词")
    assert tok.jieba is not jieba.dt
    if before is not None:
        assert len(jieba.dt.FREQ) == before
    assert "某某专用词" not in jieba.dt.FREQ
    assert logging.getLogger("jieba").level >= logging.WARNING


def test_tokenisation_is_deterministic_and_restorable_from_frequencies() -> None:
    words = ["溅射靶材", "碳化硅", "功率器件", "绝缘栅双极晶体管"]
    a = Tokenizer(words)
    b = Tokenizer(list(reversed(words)))
    text = "碳化硅功率器件与绝缘栅双极晶体管的溅射靶材"
    assert a.cut(text) == b.cut(text)
    c = Tokenizer(a.word_frequencies())  # as restored from the index cache
    assert c.cut(text) == a.cut(text)
    assert c.word_frequencies() == a.word_frequencies()


def test_title_terms_are_frequent_chinese_segments() -> None:
    titles = ["靶材的溅射", "靶材；溅射", "用于溅射的装置", "靶材", "金属靶材"]
    assert title_terms(titles, min_df=3) == ["溅射", "靶材"]  # whole segments, not substrings
    assert "金属靶材" in title_terms(titles, min_df=1)
    assert title_terms(titles, min_df=4) == []


def test_general_dictionary_is_cached_on_disk_and_read_back_the_same(tmp_path, monkeypatch) -> None:
    """jieba's (FREQ, total) go to coretech's cache folder once; a second start reads them back
    (marshal.loads) and cuts alike; a damaged cache file is rebuilt, and 'off' writes nothing."""
    from coretech.matching import tokenize as tk

    monkeypatch.setenv("CORETECH_CACHE_DIR", str(tmp_path))
    fresh = tk._base_tokenizer.__wrapped__()
    files = list(tmp_path.glob("jieba-*.marshal"))
    assert len(files) == 1
    again = tk._base_tokenizer.__wrapped__()
    assert again.FREQ == fresh.FREQ and again.total == fresh.total and again.total > 10**7
    text = "溅射靶材的制造方法和碳化硅功率器件"
    assert list(again.cut(text, HMM=False)) == list(fresh.cut(text, HMM=False))
    files[0].write_bytes(b"not a marshal stream")
    rebuilt = tk._base_tokenizer.__wrapped__()
    assert rebuilt.FREQ == fresh.FREQ
    assert files[0].read_bytes() != b"not a marshal stream"  # rewritten
    monkeypatch.setenv("CORETECH_CACHE_DIR", "off")
    for f in tmp_path.iterdir():
        f.unlink()
    assert tk._dictionary_cache_path() is None
    tk._base_tokenizer.__wrapped__()
    assert list(tmp_path.iterdir()) == []
