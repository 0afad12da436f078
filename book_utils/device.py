"""Device discovery: GPUs, memory growth, opt-in mixed precision, the bfloat16 probe, banner."""
from __future__ import annotations

import os

import keras
import tensorflow as tf

from book_utils.checks import check_int

_CONFIGURED: str | None = None


def list_gpus() -> list:
    """Physical GPUs TensorFlow can see (empty list on CPU-only machines)."""
    return tf.config.list_physical_devices("GPU")


def has_gpu() -> bool:
    return bool(list_gpus())


def configure() -> str:
    """Enable memory growth on every GPU, apply mixed precision if asked; return a device label.

    Safe to call more than once; memory growth can only be set before the first op runs,
    so a late call that fails with RuntimeError is reported, not raised.
    """
    global _CONFIGURED
    gpus = list_gpus()
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError as err:  # devices already initialised
            print(f"注意: 无法为 {gpu.name} 开启显存按需增长（{err}）")
    if os.environ.get("BOOK_MIXED_PRECISION", "0") == "1":
        keras.mixed_precision.set_global_policy("mixed_float16")
    label = f"GPU×{len(gpus)}" if gpus else "CPU"
    if os.environ.get("BOOK_MIXED_PRECISION", "0") == "1":
        label += " (mixed_float16)"
    _CONFIGURED = label
    return label


def describe() -> dict:
    """Facts for the environment check of chapter 1."""
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "gpus": [g.name for g in list_gpus()],
        "built_with_cuda": tf.test.is_built_with_cuda(),
        "mixed_precision": keras.mixed_precision.global_policy().name,
    }


MATMUL_SHAPES = ("vector", "square")
MATMUL_DTYPES = ("float32", "float16", "bfloat16")


def time_matmul(n: int, device: str = "/CPU:0", *, shape: str = "vector", number: int = 10,
                repeat: int = 3, dtype: str = "float32") -> float:
    """Seconds for ``number`` matrix products on ``device`` (after one warm-up call).

    The measurement is repeated ``repeat`` times and the fastest is returned, the usual way to
    keep other load on the machine out of a micro-benchmark.

    ``shape="vector"`` multiplies [1, n] @ [n, 1] as the textbook does; ``"square"`` multiplies
    [n, n] @ [n, n]. Each timed call fetches the result (``.numpy()``) so asynchronous GPU kernels
    are included in the time. ``dtype`` is the operands' type (``"float32"``, ``"float16"`` or
    ``"bfloat16"``).
    """
    import timeit

    check_int("n", n)
    if shape not in MATMUL_SHAPES:
        raise ValueError(f"shape must be one of {MATMUL_SHAPES}, got {shape!r}")
    check_int("number", number)
    check_int("repeat", repeat)
    if dtype not in MATMUL_DTYPES:
        raise ValueError(f"dtype must be one of {MATMUL_DTYPES}, got {dtype!r}")
    kind = device.split(":")[0].strip("/").upper()
    if kind == "GPU" and not has_gpu():
        raise ValueError(f"device {device!r} requested but this machine has no GPU; use '/CPU:0'")
    with tf.device(device):
        a = tf.cast(tf.random.normal([1, n] if shape == "vector" else [n, n]), dtype)
        b = tf.cast(tf.random.normal([n, 1] if shape == "vector" else [n, n]), dtype)

    def run():
        with tf.device(device):
            return tf.matmul(a, b).numpy()

    run()  # warm-up: kernel loading and memory allocation are not part of the measurement
    return min(timeit.repeat(run, number=number, repeat=repeat))


def bfloat16_is_fast() -> bool:
    """True when this machine runs bfloat16 matmuls/convolutions natively.

    That is a CPU with AMX-BF16 or AVX512-BF16 (read from /proc/cpuinfo) or a GPU of compute
    capability 8.0 or newer. Elsewhere bfloat16 is emulated and slower than float32.
    """
    for gpu in list_gpus():
        cc = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        return tuple(cc) >= (8, 0)
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


class dtype_policy:
    """Context manager: Keras layers *created* inside use the dtype policy ``name``.

    ``with dtype_policy("mixed_bfloat16"): model = cnn.resnet18(0.25)`` gives a model that
    computes in bfloat16 but keeps float32 variables; the global policy is restored afterwards.
    """

    def __init__(self, name: str):
        self.policy = keras.dtype_policies.get(name)  # raises ValueError for an unknown name
        self._old = None

    def __enter__(self):
        self._old = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.policy)
        return self.policy

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self._old)
        return False
