"""Transfer learning (chapter 15): pretrained backbones found offline, a new head, freezing.

``keras.applications.DenseNet121(weights='imagenet')`` downloads its weight file, which fails
without internet. :func:`pretrained_backbone` therefore only builds an ImageNet backbone when the
no-top weight file is already on disk (the Keras cache ``$KERAS_HOME/models`` or the book's mirror
``$BOOK_DATA_DIR``; file names come from the weight registry :mod:`book_utils.zoo`) and returns
``None`` otherwise, so a chapter can fall back to a backbone it pretrains itself (e.g. a ResNet18
trained on CIFAR-10, wrapped by :func:`resnet_backbone`).

:func:`build_transfer_model` puts a fresh classification head on any backbone, frozen or not.
The backbone is called with ``training=False`` by default, so its BatchNormalization layers keep
their (pretrained) moving statistics even while the backbone's weights are fine-tuned.
"""
from __future__ import annotations

import keras
from keras import layers

from book_utils import zoo
from book_utils.checks import check_int, check_shape


def pretrained_backbone(name: str = "densenet121", *, input_shape=(224, 224, 3), pooling: str | None = "max",
                        builder=None, filename: str | None = None):
    """An ImageNet backbone (no top) if its weight file is on disk, else ``None``.

    ``name`` is a model of the weight registry :mod:`book_utils.zoo` (``zoo.CONSTRUCTORS``).
    ``builder``/``filename`` override the constructor and the file name (used by the tests with a
    small stand-in backbone); ``builder`` is called like a ``keras.applications`` constructor:
    ``builder(weights=path, include_top=False, pooling=..., input_shape=...)``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string such as 'densenet121', got {type(name).__name__}")
    key = name.lower()
    if key not in zoo.CONSTRUCTORS and (builder is None or filename is None):
        raise ValueError(f"unknown backbone {name!r}; known: {sorted(zoo.CONSTRUCTORS)} "
                         "(or pass both builder= and filename=)")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}")
    shape = check_shape("input_shape", input_shape, 3, accepted="(height, width, channels) with positive ints")
    path = zoo.find_weight_file(filename) if filename else zoo.find_pretrained_weights(key)
    if path is None:
        return None
    build = builder or getattr(keras.applications, zoo.CONSTRUCTORS[key])
    return build(weights=str(path), include_top=False, pooling=pooling, input_shape=shape)


def choose_backbone(fallback, name: str = "densenet121", *, input_shape=(224, 224, 3), pooling: str | None = "max",
                    builder=None, filename: str | None = None):
    """``(backbone, source)``: the ImageNet backbone if its weight file is on disk, else ``fallback``.

    ``source`` is ``'imagenet'`` or ``'fallback'``. ``fallback`` is a Keras layer/model (e.g. a
    backbone the chapter pretrained itself) or a zero-argument callable returning one, so an
    expensive fallback is only built when it is needed. The other arguments go to
    :func:`pretrained_backbone` (``builder``/``filename`` let tests stand in a small saved backbone
    for the cached weight file).
    """
    if not (isinstance(fallback, keras.layers.Layer) or callable(fallback)):
        raise TypeError("fallback must be a Keras layer/model or a zero-argument callable returning one, "
                        f"got {type(fallback).__name__}")
    net = pretrained_backbone(name, input_shape=input_shape, pooling=pooling, builder=builder, filename=filename)
    if net is not None:
        return net, "imagenet"
    net = fallback if isinstance(fallback, keras.layers.Layer) else fallback()
    if not isinstance(net, keras.layers.Layer):
        raise TypeError(f"fallback() must return a Keras layer or model, got {type(net).__name__}")
    return net, "fallback"


def resnet_backbone(resnet, name: str = "resnet_backbone") -> keras.Sequential:
    """The feature extractor of a :class:`book_utils.models.cnn.ResNet`: stem → stages → global average pool.

    The layers are *shared* with ``resnet`` (no copy), so weights learned by ``resnet`` on one task
    are the starting point of the new model, and its ``fc`` layer is left out.
    """
    from book_utils.models.cnn import ResNet

    if not isinstance(resnet, ResNet):
        raise TypeError(f"resnet must be a book_utils.models.cnn.ResNet (e.g. cnn.resnet18()), got {type(resnet).__name__}")
    return keras.Sequential([resnet.stem, *resnet.stages, resnet.avgpool], name=name)


def build_transfer_model(backbone, num_classes: int, *, input_shape, freeze: bool = True, dropout: float = 0.5,
                         hidden: int | None = None, bn_inference: bool = True, name: str = "transfer") -> keras.Model:
    """``inputs → backbone → [global pool] → [Dense(hidden, relu) → BN] → Dropout → Dense(num_classes)`` (logits).

    * ``freeze=True`` sets ``backbone.trainable = False`` (feature extraction: only the head learns);
      ``freeze=False`` trains everything (fine-tuning, or training from scratch).
    * ``bn_inference=True`` calls the backbone with ``training=False`` so its BatchNormalization layers
      always use their moving statistics — what fine-tuning a *pretrained* backbone needs. Use
      ``bn_inference=False`` for a backbone trained from scratch.
    * A 4-D backbone output (a feature map) is pooled with ``GlobalAveragePooling2D``.
    """
    if not isinstance(backbone, keras.layers.Layer):
        raise TypeError(f"backbone must be a Keras layer or model, got {type(backbone).__name__}")
    check_int("num_classes", num_classes, 2)
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if hidden is not None:
        check_int("hidden (or None)", hidden)
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    backbone.trainable = not freeze
    inputs = keras.Input(shape=shape, name="image")
    x = backbone(inputs, training=False) if bn_inference else backbone(inputs)
    if len(x.shape) == 4:
        x = layers.GlobalAveragePooling2D(name="pool")(x)
    elif len(x.shape) != 2:
        raise ValueError(f"backbone output must be [batch, features] or [batch, h, w, c], got {tuple(x.shape)}")
    if hidden:
        x = layers.Dense(int(hidden), activation="relu", name="head_dense")(x)
        x = layers.BatchNormalization(name="head_bn")(x)
    if dropout:
        x = layers.Dropout(float(dropout), name="head_dropout")(x)
    outputs = layers.Dense(int(num_classes), name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def densenet_block_of(layer_name: str) -> int:
    """Which part of a ``keras.applications`` DenseNet a layer belongs to: 0 = stem, 1–4 = dense block.

    DenseNet layer names follow ``conv1/…``/``pool1`` (stem), ``conv{2..5}_block{i}_…`` (dense block
    1–4) and ``pool{2..4}_…`` (the transition layer *after* dense block 1–3); the final ``bn`` /
    ``relu`` belong to the last block.
    """
    import re

    if not isinstance(layer_name, str):
        raise TypeError(f"layer_name must be a string, got {type(layer_name).__name__}")
    if layer_name.startswith(("conv1", "pool1", "zero_padding2d", "input")):
        return 0
    m = re.match(r"(conv|pool)([2-5])_", layer_name)
    if m:
        return int(m.group(2)) - 1
    if layer_name in ("bn", "relu", "avg_pool", "max_pool"):
        return 4
    raise ValueError(f"{layer_name!r} is not a layer name of a keras.applications DenseNet "
                     "(expected conv1…, pool1, conv2_block…–conv5_block…, pool2_…–pool4_…, bn, relu)")


def unfreeze_last_blocks(backbone, k: int) -> dict:
    """Freeze a DenseNet ``backbone`` except its last ``k`` dense blocks (``k`` in 0–4; 4 = all but the stem).

    Returns :func:`book_utils.zoo.count_params` of the backbone after the change. Only the
    ``trainable`` flags change — no training happens — so a widget can show the parameter split of
    every choice.
    """
    check_int("k (number of last dense blocks to unfreeze)", k, 0, 4)
    if not isinstance(backbone, keras.Model):
        raise TypeError(f"backbone must be a keras.applications DenseNet model, got {type(backbone).__name__}")
    blocks = [densenet_block_of(layer.name) for layer in backbone.layers]
    backbone.trainable = True
    for layer, block in zip(backbone.layers, blocks):
        layer.trainable = block > 4 - k
    return zoo.count_params(backbone)
