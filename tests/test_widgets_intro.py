import matplotlib
import pytest

from book_utils.widgets import intro

matplotlib.use("Agg")


def test_quadratic_gradient_matches_analytic():
    r = intro.quadratic_gradient(1, 2, 3, 4)
    assert r == {"y": 27.0, "tape": 10.0, "analytic": 10.0}
    assert intro.quadratic_gradient(-2.5, 0.5, 0, -1.5)["tape"] == pytest.approx(8.0)
    with pytest.raises(ValueError, match="finite"):
        intro.quadratic_gradient(float("inf"), 0, 0, 0)


def test_draw_and_widgets_build():
    assert intro.draw_quadratic(1, 0, 0, 2)["tape"] == 4.0
    assert len(intro.autograd_explorer().children) == 3
    assert len(intro.timing_playground(initial_range=(0, 3)).children) == 4


def test_timing_sweep():
    res = intro.timing_sweep("square", (0, 3), ["CPU"], number=2)
    assert res["n"] == [1, 2, 4, 8] and len(res["CPU"]) == 4 and min(res["CPU"]) > 0
    with pytest.raises(ValueError, match="log2_range"):
        intro.timing_sweep("vector", (5, 2))
    with pytest.raises(ValueError, match="devices"):
        intro.timing_sweep("vector", (0, 1), ["TPU"])
