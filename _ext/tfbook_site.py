"""Sphinx extension for the book's site.

``{results-table}`` renders every ``bu.record_result`` stored in the chapters' metadata, and
``{glossary-table}`` renders ``glossary.yml``, ``{smoke-table}`` and the ``{full-needs}`` role render
``smoke_full.json`` (written by ``python -m book_utils.execute --smoke``); all are computed at build
time, so the pages can never drift from the notebooks, the term list or the measurement.

The reader's site (see README, "The site"):

* Chinese search: a jieba user dictionary built from ``glossary.yml`` and the chapter and section
  titles (``html_search_options['dict']``), and a query splitter that cuts a query into the terms
  of the index (longest match), so index and query split alike.
* Stable readable anchors: every section id is its label or its slug (``#sec-10-2-1``, ``#小结``),
  never ``#idN``.
* Chinese typography: whitespace from a source line break between two CJK characters is removed.
* ``bu.show_source`` listings: signature and docstring visible, the body behind a toggle.
* Widgets: the html-manager bundle is served from ``_static/widgets`` (no CDN), each widget gets a
  short Chinese note on what it does and how to run it live.
* Repository and launch buttons appear only when ``repository.url`` in ``_config.yml`` is set.
"""

from __future__ import annotations

import ast
import html as html_lib
import json
import re
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


def _percent(name: str, value, unit: str) -> str:
    """A result as the reader expects it: accuracies and agreements in %, others with their unit."""
    if value is None:
        return "—"
    if not unit and re.search(r"(accuracy|agreement)$", name) and abs(value) <= 1:
        return f"{value * 100:.2f}%"
    return f"{value:.4g}{unit or ''}"


class ResultsTable(_TableDirective):
    """Per chapter: each recorded result, the textbook's number and ours, linked to its section.

    The directive's content names the results: ``name | 中文名称`` one per line; results without a
    line show their id.
    """

    has_content = True

    def run(self):
        labels = {}
        for line in self.content:
            if "|" in line:
                key, label = (x.strip() for x in line.split("|", 1))
                labels[key] = label
        lines: list[str] = []
        for stem in sorted(_toc_chapters().values()):
            path = ROOT / "chapters" / f"{stem}.ipynb"
            self.state.document.settings.record_dependencies.add(str(path))
            nb = json.loads(path.read_text(encoding="utf-8"))
            meta = nb.get("metadata", {}).get("book", {})
            results = meta.get("results", [])
            if not results:
                continue
            where = _result_sections(nb)
            title = _chapter_title(nb, stem)
            wall = meta.get("wall_time_s")
            profile = meta.get("profile", results[0].get("profile", "?"))
            facts = [f"`{profile}` 规模", str(meta.get("device", "?")).upper()]
            if wall:
                facts.append(f"整章运行 {wall:,.0f} s")
            lines += [
                "",
                f"```{{rubric}} {title}",
                "```",
                "",
                f"{{doc}}`打开本章 </chapters/{stem}>` · " + " · ".join(facts),
                "",
                "```{list-table}",
                ":header-rows: 1",
                ":widths: 52 24 24",
                ":class: tfbook-results",
                "",
                "* - 实验",
                "  - 教材",
                "  - 本书",
            ]
            for r in results:
                label = labels.get(r["name"], f"`{r['name']}`")
                anchor = where.get(r["name"])
                if anchor:
                    num = anchor[1].split()[0] if re.match(r"[A-Z]?[\d.]+\s", anchor[1]) else "正文"
                    label += f" ([{num}](/chapters/{stem}.ipynb#{anchor[0]}))"
                lines += [
                    f"* - {label}",
                    f"  - {_percent(r['name'], r.get('textbook'), r.get('unit', ''))}",
                    f"  - {_percent(r['name'], r.get('value'), r.get('unit', ''))}",
                ]
            lines += ["```", ""]
        if not lines:
            return []
        from docutils import nodes

        container = nodes.container(classes=["tfbook-results-page"])
        self.state.nested_parse(StringList(lines, source="tfbook_site"), self.content_offset, container)
        return [container]


def _nb_sections(nb: dict):
    """Yield (anchor, heading, cell) for every cell, with the anchor the build gives its section."""
    used: set[str] = set()
    anchor, heading, label = "", "", None
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                m_label = re.fullmatch(r"\(([^)\s]+)\)=\s*", line)
                m_head = re.match(r"(#{1,6})\s+(.*)", line)
                if m_label:
                    label = m_label.group(1)
                elif m_head:
                    heading = _clean_heading(m_head.group(2))
                    slug = base = heading_slug(heading)
                    i = 1
                    while slug in used:
                        slug, i = f"{base}-{i}", i + 1
                    used.add(slug)
                    anchor, label = (label or slug), None
        yield anchor, heading, cell


def _result_sections(nb: dict) -> dict[str, tuple[str, str]]:
    """Result name -> (anchor, heading) of the section whose cell printed ``📌 name = …``."""
    found: dict[str, tuple[str, str]] = {}
    for anchor, heading, cell in _nb_sections(nb):
        if cell["cell_type"] != "code" or not anchor:
            continue
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            for name in re.findall(r"📌 (\S+) =", text):
                found.setdefault(name, (anchor, heading))
    return found


def _clean_heading(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](link) -> text
    return re.sub(r"[`*_]", "", text).strip()


def intro_section(stem: str, candidates: list[str]) -> tuple[str, str] | None:
    """(anchor, heading) of the section of ``chapters/<stem>.ipynb`` that introduces a term.

    The first bold mention wins, else the first mention in the text; each candidate (the term,
    then shorter or English forms) is tried in turn. Anchors follow ``heading_slug`` and the
    ``(label)=`` targets, exactly as the build assigns them.
    """
    path = ROOT / "chapters" / f"{stem}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    blocks: list[tuple[str, str, str]] = []  # (anchor, heading, text line)
    for anchor, heading, cell in _nb_sections(nb):
        if cell["cell_type"] == "markdown":
            blocks += [
                (anchor, heading, line)
                for line in "".join(cell["source"]).splitlines()
                if not re.match(r"#{1,6}\s|\([^)\s]+\)=", line)
            ]
    for term in candidates:
        if not term:
            continue
        pattern = re.compile(re.escape(term), re.I)
        bold = [b for b in blocks if any(pattern.search(x) for x in re.findall(r"\*\*(.+?)\*\*", b[2]))]
        plain = [b for b in blocks if pattern.search(b[2]) and b[0]]
        for found in (bold, plain):
            if found and found[0][0]:
                return found[0][0], found[0][1]
    return None


class GlossaryTable(_TableDirective):
    """The glossary as a definition list: term, English, definition, link to where it is introduced."""

    def run(self):
        source = ROOT / "glossary.yml"
        self.state.document.settings.record_dependencies.add(str(source))
        entries = yaml.safe_load(source.read_text(encoding="utf-8"))
        chapters = _toc_chapters()
        lines: list[str] = []
        current = None
        for e in sorted(entries, key=lambda e: (e["chapter"], e["en"].lower())):
            stem = chapters.get(e["chapter"])
            if stem is None:
                continue
            path = ROOT / "chapters" / f"{stem}.ipynb"
            self.state.document.settings.record_dependencies.add(str(path))
            if e["chapter"] != current:
                current = e["chapter"]
                title = _chapter_title(json.loads(path.read_text(encoding="utf-8")), stem)
                lines += ["", f"```{{rubric}} {title}", "```", ""]
            en = e["en"]
            candidates = [
                e["zh"],
                e["zh"][:-1] if len(e["zh"]) >= 4 else "",
                en.split(" (")[0],
                en.split()[0] if len(en.split()[0]) >= 5 else "",
            ]
            where = intro_section(stem, candidates)
            if where:
                link = f"[{where[1]}](/chapters/{stem}.ipynb#{where[0]})"
            else:
                chapter = _chapter_title(json.loads(path.read_text(encoding="utf-8")), stem)
                link = f"{{doc}}`{chapter} </chapters/{stem}>`"
            lines += [f"**{e['zh']}** · {en}", f":  {e.get('def', '')}首次出现：{link}", ""]
        container = __import__("docutils").nodes.container(classes=["tfbook-glossary"])
        self.state.nested_parse(StringList(lines, source="tfbook_site"), self.content_offset, container)
        return [container]


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


SMOKE_REPORT = ROOT / "smoke_full.json"


def _smoke_rows() -> dict[str, dict]:
    """Notebook stem → its smoke run of the ``full`` profile (seconds, peak MB, model parameters)."""
    if not SMOKE_REPORT.is_file():
        return {}
    return {row["notebook"]: row for row in json.loads(SMOKE_REPORT.read_text(encoding="utf-8"))}


def _param_count(count: int) -> str:
    return f"{count / 1e6:.2f} M" if count >= 1e5 else f"{count:,}"


def _model_sizes(row: dict, most: int = 2) -> str:
    models = list(row.get("params", {}).items())[:most]
    return "、".join(f"`{name}` {_param_count(count)}" for name, count in models) or "（无 Keras 模型）"


def full_needs(row: dict) -> str:
    """One sentence for a chapter: the memory and model sizes its ``full`` profile needs, as measured."""
    memory = f"峰值内存约 {row['peak_mb'] / 1024:.1f} GB"
    if not row.get("params"):
        return memory + "（本章没有 Keras 模型）"
    name, count = next(iter(row["params"].items()))
    return f"{memory}，最大的 Keras 模型（变量 {name}）有 {_param_count(count)} 个参数"


def full_needs_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{full-needs}`ch10_cnn``` states what the chapter's ``full`` profile needs, from ``smoke_full.json``."""
    from docutils import nodes

    row = _smoke_rows().get(text.strip())
    if row is None:
        msg = inliner.reporter.error(
            f"no smoke run of {text!r} in {SMOKE_REPORT.name}; run "
            "python -m book_utils.execute --smoke --report smoke_full.json chapters/*.ipynb",
            line=lineno,
        )
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    inliner.document.settings.record_dependencies.add(str(SMOKE_REPORT))
    node = nodes.inline(rawtext, "", classes=["full-needs"])
    node += nodes.Text(full_needs(row))
    return [node], []


class SmokeTable(_TableDirective):
    """Per notebook: the smoke run of the ``full`` profile (seconds, peak memory, largest models)."""

    def run(self):
        rows = _smoke_rows()
        self.state.document.settings.record_dependencies.add(str(SMOKE_REPORT))
        toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")  # every notebook in the book (both appendices)
        stems = {stem for stem in rows if f"chapters/{stem}" in toc}
        table = [
            [f"{{doc}}`{stem} </chapters/{stem}>`", f"{row['seconds']:.0f}", f"{row['peak_mb']:,}", _model_sizes(row)]
            for stem, row in sorted(rows.items())
            if stem in stems
        ]
        return self.render(["Notebook", "秒", "峰值内存 MB", "最大的模型（参数）"], table, "28 10 14 48")


# ---------------------------------------------------------------------------------------------
# Headings: readable, stable anchors
# ---------------------------------------------------------------------------------------------

_NUMBERED = re.compile(r"^(?:([A-Za-z])\.?)?(\d+(?:\.\d+)*)(?=\s|$|[^\w.])")


def heading_slug(title: str) -> str:
    """Anchor for a heading: section numbers where there are any, else the words of the title.

    ``10.2.1 单通道输入`` → ``sec-10-2-1``; ``B.1 数据并行`` → ``sec-b-1``; ``第10章 …`` →
    ``chapter-10``; ``附录A …`` → ``appendix-a``; ``小结`` → ``小结``; ``tf.constant(x)`` →
    ``tf-constant-x``. Used by myst (``myst_heading_slug_func``) and as the section's HTML id.
    """
    t = title.strip()
    m = re.match(r"^第\s*(\d+)\s*章", t)
    if m:
        return f"chapter-{m.group(1)}"
    m = re.match(r"^附录\s*([A-Za-z])", t)
    if m:
        return f"appendix-{m.group(1).lower()}"
    m = _NUMBERED.match(t)
    if m and (m.group(1) is None or m.group(2)):
        parts = ([m.group(1).lower()] if m.group(1) else []) + m.group(2).split(".")
        return "sec-" + "-".join(parts)
    slug = re.sub(r"[^\w]+", "-", t.lower()).strip("-_")
    return slug or "section"


def _stable_section_ids(app, doctree):
    """Give every section its label or slug as first id and drop docutils' ``idN`` ids."""
    from docutils import nodes

    slugs = getattr(doctree, "myst_slugs", {}) or {}
    by_old = {v[1]: k for k, v in slugs.items()}
    renamed: dict[str, str] = {}
    for section in doctree.findall(nodes.section):
        ids = section["ids"]
        if not ids:
            continue
        explicit = [doctree.nameids.get(n) for n in section["names"] if doctree.nametypes.get(n)]
        explicit = [i for i in explicit if i and i in ids]
        primary = explicit[0] if explicit else by_old.get(ids[0]) or section.get("slug")
        if not primary:
            continue
        if primary in doctree.ids and doctree.ids[primary] is not section:
            continue  # taken by another node; keep docutils' id
        old = ids[0]
        new_ids = [primary] + [i for i in ids if i != primary and not re.fullmatch(r"id\d+", i)]
        for i in ids:
            if re.fullmatch(r"id\d+", i) and i != primary:
                renamed[i] = primary
                doctree.ids.pop(i, None)
        section["ids"] = new_ids
        doctree.ids[primary] = section
        if old in by_old:
            slug = by_old[old]
            line, _, text = slugs[slug]
            slugs[slug] = (line, primary, text)
    if renamed:
        for node in doctree.findall(nodes.Element):
            if node.get("refid") in renamed:
                node["refid"] = renamed[node["refid"]]
        for name, i in list(doctree.nameids.items()):
            if i in renamed:
                doctree.nameids[name] = renamed[i]


# ---------------------------------------------------------------------------------------------
# Chinese typography: no space from a source line break between two CJK characters
# ---------------------------------------------------------------------------------------------

_CJK = "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_BREAK = re.compile(r"[ \t]*\n\s*")
_QUOTES = "\u00b7\u2014\u2018\u2019\u201c\u201d\u2026"  # used in Chinese text, shared with Latin


def _joins(before: str, after: str) -> bool:
    """Whether a line break between these characters is a break inside Chinese text."""
    cjk_b, cjk_a = bool(_CJK_CHAR.fullmatch(before or "x")), bool(_CJK_CHAR.fullmatch(after or "x"))
    return (
        (cjk_b or before in _QUOTES) and (cjk_a or after in _QUOTES) and (cjk_b or cjk_a) if before and after else False
    )


def _skip_types():
    from docutils import nodes

    return (
        nodes.literal,
        nodes.literal_block,
        nodes.math,
        nodes.math_block,
        nodes.raw,
        nodes.comment,
        nodes.FixedTextElement,
        nodes.doctest_block,
    )


def remove_cjk_line_breaks(doctree) -> int:
    """Drop whitespace containing a newline between two CJK characters (outside code and math).

    Works across inline markup (``**误差**\\n梯度``): the characters on either side are taken from
    the neighbouring text nodes of the same paragraph. Returns the number of breaks removed.
    """
    from docutils import nodes

    skip = _skip_types()
    removed = 0
    for block in list(doctree.findall(nodes.TextElement)):
        if isinstance(block, skip) or isinstance(block.parent, nodes.TextElement):
            continue
        if any(isinstance(a, skip) for a in _ancestors(block)):
            continue
        texts = []  # (node, editable)
        for t in block.findall(nodes.Text):
            editable = not any(isinstance(a, skip) for a in _ancestors(t, stop=block))
            texts.append((t, editable))
        if not any(e and "\n" in str(t) for t, e in texts):
            continue
        strings = [str(t) for t, _ in texts]
        for k, (t, editable) in enumerate(texts):
            s = strings[k]
            if not editable or "\n" not in s:
                continue

            def before(pos, k=k):
                if pos > 0:
                    return strings[k][pos - 1]
                for j in range(k - 1, -1, -1):
                    if strings[j]:
                        return strings[j][-1]
                return ""

            def after(pos, k=k):
                if pos < len(strings[k]):
                    return strings[k][pos]
                for j in range(k + 1, len(strings)):
                    if strings[j]:
                        return strings[j][0]
                return ""

            out, last = [], 0
            for m in _BREAK.finditer(s):
                out.append(s[last : m.start()])
                b, a = before(m.start()), after(m.end())
                if _joins(b, a):
                    removed += 1
                else:
                    out.append(m.group(0))
                last = m.end()
            out.append(s[last:])
            new = "".join(out)
            if new != s:
                strings[k] = new
                parent = t.parent  # replace by identity: Text compares equal by value
                parent[next(i for i, c in enumerate(parent.children) if c is t)] = nodes.Text(new)
    return removed


def glossary_terms_of(docname: str) -> list[str]:
    """The glossary terms a chapter introduces (``glossary.yml``'s ``chapter``), split at spaces."""
    prefix = docname.rsplit("/", 1)[-1].split("_")[0]
    if not docname.startswith("chapters/"):
        return []
    entries = yaml.safe_load((ROOT / "glossary.yml").read_text(encoding="utf-8"))
    words: list[str] = []
    for e in entries:
        if e["chapter"] == prefix:
            words += [e["zh"]] + (e["zh"].split() if " " in e["zh"] else [])
    return list(dict.fromkeys(words))


def add_glossary_keywords(docname: str, doctree) -> None:
    """``<meta name="keywords">`` with the glossary terms the chapter introduces.

    Sphinx indexes these keywords as whole terms, so searching a glossary term finds the chapter
    that introduces it even where the chapter words it differently (最小二乘法 / 最小二乘).
    """
    from docutils import nodes

    terms = glossary_terms_of(docname)
    if terms:
        doctree.settings.record_dependencies.add(str(ROOT / "glossary.yml"))
        doctree.insert(0, nodes.meta(name="keywords", content=", ".join(terms)))


def _ancestors(node, stop=None):
    p = node.parent
    while p is not None and p is not stop:
        yield p
        p = p.parent


def _read_transform():
    from sphinx.transforms import SphinxTransform

    class BookReadTransform(SphinxTransform):
        """Section ids and CJK line breaks, before Sphinx collects labels (850) and the toc."""

        default_priority = 840

        def apply(self, **kwargs):
            _stable_section_ids(self.app, self.document)
            remove_cjk_line_breaks(self.document)
            add_glossary_keywords(self.env.docname, self.document)

    return BookReadTransform


# ---------------------------------------------------------------------------------------------
# Search: jieba user dictionary from the glossary and the titles; query split like the index
# ---------------------------------------------------------------------------------------------

_CJK_RUN = re.compile(f"[{_CJK}]{{2,12}}")

#: Cuts a query into terms of the search index by longest match, like jieba cut the pages
#: (the index vocabulary is jieba's segmentation with the book's dictionary). Non-CJK parts are
#: split as Sphinx does by default.
JS_SPLITTER = r"""
var splitQuery = (query) => {
  const idx = (typeof Search !== "undefined" && Search._index) ? Search._index : null;
  const has = (w) => !!idx && (Object.prototype.hasOwnProperty.call(idx.terms, w) ||
                               Object.prototype.hasOwnProperty.call(idx.titleterms, w));
  const out = [];
  for (const part of query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)) {
    if (!part) continue;
    for (const run of part.match(/\p{Script=Han}+|[^\p{Script=Han}]+/gu)) {
      if (!/\p{Script=Han}/u.test(run)) { out.push(run); continue; }
      if (run.length < 2 || has(run)) { out.push(run); continue; }
      let i = 0;
      while (i < run.length) {
        let j = Math.min(run.length, i + 12);
        while (j > i + 1 && !has(run.slice(i, j))) j--;
        if (j > i + 1) { out.push(run.slice(i, j)); i = j; } else { i++; }
      }
    }
  }
  return out;
};
"""


def search_words(root: Path = ROOT) -> list[str]:
    """Words for jieba's user dictionary: glossary terms and the CJK runs of every heading."""
    words: list[str] = []
    for e in yaml.safe_load((root / "glossary.yml").read_text(encoding="utf-8")):
        words += [w for w in re.split(r"\s+", e["zh"]) if _CJK_CHAR.search(w) and len(w) > 1]
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    sources = [root / f"{f}.ipynb" for f in re.findall(r"file:\s*(\S+)", toc)] + [root / "index.md"]
    for path in sources:
        if not path.exists():
            continue
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        else:
            text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if re.match(r"#{1,6}\s", line):
                words += _CJK_RUN.findall(re.sub(r"[\u3000-\u303f\uff00-\uffef]", " ", line))
    return sorted(set(words), key=lambda w: (len(w), w))


def _search_language():
    from sphinx.search.zh import SearchChinese

    class BookChinese(SearchChinese):
        """Sphinx's Chinese search with the book's dictionary and a query splitter to match."""

        js_splitter_code = JS_SPLITTER

    return BookChinese


def _config_inited(app, config):
    # search: the user dictionary is generated from the glossary and the headings
    dict_path = Path(app.doctreedir).parent / "tfbook_jieba_dict.txt"
    dict_path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{w}\n" for w in search_words())
    if not dict_path.exists() or dict_path.read_text(encoding="utf-8") != text:
        dict_path.write_text(text, encoding="utf-8")
    config.html_search_options = {**(config.html_search_options or {}), "dict": str(dict_path)}

    # Jupyter Book adds every *.js under _static to html_js_files, i.e. to every page and without
    # `defer`: the widget bundle (loaded by myst-nb on widget pages only, deferred) and MathJax
    # (loaded by sphinx.ext.mathjax) must not ride along, or MathJax loads twice and 1.9 MB of
    # widget code blocks the first paint of every page.
    def own_loader(entry):
        name = entry[0] if isinstance(entry, (tuple, list)) else str(entry)
        return name.startswith(("widgets/", "mathjax/"))

    config.html_js_files = [e for e in config.html_js_files if not own_loader(e)]

    # repository and launch buttons only when the repository URL is set (one place: _config.yml)
    theme = config.html_theme_options
    if (theme.get("repository_url") or "").strip():
        theme.setdefault("use_repository_button", True)
        theme.setdefault("use_issues_button", True)
    else:
        for key in (
            "repository_url",
            "use_repository_button",
            "use_issues_button",
            "use_edit_page_button",
            "launch_buttons",
        ):
            theme.pop(key, None)


# ---------------------------------------------------------------------------------------------
# Post-transforms on notebook outputs: show_source listings, widget notes, Chinese prompts
# ---------------------------------------------------------------------------------------------

_PROMPTS = {
    "Show code cell source": "显示代码",
    "Hide code cell source": "隐藏代码",
    "Show code cell content": "显示代码单元",
    "Hide code cell content": "隐藏代码单元",
    "Show code cell output": "显示输出",
    "Hide code cell output": "隐藏输出",
    "Show code cell outputs": "显示输出",
    "Hide code cell outputs": "隐藏输出",
}

_CONTROL_KINDS = {
    "Slider": "滑块",
    "Dropdown": "下拉框",
    "Checkbox": "复选框",
    "ToggleButtons": "切换按钮",
    "Button": "按钮",
    "Text": "输入框",
    "Play": "播放按钮",
    "RadioButtons": "单选框",
}


def split_listing(code: str) -> tuple[str, str]:
    """(head, body) of a listing: decorators, signature and docstring; then the rest."""
    lines = code.splitlines(keepends=True)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, ""
    if not tree.body:
        return code, ""
    node = tree.body[0]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and len(tree.body) == 1:
        first = node.body[0]
        doc = (
            isinstance(first, ast.Expr)
            and isinstance(getattr(first, "value", None), ast.Constant)
            and isinstance(first.value.value, str)
        )
        end = first.end_lineno if doc else first.lineno - 1
        if doc and len(node.body) == 1:
            return code, ""
    else:  # a module: its docstring, if any
        first = tree.body[0]
        doc = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
        if not doc:
            return code, ""
        end = first.end_lineno
    return "".join(lines[:end]), "".join(lines[end:])


def _listing_html(app, code: str, name: str) -> str | None:
    head, body = split_listing(code)
    n_body = len(body.strip("\n").splitlines())
    if n_body < 8:
        return None
    hl = app.builder.highlighter

    def block(src):
        return f'<div class="highlight-python notranslate">{hl.highlight_block(src.rstrip(), "python")}</div>'

    return (
        f'<div class="bu-listing" data-name="{html_lib.escape(name)}">{block(head)}'
        f'<details class="bu-listing-body"><summary>展开 <code>{html_lib.escape(name)}</code> '
        f"的实现（{n_body} 行）</summary>{block(body)}</details></div>"
    )


def _widget_note(state: dict, model_id: str) -> str:
    """One Chinese sentence on what a widget offers, from its saved state."""
    kinds: list[str] = []
    labels: list[str] = []
    seen = set()

    def walk(mid):
        if mid in seen or mid not in state:
            return
        seen.add(mid)
        m = state[mid]
        st = m.get("state", {})
        name = m.get("model_name", "").removesuffix("Model")
        for key, kind in _CONTROL_KINDS.items():
            if key in name and not name.endswith("Style"):
                kinds.append(kind)
                d = re.sub(r"<[^>]+>", "", str(st.get("description") or "")).strip().rstrip(":：")
                if d:
                    labels.append(d)
                break
        for child in st.get("children", []) or []:
            walk(str(child).removeprefix("IPY_MODEL_"))

    walk(model_id)
    what = ""
    if kinds:
        counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
        what = "、".join(f"{n} 个{k}" if n > 1 else k for k, n in counts.items())
        if labels:
            what += "（" + "、".join(dict.fromkeys(labels)) + "）"
        what += "。"
    return (
        f"{what}静态网页没有 Python 内核："
        "这里显示的是保存时的状态，改变控件不会重新计算。"
        "要实时交互，请用页面顶部的下载按钮取得本章 .ipynb，"
        "在 JupyterLab 中从头运行到这个单元。"
    )


def _output_post_transform():
    from docutils import nodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class BookOutputs(SphinxPostTransform):
        default_priority = 210  # after myst-nb's HideInputCells (199)
        formats = ("html",)

        def run(self, **kwargs):
            for node in list(self.document.findall(nodes.Element)):
                if "prompt_show" in node.attributes:
                    node["prompt_show"] = _PROMPTS.get(node["prompt_show"], node["prompt_show"])
                    node["prompt_hide"] = _PROMPTS.get(node["prompt_hide"], node["prompt_hide"])
            widget_state = None
            for raw in list(self.document.findall(nodes.raw)):
                if raw.get("format") != "html":
                    continue
                text = raw.astext()
                if 'class="bu-source"' in text:
                    self.collapse_listing(raw, text)
                elif "application/vnd.jupyter.widget-view+json" in text:
                    if widget_state is None:
                        widget_state = self.widget_state()
                    self.note_widget(raw, text, widget_state)

        def collapse_listing(self, raw, text):
            m = re.search(r"<pre[^>]*>(.*?)</pre>", text, re.S)
            if not m:
                return
            code = html_lib.unescape(re.sub(r"<[^>]+>", "", m.group(1)))
            name = re.search(r"<div title='([^']*)'>", text)
            new = _listing_html(self.app, code, name.group(1) if name else "source")
            if new:
                # not "text_html": myst-nb paints HTML outputs light in the dark theme; ours follows the theme
                raw.replace_self(nodes.raw("", new, format="html", classes=["output", "bu-listing-output"]))

        def widget_state(self):
            path = Path(self.env.doc2path(self.env.docname))
            try:
                nb = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            return (
                nb.get("metadata", {})
                .get("widgets", {})
                .get("application/vnd.jupyter.widget-state+json", {})
                .get("state", {})
            )

        def note_widget(self, raw, text, state):
            m = re.search(r'"model_id":\s*"([0-9a-f]+)"', text)
            output = raw.parent
            while output is not None and "cell_output" not in output.get("classes", []):
                output = output.parent
            if m is None or output is None:
                return
            note = nodes.container(classes=["tfbook-widget-note"])
            para = nodes.paragraph()
            para += nodes.inline("", "交互组件", classes=["tfbook-widget-note-label"])
            para += nodes.Text("：")
            para += nodes.Text(_widget_note(state, m.group(1)))
            note += para
            output.parent.insert(output.parent.index(output) + 1, note)

    return BookOutputs


def drop_unused_widget_scripts(app, pagename, templatename, context, doctree):
    """No widget bundle or saved widget state on a page whose widgets all show their static fallback.

    Runs before myst-nb's own handler (priority 500), which adds the page's registered scripts.
    """
    if "application/vnd.jupyter.widget-view+json" in context.get("body", ""):
        return
    js_files = getattr(app.env, "nb_metadata", {}).get(pagename, {}).get("js_files", {})
    for key in [k for k in js_files if k.startswith("ipywidgets_")]:
        del js_files[key]


def setup(app):
    app.add_role("textbook", textbook_role)
    app.add_directive("results-table", ResultsTable)
    app.add_directive("glossary-table", GlossaryTable)
    app.add_role("full-needs", full_needs_role)
    app.add_directive("smoke-table", SmokeTable)
    app.add_search_language(_search_language())
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", drop_unused_widget_scripts, priority=400)
    app.add_transform(_read_transform())
    app.add_post_transform(_output_post_transform())
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "0.1"}
