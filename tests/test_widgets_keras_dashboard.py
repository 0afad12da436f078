"""Tests for book_utils.widgets.keras_dashboard (chapter 8 demos)."""

import math

import matplotlib

matplotlib.use("Agg")

from book_utils.plotting import use_book_style  # noqa: E402  (CJK font for the Chinese labels)

use_book_style()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_utils.widgets import keras_dashboard as kd  # noqa: E402


def test_build_mlp_shapes_and_params():
    model = kd.build_mlp()
    assert model.count_params() == sum(a * b + b for a, b in zip([784, 256, 128, 64, 32], [256, 128, 64, 32, 10]))
    assert model(np.zeros((2, 784), "float32")).shape == (2, 10)
    small = kd.build_mlp((8, 3), input_dim=5)
    assert small.count_params() == 5 * 8 + 8 + 8 * 3 + 3


@pytest.mark.parametrize("units", [(), (8, 0), (8, 2.5), "abc"])
def test_build_mlp_rejects_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        kd.build_mlp(units)


def test_make_optimizer():
    opt = kd.make_optimizer("SGD", 0.1)
    assert isinstance(opt, keras.optimizers.SGD)
    assert math.isclose(float(opt.learning_rate), 0.1, rel_tol=1e-6)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        kd.make_optimizer("adagrad2", 0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        kd.make_optimizer("adam", -1)


def _tiny_data(n=64):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 784)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 10, n), 10)
    return x, y


def test_lr_sweep_and_draw_history():
    import matplotlib.pyplot as plt

    x, y = _tiny_data()
    sweep = kd.lr_sweep(x, y, x[:16], y[:16], learning_rates=(1e-3, 1.0), epochs=1, batch_size=64)
    assert set(sweep) == {("adam", 1e-3), ("adam", 1.0)}
    h = sweep[("adam", 1e-3)]
    assert len(h["loss"]) == 1 and len(h["val_accuracy"]) == 1
    fig, axes = plt.subplots(1, 2)
    result = kd.draw_history(sweep, "adam", 1e-3, axes=axes, logy=False)
    plt.close(fig)
    assert set(result) == {"loss", "val_accuracy", "diverged"}
    assert math.isclose(result["loss"], h["loss"][-1])
    with pytest.raises(KeyError, match="no cached run"):
        kd.draw_history(sweep, "sgd", 1e-3)


def test_draw_history_flags_divergence():
    import matplotlib.pyplot as plt

    fake = {
        ("adam", 1.0): {
            "loss": [2.3, float("nan")],
            "accuracy": [0.1, 0.1],
            "val_loss": [3.0, float("inf")],
            "val_accuracy": [0.1, 0.1],
        }
    }
    fig, axes = plt.subplots(1, 2)
    assert kd.draw_history(fake, "adam", 1.0, axes=axes)["diverged"]
    plt.close(fig)


def test_lr_sweep_rejects_bad_input():
    x, y = _tiny_data(8)
    with pytest.raises(ValueError, match="epochs"):
        kd.lr_sweep(x, y, x, y, epochs=0)
    with pytest.raises(ValueError, match="one-hot"):
        kd.lr_sweep(x, y.argmax(1), x, y, epochs=1)
    with pytest.raises(ValueError, match="same number"):
        kd.lr_sweep(x, y[:4], x, y, epochs=1)


def _backbone_model():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3)(inp)
    h = keras.layers.BatchNormalization()(h)
    backbone = keras.Model(inp, h)
    model = keras.Sequential([backbone, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    return model, backbone


def test_freeze_report_counts():
    model, backbone = _backbone_model()
    conv, bn_gb, bn_stats, head = 3 * 3 * 3 * 4 + 4, 8, 8, 4 * 2 + 2
    total = conv + bn_gb + bn_stats + head
    assert kd.freeze_report(model, backbone, backbone_trainable=True) == {
        "trainable": conv + bn_gb + head,
        "non_trainable": bn_stats,
        "total": total,
    }
    assert kd.freeze_report(model, backbone, backbone_trainable=False)["trainable"] == head
    assert kd.freeze_report(model, backbone, backbone_trainable=True, freeze_batchnorm=True)["trainable"] == conv + head
    # unfreezing again restores BatchNorm's gamma/beta
    assert kd.freeze_report(model, backbone, backbone_trainable=True)["trainable"] == conv + bn_gb + head


def test_freeze_counter_fallback_leaves_the_model_as_shown():
    model, backbone = _backbone_model()
    box = kd.freeze_counter(model, backbone)
    page = box.fallback_html
    assert page.count("data-key=") == 4 and "主干可训练" in page and "仅冻结 BatchNorm" in page
    assert "可训练参数 <b>10</b>" in page and "此项不起作用" in page and len(page) < 400_000
    # the frames toggled the flags; the model ends as the live widget's initial view (backbone trainable)
    assert backbone.trainable and kd.freeze_report(model, backbone, backbone_trainable=True)["trainable"] == 130
    assert "可训练参数 <b>130</b>" in box.children[1].value


def test_lr_explorer_fallback():
    run = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.7], "val_loss": [1.0, 0.6], "val_accuracy": [0.5, 0.6]}
    fake = {(opt, lr): run for opt in ("adam", "sgd") for lr in (1e-3, 1e-2, 1e-1)}
    page = kd.lr_explorer(fake).fallback_html
    assert page.count("data-key=") == 2 * 3 and len(page) < 400_000
    assert all(label in page for label in ("优化器", "SGD", "学习率", "0.01", "损失取对数坐标 = 是"))
    with pytest.raises(ValueError, match="empty"):
        kd.lr_explorer({})
