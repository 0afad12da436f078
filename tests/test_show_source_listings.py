"""Every ``show_source(...)`` listing stored in a chapter equals what the library renders now.

nbval would catch a drift too, but only when the chapter is re-run (minutes per notebook); this
test resolves each listed object without a kernel — the chapter's ``book_utils`` imports are
replayed, the argument expression is evaluated — and compares the stored text with
``book_utils.source.show_source(obj)`` in under a few seconds, so a refactoring of ``book_utils``
cannot silently change code the reader is shown.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"


def _text(output) -> str | None:
    data = output.get("data", {}).get("text/plain")
    return "".join(data) if isinstance(data, list) else data


def _is_show_source(call: ast.AST) -> bool:
    if not isinstance(call, ast.Call):
        return False
    f = call.func
    return (isinstance(f, ast.Attribute) and f.attr == "show_source") or (
        isinstance(f, ast.Name) and f.id == "show_source"
    )


def _listings():
    """(notebook, cell index, argument source, aliases of the notebook, stored plain-text outputs)."""
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        imports: list[str] = []
        calls = []
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            try:
                magic_free = (line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
                tree = ast.parse("\n".join(magic_free))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                    if any(n.split(".")[0] == "book_utils" for n in names):
                        imports.append(ast.unparse(node))
                if (
                    isinstance(node, ast.Assign)
                    and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Attribute)
                    and ast.unparse(node.value).startswith("bu.")
                ):
                    imports.append(ast.unparse(node))  # a module alias such as ``ov = bu.widgets.overfitting``
                if _is_show_source(node) and node.args:
                    stored = [t for t in (_text(o) for o in cell.get("outputs", [])) if t is not None]
                    calls.append((index, ast.unparse(node.args[0]), stored))
        for index, expr, stored in calls:
            yield pytest.param(path.name, index, expr, tuple(imports), stored, id=f"{path.stem}[{index}]:{expr}")


@pytest.mark.parametrize("notebook, cell, expr, imports, stored", list(_listings()))
def test_stored_listing_matches_current_source(notebook, cell, expr, imports, stored):
    from book_utils.source import show_source

    namespace: dict = {}
    exec("import book_utils as bu", namespace)
    for statement in imports:
        exec(statement, namespace)
    obj = eval(expr, namespace)
    expected = repr(show_source(obj))
    assert stored, f"{notebook} cell {cell}: show_source({expr}) has no stored output"
    assert expected in stored, (
        f"{notebook} cell {cell}: the stored listing of {expr} differs from the current source; "
        "either keep the displayed code unchanged or re-execute the chapter"
    )
