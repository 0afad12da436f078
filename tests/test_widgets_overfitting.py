"""Unit tests for book_utils.widgets.overfitting."""

import numpy as np
import pytest

from book_utils.widgets import overfitting as ov


def test_poly_fit_capacity():
    low, high = ov.poly_fit(1, noise=0.3, n=40), ov.poly_fit(15, noise=0.3, n=40)
    assert high["train_mse"] < low["train_mse"]
    assert high["curve"].shape == high["grid"].shape
    with pytest.raises(ValueError, match="degree"):
        ov.poly_fit(-1)
    with pytest.raises(ValueError, match="more than"):
        ov.poly_fit(30, n=20)
    with pytest.raises(ValueError, match="noise"):
        ov.sine_data(10, noise=-1)


def test_boundary_grid_and_stats():
    X = np.array([[0, 0], [1, 1]], dtype=float)
    XX, YY = ov.boundary_grid(X, step=0.5, padding=0.0)
    assert XX.shape == YY.shape == (2, 2)
    with pytest.raises(ValueError, match="shaped"):
        ov.boundary_grid(np.zeros(3))
    s = ov.weight_stats(np.array([[-1.0, 1.0], [0.0, 2.0]]))
    assert s == {"min": -1.0, "max": 2.0, "mean": 0.5}
    with pytest.raises(ValueError):
        ov.weight_stats([])


def test_make_plot_and_dashboard_validation():
    import matplotlib

    matplotlib.use("Agg")
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    XX, YY = ov.boundary_grid(X, step=0.2)
    ax = ov.make_plot(X, y, "t", XX, YY, (XX > 0).astype(float))
    assert ax.get_title() == "t"
    with pytest.raises(ValueError):
        ov.regularisation_dashboard({}, X, y)


def test_poly_capacity_lab_fallback():
    import matplotlib

    matplotlib.use("Agg")
    page = ov.poly_capacity_lab(degree=4, noise=0.3, n=40).fallback_html
    # one slider at a time around (4, 0.3, 40): degree 0 1 3 4 5 9 15 25, noise 0…1.5, n 10…200
    assert page.count("data-key=") == 1 + 7 + 4 + 4 and 'data-mode="star"' in page
    assert all(label in page for label in ("阶数", "噪声 std", "样本数")) and len(page) < 400_000


def test_regularisation_dashboard_fallback():
    import matplotlib

    matplotlib.use("Agg")
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    XX, YY = ov.boundary_grid(X, step=0.1)
    rec = {"XX": XX, "YY": YY, "preds": 1 / (1 + np.exp(-XX)), "train_acc": 0.9, "test_acc": 0.8}
    results = {
        "网络层数": {n: rec for n in range(5)},
        "正则化系数": {lam: {**rec, "weights": np.zeros((256, 256))} for lam in (1e-5, 1e-3, 0.1, 0.13)},
    }
    box = ov.regularisation_dashboard(results, X, y)
    page = box.fallback_html
    # one control over (experiment, setting): each experiment's first, middle and last setting
    assert page.count("data-key=") == 3 + 3 and len(page) < 400_000
    labels = ("实验与设置", "网络层数: 0", "网络层数: 2", "正则化系数: 0.001", "正则化系数: 0.13")
    assert all(label in page for label in labels)
    assert "网络层数: 1" not in page
