"""Tests for the chapter 10 widgets (book_utils.widgets.cnn_demo) and their static fallbacks.

The pure functions behind them are tested in test_models_cnn.py.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_utils.plotting import use_book_style  # noqa: E402  (CJK font: realistic frame sizes, no glyph warnings)
from book_utils.widgets import cnn_demo  # noqa: E402

use_book_style()


def _frames(box):
    page = box.fallback_html
    assert len(page) < 400_000, f"fallback is {len(page) // 1024} KB"
    return page, page.count("data-key=")


def test_kernel_editor_fallback_over_presets():
    image = np.random.default_rng(0).uniform(size=(24, 32, 3)).astype("float32")
    box = cnn_demo.kernel_editor(image, preset="blur")
    page, n = _frames(box)
    assert n == len(cnn_demo.KERNEL_PRESETS) and "预设卷积核" in page and "<select" in page
    assert box.children[1].layout.width.endswith("px"), "the live image is shown at its natural width"
    with pytest.raises(ValueError, match="unknown preset"):
        cnn_demo.kernel_editor(image, preset="nope")


def test_conv_calculator_draws_the_transposed_grid_and_has_a_fallback():
    box = cnn_demo.conv_calculator()
    page, n = _frames(box)
    assert n == len(cnn_demo.CONV_PRESETS) * 2 * 3
    assert all(label in page for label in ("设置", "模式", "转置卷积", "输出位置编号", "i=4, k=4, s=2, p=1, d=1"))
    mode, image = box.children[0].children[1].children[0], box.children[1]
    conv_png = image.value
    mode.value = "转置卷积"  # the picture follows the mode (it used to keep the last convolution)
    assert image.value != conv_png and "(7−1)·2" in box.children[0].children[1].children[2].value


def test_feature_map_browser_fallback():
    import keras

    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(4, 3),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(8, 3),
            keras.layers.Flatten(),
        ]
    )
    images = np.random.default_rng(0).uniform(-1, 1, (5, 12, 12, 1)).astype("float32")
    box = cnn_demo.feature_map_browser(model, images)
    page, n = _frames(box)
    assert n == 3 * 3 and "样本" in page and "0: " in page  # 3 samples × the 3 feature-map layers


def test_bn_explorer_fallback():
    page, n = _frames(cnn_demo.bn_explorer())
    assert n == 2 * 3 * 2 and all(label in page for label in ("batch", "momentum", "training=False"))
