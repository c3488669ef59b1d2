"""The arrows between portal's modules point down: no import cycle, no upward import.

The imports are read from the source with `ast`, so an import inside a function counts as
much as one at the top: a cycle hidden in a function still ties the modules together.
A package's `__init__` importing its own submodules (a blueprint pulling in its views, a
package re-exporting its parts) is how a package is made and is not an arrow here; the same
convention as the shared checker, tools/import_cycles.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "portal"

# Lower layers, and the layers above them that they must never import.
LOWER = ("portal.services", "portal.domain", "portal.models")
UPPER = ("portal.organizer", "portal.customer", "portal.api", "portal.cli")


def module_files(root: Path = PACKAGE) -> dict[str, Path]:
    base = root.parent
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(base).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict) -> str | None:
    """The longest known module that `name` (a module or a name in one) lies in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, known: dict) -> set[str]:
    """The modules of `known` that `module` imports, wherever in the file the import is."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                # `from .services import documents` imports the module services.documents.
                target = _resolve(f"{source}.{alias.name}", known) or _resolve(source, known)
                if target:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found |= {target for alias in node.names if (target := _resolve(alias.name, known))}
    if path.name == "__init__.py":
        found = {m for m in found if not m.startswith(module + ".")}
    return found - {module}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    known = module_files(root)
    return {module: imports_of(module, path, known) for module, path in known.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk meets, each as [a, b, …, a]."""
    seen: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        seen.add(node)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target in stack:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in seen:
                visit(target)
        stack.pop()

    for node in sorted(graph):
        if node not in seen:
            visit(node)
    return cycles


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} -> {target}" for module, targets in graph.items()
                  if _within(module, LOWER) for target in targets if _within(target, UPPER))


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_graph_sees_imports_at_the_top_inside_functions_and_relative(graph):
    # Guards the tests below against passing on a graph that found nothing.
    assert "portal.jobs" in graph["portal.services.invoices"]         # from ..jobs import
    assert "portal.services.documents" in graph["portal.tasks"]        # inside a function
    assert "portal.jobs" in graph["portal.sweeper"]                    # from .jobs import
    assert "portal.extensions" in graph["portal.jobs"]


def test_the_cycle_finder_names_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle(graph):
    cycles = find_cycles(graph)
    assert cycles == [], "import cycle(s):\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_upward_rule_names_an_upward_import_and_only_that():
    graph = {"portal.services.x": {"portal.organizer.views", "portal.models.customer"},
             "portal.models.customer": {"portal.extensions"},
             "portal.organizer.views": {"portal.services.x"}}
    assert upward_imports(graph) == ["portal.services.x -> portal.organizer.views"]


def test_services_domain_and_models_import_no_view_and_no_command(graph):
    upward = upward_imports(graph)
    assert upward == [], "upward import(s):\n" + "\n".join(upward)


def test_only_the_app_factory_imports_the_commands(graph):
    users = sorted(module for module, targets in graph.items()
                   if "portal.cli" in targets and module != "portal")
    assert users == [], f"portal.cli is imported by {', '.join(users)}"


def test_the_job_queue_imports_no_service_and_no_job(graph):
    below = sorted(target for target in graph["portal.jobs"]
                   if _within(target, ("portal.services", "portal.tasks", "portal.sweeper",
                                       "portal.worker_setup", "portal.wiring")))
    assert below == [], f"portal.jobs imports {', '.join(below)}"
