"""The study file: loading, validation errors that name the key, content-hash keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from coretech.errors import InputError
from coretech.pipeline.study import check_options, line_of, load_study, stage_key


def write(tmp: Path, text: str, name: str = "study.toml") -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    for name in ("cat.csv", "pat.csv", "panel.csv", "gold.csv", "a.tsv", "b.xml", "spec.csv"):
        (tmp_path / "data" / name).write_text("x\n", encoding="utf-8")
    return tmp_path


FULL = """
[study]
name = "full"
out = "results"

[inputs]
ipc = ["data/a.tsv", "data/b.xml"]
catalogue = "data/cat.csv"
gold = "data/gold.csv"
patents = "data/pat.csv"
panel = "data/panel.csv"

[match]
lang = "zh"
threshold = 0.4

[indicators]
spec = "data/spec.csv"

[audit]
enabled = false

[models]
controls = ["Idetion", "Eoryity"]
"""


def test_full_study_resolves_paths_and_options(files: Path) -> None:
    st = load_study(write(files, FULL))
    assert st.name == "full"
    assert st.out == (files / "results").resolve()
    assert st.ipc == ((files / "data/a.tsv").resolve(), (files / "data/b.xml").resolve())
    assert st.catalogue == (files / "data/cat.csv").resolve()
    assert st.patents == (files / "data/pat.csv").resolve()
    assert st.overrides is None
    assert st.stage_options("match") == {"lang": "zh", "threshold": 0.4}
    assert st.stage_options("indicators")["spec"] == (files / "data/spec.csv").resolve()
    assert st.is_enabled("audit") is False and st.is_enabled("match") is True
    # [models] is passed through untouched
    assert st.stage_options("models") == {"controls": ["Idetion", "Eoryity"]}


def test_defaults(files: Path) -> None:
    st = load_study(write(files, "[inputs]\ncatalogue = 'data/cat.csv'\n", "my.toml"))
    assert st.ipc is None  # the embedded English scheme
    assert st.out == (files / "my-out").resolve()
    assert st.name == "my"


def test_simulate_inputs(files: Path) -> None:
    st = load_study(write(files, "[inputs]\npatents = 'simulate'\npanel = 'simulate'\n"
                                 "[simulate]\nseed = 3\nn_patents = 100\n"))
    assert st.patents == "simulate" and st.panel == "simulate"
    assert st.simulate == {"seed": 3, "n_patents": 100}


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("[study]\nname='x'\n\n[inptus]\ncatalogue='a'\n", 4, "inptus", "unknown table"),
        ("[inputs]\ncatalog = 'data/cat.csv'\n", 2, "inputs.catalog", "[inputs] takes"),
        ("[inputs]\n# c\ncatalogue = 'data/missing.csv'\n", 3, "inputs.catalogue", "not found"),
        ("[inputs]\ngold = 'simulate'\n", 2, "inputs.gold", "may be \"simulate\""),
        ("[inputs]\nipc = 3\n", 2, "inputs.ipc", "list of paths"),
        ("[simulate]\nseed = 'abc'\n", 2, "simulate.seed", "expected a number"),
        ("[simulate]\nsed = 1\n", 2, "simulate.sed", "unknown key"),
        ("[match]\nenabled = 'no'\n", 2, "match.enabled", "true or false"),
        ("[study]\nout = 5\n", 2, "study.out", "expected a string"),
        ("[indicators]\nspec = 'nope.csv'\n", 2, "indicators.spec", "not found"),
        ("[simulate]\nmerge_sicoughs = 'column'\n", 2, "simulate.merge_sicoughs", "unknown key"),
    ],
)
def test_errors_name_file_line_and_key(files: Path, text: str, line: int, column: str,
                                       words: str) -> None:
    p = write(files, text)
    with pytest.raises(InputError) as ei:
        load_study(p)
    err = ei.value
    assert err.file == str(p.resolve()) or err.file == str(p)
    assert err.row == line
    assert err.column == column
    assert words in str(err)


def test_toml_syntax_error_names_line(files: Path) -> None:
    p = write(files, "[inputs]\ncatalogue = = 'a'\n")
    with pytest.raises(InputError, match="not a valid TOML") as ei:
        load_study(p)
    assert ei.value.row == 2


def test_missing_study_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="study file not found"):
        load_study(tmp_path / "none.toml")


def test_line_of() -> None:
    text = "[a]\nx = 1\n[b]\n  x = 2\n'y' = 3\n"
    assert line_of(text, "a", "x") == 2
    assert line_of(text, "b", "x") == 4
    assert line_of(text, "b", "y") == 5
    assert line_of(text, "b") == 3
    assert line_of(text, "c", "x") is None


def fake_stage(catalogue: str, *, out: str, lang: str = "auto", threshold: float = 0.5,
               roll_up: bool = True, cap: int | None = None) -> dict:
    return {}


def test_check_options_against_signature(files: Path) -> None:
    st = load_study(write(files, "[match]\nlang = 'en'\nthreshold = 1\ncap = 3\n"))
    check_options(st, "match", fake_stage, reserved=("out", "catalogue"))  # no error

    st = load_study(write(files, "[match]\nlang = 'en'\nthreshhold = 0.3\n"))
    with pytest.raises(InputError) as ei:
        check_options(st, "match", fake_stage, reserved=("out", "catalogue"))
    assert ei.value.column == "match.threshhold" and ei.value.row == 3
    assert "allowed: cap, lang, roll_up, threshold" in str(ei.value)

    st = load_study(write(files, "[match]\nroll_up = 'yes'\n"))
    with pytest.raises(InputError, match="expected a value like the default True"):
        check_options(st, "match", fake_stage)

    st = load_study(write(files, "[match]\nthreshold = 'high'\n"))
    with pytest.raises(InputError, match="default 0.5"):
        check_options(st, "match", fake_stage)

    st = load_study(write(files, "[match]\nout = 'x.csv'\n"))
    with pytest.raises(InputError, match="set by the pipeline"):
        check_options(st, "match", fake_stage, reserved=("out",))


def test_stage_key_depends_on_inputs_options_versions() -> None:
    base = dict(input_hashes={"a": "1", "b": "2"}, options={"x": 1, "y": [1, 2]},
                versions={"coretech": "0.1.0"})
    k = stage_key("match", **base)
    assert len(k) == 64
    # key order does not matter
    assert k == stage_key("match", input_hashes={"b": "2", "a": "1"},
                          options={"y": [1, 2], "x": 1}, versions={"coretech": "0.1.0"})
    assert k != stage_key("audit", **base)
    assert k != stage_key("match", **{**base, "input_hashes": {"a": "1", "b": "3"}})
    assert k != stage_key("match", **{**base, "options": {"x": 2, "y": [1, 2]}})
    assert k != stage_key("match", **{**base, "options": {"x": 1, "y": [2, 1]}})
    assert k != stage_key("match", **{**base, "versions": {"coretech": "0.2.0"}})
    # an int and a float option with equal value are different options
    assert stage_key("m", input_hashes={}, options={"t": 1}, versions={}) != stage_key(
        "m", input_hashes={}, options={"t": 1.0}, versions={})


def test_line_of_sub_tables() -> None:
    text = "[indicators]\n\n[indicators.lq]\ndigital = 'x'\n"
    assert line_of(text, "indicators", "lq") == 3
    assert line_of(text, "indicators.lq", "digital") == 4
