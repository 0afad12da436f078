"""Real-browser test of the rendered site (headless Chromium through Playwright).

Needs a built site (`jupyter-book build .`) and Debian's chromium. `.ci/run` builds the site first and
sets BOOK_REQUIRE_SITE=1, so there a missing site or browser fails instead of skipping.
Every request that is not to the local server is blocked (a reader behind a filtered network; the
build machine is offline): nothing may depend on a CDN. Pages are checked at a phone (390 px) and a
desktop (1280 px) width; screenshots of both land in `_build/screenshots/`.
"""

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
import yaml

from book_utils.plotting import COLUMN_PX

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("BOOK_REQUIRE_SITE") == "1"
PHONE, DESKTOP = 390, 1280


def _pages():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return ["index"] + re.findall(r"file:\s*(\S+)", toc)


PAGES = _pages()
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]


def _widget_pages():
    """Chapters with a widget: its static fallback (``tfbook-fallback``) or, failing that, the live view."""
    if not HTML.exists():
        return []
    return [
        p
        for p in CHAPTERS
        if (HTML / f"{p}.html").exists()
        and re.search(
            r"tfbook-fallback|application/vnd\.jupyter\.widget-view\+json",
            (HTML / f"{p}.html").read_text(encoding="utf-8"),
        )
    ]


def _missing():
    if not (HTML / "index.html").exists():
        return "site not built (run `jupyter-book build .`)"
    if CHROMIUM is None:
        return "chromium not installed (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright not installed"
    return None


reason = _missing()
if reason and REQUIRED:
    raise RuntimeError(f"browser test required but {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a page closed mid-transfer is not an error
        pass


@pytest.fixture(scope="module")
def server():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = _Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def _open(browser, url, width=DESKTOP, hang_outside=False, wait_until="load"):
    """Open a page with every request off the local server blocked (or left hanging unanswered)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, external = [], []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            return r.continue_()
        external.append(r.request.url)
        if not hang_outside:
            return r.abort()
        return None  # never answered: a CDN that accepts the connection and stalls

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until=wait_until)
    return page, errors, external


# Known upstream quirks of Jupyter Book 1.0.4 / Sphinx 7.4, harmless for readers:
# sphinx-thebe emits its config script twice; Sphinx includes the MathJax script twice once myst-nb
# switches to "always" asset policy (the first copy typesets, the second complains); pydata's theme
# logs its default mode on a fresh profile.
UPSTREAM_QUIRKS = (
    "Identifier 'THEBE_JS_URL' has already been declared",
    "Cannot set property Package of #<Object> which has only a getter",
    "Got invalid theme mode",
)


def _own_errors(errors):
    return [e for e in errors if not any(q in e for q in UPSTREAM_QUIRKS)]


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


# ---------------------------------------------------------------------------------------------
# every page: renders, no CDN, no sideways scroll on a phone, figures at natural size
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_name", PAGES)
def test_page_renders_offline(server, browser, page_name):
    page, errors, external = _open(browser, f"{server}/{page_name}.html")
    try:
        title = page.title()
        assert title and "TensorFlow" in title or re.search(r"[\u4e00-\u9fff]", title)
        h1 = page.locator("article h1").first.inner_text()
        assert re.search(r"[\u4e00-\u9fff]", h1), f"no Chinese heading on {page_name}: {h1!r}"
        if page.locator("article .math").count():
            page.wait_for_function("document.querySelectorAll('mjx-container').length > 0", timeout=20000)
            assert page.locator("article mjx-container svg").count() > 0, "MathJax did not typeset"
        if page_name.startswith("chapters/ch"):  # every chapter draws figures; appendices may not
            sizes = page.eval_on_selector_all("article img", "els => els.map(e => e.complete ? e.naturalWidth : -1)")
            assert sizes and max(sizes) > 0, f"no figure image loaded on {page_name}: {sizes}"
        if page_name.startswith("chapters/"):
            assert (
                page.locator("a[href$='.ipynb'], button[onclick*='.ipynb']").count() > 0 or ".ipynb" in page.content()
            ), "no .ipynb download link"
        _shot(page, page_name.replace("/", "_") + "-desktop")
        if page_name in CHAPTERS:
            _check_listings_collapsed(page, page_name)
            column = page.evaluate("document.querySelector('article').getBoundingClientRect().width")
            assert column >= COLUMN_PX - 1, f"text column {column} px at {DESKTOP} px; figures assume {COLUMN_PX}"
            bad = _figure_problems(page, page_name)
            assert bad == [], f"figures larger than their natural size or the column, or distorted: {bad[:5]}"
        assert external == [], f"{page_name} requests outside the site: {external[:5]}"
        assert _own_errors(errors) == [], f"console errors on {page_name}: {_own_errors(errors)}"
    finally:
        page.close()


@pytest.mark.parametrize("page_name", PAGES + ["genindex", "search"])
def test_no_sideways_scroll_on_a_phone(server, browser, page_name):
    page, _, _ = _open(browser, f"{server}/{page_name}.html", width=PHONE)
    try:
        page.wait_for_timeout(300)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE:
            culprits = page.evaluate(
                """(w) => [...document.querySelectorAll('article *')]
                .filter(e => e.getBoundingClientRect().right > w + 1 && getComputedStyle(e).position !== 'fixed')
                .filter(e => !e.closest('pre, .pst-scrollable-table-container, .table-wrapper, .cell_output, '
                                        + 'mjx-container, .widget-subarea, .highlight'))
                .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40))""",
                PHONE,
            )
            pytest.fail(f"{page_name} is {width} px wide at {PHONE} px: {culprits}")
        if page_name in CHAPTERS or page_name in ("index", "glossary", "results"):
            _shot(page, page_name.replace("/", "_") + "-phone")
        bad = _figure_problems(page, page_name) if page_name in CHAPTERS else []
        assert bad == [], f"figures larger than their natural size or the column, or distorted: {bad[:5]}"
    finally:
        page.close()


def _figure_problems(page, name):
    """Figures drawn larger than their natural CSS size (2x PNGs at half their pixels), wider than
    the column, or distorted; checked on the page load of the desktop and phone tests above."""
    imgs = page.eval_on_selector_all(
        "article .cell_output img",
        """els => els.map(e => ({
        src: e.getAttribute('src'), w: e.getBoundingClientRect().width, nat: e.naturalWidth,
        h: e.getBoundingClientRect().height, natH: e.naturalHeight,
        css: e.style.width ? parseFloat(e.style.width)
             : (e.getAttribute('width') ? parseFloat(e.getAttribute('width')) : null),
        col: e.closest('article').getBoundingClientRect().width}))""",
    )
    bad = []
    for im in imgs:
        if im["nat"] <= 0 or im["w"] == 0:
            continue
        intended = im["css"] or im["nat"]
        distorted = abs(im["h"] / im["w"] - im["natH"] / im["nat"]) > 0.02 * im["natH"] / im["nat"]
        if im["w"] > intended + 1 or im["w"] > im["col"] + 1 or distorted:
            bad.append((name, im["src"][-20:], round(im["w"]), round(im["h"]), intended, round(im["col"])))
    return bad


# ---------------------------------------------------------------------------------------------
# search: every glossary term finds the chapter that introduces it
# ---------------------------------------------------------------------------------------------


def _glossary():
    return yaml.safe_load((ROOT / "glossary.yml").read_text(encoding="utf-8"))


def test_search_finds_every_glossary_term(server, browser):
    page, errors, _ = _open(browser, f"{server}/search.html")
    try:
        page.wait_for_function("typeof Search !== 'undefined' && Search.hasIndex()", timeout=30000)
        failures, missing = [], []
        for entry in _glossary():
            docs = page.evaluate("q => Search._performSearch(...Search._parseQuery(q)).map(r => r[0])", entry["zh"])
            if not docs:
                failures.append(entry["zh"])
            elif not any(d.startswith(f"chapters/{entry['chapter']}_") for d in docs):
                missing.append((entry["zh"], entry["chapter"], docs[:5]))
        assert failures == [], f"glossary terms without search results: {failures}"
        assert missing == [], f"search misses the introducing chapter: {missing}"
    finally:
        page.close()


@pytest.mark.parametrize(
    "query,chapter", [("过拟合", "ch09"), ("反向传播算法", "ch07"), ("什么是卷积神经网络", "ch10")]
)
def test_search_box_shows_results(server, browser, query, chapter):
    """Through the search page a reader uses: the query string is split like the index."""
    if not any(chapter in p for p in CHAPTERS):
        pytest.skip(f"{chapter} not in the toc")
    page, _, _ = _open(browser, f"{server}/search.html?q={query}", width=PHONE)
    try:
        page.wait_for_function(
            "document.querySelector('.search-summary') && "
            "document.querySelector('.search-summary').innerText.length > 0",
            timeout=30000,
        )
        hrefs = page.eval_on_selector_all("ul.search li a", "els => els.map(e => e.getAttribute('href'))")
        assert any(f"chapters/{chapter}_" in h for h in hrefs), f"{query}: {hrefs[:6]}"
        _shot(page, f"search-{chapter}")
    finally:
        page.close()


# ---------------------------------------------------------------------------------------------
# navigation: the chapter drawer and the page contents open and close
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_navigation_toggles(server, browser, width):
    page, errors, _ = _open(browser, f"{server}/{CHAPTERS[min(9, len(CHAPTERS) - 1)]}.html", width=width)
    try:
        assert page.locator(".primary-toggle:visible").count() == 1, "exactly one visible chapter-list toggle"
        tip = page.eval_on_selector(
            ".primary-toggle", "e => e.getAttribute('title') || e.getAttribute('data-bs-original-title')"
        )
        assert tip == "章节目录", f"theme tooltip not in Chinese: {tip!r}"
        chapter_link = page.locator(".bd-sidebar-primary a.reference, #pst-primary-sidebar-modal a.reference")
        if width == DESKTOP:
            assert page.locator(".bd-sidebar-primary").is_visible()
            page.click(".primary-toggle")
            page.wait_for_timeout(400)
            assert not page.locator(".bd-sidebar-primary").is_visible(), "chapter list does not close"
            page.click(".primary-toggle")
            page.wait_for_timeout(400)
            assert page.locator(".bd-sidebar-primary").is_visible(), "chapter list does not reopen"
            # the page contents sit in the right column at this width
            assert page.locator(".bd-sidebar-secondary nav.page-toc a").first.is_visible()
        else:
            assert not chapter_link.first.is_visible()
            page.click(".primary-toggle")
            page.wait_for_timeout(400)
            assert page.evaluate("document.getElementById('pst-primary-sidebar-modal').open")
            assert page.locator("#pst-primary-sidebar-modal a.reference").nth(3).is_visible(), "drawer empty"
            _shot(page, "nav-drawer-phone")
            page.keyboard.press("Escape")
            page.wait_for_timeout(400)
            assert not page.evaluate("document.getElementById('pst-primary-sidebar-modal').open"), "drawer stays open"
            assert page.locator(".secondary-toggle:visible").count() == 1
            page.click(".secondary-toggle")
            page.wait_for_timeout(400)
            assert page.evaluate("document.getElementById('pst-secondary-sidebar-modal').open")
            assert page.locator("#pst-secondary-sidebar-modal nav a").first.is_visible(), "page contents empty"
            _shot(page, "nav-contents-phone")
            page.keyboard.press("Escape")
            page.wait_for_timeout(400)
            assert not page.evaluate("document.getElementById('pst-secondary-sidebar-modal').open")
        assert _own_errors(errors) == []
    finally:
        page.close()


# ---------------------------------------------------------------------------------------------
# widgets without a kernel or CDN
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_name", _widget_pages())
def test_widgets_render_offline_and_paint_fast(server, browser, page_name):
    # a CDN that never answers must not hold the first paint (one page load serves all the checks)
    page, errors, external = _open(browser, f"{server}/{page_name}.html", hang_outside=True, wait_until="commit")
    try:
        page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0", timeout=10000)
        fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
        assert fcp < 2000, f"first paint after {fcp:.0f} ms"
        page.wait_for_load_state("load", timeout=20000)
        assert external == [], f"requests outside the site: {external[:3]}"
        n_views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
        if n_views:  # a widget without a fallback: the saved state renders, with a note on running it live
            page.wait_for_function(f"document.querySelectorAll('.widget-subarea').length >= {n_views}", timeout=20000)
            heights = page.eval_on_selector_all(
                ".widget-subarea", "els => els.map(e => e.getBoundingClientRect().height)"
            )
            assert len(heights) == n_views and min(heights) > 0, f"empty widget areas: {heights}"
            assert page.locator(".tfbook-widget-note").count() == n_views, "a live-only widget without its note"
        fallbacks = page.locator(".tfbook-fallback")
        for i in range(fallbacks.count()):
            _check_fallback(fallbacks.nth(i), f"{page_name} widget {i}")
        SHOTS.mkdir(parents=True, exist_ok=True)
        first = fallbacks.first if fallbacks.count() else page.locator(".widget-subarea").first
        first.scroll_into_view_if_needed()
        first.screenshot(path=str(SHOTS / (page_name.replace("/", "_") + "-widget.png")))
        assert _own_errors(errors) == [], f"console errors: {_own_errors(errors)}"
    finally:
        page.close()


_VISIBLE = "el => [...el.querySelectorAll('[data-key]')].filter(f => !f.hidden).map(f => f.dataset.key)"


def _check_fallback(fallback, where):
    """One frame visible and taller than 0 px; moving the first control shows another frame."""
    visible = fallback.evaluate(_VISIBLE)
    assert len(visible) == 1, f"{where}: {len(visible)} frames visible"
    box = fallback.locator(f'[data-key="{visible[0]}"]').bounding_box()
    assert box and box["height"] > 0, f"{where}: empty fallback frame"
    control = fallback.locator("select[data-c], input[type=range][data-c]").first
    assert control.count(), f"{where}: a fallback without a control"
    control.evaluate(
        "c => { c.value = String((+c.value + 1) % ((c.options || {}).length || (+c.max + 1)));"
        " c.dispatchEvent(new Event('input')); }"
    )
    after = fallback.evaluate(_VISIBLE)
    assert len(after) == 1 and after != visible, f"{where}: moving a control did not change the frame"


# ---------------------------------------------------------------------------------------------
# library listings, buttons
# ---------------------------------------------------------------------------------------------


def _check_listings_collapsed(page, name):
    """Every show_source listing shows its signature and docstring; its body is closed."""
    listings = page.locator(".bu-listing")
    for i in range(listings.count()):
        listing = listings.nth(i)
        body = listing.locator("details.bu-listing-body")
        assert listing.locator(".highlight").first.is_visible(), f"{name}: listing signature not shown"
        assert body.get_attribute("open") is None, f"{name}: listing body open by default"
        assert not body.locator(".highlight").is_visible(), f"{name}: listing body visible"
    return listings.count()


def test_library_listing_opens_on_click(server, browser):
    name = next((p for p in CHAPTERS if 'class="bu-listing"' in (HTML / f"{p}.html").read_text(encoding="utf-8")), None)
    assert name, "no collapsed show_source listing found"
    page, _, _ = _open(browser, f"{server}/{name}.html")
    try:
        body = page.locator(".bu-listing details.bu-listing-body").first
        body.locator("summary").click()
        assert body.locator(".highlight").is_visible(), "toggle does not show the body"
    finally:
        page.close()


def test_buttons_match_the_repository_setting(server, browser):
    """No repository, issue or launch button unless _config.yml names the repository; download stays."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url = (config.get("repository") or {}).get("url") or ""
    page, _, _ = _open(browser, f"{server}/{CHAPTERS[0]}.html")
    try:
        html = page.content()
        assert re.search(r"_sources/[^\"']*\.ipynb", html), "no download link for the .ipynb"
        buttons = page.locator(
            ".dropdown-launch-buttons, .btn-source-repository-button, "
            ".btn-source-issues-button, .btn-source-edit-button"
        ).count()
        if url:
            assert buttons > 0, "repository URL set but no repository/launch buttons"
        else:
            assert buttons == 0, "repository/launch buttons while repository.url is unset"
    finally:
        page.close()
