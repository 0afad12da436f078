"""Helpers shared by every chapter of 《TensorFlow 深度学习》 (executable edition).

Typical first cell of a chapter::

    import book_utils as bu
    bu.setup(seed=42)
"""
from __future__ import annotations

import contextlib as _contextlib
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep C++ runtime chatter out of stored outputs


@_contextlib.contextmanager
def native_stderr_muted():
    """Mute the process's native stderr (fd 2) inside the block: for C++ runtime notices, not errors.

    TF 2.21 writes absl "before InitializeLog" notices and the oneDNN banner straight to fd 2 while
    its shared libraries load, and the TFLite runtime announces its XNNPACK delegate the same way,
    ignoring ``TF_CPP_MIN_LOG_LEVEL``. In a Jupyter kernel that text may or may not be captured
    into the cell, which would make stored outputs and nbval re-runs disagree at random.
    Python-level errors still propagate normally.
    """
    import sys

    try:
        sys.stderr.flush()
        saved, devnull = _os.dup(2), _os.open(_os.devnull, _os.O_WRONLY)
    except (OSError, ValueError, AttributeError):   # no real fd 2 (unusual embeddings): leave it as is
        yield
        return
    try:
        _os.dup2(devnull, 2)
        yield
    finally:
        _os.dup2(saved, 2)
        _os.close(saved)
        _os.close(devnull)


def _import_tensorflow_quietly():
    with native_stderr_muted():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


_import_tensorflow_quietly()

# models and widgets are lazy packages: their submodules load on first attribute access
from . import config, data, device, models, plotting, progress, tensors, training, widgets  # noqa: E402
from .config import PROFILES, get_profile, glue, profile_config, record_result, set_seed, setup  # noqa: E402
from .data import DatasetUnavailable  # noqa: E402
from .plotting import plot_history, show_images  # noqa: E402
from .source import show_source  # noqa: E402
from .training import Timer  # noqa: E402

__version__ = "0.1.0"

#: optional modules loaded on first use (``bu.serving`` pulls in FastAPI/uvicorn, ``bu.tensorboard``
#: the event-file reader, ``bu.zoo`` the weight registry, ``bu.distribute`` the strategies), so
#: ``import book_utils`` stays light
_LAZY_MODULES = ("distribute", "serving", "tensorboard", "zoo")


def __getattr__(name):
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES))

__all__ = [
    "PROFILES", "DatasetUnavailable", "Timer", "config", "data", "device", "get_profile", "glue", "models",
    "plot_history", "plotting", "profile_config", "progress", "record_result", "set_seed", "setup", "show_images",
    "show_source", "tensors", "training", "widgets",
]
