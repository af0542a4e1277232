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
    """jieba's (FREQ, total) go to coretech's cache folder once, as arrays with a manifest; a
    second start reads them back and cuts alike; a damaged file is rebuilt, 'off' writes
    nothing."""
    import jieba

    from coretech.matching import jiebadict as jd
    from coretech.matching import tokenize as tk

    ref = jieba.Tokenizer()
    ref.initialize()
    monkeypatch.setenv("CORETECH_CACHE_DIR", str(tmp_path))
    fresh = jd.general_dictionary.__wrapped__()
    assert fresh.freq_dict() == ref.FREQ and fresh.total == ref.total > 10**7
    files = sorted(tmp_path.glob("jieba-dict-*"))
    assert [f.suffix for f in files] == [".json", ".npz"]
    assert tk._dictionary_cache_path() == files[0]
    again = jd.general_dictionary.__wrapped__()
    assert again.freq_dict() == ref.FREQ and again.total == ref.total
    files[1].write_bytes(b"not an npz")
    rebuilt = jd.general_dictionary.__wrapped__()
    assert rebuilt.freq_dict() == ref.FREQ
    assert files[1].read_bytes() != b"not an npz"  # rewritten
    monkeypatch.setenv("CORETECH_CACHE_DIR", "off")
    for f in tmp_path.iterdir():
        f.unlink()
    assert tk._dictionary_cache_path() is None
    jd.general_dictionary.__wrapped__()
    assert list(tmp_path.iterdir()) == []


def test_dictionary_lookup_finds_exactly_the_entries() -> None:
    from coretech.matching.jiebadict import general_dictionary

    d = general_dictionary()
    full = d.freq_dict()
    probe = ["半导体", "溅射", "溅射靶", "的", "zzzz", "", "a\x00", "碳化硅功率器件", "x" * 40,
             *list(full)[:200:7], *list(full)[-50:]]
    assert sorted(d.lookup(probe)) == sorted((w, full[w]) for w in set(probe) if w in full)


def test_lazy_tokenizer_cuts_exactly_as_the_full_one() -> None:
    import random

    words = ["溅射靶材", "碳化硅", "功率器件", "绝缘栅双极晶体管", "光热转换"]
    texts = ["碳化硅功率器件与绝缘栅双极晶体管的溅射靶材", "光热转换材料；资源综合利用技术",
             "IGBT芯片制造", "新一代移动通信核心网和接入网建设", "太阳能电池封装、模块、零部件等",
             "干熄焦技术", "先进炼油技术", "龘", "水力机械"]
    rng = random.Random(1)
    chars = "".join(sorted(set("".join(texts))))
    texts += ["".join(rng.choice(chars) for _ in range(rng.randint(1, 25))) for _ in range(300)]
    full = Tokenizer(words)
    lazy = Tokenizer(words, lazy=True)
    for t in texts:
        assert lazy.cut(t) == full.cut(t), t
        assert lazy.cut(t, search=True) == full.cut(t, search=True), t
    more = ["资源综合利用", "核心网", "零部件"]
    full.add_words(more)
    lazy.add_words(more)
    assert lazy.word_frequencies() == full.word_frequencies()
    for t in texts:
        assert lazy.cut(t) == full.cut(t), t
    restored = Tokenizer(full.word_frequencies(), lazy=True)
    restored.add_words(["光热"])
    full.add_words(["光热"])
    for t in texts:
        assert restored.cut(t, search=True) == full.cut(t, search=True), t
    assert len(lazy.jieba.FREQ) < 50_000  # only what the texts needed


def test_own_dag_cut_equals_jieba_on_random_and_title_text() -> None:
    import random

    tok = Tokenizer(["溅射靶材", "碳化硅", "功率器件"])
    tk = tok.jieba
    rng = random.Random(7)
    # characters of common words (many DAG edges), rare ones (single-character fallbacks,
    # frequency 0 prefixes) and a title-like text
    pool = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严溅射靶材碳硅功率器件晶体管龘鱻"
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 30))) for _ in range(400)]
    texts += ["碳化硅功率器件与绝缘栅双极晶体管的溅射靶材", "半导体器件的制造方法", "龘"]
    for t in texts:
        assert tok._cut_dag(t) == list(tk.cut(t, HMM=False)), t
    tok.add_words(["晶体管溅射"])  # the dictionary changes: cached cuts are forgotten
    for t in texts:
        assert tok._cut_dag(t) == list(tk.cut(t, HMM=False)), t


def test_cut_is_the_same_before_and_after_words_are_added_to_a_used_tokenizer() -> None:
    tok = Tokenizer()
    text = "金属溅射靶材的制造"
    before = tok.cut(text)
    tok.add_words(["溅射靶材"])
    assert tok.cut(text) == Tokenizer(["溅射靶材"]).cut(text)
    assert tok.cut(text) != before
    assert tok.cut_normalized("金属溅射靶材的制造") == tok.cut(text)


def test_jieba_is_imported_without_pkg_resources_and_reads_its_own_files() -> None:
    import subprocess
    import sys

    code = ("import sys; from coretech.matching.jiebadict import import_jieba; j = import_jieba(); "
            "assert 'pkg_resources' not in sys.modules; "
            "f = j._compat.get_module_res(j.DEFAULT_DICT_NAME); assert f.read(4); "
            "import importlib.util; print(importlib.util.find_spec('pkg_resources') is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() in ("True", "False")


def test_user_word_frequencies_equal_jiebas_suggest_freq() -> None:
    import random

    from coretech.matching.tokenize import _fresh_tokenizer

    rng = random.Random(11)
    pool = "溅射靶材碳化硅功率器件绝缘栅双极晶体管光热转换资源综合利用核心网移动通信的和与"
    words = sorted({"".join(rng.choice(pool) for _ in range(rng.randint(2, 7)))
                    for _ in range(300)} | {"溅射靶材", "碳化硅", "功率器件"})
    ref = _fresh_tokenizer()
    want = {}
    for w in words:
        want[w] = ref.suggest_freq(w, False)
        ref.add_word(w, want[w])
    for lazy in (False, True):
        tok = Tokenizer(words, lazy=lazy)
        assert tok.word_frequencies() == want
        text = "".join(words[:40])
        assert tok.cut(text, keep_stopwords=True) == [p for p in ref.cut(text, HMM=False) if p.strip()]
