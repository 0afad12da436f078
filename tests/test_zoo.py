"""Tests for book_utils.zoo (offline pretrained weights, parameter counts, freezing)."""

import keras
import pytest

from book_utils import zoo


def test_find_pretrained_weights_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setenv("BOOK_DATA_DIR", str(tmp_path / "data"))
    assert zoo.find_pretrained_weights("resnet50") is None
    target = tmp_path / "kh" / "models" / zoo.WEIGHT_FILES[("resnet50", False)]
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x")
    assert zoo.find_pretrained_weights("ResNet50") == target
    assert zoo.find_pretrained_weights("resnet50", include_top=True) is None
    mirror = tmp_path / "data" / "keras" / "models" / zoo.WEIGHT_FILES[("resnet50", False)]
    mirror.parent.mkdir(parents=True)
    mirror.write_bytes(b"y")
    assert zoo.find_pretrained_weights("resnet50") == mirror  # the book's mirror comes first


def test_find_pretrained_weights_bad_input():
    with pytest.raises(ValueError, match="known models"):
        zoo.find_pretrained_weights("vgg99")
    with pytest.raises(TypeError):
        zoo.find_pretrained_weights(50)


def test_count_params_and_set_trainable():
    inp = keras.Input((4,))
    h = keras.layers.Dense(3)(inp)
    h = keras.layers.BatchNormalization()(h)
    backbone = keras.Model(inp, h)
    assert zoo.count_params(backbone) == {"trainable": 15 + 6, "non_trainable": 6, "total": 27}
    zoo.set_trainable(backbone, trainable=False)
    assert zoo.count_params(backbone)["trainable"] == 0
    zoo.set_trainable(backbone, trainable=True, freeze_batchnorm=True)
    assert zoo.count_params(backbone)["trainable"] == 15
    zoo.set_trainable(backbone, trainable=True)
    assert zoo.count_params(backbone)["trainable"] == 21
    with pytest.raises(TypeError, match="Keras layer"):
        zoo.count_params("model")
    with pytest.raises(ValueError, match="not built"):
        zoo.count_params(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(TypeError, match="Keras layer"):
        zoo.set_trainable(object(), trainable=True)


def test_registry_names_a_constructor_and_a_no_top_file_for_every_model():
    assert set(zoo.CONSTRUCTORS) == {name for name, _ in zoo.WEIGHT_FILES}
    assert all((name, False) in zoo.WEIGHT_FILES for name in zoo.CONSTRUCTORS)
    with pytest.raises(ValueError, match="bare file name"):
        zoo.find_weight_file("../x.h5")
