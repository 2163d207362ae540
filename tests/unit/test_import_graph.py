"""Dependencies point one way: no module of local/ imports, at any depth and not even lazily
inside a function, a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

LOCAL = Path(__file__).resolve().parents[2] / "local"


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "local":
                found |= {f"local.{alias.name}" for alias in node.names}
            elif node.module.startswith("local."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("local.")}
    return found


def test_local_has_no_import_cycle() -> None:
    graph = {f"local.{path.stem}": imports_of(path) for path in LOCAL.glob("*.py")}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in trail:
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported in graph:
                visit(imported, [*trail, imported])

    for module in sorted(graph):
        visit(module, [module])

    assert cycles == []
