"""The packages import one way, as the project's design lays out (below); no exception list.

    reproduction -> maddpg, envs, tf_agents_baselines, paper_figures   (nothing imports reproduction)
    benchmarks   -> maddpg, envs, tf_agents_baselines, paper_figures   (nothing imports benchmarks)
    tf_agents_baselines -> maddpg, envs
    maddpg       -> envs
    paper_figures -> maddpg.results, maddpg.legacy_layout, maddpg.stats only (it reads result files; it never
                     trains or steps an env)
    envs         -> nothing of ours

Every .py file of every package is parsed with `ast` (nothing is imported, so the test needs no TensorFlow);
imports at any depth count, those inside functions included, since a function-level import is still a
dependency, only a later one. Neither the packages nor the modules import each other in a circle: module
a importing b (at any depth) while b, or a module b imports, imports a is refused, with no exception list.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("maddpg", "envs", "reproduction", "paper_figures", "benchmarks", "tf_agents_baselines")

# package -> the packages of ours it may import (its own is always allowed).
ALLOWED = {
    "envs": set(),
    "maddpg": {"envs"},
    "tf_agents_baselines": {"maddpg", "envs"},
    "paper_figures": {"maddpg"},
    "reproduction": {"maddpg", "envs", "tf_agents_baselines", "paper_figures"},
    "benchmarks": {"maddpg", "envs", "tf_agents_baselines", "paper_figures"},
}
# paper_figures reads files: of maddpg only the results layout, what older layouts lack, and the statistics (and
# what those import).
PAPER_FIGURES_MADDPG_MODULES = {"maddpg.results", "maddpg.legacy_layout", "maddpg.stats"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    """Whether `dotted` names a module or package of this repository (not a name defined inside one)."""
    path = REPO_ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, at any depth; `from a import b` names a.b when b is a
    module of ours, else a. Relative imports are resolved against the file's package."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else base))
    return found


def import_edges() -> list[tuple[str, str, str, int, str]]:
    """(from package, to package, file, line, imported module) for every import of one of our packages."""
    edges = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for line, target in imported_modules(path):
                top = target.split(".")[0]
                if top in PACKAGES and top != package:
                    edges.append((package, top, str(path.relative_to(REPO_ROOT)), line, target))
    return edges


def module_graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports, at any depth (`from a import b` names a.b when b is a module,
    else a; a name imported from a package is an import of the package's __init__)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            module = _module_name(path)
            targets = {target for _, target in imported_modules(path) if target.split(".")[0] in PACKAGES}
            graph[module] = {_known_module(target) for target in targets} - {module}
    return graph


def _known_module(dotted: str) -> str:
    """The module or package of ours that `dotted` names (the longest prefix that is one)."""
    parts = dotted.split(".")
    while len(parts) > 1 and not _is_module(".".join(parts)):
        parts.pop()
    return ".".join(parts)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph as [a, b, ..., a], or None (depth-first search, three colours)."""
    state: dict[str, int] = {}  # absent: unvisited; 1: on the current path; 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return path[path.index(successor):] + [successor]
            if successor not in state:
                cycle = visit(successor)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_every_package_is_parsed():
    for package in PACKAGES:
        assert (REPO_ROOT / package / "__init__.py").is_file(), package
    # A package of ours missing from PACKAGES would escape the checks below.
    ours = {path.parent.name for path in REPO_ROOT.glob("*/__init__.py")} - {"tests"}
    assert ours <= set(PACKAGES), sorted(ours - set(PACKAGES))


def test_imports_run_one_way():
    wrong = [f"{file}:{line} ({package}) imports {target}" for package, top, file, line, target in import_edges()
             if top not in ALLOWED[package]]
    assert not wrong, "imports against the direction of shared/DESIGN.md:\n" + "\n".join(wrong)


def test_paper_figures_reads_only_results_and_stats():
    wrong = [f"{file}:{line} imports {target}" for package, top, file, line, target in import_edges()
             if package == "paper_figures" and top == "maddpg" and target not in PAPER_FIGURES_MADDPG_MODULES]
    assert not wrong, "\n".join(wrong)


def test_package_graph_has_no_cycle():
    graph: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for package, top, *_ in import_edges():
        graph[package].add(top)
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_module_graph_has_no_cycle():
    """No module imports itself through others, counting imports inside functions (a circle there only moves
    the failure to the call that runs them)."""
    graph = module_graph()
    assert {"maddpg.run_folder", "maddpg.results", "reproduction.runner"} <= set(graph)  # the graph is real
    assert "maddpg.run_folder" in graph["maddpg.run"] and "maddpg.results" in graph["maddpg.run_folder"]
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_a_function_level_import_cycle_is_found(tmp_path, monkeypatch):
    """The module check sees a circle closed by an import inside a function (held on a made-up package)."""
    package = tmp_path / "maddpg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("from maddpg import second\n")
    (package / "second.py").write_text("def late():\n    from maddpg.first import something\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO_ROOT", tmp_path)
    graph = module_graph()
    assert graph["maddpg.first"] == {"maddpg.second"} and graph["maddpg.second"] == {"maddpg.first"}
    assert find_cycle(graph) == ["maddpg.first", "maddpg.second", "maddpg.first"]


@pytest.mark.parametrize("graph,cycle", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"a"}}, ["a", "a"]),
])
def test_find_cycle(graph, cycle):
    assert find_cycle(graph) == cycle


def test_function_level_and_relative_imports_are_seen(tmp_path, monkeypatch):
    """The parser sees an import inside a function and resolves `from . import x` (held on a made-up file)."""
    package = tmp_path / "envs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sibling.py").write_text("")
    source = package / "late.py"
    source.write_text("def f():\n    from maddpg import learner\n    from . import sibling\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO_ROOT", tmp_path)
    assert [target for _, target in imported_modules(source)] == ["maddpg", "envs.sibling"]
