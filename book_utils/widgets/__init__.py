"""ipywidgets demos, one submodule per topic (``bu.widgets.intro``, ...).

Each demo is a pure update function (testable without a browser) plus a thin widget wrapper.
Submodules are imported lazily on first attribute access.
"""
from __future__ import annotations

import importlib
import pkgutil

__all__ = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"book_utils.widgets has no demo module {name!r}; available: {', '.join(__all__)}")
