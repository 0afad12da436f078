"""Device discovery: GPUs, memory growth, opt-in mixed precision, banner."""
from __future__ import annotations

import os

_CONFIGURED: str | None = None


def list_gpus() -> list:
    """Physical GPUs TensorFlow can see (empty list on CPU-only machines)."""
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def has_gpu() -> bool:
    return bool(list_gpus())


def configure() -> str:
    """Enable memory growth on every GPU, apply mixed precision if asked; return a device label.

    Safe to call more than once; memory growth can only be set before the first op runs,
    so a late call that fails with RuntimeError is reported, not raised.
    """
    global _CONFIGURED
    import tensorflow as tf

    gpus = list_gpus()
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError as err:  # devices already initialised
            print(f"注意: 无法为 {gpu.name} 开启显存按需增长（{err}）")
    if os.environ.get("BOOK_MIXED_PRECISION", "0") == "1":
        import keras

        keras.mixed_precision.set_global_policy("mixed_float16")
    label = f"GPU×{len(gpus)}" if gpus else "CPU"
    if os.environ.get("BOOK_MIXED_PRECISION", "0") == "1":
        label += " (mixed_float16)"
    _CONFIGURED = label
    return label


def describe() -> dict:
    """Facts for the environment check of chapter 1."""
    import keras
    import tensorflow as tf

    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "gpus": [g.name for g in list_gpus()],
        "built_with_cuda": tf.test.is_built_with_cuda(),
        "mixed_precision": keras.mixed_precision.global_policy().name,
    }


def best_device() -> str:
    """'/GPU:0' when a GPU exists, else '/CPU:0'."""
    return "/GPU:0" if has_gpu() else "/CPU:0"
