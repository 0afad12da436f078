"""Checks over the built HTML that need no browser: Chinese typography, anchors, links, assets.

Needs a built site (`jupyter-book build .`); `.ci/run` builds it first and sets BOOK_REQUIRE_SITE=1,
so there a missing site fails instead of skipping.
"""

import os
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
REQUIRED = os.environ.get("BOOK_REQUIRE_SITE") == "1"

if not (HTML / "index.html").exists():
    if REQUIRED:
        raise RuntimeError("site test required but the site is not built")
    pytest.skip("site not built (run `jupyter-book build .`)", allow_module_level=True)

bs4 = pytest.importorskip("bs4")
sys.path.insert(0, str(ROOT / "_ext"))
import tfbook_site  # noqa: E402

TOC = (ROOT / "_toc.yml").read_text(encoding="utf-8")
PAGES = ["index"] + re.findall(r"file:\s*(\S+)", TOC)
CJK = tfbook_site._CJK
LINE_BREAK_SPACE = re.compile(f"[{CJK}][ \\t]*\\n\\s*[{CJK}]")
NOT_PROSE = {"math", "highlight", "cell_output", "output", "MathJax"}


def _soup(page):
    return bs4.BeautifulSoup((HTML / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


def _prose_strings(soup):
    article = soup.find("article") or soup
    for s in article.find_all(string=True):
        if s.find_parent(["code", "pre", "script", "style", "kbd", "samp"]):
            continue
        if any(set(a.get("class") or []) & NOT_PROSE for a in s.parents):
            continue
        yield str(s)


@pytest.mark.parametrize("page", list(dict.fromkeys(PAGES + ["glossary", "results"])))
def test_no_space_between_cjk_characters_from_line_breaks(page):
    hits = [m.group(0) for s in _prose_strings(_soup(page)) for m in LINE_BREAK_SPACE.finditer(s)]
    assert hits == [], f"{len(hits)} line-break spaces inside Chinese text on {page}: {hits[:10]}"


def test_line_break_transform_keeps_code_and_latin_spacing():
    from docutils import nodes

    doc = nodes.document(None, None)
    para = nodes.paragraph()
    para += [nodes.Text("误差、\n梯度和 "), nodes.literal("", "a\nb"), nodes.Text("\n使用\nTensorFlow\n训练")]
    strong = nodes.strong("", "损失")
    para += [nodes.Text("。\n"), strong, nodes.Text("\n函数")]
    doc += para
    tfbook_site.remove_cjk_line_breaks(doc)
    assert para.astext() == "误差、梯度和 a\nb\n使用\nTensorFlow\n训练。损失函数"


@pytest.mark.parametrize(
    "title,slug",
    [
        ("10.2.1 单通道输入", "sec-10-2-1"),
        ("B.1 数据并行", "sec-b-1"),
        ("A1 创建张量", "sec-a-1"),
        ("第10章 卷积神经网络", "chapter-10"),
        ("附录A 速查", "appendix-a"),
        ("小结", "小结"),
        ("tf.constant(value, dtype=None)", "tf-constant-value-dtype-none"),
    ],
)
def test_heading_slug(title, slug):
    assert tfbook_site.heading_slug(title) == slug


@pytest.mark.parametrize("page", PAGES)
def test_every_heading_has_a_readable_anchor(page):
    soup = _soup(page)
    ids = [s["id"] for s in soup.select("article section[id]")]
    assert ids, f"no sections on {page}"
    generic = [i for i in ids if re.fullmatch(r"id\d+", i)]
    assert generic == [], f"{page}: {len(generic)} headings with #idN anchors"
    assert not re.search(r'href="[^"]*#id\d+"', str(soup.find("article"))), f"{page} links to an #idN anchor"
    if page.startswith("chapters/ch"):
        assert any(re.fullmatch(r"sec-\d+(-\d+)+", i) for i in ids), f"{page}: no numbered section anchors"


def test_glossary_links_every_term_to_an_existing_section():
    entries = yaml.safe_load((ROOT / "glossary.yml").read_text(encoding="utf-8"))
    assert all(e.get("def") and re.search(f"[{CJK}]", e["def"]) for e in entries), "a term lacks its Chinese definition"
    soup = _soup("glossary")
    terms = soup.select("article dl dt")
    assert len(terms) == len(entries)
    ids_cache = {}
    for dt in terms:
        dd = dt.find_next_sibling("dd")
        link = dd.find("a", href=re.compile(r"chapters/.*\.html#"))
        assert link is not None, f"{dt.get_text()} has no link to its section"
        url = urlsplit(link["href"])
        target = (HTML / url.path).resolve()
        if target not in ids_cache:
            ids_cache[target] = {
                t["id"] for t in bs4.BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser").select("[id]")
            }
        assert unquote(url.fragment) in ids_cache[target], f"{link['href']} points at no anchor"


def test_results_page_is_named_and_linked():
    soup = _soup("results")
    rows = soup.select("article table.tfbook-results tbody tr")
    assert rows, "results page has no results"
    raw_ids = [r.td.get_text() for r in rows if re.fullmatch(r"ch\d\d_\w+.*", r.td.get_text().strip())]
    assert raw_ids == [], f"results without a Chinese name in results.md: {raw_ids}"


def test_full_profile_needs_come_from_the_smoke_run():
    rows = tfbook_site._smoke_rows()
    notebooks = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
    assert sorted(rows) == notebooks, "smoke_full.json must cover every notebook (execute --smoke --report)"
    table = [tr.td.get_text().strip() for tr in _soup("results").select("#full-smoke table tbody tr")]
    assert table == notebooks
    for stem in notebooks:
        source = (ROOT / "chapters" / f"{stem}.ipynb").read_text(encoding="utf-8")
        if "profile_config(" in source:  # a chapter with profiles states what its full profile needs
            shown = _soup(f"chapters/{stem}").select_one(".full-needs")
            assert shown is not None and shown.get_text() == tfbook_site.full_needs(rows[stem]), stem


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("chapters/")])
def test_pages_load_no_cdn_script_and_widget_code_only_where_needed(page):
    text = (HTML / f"{page}.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', text)
    outside = [s for s in scripts if re.match(r"(https?:)?//", s)]
    assert outside == [], f"{page} loads scripts from outside the site: {outside}"
    embeds = [s for s in scripts if "widgets/embed.js" in s]
    has_widgets = "application/vnd.jupyter.widget-view+json" in text
    assert len(embeds) == (1 if has_widgets else 0), f"{page}: widget bundle included {len(embeds)}x"
    if not has_widgets:
        assert "application/vnd.jupyter.widget-state+json" not in text, f"{page}: saved widget state nothing uses"
    assert len([s for s in scripts if "tex-svg" in s]) <= 1, f"{page} loads MathJax twice"
    for tag in re.findall(r"<script[^>]*widgets/[^>]*>", text):
        assert "defer" in tag, f"{page}: widget script would block the first paint: {tag}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("chapters/")])
def test_widget_fallbacks_stay_within_the_page_weight_budget(page):
    text = (HTML / f"{page}.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<div class="tfbook-fallback"[\s\S]*?<!-- /tfbook-fallback -->', text)
    assert sum(len(b) for b in blocks) <= 1_500_000, f"{page}: widget fallbacks add more than 1.5 MB"
    for b in blocks:
        assert b.count("data-key=") >= 2 and "<script>" in b, f"{page}: a fallback without frames to switch"


def test_widget_bundle_is_served_with_its_licence():
    static = HTML / "_static" / "widgets"
    assert (static / "embed.js").stat().st_size > 100_000
    assert "BSD 3-Clause" in (static / "LICENSE").read_text(encoding="utf-8")
    assert (static / "embed.js.LICENSE.txt").exists()


def test_search_dictionary_holds_the_glossary():
    words = set(tfbook_site.search_words())
    entries = yaml.safe_load((ROOT / "glossary.yml").read_text(encoding="utf-8"))
    for e in entries:
        for w in e["zh"].split():
            if re.search(f"[{CJK}]", w) and len(w) > 1:
                assert w in words, w


def test_listing_split_keeps_signature_and_docstring_visible():
    code = 'def f(x,\n      y):\n    """Add.\n\n    More.\n    """\n    z = x + y\n    return z\n'
    head, body = tfbook_site.split_listing(code)
    assert head.endswith('    """\n') and head.startswith("def f(x,")
    assert body == "    z = x + y\n    return z\n"
    assert tfbook_site.split_listing("class A:\n    x = 1\n") == ("class A:\n", "    x = 1\n")
    assert tfbook_site.split_listing("def g():\n    '''Only a docstring.'''\n")[1] == ""
