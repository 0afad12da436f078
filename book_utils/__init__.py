"""Helpers shared by every chapter of 《TensorFlow 深度学习》 (executable edition).

Typical first cell of a chapter::

    import book_utils as bu
    bu.setup(seed=42)
"""
from __future__ import annotations

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep C++ runtime chatter out of stored outputs

from . import config, data, device, plotting, tensors, training  # noqa: E402
from . import models, widgets  # noqa: E402  (lazy packages)
from .config import PROFILES, get_profile, profile_config, record_result, set_seed, setup  # noqa: E402
from .data import DatasetUnavailable  # noqa: E402
from .plotting import plot_history, show_images  # noqa: E402
from .source import show_source  # noqa: E402
from .training import Timer  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "PROFILES", "DatasetUnavailable", "Timer", "config", "data", "device", "get_profile", "models",
    "plot_history", "plotting", "profile_config", "record_result", "set_seed", "setup", "show_images",
    "show_source", "tensors", "training", "widgets",
]
