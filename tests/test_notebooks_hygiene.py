"""Hygiene of the stored chapter notebooks (DESIGN §7)."""

import json
import re
from pathlib import Path

import pytest

from book_utils import execute

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
MACHINE_PATH = re.compile(r"(/work/|/root/|/home/\w+|/tmp/\w|[A-Z]:\\\\Users)")
MAX_BYTES = 6_000_000


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def output_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for key, value in out.get("data", {}).items():
            if key.startswith("text/"):
                parts.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(parts)


def test_chapters_exist():
    assert NOTEBOOKS, "no notebooks under chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
class TestNotebook:
    def test_executed_in_order(self, path):
        counts = [c.get("execution_count") for c in code_cells(load(path)) if c["source"]]
        assert None not in counts, f"{path.name}: some code cells were never executed"
        assert counts == list(range(1, len(counts) + 1)), f"{path.name}: cells not executed top to bottom once"

    def test_no_errors(self, path):
        for cell in code_cells(load(path)):
            errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
            if errors:
                assert "raises-exception" in tags(cell), (
                    f"{path.name}: unexpected error in cell {cell['source'][:80]!r}"
                )

    def test_stamped_book_profile(self, path):
        stamp = load(path)["metadata"].get("book", {})
        assert stamp.get("profile") == "book", f"{path.name}: run `python -m book_utils.execute --profile book`"
        for key in ("tensorflow", "keras", "python", "wall_time_s"):
            assert key in stamp, f"{path.name}: metadata.book lacks {key}"

    def test_first_cell_is_setup(self, path):
        first = "".join(code_cells(load(path))[0]["source"])
        assert "import book_utils as bu" in first and "bu.setup(" in first
        url = execute.repository_url(path)
        assert first == execute.bootstrap_source(first, url), (
            f"{path.name}: the first cell lacks the hosted-notebook bootstrap for repository.url={url!r} "
            "(python -m book_utils.execute writes it)"
        )

    def test_no_machine_paths(self, path):
        for cell in code_cells(load(path)):
            errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
            text = "\n".join(
                [
                    output_text(cell),
                    *(e.get("evalue", "") for e in errors),
                    *(line for e in errors for line in e.get("traceback", [])),
                ]
            )
            assert not MACHINE_PATH.search(text), (
                f"{path.name}: machine path in output: {MACHINE_PATH.search(text)[0]} "
                "(python -m book_utils.execute shortens them; re-execute the notebook)"
            )

    def test_no_stderr_noise(self, path):
        for cell in code_cells(load(path)):
            for out in cell.get("outputs", []):
                if out.get("name") == "stderr":
                    text = "".join(out.get("text", ""))
                    assert not re.search(r"\d+/\d+ ━|Epoch \d+/\d+", text), f"{path.name}: progress bar in output"

    def test_ignored_output_is_asserted(self, path):
        cells = code_cells(load(path))
        for i, cell in enumerate(cells):
            if "nbval-ignore-output" in tags(cell) and "widget" not in tags(cell):  # widgets: see below
                own = "".join(cell["source"])
                nxt = "".join(cells[i + 1]["source"]) if i + 1 < len(cells) else ""
                assert re.search(r"^\s*assert\b", nxt, re.M) or re.search(r"^\s*assert\b", own, re.M), (
                    f"{path.name}: cell tagged nbval-ignore-output has no assertion in it or right after it:\n"
                    f"{own[:200]}"
                )

    def test_widget_cells_carry_a_working_fallback(self, path):
        """A cell that shows a widget is tagged ``widget`` and its stored output holds the live view and
        the static fallback, i.e. the pure function behind the widget rendered at least two frames."""
        for cell in code_cells(load(path)):
            views = [
                o for o in cell.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            ]
            if not views and "widget" not in tags(cell):
                continue
            where = f"{path.name}: {''.join(cell['source'])[:80]!r}"
            assert "widget" in tags(cell), f"{where} shows a widget but lacks the `widget` tag"
            assert len(views) == 1, f"{where}: a `widget` cell must show exactly one widget"
            page = "".join(views[0]["data"].get("text/html", ""))
            assert 'class="tfbook-fallback"' in page and page.count("data-key=") >= 2, (
                f"{where}: no static fallback with frames (build the widget with widgets._fallback.with_fallback)"
            )

    def test_figure_text_is_legible_on_the_site(self, path):
        """Every inline figure records its smallest text (CSS px in the 1280 px site's column, see
        ``plotting.legible``); none is below the 9 px a reader can read."""
        tiny = []
        for cell in code_cells(load(path)):
            for out in cell.get("outputs", []):
                meta = out.get("metadata", {}).get("image/png", {})
                if "image/png" in out.get("data", {}) and meta.get("min_text_px") is not None:
                    if meta["min_text_px"] < 9:
                        tiny.append((meta["min_text_px"], "".join(cell["source"])[:60]))
        assert tiny == [], f"{path.name}: figure text below 9 CSS px: {tiny[:3]}"

    def test_size_reasonable(self, path):
        assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes; shrink figures"

    def test_in_toc(self, path):
        toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
        assert f"chapters/{path.stem}" in toc, f"{path.name} missing from _toc.yml"
