"""LaTeX tables: captions, math-mode p-values, threeparttable notes, and a width rule checked by
compiling every demo table with pdflatex in a minimal article (no overfull boxes)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from coretech.models.export import latex_caption, to_latex
from coretech.models.study import ModelsConfig
from coretech.models.suite import run_suite
from coretech.models.tables import Table

PDFLATEX = shutil.which("pdflatex")
PREAMBLE = "\\documentclass{article}\n\\usepackage{booktabs,threeparttable}\n\\begin{document}\n"


@pytest.fixture(scope="module")
def demo_tables(panel):
    """Tables 2-7 of the demo's study on the simulated panel (few permutations: speed)."""
    return run_suite(panel, ModelsConfig.from_mapping({"permutations": 19})).tables


def test_caption_is_not_numbered_twice(demo_tables):
    assert latex_caption("Table 3. Baseline two-way fixed effects") == \
        "Baseline two-way fixed effects"
    assert latex_caption("表3 基准回归") == "基准回归"
    assert latex_caption("Robustness") == "Robustness"
    for t in demo_tables.values():
        cap = re.search(r"\\caption\{(.*)\}", to_latex(t)).group(1)
        assert not re.match(r"Table\s*\d", cap), cap


def test_p_values_in_math_mode_and_notes_in_tablenotes(demo_tables):
    tex = to_latex(demo_tables["table3"])
    assert "$p<0.01$" in tex and "$^{***}$~" not in tex
    # no '<' or '>' outside math mode: OT1 would print them as inverted ! and ?
    text = re.sub(r"\$[^$]*\$", "", tex)
    assert "<" not in text and ">" not in text
    body = tex[tex.index("\\begin{threeparttable}"):tex.index("\\end{threeparttable}")]
    assert "\\begin{tablenotes}" in body and "\\item[] Standard errors clustered by city." in body
    assert "\\par\\footnotesize" not in tex


def test_width_rule_shrinks_and_wraps_only_when_needed():
    narrow = Table("t", "Table 9. Narrow", [["", "y"]], [["x", "0.5000***"], ["", "(0.1000)"]])
    tex = to_latex(narrow)
    assert "\\begin{tabular}{lc}" in tex and "\\small" not in tex and "\\footnotesize\n\\set" \
        not in tex
    wide = Table("w", "Wide", [["", *[f"Outcome {i}" for i in range(6)]]],
                 [["A rather long row label that needs two lines", *["-0.1234***"] * 6]])
    tex = to_latex(wide)
    assert re.search(r"\\begin\{tabular\}\{p\{0\.\d+\\linewidth\}c{6}\}", tex), tex
    assert "$-$0.1234" in tex and "\\resizebox" not in tex


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex not installed (apt-get install "
                    "texlive-latex-extra texlive-latex-recommended; .ci/run does this)")
@pytest.mark.parametrize("name", ["table2", "table3", "table4", "table5", "table6", "table7"])
def test_demo_tables_compile_without_overfull_boxes(demo_tables, name, tmp_path):
    (tmp_path / f"{name}.tex").write_text(to_latex(demo_tables[name]), encoding="utf-8")
    (tmp_path / "doc.tex").write_text(PREAMBLE + f"\\input{{{name}}}\n\\end{{document}}\n",
                                      encoding="utf-8")
    r = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert r.returncode == 0, log[-2000:]
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)
    assert (tmp_path / "doc.pdf").stat().st_size > 0
