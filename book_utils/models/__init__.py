"""Model implementations by topic (cnn, rnn, autoencoder, gan, rl), imported lazily."""
from __future__ import annotations

import importlib
import pkgutil

__all__ = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"book_utils.models has no module {name!r}; available: {', '.join(__all__) or 'none yet'}")
