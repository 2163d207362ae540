"""Dependencies point one way: no module of local/ imports, at any depth and not even lazily
inside a function, a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

LOCAL = Path(__file__).resolve().parents[2] / "local"


def parsed(path: Path) -> ast.Module:
    """The module's syntax tree. CPython 3.11 keeps ast's recursion depth in one place for all
    threads: a parse while another thread compiles (a function the suite's gateway imports in its
    own thread) can fail with "AST constructor recursion depth mismatch". Parsed again then."""
    for _ in range(4):
        try:
            return ast.parse(path.read_text())
        except SystemError:
            continue
    return ast.parse(path.read_text())


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(parsed(path)):
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


LAYER = Path(__file__).resolve().parents[2] / "layers" / "parley" / "parley"
# Who may import whom inside the layer: the edge (HTTP) stands above the use cases (logic), which
# stand above the stores, providers and retrieval; the models are below them all.
BELOW_THE_EDGE = ("logic", "store", "providers", "rag", "models", "auth", "remote_tools")
BELOW_THE_STORES = ("models",)


def layer_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("parley."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("parley.")}
    return found


def offenders(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(LAYER)), module)
        for package in packages
        for path in sorted((LAYER / package).rglob("*.py"))
        for module in sorted(layer_imports(path))
        if module.split(".")[1] in forbidden
    ]


def test_nothing_below_the_edge_imports_it() -> None:
    assert offenders(BELOW_THE_EDGE, ("edge",)) == []


def test_the_models_import_no_use_case_store_provider_or_retrieval() -> None:
    assert offenders(BELOW_THE_STORES, ("edge", "logic", "store", "providers", "rag")) == []


def test_the_http_edge_modules_live_in_their_package() -> None:
    edge = {"http", "openai_stream", "streaming", "idempotency", "web_adapter", "request_guard", "responses"}
    edge |= {"cors", "openai_errors", "cross_site"}
    assert {path.stem for path in LAYER.glob("*.py")} & edge == set()
    assert edge <= {path.stem for path in (LAYER / "edge").glob("*.py")}
