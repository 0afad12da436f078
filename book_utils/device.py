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


MATMUL_SHAPES = ("vector", "square")


def time_matmul(n: int, device: str = "/CPU:0", *, shape: str = "vector", number: int = 10,
                repeat: int = 3) -> float:
    """Seconds for ``number`` matrix products on ``device`` (after one warm-up call).

    The measurement is repeated ``repeat`` times and the fastest is returned, the usual way to
    keep other load on the machine out of a micro-benchmark.

    ``shape="vector"`` multiplies [1, n] @ [n, 1] as the textbook does; ``"square"`` multiplies
    [n, n] @ [n, n]. Each timed call fetches the result (``.numpy()``) so asynchronous GPU kernels
    are included in the time.
    """
    import timeit

    import tensorflow as tf

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if shape not in MATMUL_SHAPES:
        raise ValueError(f"shape must be one of {MATMUL_SHAPES}, got {shape!r}")
    for name, value in (("number", number), ("repeat", repeat)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    kind = device.split(":")[0].strip("/").upper()
    if kind == "GPU" and not has_gpu():
        raise ValueError(f"device {device!r} requested but this machine has no GPU; use '/CPU:0'")
    with tf.device(device):
        a = tf.random.normal([1, n] if shape == "vector" else [n, n])
        b = tf.random.normal([n, 1] if shape == "vector" else [n, n])

    def run():
        with tf.device(device):
            return tf.matmul(a, b).numpy()

    run()  # warm-up: kernel loading and memory allocation are not part of the measurement
    return min(timeit.repeat(run, number=number, repeat=repeat))
