"""Real-browser test of the rendered site (headless Chromium through Playwright).

Needs a built site (`jupyter-book build .`) and Debian's chromium. `.ci/run` builds the site first and
sets BOOK_REQUIRE_SITE=1, so there a missing site or browser fails instead of skipping.
Screenshots land in `_build/screenshots/`.
"""
import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("BOOK_REQUIRE_SITE") == "1"


def _pages():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return ["index"] + re.findall(r"file:\s*(chapters/\S+)", toc)


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


@pytest.fixture(scope="module")
def server():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _open(browser, url):
    """Open a page with outside requests blocked (the build machine is offline; CDNs serve readers)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, external = [], []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:")):
            return r.continue_()
        external.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    return page, errors, external


# Known upstream quirks of Jupyter Book 1.0.4 / Sphinx 7.4, harmless for readers:
# sphinx-thebe emits its config script twice; Sphinx includes the MathJax script twice once myst-nb
# switches to "always" asset policy (the first copy typesets, the second complains); pydata's theme
# logs its default mode on a fresh profile.
UPSTREAM_QUIRKS = ("Identifier 'THEBE_JS_URL' has already been declared",
                   "Cannot set property Package of #<Object> which has only a getter",
                   "Got invalid theme mode")


def _own_errors(errors):
    """Console errors not caused by blocked outside requests (CDN scripts for widgets) or known quirks."""
    benign = ("net::ERR_FAILED", "Failed to load resource", "require is not defined", "ERR_BLOCKED",
              *UPSTREAM_QUIRKS)
    return [e for e in errors if not any(b in e for b in benign)]


@pytest.mark.parametrize("page_name", _pages())
def test_page_renders(server, browser, page_name):
    page, errors, _ = _open(browser, f"{server}/{page_name}.html")
    try:
        title = page.title()
        assert title and "TensorFlow" in title or re.search(r"[\u4e00-\u9fff]", title)
        h1 = page.locator("article h1").first.inner_text()
        assert re.search(r"[\u4e00-\u9fff]", h1), f"no Chinese heading on {page_name}: {h1!r}"
        if page.locator("article .math").count():
            page.wait_for_function("document.querySelectorAll('mjx-container').length > 0", timeout=20000)
            assert page.locator("article mjx-container svg").count() > 0, "MathJax did not typeset"
        if page_name.startswith("chapters/"):
            imgs = page.locator("article img")
            assert imgs.count() > 0, f"{page_name} has no figure"
            sizes = page.eval_on_selector_all(
                "article img", "els => els.map(e => e.complete ? e.naturalWidth : -1)")
            assert max(sizes) > 0, f"no figure image loaded on {page_name}: {sizes}"
            assert page.locator("a[href$='.ipynb'], button[onclick*='.ipynb']").count() > 0 or \
                "download" in page.content().lower(), "no .ipynb download link"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / (page_name.replace("/", "_") + ".png")), full_page=False)
        assert _own_errors(errors) == [], f"console errors on {page_name}: {_own_errors(errors)}"
    finally:
        page.close()


def test_search_finds_chinese_term(server, browser):
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    term = "卷积" if "ch10" in toc else "感知机"
    page, errors, _ = _open(browser, f"{server}/search.html?q={term}")
    try:
        page.wait_for_selector("#search-results ul li, ul.search li", timeout=30000)
        assert page.locator("ul.search li").count() > 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "search.png"))
    finally:
        page.close()


def test_launch_and_download_links_point_at_the_notebook(server, browser):
    page, _, _ = _open(browser, f"{server}/chapters/ch01_intro.html")
    try:
        html = page.content()
        assert "ch01_intro.ipynb" in html
        assert re.search(r"colab\.research\.google\.com/github/[^\"']+/chapters/ch01_intro\.ipynb", html)
        assert re.search(r"mybinder\.org/v2/gh/[^\"']+\?urlpath=[^\"']*chapters%2Fch01_intro\.ipynb", html) or \
            re.search(r"mybinder\.org/v2/gh/[^\"']+chapters/ch01_intro\.ipynb", html)
    finally:
        page.close()
