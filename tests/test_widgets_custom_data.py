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


def test_widgets_build():
    pytest.importorskip("ipywidgets")
    box = cdw.split_inspector(np.tile(np.arange(3), 10), ["a", "b", "c"], min_val=2)
    assert box.children
    box = cdw.pipeline_explorer([image(), image()], ["x", "y"], size=32)
    assert box.children


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
    assert len(total) == 1                                   # only the split moves

    def size(layer):
        return sum(int(np.prod(w.shape)) for w in layer.weights if "moving" not in w.path)

    everything = sum(size(layer) for layer in densenet.layers)
    stem = sum(size(layer) for layer in densenet.layers if layer.name.startswith("conv1"))
    assert rows[4]["trainable"] == everything - stem > 0     # k = 4 unfreezes everything but the stem
    assert densenet.trainable_weights == []                  # left frozen


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
