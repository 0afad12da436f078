"""Convolutional networks of chapter 10: LeNet-5, VGG13, ResNet18/34 and a DenseNet block.

Every builder takes a ``width`` multiplier: ``width=1.0`` is the textbook's network, a smaller
value scales every channel count (at least one channel) so that a CPU can train a narrower copy
of the same architecture (same depth, same layer types, same strides).
"""
from __future__ import annotations

import numbers

import keras
import tensorflow as tf
from keras import layers

from book_utils.checks import check_int, check_number
from book_utils.models.norm import FusedBatchNorm


def _check_width(width) -> float:
    return check_number("width", width, 0.01, 4, accepted="a number in [0.01, 4] (1.0 is the textbook's size)")


def scaled(channels: int, width: float) -> int:
    """Channel count ``channels`` scaled by ``width`` (rounded, at least 1)."""
    return max(1, int(round(channels * _check_width(width))))


def _check_classes(num_classes) -> int:
    return check_int("num_classes", num_classes, 2)


# --------------------------------------------------------------------------- LeNet-5 (10.4, 10.8)
def lenet5(width: float = 1.0, *, batch_norm: bool = False, bn_dense: bool = False,
           num_classes: int = 10) -> keras.Sequential:
    """LeNet-5 as in the textbook's 10.4 (3×3 kernels, max pooling, ReLU).

    ``batch_norm=True`` inserts ``BatchNormalization`` after each convolution (10.8.3);
    ``bn_dense=True`` additionally normalises the outputs of Dense(120) and Dense(84).
    Call the model with ``training=True`` while training so BN uses batch statistics.
    """
    num_classes = _check_classes(num_classes)
    if bn_dense and not batch_norm:
        raise ValueError("bn_dense=True needs batch_norm=True (BN after the convolutions as well)")
    c1, c2, d1, d2 = (scaled(n, width) for n in (6, 16, 120, 84))

    def conv_unit(filters):
        unit = [layers.Conv2D(filters, kernel_size=3, strides=1)]
        if batch_norm:
            unit.append(FusedBatchNorm())
        return unit + [layers.MaxPooling2D(pool_size=2, strides=2), layers.ReLU()]

    def dense_unit(units):
        if bn_dense:
            return [layers.Dense(units), layers.BatchNormalization(), layers.ReLU()]
        return [layers.Dense(units, activation="relu")]

    return keras.Sequential(
        conv_unit(c1) + conv_unit(c2) + [layers.Flatten()] + dense_unit(d1) + dense_unit(d2)
        + [layers.Dense(num_classes)],
        name="lenet5_bn" if batch_norm else "lenet5",
    )


# --------------------------------------------------------------------------- VGG13 (10.10)
VGG13_FILTERS = (64, 128, 256, 512, 512)


def vgg13_conv(width: float = 1.0, *, batch_norm: bool = False) -> keras.Sequential:
    """VGG13's convolution part: five units of 2 × Conv3×3(same, relu) + MaxPool(2, 2, same).

    ``batch_norm=True`` gives the common VGG13-BN variant: Conv → BatchNormalization → ReLU
    (same depth and channel counts; BN adds 4 numbers per channel, 2 of them trainable).
    """
    stack = []
    for filters in VGG13_FILTERS:
        f = scaled(filters, width)
        for _ in range(2):
            if batch_norm:
                stack += [layers.Conv2D(f, kernel_size=3, padding="same"),
                          FusedBatchNorm(), layers.ReLU()]
            else:
                stack.append(layers.Conv2D(f, kernel_size=3, padding="same", activation="relu"))
        stack.append(layers.MaxPooling2D(pool_size=2, strides=2, padding="same"))
    return keras.Sequential(stack, name="vgg13_bn_conv" if batch_norm else "vgg13_conv")


def vgg13_fc(width: float = 1.0, num_classes: int = 10) -> keras.Sequential:
    """VGG13's classifier as in the original code: Dense(256, relu) → Dense(128, relu) → Dense(10)."""
    num_classes = _check_classes(num_classes)
    return keras.Sequential([
        layers.Dense(scaled(256, width), activation="relu"),
        layers.Dense(scaled(128, width), activation="relu"),
        layers.Dense(num_classes),
    ], name="vgg13_fc")


def vgg13(width: float = 1.0, num_classes: int = 10, *, batch_norm: bool = False) -> keras.Sequential:
    """The two VGG13 parts in one model: conv part → Flatten ([b,1,1,c] → [b,c]) → FC part."""
    return keras.Sequential([vgg13_conv(width, batch_norm=batch_norm), layers.Flatten(),
                             vgg13_fc(width, num_classes)], name="vgg13_bn" if batch_norm else "vgg13")


# --------------------------------------------------------------------------- ResNet (10.12, 10.14)
@keras.saving.register_keras_serializable(package="book_utils")
class BasicBlock(layers.Layer):
    """Residual block: conv3×3(stride) → BN → ReLU → conv3×3 → BN, plus a shortcut, then ReLU.

    The shortcut is the identity, or a 1×1 convolution with the same stride when the block
    downsamples (``stride != 1``) so that both branches have the same shape.
    """

    def __init__(self, filters: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        check_int("filters", filters)
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        self.filters, self.stride = int(filters), int(stride)
        self.conv1 = layers.Conv2D(filters, 3, strides=stride, padding="same")
        self.bn1 = FusedBatchNorm()
        self.relu = layers.ReLU()
        self.conv2 = layers.Conv2D(filters, 3, strides=1, padding="same")
        self.bn2 = FusedBatchNorm()
        if stride != 1:
            self.downsample = keras.Sequential([layers.Conv2D(filters, 1, strides=stride)])
        else:
            self.downsample = lambda x: x

    def call(self, inputs, training=None):
        out = self.relu(self.bn1(self.conv1(inputs), training=training))
        out = self.bn2(self.conv2(out), training=training)  # conv2 and bn2 really are used
        identity = self.downsample(inputs)
        return self.relu(layers.add([out, identity]))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}


def build_resblock(filters: int, blocks: int, stride: int = 1) -> keras.Sequential:
    """``blocks`` BasicBlocks; only the first may downsample."""
    check_int("blocks", blocks, accepted="a positive integer")
    res = keras.Sequential([BasicBlock(filters, stride)])
    for _ in range(1, blocks):
        res.add(BasicBlock(filters, 1))
    return res


@keras.saving.register_keras_serializable(package="book_utils")
class ResNet(keras.Model):
    """ResNet for 32×32 inputs as in the textbook: stem → four stages → global average pool → Dense.

    ``layer_dims`` gives the number of BasicBlocks per stage, e.g. ``[2, 2, 2, 2]`` for ResNet18.
    """

    STAGE_FILTERS = (64, 128, 256, 512)
    STAGE_STRIDES = (1, 2, 2, 2)

    def __init__(self, layer_dims, num_classes: int = 10, width: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        layer_dims = list(layer_dims)
        if len(layer_dims) != 4:
            raise ValueError(
                f"layer_dims needs one block count per stage (4 stages), got {layer_dims!r}; "
                "ResNet18 is [2, 2, 2, 2], ResNet34 is [3, 4, 6, 3]")
        self.layer_dims, self.num_classes, self.width = layer_dims, _check_classes(num_classes), _check_width(width)
        self.stem = keras.Sequential([
            layers.Conv2D(scaled(64, width), 3, strides=1),
            FusedBatchNorm(),
            layers.ReLU(),
            layers.MaxPooling2D(pool_size=2, strides=1, padding="same"),
        ])
        self.stages = [build_resblock(scaled(f, width), n, s)
                       for f, n, s in zip(self.STAGE_FILTERS, layer_dims, self.STAGE_STRIDES)]
        self.avgpool = layers.GlobalAveragePooling2D()
        self.fc = layers.Dense(num_classes)

    def call(self, inputs, training=None):
        x = self.stem(inputs, training=training)
        for stage in self.stages:
            x = stage(x, training=training)
        return self.fc(self.avgpool(x))

    def get_config(self):
        return {**super().get_config(), "layer_dims": self.layer_dims,
                "num_classes": self.num_classes, "width": self.width}


def resnet18(width: float = 1.0, num_classes: int = 10) -> ResNet:
    """ResNet18: four stages of [2, 2, 2, 2] BasicBlocks (about 11 million parameters at width 1)."""
    return ResNet([2, 2, 2, 2], num_classes=num_classes, width=width, name="resnet18")


def resnet34(width: float = 1.0, num_classes: int = 10) -> ResNet:
    """ResNet34: four stages of [3, 4, 6, 3] BasicBlocks."""
    return ResNet([3, 4, 6, 3], num_classes=num_classes, width=width, name="resnet34")


# --------------------------------------------------------------------------- DenseNet (10.13)
def dense_block(input_shape, num_layers: int = 3, growth_rate: int = 32, width: float = 1.0) -> keras.Model:
    """A DenseNet block: each layer (BN → ReLU → Conv3×3) sees the concatenation of all earlier maps.

    The output has ``c_in + num_layers * growth_rate`` channels.
    """
    check_int("num_layers", num_layers)
    if len(tuple(input_shape)) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    k = scaled(growth_rate, width)
    inputs = keras.Input(shape=tuple(input_shape))
    features = [inputs]
    for _ in range(num_layers):
        x = features[0] if len(features) == 1 else layers.Concatenate(axis=-1)(features)
        x = FusedBatchNorm()(x)
        x = layers.ReLU()(x)
        features.append(layers.Conv2D(k, 3, padding="same")(x))
    outputs = layers.Concatenate(axis=-1)(features)
    return keras.Model(inputs, outputs, name="dense_block")


def forward_flops(model, input_shape) -> int:
    """Floating-point operations of one inference forward pass for a batch of ``input_shape``.

    Counted by TensorFlow's graph profiler on the frozen inference graph (a multiply-add counts
    as 2 FLOPs). A training step costs roughly 3× this (forward + two backward products).
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    shape = tuple(input_shape)
    if len(shape) < 2 or any((not isinstance(d, numbers.Integral)) or d < 1 for d in shape):
        raise ValueError(f"input_shape must be a full batch shape such as (1, 32, 32, 3), got {input_shape!r}")

    def forward(x):
        return model(x, training=False)

    try:
        concrete = tf.function(forward, autograph=False).get_concrete_function(tf.TensorSpec(shape, tf.float32))
    except (ValueError, TypeError, tf.errors.InvalidArgumentError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"input_shape {shape} does not fit this model (too small for its convolutions and "
                         f"pooling, or the wrong number of channels?); the model said: {first}") from None
    graph = convert_variables_to_constants_v2(concrete).graph
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # the v1 profiler prints a deprecation notice with a file path
    try:
        info = tf.compat.v1.profiler.profile(graph, options=opts)
    finally:
        logger.setLevel(level)
    return int(info.total_float_ops)


def matmul_peak_gflops(n: int = 1024, repeats: int = 10, dtype: str = "float32") -> float:
    """Measured matmul throughput of this machine (GFLOP/s), a practical peak to compare to.

    The fastest of ``repeats`` single [n, n] @ [n, n] products (:func:`book_utils.device.time_matmul`);
    ``dtype`` is ``"float32"`` (default) or ``"bfloat16"`` (the compute type of mixed_bfloat16).
    """
    from book_utils import device

    if dtype not in ("float32", "bfloat16"):
        raise ValueError(f"dtype must be 'float32' or 'bfloat16', got {dtype!r}")
    seconds = device.time_matmul(n, shape="square", number=1, repeat=repeats, dtype=dtype)
    return 2 * n ** 3 / seconds / 1e9
