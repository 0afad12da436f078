"""Tensor demo helpers: readable shape/dtype/value display and side-by-side comparisons."""
from __future__ import annotations

import numpy as np


def _as_numpy(t):
    if hasattr(t, "numpy"):
        return t.numpy()
    return np.asarray(t)


def describe(t, name: str | None = None, *, values: bool = True) -> str:
    """One readable block: ``name: shape=(…) dtype=…`` followed by the values."""
    if not hasattr(t, "shape") and not isinstance(t, (list, tuple, int, float, bool, np.generic)):
        raise TypeError(f"describe expects a tensor, array or Python scalar/list, got {type(t).__name__}")
    dtype = getattr(t, "dtype", None)
    dtype_name = getattr(dtype, "name", None) or str(np.asarray(t).dtype)
    shape = tuple(t.shape) if hasattr(t, "shape") else np.asarray(t).shape
    head = f"{name + ': ' if name else ''}shape={shape} dtype={dtype_name}"
    if not values:
        return head
    body = _as_numpy(t)
    if isinstance(body, bytes) or (isinstance(body, np.ndarray) and body.dtype == object):
        text = repr(body)
    else:
        text = np.array2string(np.asarray(body), separator=", ")
    return head + "\n" + text


def show(*tensors, names=None, values: bool = True) -> None:
    """Print several tensors one after another with their shapes and dtypes."""
    if not tensors:
        raise ValueError("show needs at least one tensor")
    if names is not None and len(names) != len(tensors):
        raise ValueError(f"got {len(tensors)} tensors but {len(names)} names")
    names = names or [None] * len(tensors)
    print("\n\n".join(describe(t, n, values=values) for t, n in zip(tensors, names)))


def side_by_side(*tensors, names=None, gap: int = 4) -> None:
    """Print the tensors' value blocks next to each other (for small 1-D/2-D tensors)."""
    print(side_by_side_text(*tensors, names=names, gap=gap))


def side_by_side_text(*tensors, names=None, gap: int = 4) -> str:
    """The text that :func:`side_by_side` prints."""
    if not tensors:
        raise ValueError("side_by_side needs at least one tensor")
    if names is not None and len(names) != len(tensors):
        raise ValueError(f"got {len(tensors)} tensors but {len(names)} names")
    names = names or [f"#{i}" for i in range(len(tensors))]
    blocks = []
    for t, n in zip(tensors, names):
        arr = np.asarray(_as_numpy(t))
        if arr.ndim > 2:
            raise ValueError(f"side_by_side shows tensors of rank ≤ 2; {n} has shape {arr.shape}")
        lines = [f"{n} {arr.shape}"] + np.array2string(arr, separator=", ").splitlines()
        blocks.append(lines)
    height = max(len(b) for b in blocks)
    widths = [max(len(line) for line in b) for b in blocks]
    rows = []
    for i in range(height):
        rows.append((" " * gap).join((b[i] if i < len(b) else "").ljust(w) for b, w in zip(blocks, widths)).rstrip())
    return "\n".join(rows)
