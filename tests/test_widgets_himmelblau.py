"""Tests for book_utils.widgets.himmelblau."""

import numpy as np
import pytest

from book_utils.widgets import himmelblau as H


def test_minima_are_zeros():
    assert np.allclose(H.himmelblau(H.MINIMA), 0, atol=1e-9)
    assert H.himmelblau(0.0, 0.0) == 170.0


def test_descend_reaches_a_minimum():
    r = H.descend((4.0, 0.0), lr=0.01, steps=200)
    assert not r["diverged"]
    assert r["path"].shape == (201, 2)
    assert r["distance"] < 1e-3 and r["f"] < 1e-6


def test_momentum_and_divergence():
    r = H.descend((-2.0, 2.0), lr=0.005, steps=300, momentum=True)
    assert not r["diverged"] and r["distance"] < 1e-2
    bad = H.descend((5.0, 5.0), lr=0.05, steps=100)
    assert bad["diverged"] and len(bad["path"]) < 101


def test_nearest_minimum():
    assert H.nearest_minimum((3.1, 2.1))[0] == 0
    with pytest.raises(ValueError):
        H.nearest_minimum((1.0, 2.0, 3.0))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(start=(1.0,)),
        dict(start=(0.0, np.nan)),
        dict(start=(0, 0), lr=0),
        dict(start=(0, 0), steps=0),
        dict(start=(0, 0), steps=2.5),
    ],
)
def test_descend_bad_input(kwargs):
    with pytest.raises(ValueError):
        H.descend(**kwargs)


def test_lab_builds_with_a_fallback():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    box = H.himmelblau_lab()
    assert box.children
    page = box.fallback_html
    # one control at a time: 4 start points, 3 learning rates, momentum off/on, steps fixed at 200
    assert page.count("data-key=") == 1 + 3 + 2 + 1 and 'data-mode="star"' in page
    assert all(label in page for label in ("起点 (x₀, y₀)", "(-2, 2)", "学习率", "0.05", "步数 = 200", "动量 SGD"))
    assert len(page) < 400_000
