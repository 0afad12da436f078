"""Unit tests for book_utils.widgets.classification (chapter 3 demos)."""

import matplotlib

matplotlib.use("Agg")

from book_utils.plotting import use_book_style  # noqa: E402

use_book_style()  # CJK font, so drawing tests do not warn about missing glyphs

import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_utils.widgets import classification as cls  # noqa: E402

IMAGES = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
LABELS = np.array([3, 1, 4, 1, 5])
SCORES = np.eye(10)[[3, 1, 4, 7, 5]]


def test_digit_state_with_scores():
    s = cls.digit_state(3, IMAGES, LABELS, SCORES)
    assert s["label"] == 1 and s["pred"] == 7 and not s["correct"]
    assert s["image"].shape == (28, 28) and s["scores"].shape == (10,)
    assert cls.digit_state(0, IMAGES, LABELS, SCORES)["correct"]


def test_digit_state_without_scores():
    s = cls.digit_state(0, IMAGES, LABELS)
    assert "pred" not in s and s["label"] == 3


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: cls.digit_state(5, IMAGES, LABELS), ValueError),
        (lambda: cls.digit_state(-1, IMAGES, LABELS), ValueError),
        (lambda: cls.digit_state(1.0, IMAGES, LABELS), TypeError),
        (lambda: cls.digit_state(0, IMAGES, LABELS[:3]), ValueError),
        (lambda: cls.digit_state(0, IMAGES.reshape(5, -1), LABELS), ValueError),
        (lambda: cls.digit_state(0, IMAGES, LABELS, SCORES[:2]), ValueError),
        (lambda: cls.polynomial_capacity(-1), ValueError),
        (lambda: cls.polynomial_capacity(15), ValueError),
        (lambda: cls.polynomial_capacity(2.5), TypeError),
        (lambda: cls.capacity_data(n_train=1), ValueError),
        (lambda: cls.capacity_data(noise=-0.1), ValueError),
        (lambda: cls.draw_pixel_matrix(np.zeros((2, 2, 2))), ValueError),
    ],
)
def test_bad_inputs(call, error):
    with pytest.raises(error):
        call()


def test_capacity_overfits_at_high_degree():
    low = cls.polynomial_capacity(1, 0.25, seed=0)
    mid = cls.polynomial_capacity(2, 0.25, seed=0)
    high = cls.polynomial_capacity(10, 0.25, seed=0)
    assert high["train_mse"] < mid["train_mse"] < low["train_mse"]
    assert mid["test_mse"] < low["test_mse"] and mid["test_mse"] < high["test_mse"]


def test_capacity_data_reproducible():
    a = cls.capacity_data(seed=4)
    b = cls.capacity_data(seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert len(a[0]) == 15 and np.all(np.diff(a[0]) >= 0) and 0 <= a[0].min() and a[0].max() <= 1


def test_draw_functions_run():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    s = cls.draw_digit(2, IMAGES, LABELS, SCORES, show_matrix=True, axes=axes)
    assert s["correct"]
    fig, axes = plt.subplots(1, 2)
    cls.draw_digit(2, IMAGES, LABELS, axes=axes)
    r = cls.draw_capacity(3)
    assert r["train_mse"] >= 0
    plt.close("all")


def _check_fallback(box, frames, mode, labels):
    import matplotlib.pyplot as plt

    page = box.fallback_html
    assert len(box.children) == 2
    assert page.count("data-key=") == frames and f'data-mode="{mode}"' in page
    assert re.findall(r"<label>(.*?) <(?:input|select)", page) == labels
    assert len(page) < 400_000
    plt.close("all")
    return page


def test_preview_indices():
    assert cls.preview_indices(0, LABELS, SCORES, consecutive=2) == [("#0", 0), ("#1", 1), ("#3（预测错误）", 3)]
    assert cls.preview_indices(3, LABELS) == [("#3", 3), ("#4", 4)]


def test_mnist_browser_and_its_fallback():
    digits = np.zeros_like(IMAGES)  # MNIST-like: a stroke on a black background (few annotated pixels)
    digits[:, 8:20, 11:17] = IMAGES[:, 8:20, 11:17]
    box = cls.mnist_browser(digits, LABELS, SCORES, index=1)
    page = _check_fallback(box, 4 * 2, "grid", ["测试样本", "显示像素矩阵"])
    assert '<option value="0" selected>#1</option>' in page and "#3（预测错误）" not in page  # #3 is shown anyway


def test_capacity_slider_and_its_fallback():
    _check_fallback(cls.capacity_slider(), 1 + 6 + 3, "star", ["多项式次数", "噪声 std"])


def test_mnist_datasets_pipeline():
    from book_utils import data

    train, test = data.mnist_datasets(
        batch_size=64, train_size=256, test_size=100, value_range=(0.0, 1.0), one_hot=True
    )
    x, y = next(iter(train))
    assert tuple(x.shape) == (64, 784) and x.dtype.name == "float32"
    assert tuple(y.shape) == (64, 10) and np.allclose(y.numpy().sum(1), 1.0)
    assert 0.0 <= float(x.numpy().min()) and float(x.numpy().max()) <= 1.0
    assert sum(int(b[0].shape[0]) for b in test) == 100
    train2, _ = data.mnist_datasets(batch_size=32, train_size=64, flatten=False)
    x2, y2 = next(iter(train2))
    assert tuple(x2.shape) == (32, 28, 28) and y2.dtype.name == "int32"
    assert float(x2.numpy().min()) >= -1.0 and float(x2.numpy().min()) < 0.0


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(value_range=(1.0, 0.0)), ValueError),
        (dict(value_range="ab"), TypeError),
        (dict(train_size=0), ValueError),
        (dict(batch_size=0), ValueError),
    ],
)
def test_mnist_datasets_bad_inputs(kwargs, error):
    from book_utils import data

    with pytest.raises(error):
        data.mnist_datasets(**kwargs)
