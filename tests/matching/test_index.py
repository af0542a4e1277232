"""The path-title index: fragments found through their parents, sparse top-k, disk cache."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scheme_fixture import chinese_scheme, english_scheme

from coretech.errors import InputError
from coretech.matching.index import IndexOptions, SchemeIndex, cached_index, scheme_rows
from coretech.matching.matcher import Matcher


def _codes(res, tech: str) -> list[str]:
    c = res.candidates
    return list(c.loc[c["tech_id"] == tech, "ipc_code"])


def test_igbt_fragment_is_found_through_its_dot_chain() -> None:
    scheme = english_scheme()
    p739 = scheme.loc[scheme["code"] == "H01L29/739", "path_title"].item()
    assert p739.endswith("Bipolar devices > Transistor-type devices, i.e. able to continuously "
                         "respond to applied control signals > Bipolar junction transistors > "
                         "controlled by field effect")
    cat = pd.DataFrame({"tech_id": ["igbt"], "name_en": ["insulated gate bipolar transistor"]})
    res = Matcher(cache_dir=False, diversity=0.0).fit(scheme).match(cat)  # rank = score order
    codes = _codes(res, "igbt")
    assert "H01L29/739" in codes[:6]
    assert all(c.startswith("H01L29/") for c in codes[:6])
    row = res.candidates[res.candidates["ipc_code"] == "H01L29/739"].iloc[0]
    assert "bipolar" in row["evidence"] and "transistor" in row["evidence"]
    assert "controlled by field effect" in row["evidence"]
    # with bare titles only (own_title_weight=1) the fragment shares no word with the name
    bare = Matcher(cache_dir=False, own_title_weight=1.0, char_weight=0.0, fuzzy_weight=0.0)
    res_bare = bare.fit(scheme).match(cat)
    s_bare = res_bare.candidates.set_index("ipc_code")["score"].get("H01L29/739", 0.0)
    s_path = res.candidates.set_index("ipc_code")["score"]["H01L29/739"]
    assert s_bare == 0.0 < s_path


def test_index_similarity_is_the_documented_mixture() -> None:
    """s(q, d) = β[α cos_C(q,t_d) + (1-α) cos_C(q,p_d)] + (1-β)[α cos_W + (1-α) cos_W]."""
    from sklearn.preprocessing import normalize

    o = IndexOptions(char_weight=0.3, own_title_weight=0.4, term_min_df=1)
    idx = SchemeIndex(o, lang="en").fit(english_scheme())
    q = idx.transform_queries(["bipolar transistor"], ["bipolar transistor"])
    got = (q @ idx.matrix_t_).toarray().ravel()
    r = idx.row_of_["H01L29/73"]
    tok = idx.tokenizer()
    own = " ".join(tok.cut(idx.titles_[r]))
    path = " ".join(tok.cut(idx.path_titles_[r]))
    cv, wv = idx.char_vectorizer_, idx.word_vectorizer_

    def cos(v, a, b):
        x = normalize(v.transform([a])).toarray().ravel()
        y = normalize(v.transform([b])).toarray().ravel()
        return float(x @ y)

    qd = "bipolar transistor"
    want = 0.3 * (0.4 * cos(cv, qd, own) + 0.6 * cos(cv, qd, path)) + 0.7 * (
        0.4 * cos(wv, qd, own) + 0.6 * cos(wv, qd, path))
    assert got[r] == pytest.approx(want, rel=1e-4)
    assert 0.0 < got[r] <= 1.0


def test_index_options_are_validated() -> None:
    with pytest.raises(ValueError, match="ngram_range"):
        IndexOptions(ngram_range=(4, 2)).validate()
    with pytest.raises(ValueError, match="char_weight"):
        IndexOptions(char_weight=1.5).validate()
    with pytest.raises(ValueError, match="kinds"):
        IndexOptions(kinds=("chapter",)).validate()


def test_scheme_without_the_language_is_an_error() -> None:
    with pytest.raises(InputError, match="no 'zh' titles"):
        SchemeIndex(lang="zh").fit(english_scheme())


def test_cache_is_keyed_by_scheme_content_and_options(tmp_path: Path) -> None:
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    a, rec_a = cached_index(scheme, "en", o, tmp_path)
    assert not rec_a["hit"] and Path(rec_a["path"]).is_file()
    b, rec_b = cached_index(scheme, "en", o, tmp_path)
    assert rec_b["hit"] and rec_b["key"] == rec_a["key"]
    assert (a.matrix_t_ != b.matrix_t_).nnz == 0
    # another title -> another key; another option -> another key
    changed = scheme.copy()
    changed.loc[changed["code"] == "C22C", "title"] = "Alloys of iron"
    _, rec_c = cached_index(changed, "en", o, tmp_path)
    _, rec_d = cached_index(scheme, "en", IndexOptions(term_min_df=1, char_weight=0.4), tmp_path)
    assert len({rec_a["key"], rec_c["key"], rec_d["key"]}) == 3
    assert len(list(tmp_path.glob("ipc-index-en-*.npz"))) == 3
    assert len(list(tmp_path.glob("ipc-index-en-*.json"))) == 3  # one manifest each
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp file


def test_damaged_cache_file_is_rebuilt(tmp_path: Path) -> None:
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    _, rec = cached_index(scheme, "en", o, tmp_path)
    Path(rec["path"]).write_bytes(b"not an npz")
    idx, rec2 = cached_index(scheme, "en", o, tmp_path)
    assert not rec2["hit"] and idx.n_entries == len(scheme_rows(scheme, "en", o.kinds))
    _, rec3 = cached_index(scheme, "en", o, tmp_path)
    assert rec3["hit"]


def test_concurrent_builds_leave_one_valid_cache_file(tmp_path: Path) -> None:
    scheme = chinese_scheme()
    o = IndexOptions(term_min_df=1)
    errors: list[BaseException] = []

    def build() -> None:
        try:
            cached_index(scheme, "zh", o, tmp_path)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    files = sorted(f.name for f in tmp_path.iterdir())
    index_files = [f for f in files if f.startswith("ipc-index-zh-")]
    assert len(index_files) == 2 and {Path(f).suffix for f in index_files} == {".json", ".npz"}
    assert len(files) == 4  # and the tokens of the segments: one entry, two files
    idx, rec = cached_index(scheme, "zh", o, tmp_path)
    assert rec["hit"] and np.all(np.diff(idx.path_word_ptr_) >= 0)
