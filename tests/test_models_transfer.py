"""Tests for book_utils.models.transfer (chapter 15)."""

import keras
import numpy as np
import pytest

from book_utils import zoo
from book_utils.models import cnn, transfer


def tiny_backbone(weights=None, include_top=False, pooling="max", input_shape=(16, 16, 3)):
    """A keras.applications-style constructor for a small stand-in backbone."""
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.GlobalMaxPooling2D()(x) if pooling == "max" else x
    model = keras.Model(inputs, x, name="tiny")
    if weights is not None:
        model.load_weights(weights)
    return model


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty Keras cache ($KERAS_HOME) with no $BOOK_DATA_DIR mirror."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("BOOK_DATA_DIR", raising=False)
    (tmp_path / "keras" / "models").mkdir(parents=True)
    return tmp_path / "keras" / "models"


def test_missing_weights_return_none(cache):
    assert zoo.find_pretrained_weights("densenet121") is None
    assert transfer.pretrained_backbone("densenet121", input_shape=(32, 32, 3)) is None


def test_weight_file_in_cache_is_detected_and_loaded(cache):
    saved = tiny_backbone()
    saved.get_layer("conv").kernel.assign(np.full((3, 3, 3, 4), 0.25, np.float32))
    path = cache / "tiny_notop.weights.h5"
    saved.save_weights(str(path))
    assert zoo.find_weight_file("tiny_notop.weights.h5") == path
    loaded = transfer.pretrained_backbone(
        "tiny", builder=tiny_backbone, filename="tiny_notop.weights.h5", input_shape=(16, 16, 3)
    )
    assert loaded is not None
    np.testing.assert_allclose(loaded.get_layer("conv").kernel.numpy(), 0.25)


def test_book_data_dir_mirror_is_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("BOOK_DATA_DIR", str(tmp_path / "mirror"))
    (tmp_path / "mirror" / "models").mkdir(parents=True)
    tiny_backbone().save_weights(str(tmp_path / "mirror" / "models" / "t.weights.h5"))
    assert zoo.find_weight_file("t.weights.h5") == tmp_path / "mirror" / "models" / "t.weights.h5"


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown backbone"):
        transfer.pretrained_backbone("alexnet")
    with pytest.raises(TypeError):
        transfer.pretrained_backbone(3)
    with pytest.raises(ValueError, match="pooling"):
        transfer.pretrained_backbone("densenet121", pooling="sum")
    with pytest.raises(ValueError, match="bare file name"):
        zoo.find_weight_file("../x.h5")
    with pytest.raises(TypeError, match="ResNet"):
        transfer.resnet_backbone(keras.Sequential())
    with pytest.raises(TypeError):
        transfer.build_transfer_model("not a layer", 5, input_shape=(8, 8, 3))
    with pytest.raises(ValueError, match="num_classes"):
        transfer.build_transfer_model(tiny_backbone(), 1, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="dropout"):
        transfer.build_transfer_model(tiny_backbone(), 5, input_shape=(16, 16, 3), dropout=1.5)


def test_build_transfer_model_freeze_and_shapes():
    backbone = tiny_backbone()
    model = transfer.build_transfer_model(backbone, 5, input_shape=(16, 16, 3), freeze=True)
    assert model.output_shape == (None, 5)
    counts = zoo.count_params(model)
    assert counts["trainable"] == 4 * 5 + 5  # only the new Dense(5) head
    backbone.trainable = True
    assert zoo.count_params(model)["trainable"] == 4 * 5 + 5 + 3 * 3 * 3 * 4 + 4


def test_resnet_backbone_shares_weights():
    net = cnn.resnet18(width=0.0625, num_classes=10)
    net(np.zeros((1, 16, 16, 3), np.float32))
    backbone = transfer.resnet_backbone(net)
    model = transfer.build_transfer_model(backbone, 3, input_shape=(16, 16, 3), freeze=False, hidden=8)
    out = model(np.zeros((2, 16, 16, 3), np.float32))
    assert out.shape == (2, 3)
    ids = {id(v) for v in net.stem.weights}
    assert ids <= {id(v) for v in model.weights}


def test_choose_backbone_prefers_cached_weights(cache):
    """A small saved backbone stands in for the cached ImageNet weight file."""
    saved = tiny_backbone()
    saved.get_layer("conv").kernel.assign(np.full((3, 3, 3, 4), 0.5, np.float32))
    fallback = keras.Sequential([keras.layers.GlobalAveragePooling2D()], name="fallback")
    net, source = transfer.choose_backbone(
        fallback, "tiny", builder=tiny_backbone, filename="tiny_notop.weights.h5", input_shape=(16, 16, 3)
    )
    assert source == "fallback" and net is fallback
    saved.save_weights(str(cache / "tiny_notop.weights.h5"))
    calls = []
    net, source = transfer.choose_backbone(
        lambda: calls.append(1),
        "tiny",
        builder=tiny_backbone,
        filename="tiny_notop.weights.h5",
        input_shape=(16, 16, 3),
    )
    assert source == "imagenet" and not calls  # the lazy fallback is never built
    np.testing.assert_allclose(net.get_layer("conv").kernel.numpy(), 0.5)
    model = transfer.build_transfer_model(net, 5, input_shape=(16, 16, 3), freeze=True)
    assert model.output_shape == (None, 5)


def test_choose_backbone_densenet_default_missing_uses_lazy_fallback(cache):
    net, source = transfer.choose_backbone(lambda: keras.Sequential([keras.layers.Flatten()]), input_shape=(32, 32, 3))
    assert source == "fallback" and isinstance(net, keras.Sequential)


def test_choose_backbone_bad_fallback(cache):
    with pytest.raises(TypeError, match="fallback"):
        transfer.choose_backbone(42)
    with pytest.raises(TypeError, match="fallback"):
        transfer.choose_backbone(lambda: "not a layer")
