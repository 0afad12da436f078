import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from book_utils.plotting import use_book_style  # noqa: E402
from book_utils.widgets import intro  # noqa: E402

use_book_style()  # CJK font, so drawing tests do not warn about missing glyphs


def test_quadratic_gradient_matches_analytic():
    r = intro.quadratic_gradient(1, 2, 3, 4)
    assert r == {"y": 27.0, "tape": 10.0, "analytic": 10.0}
    assert intro.quadratic_gradient(-2.5, 0.5, 0, -1.5)["tape"] == pytest.approx(8.0)
    with pytest.raises(ValueError, match="finite"):
        intro.quadratic_gradient(float("inf"), 0, 0, 0)


def test_draw_quadratic():
    assert intro.draw_quadratic(1, 0, 0, 2)["tape"] == 4.0
    plt.close("all")


def test_autograd_explorer_and_its_fallback():
    box = intro.autograd_explorer()
    page = box.fallback_html
    assert len(box.children) == 3
    assert page.count("data-key=") == 1 + 4 + 4 + 2 + 8 and 'data-mode="star"' in page
    assert re.findall(r"<label>(.*?) <(?:input|select)", page) == ["a", "b", "c", "w"]
    assert len(page) < 400_000
    plt.close("all")


def test_timing_playground_times_one_sweep_and_previews_its_ranges(monkeypatch):
    calls = []

    def sweep(*args, **kwargs):
        calls.append(args)
        return {"n": [1, 2, 4, 8, 16], "CPU": [1.0, 1.0, 1.1, 1.3, 2.0]}

    monkeypatch.setattr(intro, "timing_sweep", sweep)
    box = intro.timing_playground(initial_range=(0, 4))
    page = box.fallback_html
    assert len(box.children) == 4 and [c[:2] for c in calls] == [("vector", (0, 4))], "the preview must not re-time"
    assert page.count("data-key=") == 3  # displayed ranges (0, 2), (0, 3), (0, 4)
    assert "形状 = 向量 [1,n]@[n,1]" in page and "<label>log₂ n <select" in page
    assert len(page) < 400_000
    plt.close("all")


def test_timing_window():
    res = {"n": [1, 2, 4, 8], "CPU": [1.0, 2.0, 3.0, 4.0]}
    assert intro.timing_window(res, (1, 2)) == {"n": [2, 4], "CPU": [2.0, 3.0]}


def test_timing_sweep():
    res = intro.timing_sweep("square", (0, 3), ["CPU"], number=2, repeat=1)
    assert res["n"] == [1, 2, 4, 8] and len(res["CPU"]) == 4 and min(res["CPU"]) > 0
    with pytest.raises(ValueError, match="log2_range"):
        intro.timing_sweep("vector", (5, 2))
    with pytest.raises(ValueError, match="devices"):
        intro.timing_sweep("vector", (0, 1), ["TPU"])
