"""The shape of the package, read from its source with ``ast`` (issue 14): no import cycle, no
``os.chdir``, no module over 600 lines, and no stage importing a stage downstream of it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coretech"
MAX_LINES = 600
#: Modules allowed over the limit (none).
LINE_LIMIT_EXCLUDED: set[str] = set()

#: The order of imports: a module may import its own package, a shared module, or a package
#: earlier in this list, never a later one. Data flows crawler -> ipc scheme table ->
#: matching -> indicators -> models -> pipeline; the ipc package comes first here because its
#: codes and scheme table are shared by every stage, the crawler included (it validates
#: symbols and writes scheme tables with coretech.ipc), while ipc imports no crawler code.
STAGE_ORDER = ("ipc", "crawler", "matching", "indicators", "models", "sensitivity", "pipeline")
#: Shared by all: these may be imported by any stage and import no stage themselves.
SHARED = {"coretech", "errors", "io", "provenance", "htmlreport", "simulate", "fonts"}
#: The command line sits above everything (it registers every stage's commands).
TOP = {"cli"}


def _modules() -> dict[str, Path]:
    mods = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return mods


MODULES = _modules()
INITS = {m for m, p in MODULES.items() if p.name == "__init__.py"}
TREES = {m: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for m, p in MODULES.items()}


def _imports(name: str) -> set[str]:
    """The coretech modules ``name`` imports (anywhere in the file, lazy imports included)."""
    here = name if name in INITS else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                sub = f"{mod}.{a.name}"
                found.add(sub if sub in MODULES else mod)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_modules() -> None:
    # package __init__ files re-export their submodules; they are left out of the graph
    graph = {m: {w for w in ws if w not in INITS} for m, ws in GRAPH.items() if m not in INITS}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_chdir_anywhere() -> None:
    hits = []
    for name, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("chdir", "fchdir"):
                hits.append((name, node.lineno))
            if isinstance(node, ast.ImportFrom) and any(a.name in ("chdir", "fchdir")
                                                        for a in node.names):
                hits.append((name, node.lineno))
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "chdir":
                hits.append((name, node.lineno))
    assert hits == []


def test_no_module_over_600_lines() -> None:
    long = {}
    for p in MODULES.values():
        rel = p.relative_to(PACKAGE.parent).as_posix()
        n = len(p.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and rel not in LINE_LIMIT_EXCLUDED:
            long[rel] = n
    assert long == {}


def _rank(module: str) -> int | None:
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else "coretech"
    if head in SHARED:
        return -1
    if head in TOP:
        return len(STAGE_ORDER)
    return STAGE_ORDER.index(head) if head in STAGE_ORDER else None


def test_every_module_has_a_place_in_the_order() -> None:
    assert sorted(m for m in MODULES if _rank(m) is None) == []


def test_no_stage_imports_a_stage_downstream_of_it() -> None:
    wrong = sorted((m, w) for m, ws in GRAPH.items() for w in ws
                   if _rank(w) is not None and _rank(m) is not None and _rank(w) > _rank(m))
    assert wrong == []


@pytest.mark.parametrize(("importer", "imported", "allowed"), [
    ("coretech.pipeline.runner", "coretech.models.fe", True),
    ("coretech.models.fe", "coretech.pipeline.runner", False),
    ("coretech.matching.matcher", "coretech.ipc.scheme", True),
    ("coretech.ipc.scheme", "coretech.crawler.store", False),
    ("coretech.simulate.panel", "coretech.models.fe", False),
    ("coretech.cli", "coretech.pipeline.cli", True),
])
def test_the_order_rule_itself(importer: str, imported: str, allowed: bool) -> None:
    assert (_rank(imported) <= _rank(importer)) is allowed  # type: ignore[operator]
