"""Sphinx extension for the book's generated pages.

``{results-table}`` renders every ``bu.record_result`` stored in the chapters' metadata, and
``{glossary-table}`` renders ``glossary.yml``; both are computed at build time, so the pages can
never drift from the notebooks or the term list.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

ROOT = Path(__file__).resolve().parents[1]


def _chapter_title(nb: dict, fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _toc_chapters() -> dict[str, str]:
    """Chapter prefix (``ch03``) → notebook stem, for the notebooks listed in ``_toc.yml``."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    stems = [p.stem for p in (ROOT / "chapters").glob("*.ipynb") if f"chapters/{p.stem}" in toc]
    return {stem.split("_")[0]: stem for stem in stems}


def _fmt(value) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}"


class _TableDirective(Directive):
    has_content = False

    def render(self, header: list[str], rows: list[list[str]], widths: str) -> list:
        # the directive lives in MyST pages, so the generated table is MyST markdown
        lines = ["```{list-table}", ":header-rows: 1", f":widths: {widths}", ""]
        for row in [header, *rows]:
            lines.append(f"* - {row[0]}")
            lines.extend(f"  - {cell}" for cell in row[1:])
        lines.append("```")
        from docutils import nodes

        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="tfbook_site"), self.content_offset, container)
        return container.children


class ResultsTable(_TableDirective):
    def run(self):
        rows = []
        for stem in sorted(_toc_chapters().values()):
            path = ROOT / "chapters" / f"{stem}.ipynb"
            self.state.document.settings.record_dependencies.add(str(path))
            nb = json.loads(path.read_text(encoding="utf-8"))
            meta = nb.get("metadata", {}).get("book", {})
            for r in meta.get("results", []):
                rows.append([
                    f"{{doc}}`{_chapter_title(nb, path.stem)} </chapters/{path.stem}>`",
                    f"`{r['name']}`",
                    _fmt(r.get("textbook")) + (f" {r['unit']}" if r.get("textbook") is not None and r.get("unit") else ""),
                    _fmt(r.get("value")) + (f" {r['unit']}" if r.get("unit") else ""),
                    r.get("profile", "?"),
                    meta.get("device", "?"),
                    f"{meta.get('wall_time_s', 0):.0f} s",
                ])
        if not rows:
            return []
        return self.render(["章节", "实验", "教材报告", "本书结果", "规模", "硬件", "整章运行时间"], rows,
                           "22 26 12 12 8 8 12")


class GlossaryTable(_TableDirective):
    def run(self):
        source = ROOT / "glossary.yml"
        self.state.document.settings.record_dependencies.add(str(source))
        entries = yaml.safe_load(source.read_text(encoding="utf-8"))
        chapters = _toc_chapters()
        rows = []
        for e in sorted(entries, key=lambda e: (e["chapter"], e["en"].lower())):
            stem = chapters.get(e["chapter"])
            where = f"{{doc}}`{e['chapter']} </chapters/{stem}>`" if stem else e["chapter"]
            rows.append([e["zh"], e["en"], where])
        return self.render(["中文", "English", "首次出现"], rows, "30 45 25")


def textbook_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{textbook}`87%``` marks a number quoted from the printed textbook (not computed by us).

    The hygiene test (tests/test_prose.py) accepts numbers inside this role; the page shows the
    number with a small 「教材」 badge so a reader can tell it from the book's own glued results.
    """
    from docutils import nodes

    node = nodes.inline(rawtext, "", classes=["textbook-number"])
    node += nodes.Text(text)
    node += nodes.inline("", "教材", classes=["textbook-badge"])
    return [node], []


def setup(app):
    app.add_role("textbook", textbook_role)
    app.add_directive("results-table", ResultsTable)
    app.add_directive("glossary-table", GlossaryTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "0.1"}
