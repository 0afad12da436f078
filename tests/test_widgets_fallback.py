"""Tests for the widgets' static fallbacks (book_utils.widgets._fallback)."""

import re

import matplotlib.pyplot as plt
import pytest

from book_utils.widgets import _fallback as F


def test_frame_keys_grid_then_star():
    assert F.frame_keys([2, 3], [0, 0]) == ("grid", [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)])
    mode, keys = F.frame_keys([5, 5, 5], [2, 0, 4], max_frames=24)
    assert mode == "star" and keys[0] == (2, 0, 4) and len(keys) == 1 + 4 + 4 + 4
    assert all(sum(a != b for a, b in zip(k, (2, 0, 4))) == 1 for k in keys[1:])


def test_fallback_html_frames_controls_and_default():
    calls = []

    def render(a, b):
        calls.append((a, b))
        return f"<b>{a}-{b}</b>"

    page = F.fallback_html(render, {"a": ("甲", [1, 2, 3], 2), "b": ("乙", [("关", False), ("开", True)])})
    assert len(calls) == 6 and page.endswith("<!-- /tfbook-fallback -->")
    visible = re.findall(r'<div data-key="([\d,]+)">', page)
    assert visible == ["1,0"], "exactly the default frame is visible before the script runs"
    assert page.count("hidden>") == 5 and "<b>2-False</b>" in page
    assert '<option value="1">开</option>' in page and "<select" in page
    assert F.HINT in page and F.STAR_HINT not in page


def test_fallback_figure_frames_are_small_pngs_at_natural_width():
    def render(k):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, 1], [0, k])
        return fig

    before = set(plt.get_fignums())
    page = F.fallback_html(render, {"k": ("k", [1.0, 2.0, 3.0, 4.0, 5.0])})
    widths = set(map(int, re.findall(r'<img src="data:image/png;base64,[^"]+" width="(\d+)"', page)))
    assert widths and all(300 < w <= 400 for w in widths)
    assert 'type="range"' in page and len(page) < 5 * 20_000
    assert set(plt.get_fignums()) == before, "frames must close their figures"


def test_bad_frame_and_control():
    with pytest.raises(TypeError, match="matplotlib figure, PNG bytes or an HTML string"):
        F.fallback_html(lambda a: 42, {"a": ("a", [1])})
    with pytest.raises(ValueError, match="at least one option"):
        F.fallback_html(lambda a: "", {"a": ("a", [])})
    with pytest.raises(ValueError, match="expected PNG"):
        F.png_width(b"GIF89a")


def test_with_fallback_keeps_the_live_widget():
    import ipywidgets as W

    box = F.with_fallback(W.VBox([W.IntSlider()]), lambda n: f"<i>{n}</i>", {"n": ("n", [1, 2])})
    bundle = box._repr_mimebundle_()
    assert {"text/plain", "application/vnd.jupyter.widget-view+json", "text/html"} <= set(bundle)
    assert bundle["text/html"] == box.fallback_html and isinstance(box, W.VBox)


def test_frame_cap_keeps_the_default_frame(monkeypatch):
    monkeypatch.setenv(F.FRAMES_ENV, "2")
    page = F.fallback_html(lambda a: f"<i>{a}</i>", {"a": ("a", [1, 2, 3, 4, 5], 3)})
    assert page.count("data-key=") == 2 and '<div data-key="2"><i>3</i></div>' in page
