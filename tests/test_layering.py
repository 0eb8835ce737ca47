"""The apps' layering, checked from the source: an app imports only apps below it.

    config  <-  projects  <-  meetings, webhooks  <-  bots  <-  calendars

Function-local imports count too (they dodge a cycle at import time, not in the design). The
imports that still go the wrong way are listed in KNOWN_UPWARD, each with the module that does
it: the architecture work removes them (issue 14), and this test fails on any new one - and on
a listed one that is gone, so the list only shrinks. There are no module import cycles left
(imports under `if TYPE_CHECKING:` serve annotations only and do not count).
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = {"config": 0, "projects": 1, "meetings": 2, "webhooks": 2, "bots": 3, "calendars": 4}

KNOWN_UPWARD: set[tuple[str, str]] = {
    ("bots/reconcile.py", "calendars"),  # locks the meetings' calendars
    ("projects/admin.py", "calendars"),
    ("projects/serializers.py", "bots"),
    ("projects/serializers.py", "calendars"),
    ("projects/services.py", "calendars"),
    ("projects/views.py", "calendars"),
}
KNOWN_CYCLES: set[frozenset[str]] = set()


def _modules():
    for app in LAYER:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every project module this file imports, at any depth (function-local ones too)."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    tree = ast.parse(path.read_text())
    type_only = {  # `if TYPE_CHECKING:` imports are for annotations, not a dependency at run time
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for statement in node.body
        for child in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            submodules = {f"{module}.{alias.name}" for alias in node.names}
            names.update(submodules)
            # `from package import submodule` is about the submodule, not the package's code.
            if not all(_is_module(name) for name in submodules):
                names.add(module)
    return {name for name in names if name.split(".")[0] in LAYER}


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _graph() -> dict[str, set[str]]:
    known = {_module_name(path) for _, path in _modules()}
    graph = {}
    for _, path in _modules():
        module = _module_name(path)
        graph[module] = {name for name in _imports(path) if name in known and name != module}
    return graph


def test_no_app_imports_an_app_above_it():
    upward = set()
    for app, path in _modules():
        for name in _imports(path):
            other = name.split(".")[0]
            if LAYER[other] > LAYER[app] or (LAYER[other] == LAYER[app] and other != app):
                upward.add((str(path.relative_to(ROOT)), other))
    assert upward - KNOWN_UPWARD == set(), "new upward imports"
    assert KNOWN_UPWARD - upward == set(), "gone: take them off KNOWN_UPWARD"


def _cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), set()
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules():
    cycles = _cycles(_graph())
    assert cycles - KNOWN_CYCLES == set(), "new import cycles"
    assert KNOWN_CYCLES - cycles == set(), "gone: take them off KNOWN_CYCLES"


def test_the_checks_see_a_cycle_and_a_layer_violation():
    graph = defaultdict(set, {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert _cycles(graph) == {frozenset({"a", "b", "c"})}
    bots_reconcile = ROOT / "bots" / "reconcile.py"
    assert "meetings.models" in _imports(bots_reconcile)
