"""Tests for book_utils.widgets.activations."""

import numpy as np
import pytest

from book_utils.widgets import activations as A


@pytest.mark.parametrize("name", A.ACTIVATIONS)
def test_curve_derivative_matches_finite_difference(name):
    c = A.activation_curve(name, (-4.0, 4.0), slope=0.2, num=401)
    fd = np.gradient(c["y"], c["x"])
    keep = np.abs(c["x"]) > 0.1  # skip the kink of ReLU/LeakyReLU
    assert np.allclose(c["dy"][keep][1:-1], fd[keep][1:-1], atol=1e-3)


def test_curve_values_and_saturation():
    c = A.activation_curve("sigmoid", (-6, 6), num=3)
    assert np.allclose(c["y"], [1 / (1 + np.exp(6)), 0.5, 1 / (1 + np.exp(-6))])
    assert c["saturated"].tolist() == [True, False, True]
    lr = A.activation_curve("leaky_relu", (-1, 1), slope=0.3, num=2)
    assert np.allclose(lr["y"], [-0.3, 1.0]) and np.allclose(lr["dy"], [0.3, 1.0])


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(name="swish"), ValueError),
        (dict(name="relu", x_range=(3, 1)), ValueError),
        (dict(name="relu", x_range="ab"), TypeError),
        (dict(name="leaky_relu", slope=-0.1), ValueError),
        (dict(name="relu", num=1), ValueError),
    ],
)
def test_curve_bad_input(kwargs, exc):
    with pytest.raises(exc):
        A.activation_curve(**kwargs)


def test_softmax_temperature():
    r = A.softmax_temperature([2.0, 1.0, 0.1], 1.0, 0)
    assert np.isclose(r["probs"].sum(), 1.0)
    assert np.isclose(r["ce"], -np.log(r["probs"][0]))
    hot = A.softmax_temperature([2.0, 1.0, 0.1], 100.0)
    cold = A.softmax_temperature([2.0, 1.0, 0.1], 0.1)
    assert hot["entropy"] > r["entropy"] > cold["entropy"]
    assert np.isclose(hot["entropy"], np.log(3), atol=1e-3)
    big = A.softmax_temperature([1000.0, 0.0], 1.0)  # no overflow
    assert np.all(np.isfinite(big["probs"]))


@pytest.mark.parametrize(
    "args",
    [([1.0], 1.0, 0), ([1.0, 2.0], 0.0, 0), ([1.0, 2.0], 1.0, 2), ([[1.0, 2.0]], 1.0, 0), ([1.0, np.nan], 1.0, 0)],
)
def test_softmax_temperature_bad_input(args):
    with pytest.raises(ValueError):
        A.softmax_temperature(*args)


def test_saturation_at():
    r = A.saturation_at(0.0)
    assert r == {"sigmoid": 0.5, "d_sigmoid": 0.25, "tanh": 0.0, "d_tanh": 1.0}
    assert A.saturation_at(10.0)["d_sigmoid"] < 1e-4
    with pytest.raises(ValueError):
        A.saturation_at(float("inf"))


def test_widgets_build():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    for make in (A.activation_explorer, A.softmax_explorer, A.saturation_explorer):
        assert make().children
