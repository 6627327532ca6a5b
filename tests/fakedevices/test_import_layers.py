"""fakedevices' packages import each other one way only: no package imports, through any chain of
imports (at module level, in functions, or for type checking only), a package that imports it back.

A package here is a subpackage of fakedevices (kinds, emulator, spec, ...) or a top-level module
(model, farm, ...). `__main__` modules are left out: they are entry points that nothing imports, so
no chain of imports can come back through one (`python -m fakedevices.emulator` finds kinds in the
registry, which the emulator framework itself never does).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fakedevices"
GENERATED = PACKAGE / "proto" / "gen"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _unit(module: str) -> str:
    """The package a module counts to: `fakedevices.kinds.gpu.host` -> `fakedevices.kinds`."""
    return ".".join(module.split(".")[:2])


def _is_module(name: str) -> bool:
    path = ROOT / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def package_imports() -> dict[str, dict[str, str]]:
    """{package: {imported package: a module import that makes the edge}}."""
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted(PACKAGE.rglob("*.py")):
        if GENERATED in path.parents or path.stem == "__main__":
            continue
        module = _module_name(path)
        for target in _imported(ast.parse(path.read_text(), str(path))):
            if target.startswith("fakedevices.") and _is_module(target) and _unit(target) != _unit(module):
                edges[_unit(module)].setdefault(_unit(target), f"{module} imports {target}")
    return edges


def cycles(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            group.append(node)
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_package_of_fakedevices_imports_one_that_imports_it_back() -> None:
    edges = package_imports()
    assert "fakedevices.kinds" in edges["fakedevices.farmspec"], "the graph misses imports; is the walk right?"
    problems = [
        f"{' <-> '.join(group)}: " + "; ".join(edges[a][b] for a in group for b in group if b in edges[a])
        for group in cycles(edges)
    ]
    assert problems == [], "import cycles between packages:\n" + "\n".join(problems)


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b": "a -> b"}, "b": {"c": "b -> c"}, "c": {"a": "c -> a"}, "d": {"a": "d -> a"}}
    assert cycles(edges) == [["a", "b", "c"]]
