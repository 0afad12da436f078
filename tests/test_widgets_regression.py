"""Unit tests for book_utils.widgets.regression (chapter 2 demos)."""

import matplotlib

matplotlib.use("Agg")

from book_utils.plotting import use_book_style  # noqa: E402

use_book_style()  # CJK font, so drawing tests do not warn about missing glyphs

import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_utils.widgets import regression as reg  # noqa: E402


def test_make_points_shape_and_reproducible():
    a = reg.make_points(50, noise=0.1, seed=3)
    b = reg.make_points(50, noise=0.1, seed=3)
    assert a.shape == (50, 2)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.abs(a[:, 0]) <= 10)


def test_noiseless_points_are_on_the_line():
    pts = reg.make_points(20, noise=0.0, seed=0)
    np.testing.assert_allclose(pts[:, 1], reg.TRUE_W * pts[:, 0] + reg.TRUE_B)
    w, b = reg.least_squares(pts)
    assert abs(w - reg.TRUE_W) < 1e-10 and abs(b - reg.TRUE_B) < 1e-10


def test_gradient_descent_reaches_least_squares():
    pts = reg.make_points(100, noise=0.1, seed=1)
    run = reg.run_gradient_descent(pts, 0.01, 1000)
    w, b = reg.least_squares(pts)
    assert not run["diverged"]
    assert len(run["w"]) == 1001 and len(run["loss"]) == 1000
    assert abs(run["w"][-1] - w) < 1e-6 and abs(run["b"][-1] - b) < 1e-6
    assert abs(run["w"][-1] - reg.TRUE_W) < 0.01 and abs(run["b"][-1] - reg.TRUE_B) < 0.05
    assert run["loss"][-1] < run["loss"][0]


def test_gradient_matches_finite_differences():
    pts = reg.make_points(30, noise=0.1, seed=2)
    w0, b0, lr = 0.3, -0.2, 1e-3
    run = reg.run_gradient_descent(pts, lr, 1, w0=w0, b0=b0)
    h = 1e-6
    dw = (reg.line_fit_state(w0 + h, b0, pts)["mse"] - reg.line_fit_state(w0 - h, b0, pts)["mse"]) / (2 * h)
    db = (reg.line_fit_state(w0, b0 + h, pts)["mse"] - reg.line_fit_state(w0, b0 - h, pts)["mse"]) / (2 * h)
    assert abs((w0 - run["w"][1]) / lr - dw) < 1e-4
    assert abs((b0 - run["b"][1]) / lr - db) < 1e-4


def test_large_learning_rate_diverges_and_is_cut_short():
    pts = reg.make_points(100, noise=0.1, seed=0)
    run = reg.run_gradient_descent(pts, 0.1, 2000)
    assert run["diverged"] and len(run["loss"]) < 2000


def test_line_fit_state_mse():
    pts = np.array([[0.0, 1.0], [1.0, 3.0]])
    state = reg.line_fit_state(2.0, 1.0, pts)
    assert state["mse"] == 0.0
    np.testing.assert_allclose(state["residual"], [0.0, 0.0])


def test_descend_1d_finds_a_local_minimum():
    path = reg.descend_1d(-2.0, 0.01, 200)
    assert abs(reg.df_xsinx(path[-1])) < 1e-4 and reg.f_xsinx(path[-1]) < reg.f_xsinx(-2.0)


def test_mse_grid_shape():
    W, B, L = reg.mse_grid(reg.make_points(10), resolution=7)
    assert W.shape == B.shape == L.shape == (7, 7) and np.all(L >= 0)


def test_draw_functions_run():
    import matplotlib.pyplot as plt

    pts = reg.make_points(30)
    fig, ax = plt.subplots()
    state = reg.draw_fit_by_hand(1.0, 0.0, pts, show_optimum=True, ax=ax)
    assert "w_opt" in state
    fig, axes = plt.subplots(1, 3)
    run = reg.draw_gradient_descent_lab(0.05, 50, axes=axes)
    assert run["diverged"]
    reg.draw_descent_1d(1.0, 0.01, 10, ax=ax)
    plt.close("all")


def _check_fallback(box, frames, labels):
    import matplotlib.pyplot as plt

    page = box.fallback_html
    assert len(box.children) == 2
    assert page.count("data-key=") == frames and 'data-mode="star"' in page
    assert re.findall(r"<label>(.*?) <(?:input|select)", page) == labels
    assert len(page) < 400_000
    plt.close("all")
    return page


def test_fit_by_hand_and_its_fallback():
    page = _check_fallback(reg.fit_by_hand(), 1 + 6 + 4 + 1, ["w", "b", "显示最优直线"])
    assert '<option value="1">是</option>' in page


def test_gradient_descent_lab_and_its_fallback():
    page = _check_fallback(reg.gradient_descent_lab(), 1 + 5 + 2 + 2, ["学习率", "迭代次数", "噪声 std"])
    assert "&quot;0.0251&quot;, &quot;0.0398&quot;" in page  # converges with a zig-zag / diverges


def test_descent_1d_widget_and_its_fallback():
    _check_fallback(reg.descent_1d_widget(), 1 + 6 + 5 + 3, ["起点 x₀", "学习率", "步数"])


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: reg.make_points(1), ValueError),
        (lambda: reg.make_points(10, noise=-1), ValueError),
        (lambda: reg.make_points(10.5), TypeError),
        (lambda: reg.run_gradient_descent(np.zeros((5, 3)), 0.01, 10), ValueError),
        (lambda: reg.run_gradient_descent(reg.make_points(5), -0.1, 10), ValueError),
        (lambda: reg.run_gradient_descent(reg.make_points(5), 0.01, 0), ValueError),
        (lambda: reg.run_gradient_descent(reg.make_points(5), "fast", 10), TypeError),
        (lambda: reg.line_fit_state(float("nan"), 0.0, reg.make_points(5)), ValueError),
        (lambda: reg.descend_1d(20.0, 0.01), ValueError),
        (lambda: reg.least_squares(np.zeros(4)), ValueError),
    ],
)
def test_bad_inputs(call, error):
    with pytest.raises(error):
        call()
