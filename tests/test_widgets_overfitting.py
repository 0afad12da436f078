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
