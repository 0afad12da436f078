"""Model-zoo helpers: the registry of pretrained ``keras.applications`` weight files, found offline;
parameter counts and freezing.

``weights='imagenet'`` makes Keras download the file, which fails (slowly) without internet. The
book therefore looks for the file first and only asks for ImageNet weights when it is on disk.
"""
from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

# File names Keras uses for the ImageNet weights of keras.applications models: (name, include_top) -> file.
WEIGHT_FILES = {
    ("densenet121", False): "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ("mobilenet_v2", False): "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
    ("resnet50", False): "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ("resnet50", True): "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
}
# The keras.applications constructor of each model name in WEIGHT_FILES.
CONSTRUCTORS = {"densenet121": "DenseNet121", "mobilenet_v2": "MobileNetV2", "resnet50": "ResNet50"}


def weight_search_dirs() -> list[Path]:
    """Where pretrained weights are looked for, in order.

    ``$BOOK_DATA_DIR/keras/models`` and ``$BOOK_DATA_DIR/models`` (the book's offline mirror),
    then the Keras cache ``$KERAS_HOME/models`` (default ``~/.keras/models``).
    """
    dirs = []
    root = os.environ.get("BOOK_DATA_DIR", "").strip()
    if root:
        dirs += [Path(root).expanduser() / "keras" / "models", Path(root).expanduser() / "models"]
    dirs.append(Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "models")
    return dirs


def find_pretrained_weights(model: str = "resnet50", *, include_top: bool = False) -> Path | None:
    """Path of the ImageNet weight file for ``model`` if it is already on disk, else ``None``.

    Never downloads anything. Pass the result to ``keras.applications.ResNet50(weights=path)``.
    """
    if not isinstance(model, str):
        raise TypeError(f"model must be a name such as 'resnet50', got {type(model).__name__}")
    key = (model.lower(), bool(include_top))
    if key not in WEIGHT_FILES:
        known = sorted({name for name, _ in WEIGHT_FILES})
        raise ValueError(f"no known weight file for model {model!r}; known models: {known}")
    return find_weight_file(WEIGHT_FILES[key])


def find_weight_file(filename: str) -> Path | None:
    """Path of ``filename`` in the first of :func:`weight_search_dirs` holding it, else ``None`` (never downloads)."""
    if not isinstance(filename, str) or not filename.strip() or "/" in filename or "\\" in filename:
        raise ValueError(f"filename must be a bare file name such as 'x_notop.h5', got {filename!r}")
    for folder in weight_search_dirs():
        path = folder / filename
        if path.is_file():
            return path
    return None


def count_params(model) -> dict:
    """``{'trainable': n, 'non_trainable': m, 'total': n + m}`` of a built Keras layer or model.

    Freezing a layer moves its parameters from n to m.
    """
    if not hasattr(model, "trainable_weights") or not hasattr(model, "non_trainable_weights"):
        raise TypeError(f"count_params expects a built Keras layer or model, got {type(model).__name__}")
    if not getattr(model, "built", False):
        raise ValueError("the model is not built yet; call it on a batch or model.build(input_shape) first")
    trainable = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    frozen = int(sum(np.prod(v.shape) for v in model.non_trainable_weights))
    return {"trainable": trainable, "non_trainable": frozen, "total": trainable + frozen}


def set_trainable(backbone, *, trainable: bool, freeze_batchnorm: bool = False) -> None:
    """Freeze or unfreeze ``backbone``; with ``freeze_batchnorm`` only its BatchNormalization layers freeze.

    ``trainable=True, freeze_batchnorm=True`` is the common fine-tuning setting: convolution kernels
    learn, BatchNorm's γ/β stay fixed.
    """
    if not isinstance(backbone, keras.layers.Layer):
        raise TypeError(f"backbone must be a Keras layer or model, got {type(backbone).__name__}")
    backbone.trainable = bool(trainable)
    # Set every sub-layer explicitly: a layer frozen earlier does not always follow its parent back.
    stack = list(getattr(backbone, "layers", []))
    while stack:
        layer = stack.pop()
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = bool(trainable) and not (is_bn and freeze_batchnorm)
        stack.extend(getattr(layer, "layers", []))
