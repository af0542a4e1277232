"""The index's disk cache stores no pickle, checks hashes and owners, and never runs code."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scheme_fixture import chinese_scheme, english_scheme

from coretech.ipc.cache import CacheSafetyWarning, unsafe_reason
from coretech.matching.index import (
    IndexOptions,
    cache_key,
    cached_index,
    load_index,
    source_hash,
)

REPO = Path(__file__).resolve().parents[2]
OTHER_UID = 12345
as_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                             reason="giving a file to another user needs root")


class _Payload:
    """Unpickling this writes a marker file (what an attacker's pickle would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.write_text, (self.marker, "code ran"))


def _key(scheme, lang: str, o: IndexOptions) -> str:
    return cache_key(source_hash(scheme, lang, o.kinds), lang, o)


def _same(a, b) -> None:
    assert (a.matrix_t_ != b.matrix_t_).nnz == 0 and a.matrix_t_.dtype == b.matrix_t_.dtype
    for name in ("codes_", "kinds_", "titles_", "path_titles_", "main_groups_",
                 "subclass_ids_", "path_word_ptr_", "path_word_ids_"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.fuzzy_titles_ == b.fuzzy_titles_ and a.norm_paths_ == b.norm_paths_
    assert a.user_words_ == b.user_words_ and a.scheme_hash_ == b.scheme_hash_
    assert a.options == b.options and a.lang == b.lang
    for name in ("char_vectorizer_", "word_vectorizer_"):
        ma, mb = getattr(a, name), getattr(b, name)
        assert ma.vocabulary_ == mb.vocabulary_ and np.array_equal(ma.idf_, mb.idf_)
    assert a.counts_.per_main == b.counts_.per_main


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cached_index_round_trips_every_attribute(tmp_path: Path, lang: str) -> None:
    scheme = english_scheme() if lang == "en" else chinese_scheme()
    o = IndexOptions(term_min_df=1)
    built, rec = cached_index(scheme, lang, o, tmp_path)
    loaded, rec2 = cached_index(scheme, lang, o, tmp_path)
    assert not rec["hit"] and rec2["hit"]
    _same(built, loaded)
    q = ["bipolar transistor", "碳化硅 功率 器件"]
    assert (built.transform_queries(q, q) != loaded.transform_queries(q, q)).nnz == 0
    # nothing in the folder is a pickle
    for f in tmp_path.iterdir():
        assert not f.read_bytes().startswith(b"\x80"), f


def test_a_pickle_at_the_old_file_name_is_never_loaded(tmp_path: Path) -> None:
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    key = _key(scheme, "en", o)
    marker = tmp_path / "marker"
    (tmp_path / f"ipc-index-en-{key}.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    idx, rec = cached_index(scheme, "en", o, tmp_path)
    assert not rec["hit"] and idx.n_entries > 0
    cached_index(scheme, "en", o, tmp_path)
    assert not marker.exists()


def test_an_object_array_in_a_valid_looking_entry_is_not_unpickled(tmp_path: Path) -> None:
    """An attacker who also writes a matching manifest: allow_pickle=False still refuses."""
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    _, rec = cached_index(scheme, "en", o, tmp_path)
    npz, manifest = Path(rec["path"]), Path(rec["path"]).with_suffix(".json")
    marker = tmp_path / "marker"
    buf = io.BytesIO()
    np.savez(buf, **{"codes_.text": np.array([_Payload(marker)], dtype=object)})
    npz.write_bytes(buf.getvalue())
    m = json.loads(manifest.read_text())
    import hashlib

    m["files"][npz.name] = hashlib.sha256(buf.getvalue()).hexdigest()
    manifest.write_text(json.dumps(m))
    idx, rec2 = cached_index(scheme, "en", o, tmp_path)
    assert not rec2["hit"] and idx.n_entries > 0
    assert not marker.exists()


def test_a_tampered_array_file_is_detected_and_rebuilt(tmp_path: Path) -> None:
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    built, rec = cached_index(scheme, "en", o, tmp_path)
    npz = Path(rec["path"])
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, somewhere in the arrays
    npz.write_bytes(bytes(data))
    from coretech.ipc.cache import CacheError

    with pytest.raises(CacheError, match="SHA-256"):
        load_index(tmp_path, "en", rec["key"])
    again, rec2 = cached_index(scheme, "en", o, tmp_path)
    assert not rec2["hit"]
    _same(built, again)
    assert cached_index(scheme, "en", o, tmp_path)[1]["hit"]


def test_a_missing_manifest_means_no_cache_hit(tmp_path: Path) -> None:
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    _, rec = cached_index(scheme, "en", o, tmp_path)
    Path(rec["path"]).with_suffix(".json").unlink()
    assert not cached_index(scheme, "en", o, tmp_path)[1]["hit"]


def test_a_world_writable_cache_folder_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "private"))
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    with pytest.warns(CacheSafetyWarning, match="writable by group and others"):
        _, rec = cached_index(scheme, "en", o, shared)
    assert not list(shared.iterdir())  # nothing read from or written to it
    assert Path(rec["path"]).parent == tmp_path / "private" / "coretech"
    assert (os.stat(tmp_path / "private" / "coretech").st_mode & 0o777) == 0o700
    # the sticky bit (as /tmp) makes a shared folder acceptable
    os.chmod(shared, 0o1777)
    assert unsafe_reason(shared, folder=True) is None


@as_root
def test_a_cache_folder_of_another_user_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "private"))
    theirs = tmp_path / "theirs"
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    cached_index(scheme, "en", o, theirs)  # a valid entry ...
    marker = tmp_path / "marker"
    key = _key(scheme, "en", o)
    (theirs / f"ipc-index-en-{key}.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    for f in [theirs, *theirs.iterdir()]:
        os.chown(f, OTHER_UID, OTHER_UID)  # ... in a folder that is not ours
    with pytest.warns(CacheSafetyWarning, match=f"owned by user id {OTHER_UID}"):
        _, rec = cached_index(scheme, "en", o, theirs)
    assert not rec["hit"] and Path(rec["path"]).parent == tmp_path / "private" / "coretech"
    assert not marker.exists()


@as_root
def test_a_cache_file_of_another_user_is_not_used(tmp_path: Path) -> None:
    scheme = chinese_scheme()
    o = IndexOptions(term_min_df=1)
    _, rec = cached_index(scheme, "zh", o, tmp_path)
    os.chown(rec["path"], OTHER_UID, OTHER_UID)
    assert "owned by user id" in unsafe_reason(Path(rec["path"]), folder=False)
    _, rec2 = cached_index(scheme, "zh", o, tmp_path)
    assert not rec2["hit"]  # rebuilt; the file is ours again
    assert os.stat(rec2["path"]).st_uid == os.geteuid()
    assert cached_index(scheme, "zh", o, tmp_path)[1]["hit"]


def test_group_writable_and_linked_cache_files_are_not_used(tmp_path: Path) -> None:
    scheme = english_scheme()
    o = IndexOptions(term_min_df=1)
    _, rec = cached_index(scheme, "en", o, tmp_path)
    npz = Path(rec["path"])
    os.chmod(npz, 0o664)
    assert not cached_index(scheme, "en", o, tmp_path)[1]["hit"]
    elsewhere = tmp_path / "elsewhere.npz"
    npz.rename(elsewhere)
    npz.symlink_to(elsewhere)
    assert "not a regular file" in unsafe_reason(npz, folder=False)
    assert not cached_index(scheme, "en", o, tmp_path)[1]["hit"]


def test_a_warm_match_does_not_import_scikit_learn(tmp_path: Path) -> None:
    """A fresh process that matches on a cached index never imports sklearn (issue 18)."""
    code = f"""
import sys
sys.path.insert(0, {str(REPO / "tests" / "matching")!r})
import pandas as pd
from scheme_fixture import chinese_scheme
from coretech.matching.matcher import Matcher
m = Matcher(lang="zh", cache_dir={str(tmp_path)!r}, term_min_df=1).fit(chinese_scheme())
res = m.match(pd.DataFrame({{"tech_id": ["t1"], "name_zh": ["碳化硅功率器件"]}}))
print(m.cache_["zh"]["hit"], len(res.candidates) > 0, "sklearn" in sys.modules)
"""
    env = {**os.environ, "PYTHONPATH": str(REPO), "CORETECH_CACHE_DIR": str(tmp_path)}
    with warnings.catch_warnings():
        first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True).stdout.split()
        second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                text=True, check=True).stdout.split()
    assert first == ["False", "True", "False"]  # built without scikit-learn too
    assert second == ["True", "True", "False"]


def test_segment_tokens_are_cached_and_reused_for_other_weights(tmp_path: Path,
                                                                  monkeypatch) -> None:
    """A refit with other weights reads the tokens of the scheme's segments from the cache
    (the tokenizer is not called) and gives the index a fresh fit gives."""
    from coretech.matching import index as index_mod

    scheme = chinese_scheme()
    cached_index(scheme, "zh", IndexOptions(term_min_df=1), tmp_path)
    assert len(list(tmp_path.glob("ipc-segments-zh-*.npz"))) == 1
    o2 = IndexOptions(term_min_df=1, char_weight=0.3, ngram_range=(2, 3))
    fresh = index_mod.SchemeIndex(o2, lang="zh").fit(scheme)

    def no_tokenizer(*_a, **_k):
        raise AssertionError("the tokenizer ran although the segments were cached")

    monkeypatch.setattr(index_mod, "cut_texts", no_tokenizer)
    refit, rec = cached_index(scheme, "zh", o2, tmp_path)
    assert not rec["hit"]
    _same(refit, fresh)
    # a changed token file is not trusted: the tokenizer runs again
    seg = next(tmp_path.glob("ipc-segments-zh-*.npz"))
    seg.write_bytes(seg.read_bytes()[:-8] + b"tampered")
    with pytest.raises(AssertionError, match="tokenizer ran"):
        cached_index(scheme, "zh", IndexOptions(term_min_df=1, char_weight=0.2), tmp_path)


def test_in_place_npz_reader_equals_numpy_and_refuses_object_arrays() -> None:
    import io
    import zipfile

    from coretech.ipc.cache import load_npz, npz_bytes
    from coretech.matching.buildutil import npz_arrays

    arrays = {"a": np.arange(7, dtype=np.int32), "b": np.array([[1.5, 2.5]], dtype=np.float32),
              "t": np.frombuffer("碳化硅\x00sic".encode(), dtype=np.uint8), "e": np.zeros(0),
              "s": np.array([3], dtype=np.int64)}
    data = npz_bytes(arrays)
    got, want = npz_arrays(data), load_npz(data)
    assert set(got) == set(want) == set(arrays)
    for k in arrays:
        assert got[k].dtype == want[k].dtype and got[k].shape == want[k].shape
        assert np.array_equal(got[k], want[k])
    assert got["a"].flags.writeable  # numeric arrays are writable copies
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        member = io.BytesIO()
        np.lib.format.write_array(member, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        zf.writestr("o.npy", member.getvalue())
    with pytest.raises(ValueError, match="object"):
        npz_arrays(buf.getvalue())


@pytest.mark.parametrize("case", ["truncated", "negative"])
def test_in_place_npz_reader_refuses_a_member_that_claims_more_than_it_holds(case: str) -> None:
    import io
    import zipfile

    from coretech.matching.buildutil import npz_arrays

    member = io.BytesIO()
    shape = (-3,) if case == "negative" else (10,)
    np.lib.format.write_array_header_1_0(
        member, {"descr": "<i8", "fortran_order": False, "shape": shape})
    member.write(np.arange(4, dtype="<i8").tobytes())  # 4 values, whatever the header says
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("x.npy", member.getvalue())
    with pytest.raises(ValueError, match="truncated" if case == "truncated" else "negative"):
        npz_arrays(buf.getvalue())
