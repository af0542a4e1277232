"""The WIPO scheme XML master file reader, on a fixture in the real format with true dot levels."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from coretech.errors import InputError
from coretech.ipc import Hierarchy
from coretech.ipc.readers import load_sources, read_wipo_xml
from coretech.ipc.scheme import SCHEME_COLUMNS, read_scheme, write_scheme

FIXTURE = Path(__file__).parent / "fixtures" / "ipc_scheme_sample.xml"

G06N = "COMPUTING ARRANGEMENTS BASED ON SPECIFIC COMPUTATIONAL MODELS"
G06N3 = "Computing arrangements based on biological models"
H01L = "SEMICONDUCTOR DEVICES; ELECTRIC SOLID STATE DEVICES NOT OTHERWISE PROVIDED FOR"
HEAD = "Semiconductor devices for rectifying, amplifying, oscillating or switching"
H01L29 = (
    "Semiconductor devices specially adapted for rectifying, amplifying, oscillating or "
    "switching and having at least one potential-jump barrier or surface barrier; Details of "
    "semiconductor bodies or of electrodes thereof"
)
T66 = "Types of semiconductor device"
T68 = (
    "controllable by only the electric current supplied or the electric potential applied to "
    "an electrode which does not carry the current to be rectified, amplified or switched"
)
T70 = "Bipolar devices"
T72 = "Transistor-type devices, i.e. able to continuously respond to applied control signals"
T73 = "Bipolar junction transistors"
T739 = "controlled by field effect, e.g. insulated gate bipolar transistors [IGBT]"
T74 = "Thyristor-type devices, e.g. having four-zone regenerative action"


def _p(*parts: str) -> str:
    return " > ".join(parts)


# code: (kind, depth, parent, path_title)
EXPECTED = {
    "G": ("section", None, None, "PHYSICS"),
    "G06": ("class", None, "G", "COMPUTING; CALCULATING OR COUNTING"),
    "G06N": ("subclass", None, "G06", G06N),
    "G06N3/00": ("main_group", 0, "G06N", _p(G06N, G06N3)),
    "G06N3/02": ("subgroup", 1, "G06N3/00", _p(G06N, G06N3, "using neural network models")),
    "G06N3/04": ("subgroup", 2, "G06N3/02", _p(G06N, G06N3, "using neural network models",
                                               "Architecture, e.g. interconnection topology")),
    "G06N3/044": ("subgroup", 3, "G06N3/04", _p(G06N, G06N3, "using neural network models",
                                                "Architecture, e.g. interconnection topology",
                                                "Recurrent networks, e.g. Hopfield networks")),
    "G06N3/08": ("subgroup", 2, "G06N3/02", _p(G06N, G06N3, "using neural network models",
                                               "Learning methods")),
    "G06N3/12": ("subgroup", 1, "G06N3/00", _p(G06N, G06N3, "using genetic models")),
    "H": ("section", None, None, "ELECTRICITY"),
    "H01": ("class", None, "H", "ELECTRIC ELEMENTS"),
    "H01L": ("subclass", None, "H01", H01L),
    "H01L29/00": ("main_group", 0, "H01L", _p(H01L, HEAD, H01L29)),
    "H01L29/66": ("subgroup", 1, "H01L29/00", _p(H01L, HEAD, H01L29, T66)),
    "H01L29/68": ("subgroup", 2, "H01L29/66", _p(H01L, HEAD, H01L29, T66, T68)),
    "H01L29/70": ("subgroup", 3, "H01L29/68", _p(H01L, HEAD, H01L29, T66, T68, T70)),
    "H01L29/72": ("subgroup", 4, "H01L29/70", _p(H01L, HEAD, H01L29, T66, T68, T70, T72)),
    "H01L29/73": ("subgroup", 5, "H01L29/72", _p(H01L, HEAD, H01L29, T66, T68, T70, T72, T73)),
    "H01L29/739": ("subgroup", 6, "H01L29/73",
                   _p(H01L, HEAD, H01L29, T66, T68, T70, T72, T73, T739)),
    "H01L29/74": ("subgroup", 5, "H01L29/72", _p(H01L, HEAD, H01L29, T66, T68, T70, T72, T74)),
}


@pytest.fixture(scope="module")
def xml_result():
    return read_wipo_xml(FIXTURE)


def test_every_entry_has_its_true_depth_parent_and_path(xml_result) -> None:
    t = xml_result.table
    assert list(t.columns[: len(SCHEME_COLUMNS)]) == SCHEME_COLUMNS
    assert sorted(t["code"]) == sorted(EXPECTED)  # t/g/n entries are not rows
    for row in t.itertuples(index=False):
        kind, depth, parent, path = EXPECTED[row.code]
        assert row.kind == kind, row.code
        assert (None if pd.isna(row.depth) else int(row.depth)) == depth, row.code
        assert row.parent == parent, row.code
        assert row.path_title == path, row.code
    assert set(t["depth_source"]) == {"scheme"}
    assert t["depth"].dtype == "Int64"


def test_titles_references_headings_and_editions(xml_result) -> None:
    t = xml_result.table.set_index("code")
    # two titleParts joined with "; ", entryReference text kept out of the title
    assert t.loc["H01L29/00", "title"] == H01L29
    assert t.loc["H01L29/00", "references"] == "H01L31/00-H01L47/00; H01L23/00"
    assert t.loc["H01L29/68", "references"] == "H01L29/96"
    assert "precedence" not in t.loc["H01L29/68", "title"]
    assert t.loc["G06", "title"] == "COMPUTING; CALCULATING OR COUNTING"
    # the guidance heading (kind g) is context of the main group, never a row
    assert t.loc["H01L29/00", "heading"] == HEAD
    assert pd.isna(t.loc["G06N3/00", "heading"])
    # the scheme edition from the root; the entry's own edition beside it
    assert set(t["edition"]) == {"2026.01"}
    assert t.loc["G06N3/044", "entry_edition"] == "2023.01"
    assert t.loc["H01L29/739", "lang"] == "en"
    assert xml_result.stats["headings"] == 1
    assert xml_result.stats["rows_subgroup"] == 12


def test_hierarchy_from_the_xml_knows_the_igbt_chain(xml_result) -> None:
    h = Hierarchy.from_scheme(xml_result.table)
    assert h.ancestors("H01L29/739") == [
        "H", "H01", "H01L", "H01L29/00", "H01L29/66", "H01L29/68", "H01L29/70", "H01L29/72",
        "H01L29/73",
    ]
    assert h.is_within("H01L29/739", "H01L29/70")
    assert not h.is_within("H01L29/74", "H01L29/73")


def test_bytes_file_object_and_zip_give_the_same_table(xml_result, tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    from_bytes = read_wipo_xml(data, source_name="x.xml").table
    from_stream = read_wipo_xml(io.BytesIO(data), source_name="x.xml").table
    zpath = tmp_path / "ipc_scheme_20260101.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("EN_ipc_scheme_20260101.xml", data)
    from_zip = read_wipo_xml(zpath).table
    cols = ["code", "depth", "parent", "path_title", "references"]
    for other in (from_bytes, from_stream, from_zip):
        pd.testing.assert_frame_equal(other[cols], xml_result.table[cols])
    assert from_zip["source"].iloc[0] == f"{zpath}!EN_ipc_scheme_20260101.xml"
    # load_sources dispatches .zip and .xml to this reader
    assert len(load_sources([zpath]).table) == len(EXPECTED)


def test_round_trip_through_a_written_scheme_file(xml_result, tmp_path: Path) -> None:
    for ext in ("parquet", "csv", "xlsx"):
        out = tmp_path / f"scheme.{ext}"
        write_scheme(xml_result.table, out)
        back = read_scheme(out).set_index("code")
        for code, (_kind, depth, parent, path) in EXPECTED.items():
            assert (None if pd.isna(back.loc[code, "depth"]) else int(back.loc[code, "depth"])) == depth
            assert (back.loc[code, "parent"] if isinstance(back.loc[code, "parent"], str) else None) == parent
            assert back.loc[code, "path_title"] == path
        assert back["depth"].dtype == "Int64"


def test_broken_xml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_text(FIXTURE.read_text(encoding="utf-8")[:1500] + "\n<oops", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        read_wipo_xml(bad)
    assert str(bad) in str(ei.value) and "row" in str(ei.value) and "not well-formed" in str(ei.value)
    other = tmp_path / "other.xml"
    other.write_text("<?xml version='1.0'?><root><a/></root>", encoding="utf-8")
    with pytest.raises(InputError, match="no ipcEntry"):
        read_wipo_xml(other)
    empty_zip = tmp_path / "nothing.zip"
    with zipfile.ZipFile(empty_zip, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(InputError, match="holds no .xml"):
        read_wipo_xml(empty_zip)


def test_other_language_is_refused_unless_given(tmp_path: Path) -> None:
    p = tmp_path / "fr.xml"
    p.write_text(FIXTURE.read_text(encoding="utf-8").replace('lang="EN"', 'lang="FR"'), encoding="utf-8")
    with pytest.raises(InputError, match="language 'FR'"):
        read_wipo_xml(p)
    assert set(read_wipo_xml(p, lang="en").table["lang"]) == {"en"}


def test_invalid_symbol_in_xml_is_rejected_with_reason(tmp_path: Path) -> None:
    text = FIXTURE.read_text(encoding="utf-8").replace('symbol="G06N0003120000"', 'symbol="G06N00031X0000"')
    p = tmp_path / "bad_symbol.xml"
    p.write_text(text, encoding="utf-8")
    res = read_wipo_xml(p)
    assert "G06N3/12" not in set(res.table["code"])
    assert res.defects["invalid_symbols"] == 1
    assert "G06N00031X0000" in res.rejects["reason"].iloc[0]
