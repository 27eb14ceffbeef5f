"""The floors of shared/DESIGN.md, checked on the source: imports only point down
(or stay within one package), there are no circles, and nothing inside the
package imports the package root."""

from __future__ import annotations

import ast
from pathlib import Path

import rnnkit

PACKAGE = Path(rnnkit.__file__).parent
FLOORS = {
    "cli": 5,
    "__main__": 6,
    "lab": 4,
    "tasks": 3,
    # The onnxruntime path: beside the tasks, below nothing that needs torch.
    "runtime": 3,
    # Export loads runs through the tasks; serving runs both runs and exports.
    "export": 3.5,
    "serve": 4,
    "models": 2,
    "data": 2,
    "train": 2,
    "nn": 1,
    "metrics": 1,
    "generate": 1,
    "sampling": 0.5,
    "cards": 0.75,
    # rnnkit.load: a run folder through the tasks, an export folder through the runtime.
    "opening": 3.5,
    "decode": 1,
    # Floor 0: the errors first, then what raises them (atomic writing, config checks).
    "errors": 0,
    "io": 0.5,
    "fields": 0.5,
    "version": 0.5,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every rnnkit module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "rnnkit")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == "rnnkit"
        ):
            for (
                alias
            ) in node.names:  # "from rnnkit.nn import paths" imports the module rnnkit.nn.paths
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def floor_of(name: str) -> int:
    return FLOORS[name.split(".")[1]]


def package_of(name: str) -> str:
    return name.split(".")[1]


def test_every_module_has_a_floor():
    assert all(package_of(name) in FLOORS for name in MODULES if name != "rnnkit")


def test_nothing_inside_imports_the_package_root():
    offenders = sorted(
        name for name, targets in GRAPH.items() if name != "rnnkit" and "rnnkit" in targets
    )
    assert offenders == []


def test_imports_point_down():
    upward = sorted(
        f"{name} (floor {floor_of(name)}) imports {target} (floor {floor_of(target)})"
        for name, targets in GRAPH.items()
        if name != "rnnkit"
        for target in targets
        if target != "rnnkit"
        and package_of(target) != package_of(name)
        and floor_of(target) >= floor_of(name)
    )
    assert upward == []


def test_the_import_graph_has_no_circles():
    """Depth-first search over module imports (within a package too)."""
    state, circles = {}, []

    def visit(name, path):
        state[name] = "open"
        for target in sorted(GRAPH.get(name, ())):
            target = target if target in GRAPH else target.rsplit(".", 1)[0]
            if target == name or target not in GRAPH or target == "rnnkit":
                continue
            if state.get(target) == "open":
                circles.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_a_circle_is_found(monkeypatch):
    """The check itself: a planted circle fails it."""
    monkeypatch.setitem(GRAPH, "rnnkit.io", {"rnnkit.errors"})
    monkeypatch.setitem(GRAPH, "rnnkit.errors", {"rnnkit.io"})
    try:
        test_the_import_graph_has_no_circles()
    except AssertionError:
        return
    raise AssertionError("a planted circle went unnoticed")


MAX_LINES = 400
"""DESIGN.md's readable size: a module over this is split along its seams."""


def test_no_module_is_over_400_lines():
    sizes = {
        str(path.relative_to(PACKAGE.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
