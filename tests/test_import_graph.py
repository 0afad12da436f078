"""The modules of ``book_utils`` import each other without a cycle.

Every import counts, also one inside a function (``setup()`` importing ``device`` lazily still
makes ``config → device``): a cycle means two modules can only be understood together, and the
order in which they are first imported starts to matter.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "book_utils"


def _module_name(path: Path) -> str:
    parts = ["book_utils", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # ``from . import config`` and ``from .models import gan`` name submodules
                targets = [
                    f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module for alias in node.names
                ]
            for target in targets:
                while target and target not in modules:  # ``book_utils.models.gan.x`` → its module
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("book_utils"):
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of module names (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _is_package_edge(src: str, dst: str) -> bool:
    """A package's ``__init__`` importing its own submodules (and a submodule naming its package) is
    how packages are built, not a cycle between two concerns."""
    return dst.startswith(src + ".") or src.startswith(dst + ".")


def test_book_utils_import_graph_has_no_cycle():
    graph = {src: {dst for dst in dsts if not _is_package_edge(src, dst)} for src, dsts in import_graph().items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in book_utils: " + " → ".join(cycle)


def test_the_graph_sees_relative_absolute_and_function_local_imports():
    graph = import_graph()
    assert "book_utils.device" in graph["book_utils.config"]  # inside setup(): ``from . import device, plotting``
    assert "book_utils.checks" in graph["book_utils.device"]
    assert "book_utils.models.cnn" in graph["book_utils.models.transfer"]  # absolute ``from book_utils.models…``
