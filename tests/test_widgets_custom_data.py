"""Tests for book_utils.widgets.custom_data (chapter 15 widgets)."""

import numpy as np
import pytest

from book_utils.widgets import custom_data as cdw


def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)


def test_pipeline_preview_is_seeded_and_normalised():
    a = cdw.pipeline_preview(image(), size=32, seed=3)
    b = cdw.pipeline_preview(image(), size=32, seed=3)
    np.testing.assert_array_equal(a["tensor"], b["tensor"])
    assert a["tensor"].shape == (32, 32, 3)
    assert 0 <= a["display"].min() and a["display"].max() <= 1
    plain = cdw.pipeline_preview(image(), size=32, flip=False, crop=False, normalise=False)
    assert plain["tensor"].min() >= 0 and plain["tensor"].max() <= 1 and not plain["flipped"]


def test_pipeline_preview_bad_input():
    with pytest.raises(ValueError):
        cdw.pipeline_preview(np.zeros((4, 4), np.uint8))
    with pytest.raises(TypeError):
        cdw.pipeline_preview(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError):
        cdw.pipeline_preview(image(), size=4)


def test_split_counts():
    labels = np.tile(np.arange(5), 20)  # 100 labels
    res = cdw.split_counts(labels, train=0.6, val=0.2, num_classes=5, min_val=5)
    assert res["sizes"] == (60, 20, 20)
    assert res["counts"].sum() == 100 and (res["counts"][1] == 4).all()
    assert res["warnings"] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError):
        cdw.split_counts(labels, train=0.9, val=0.2)
    with pytest.raises(ValueError):
        cdw.split_counts(np.array([0.5, 1.5]))


def test_split_inspector_fallback():
    pytest.importorskip("ipywidgets")
    box = cdw.split_inspector(np.tile(np.arange(3), 10), ["a", "b", "c"], min_val=2)
    page = box.fallback_html
    assert page.count("data-key=") == 5 * 3 and 'data-mode="grid"' in page  # train × val fractions
    assert "训练比例" in page and "验证比例" in page and "训练／验证／测试 = 18／6／6" in page
    assert "⚠ 验证图片少于 2 张的类别" in page and len(page) < 400_000  # e.g. train 0.8, val 0.1: 1 per class
    assert box.children[1].layout.width.endswith("px")  # the live image at its natural width


def test_pipeline_explorer_fallback():
    pytest.importorskip("ipywidgets")
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (40, 50, 3), dtype=np.uint8) for _ in range(8)]
    box = cdw.pipeline_explorer(images, [f"图{i}" for i in range(8)], size=32)
    page = box.fallback_html
    # 6 of the images × 3 switches: one control at a time around the default (image 0, all on)
    assert page.count("data-key=") == 1 + 5 + 3 and 'data-mode="star"' in page
    assert all(w in page for w in ("图像序号", "随机翻转", "随机裁剪", "标准化", "逐通道均值"))
    assert len(page) < 400_000 and box.children[2].layout.width.endswith("px")


@pytest.fixture(scope="module")
def densenet():
    import keras

    return keras.applications.DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3))


def test_freeze_depth_table_is_monotone(densenet):
    rows = cdw.freeze_depth_table(densenet)
    assert [r["k"] for r in rows] == [0, 1, 2, 3, 4]
    assert rows[0]["trainable"] == 0
    trainable = [r["trainable"] for r in rows]
    assert trainable == sorted(trainable) and len(set(trainable)) == 5
    total = {r["trainable"] + r["non_trainable"] for r in rows}
    assert len(total) == 1  # only the split moves

    def size(layer):
        return sum(int(np.prod(w.shape)) for w in layer.weights if "moving" not in w.path)

    everything = sum(size(layer) for layer in densenet.layers)
    stem = sum(size(layer) for layer in densenet.layers if layer.name.startswith("conv1"))
    assert rows[4]["trainable"] == everything - stem > 0  # k = 4 unfreezes everything but the stem
    assert densenet.trainable_weights == []  # left frozen


def test_freeze_depth_bad_input(densenet):
    from book_utils.models import transfer

    with pytest.raises(ValueError, match=r"in \[0, 4\], got 5"):
        transfer.unfreeze_last_blocks(densenet, 5)
    with pytest.raises(TypeError, match="DenseNet"):
        transfer.unfreeze_last_blocks("densenet", 1)
    with pytest.raises(ValueError, match="not a layer name"):
        transfer.densenet_block_of("dense_7")
    assert transfer.densenet_block_of("conv3_block2_1_conv") == 2
    assert transfer.densenet_block_of("pool4_conv") == 3


def test_freeze_depth_widget_builds(densenet):
    pytest.importorskip("ipywidgets")
    box = cdw.freeze_depth_explorer(densenet)
    slider, readout = box.children
    slider.value = 3
    assert "可训练" in readout.value and densenet.trainable_weights


def test_freeze_depth_explorer_fallback():
    pytest.importorskip("ipywidgets")
    import keras

    # a tiny model named like a keras.applications DenseNet: stem, four dense blocks, final bn
    x = inputs = keras.Input((8, 8, 3))
    for name in ("conv1_conv", "conv2_block1_conv", "conv3_block1_conv", "conv4_block1_conv", "conv5_block1_conv"):
        x = keras.layers.Conv2D(2, 1, name=name)(x)
    tiny = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(x))
    box = cdw.freeze_depth_explorer(tiny)
    page = box.fallback_html
    assert page.count("data-key=") == 5 and "冻结深度" in page and "只冻结 stem" in page
    assert "可训练 0（0.0%）" in page and len(page) < 400_000
    assert tiny.trainable_weights == [], "the preview leaves the backbone as the slider shows it (all frozen)"
