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
