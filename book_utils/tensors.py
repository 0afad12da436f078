"""Tensor demo helpers: readable display, side-by-side comparisons, broadcasting and indexing illustrations."""
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


# --------------------------------------------------------------------------- broadcasting

def _parse_shape(shape, what: str = "shape") -> tuple:
    """Accept a tuple/list/TensorShape of ints or a text like ``"2,32,32,3"`` / ``"[2, 32]"``."""
    if isinstance(shape, str):
        text = shape.strip().strip("[]()").strip()
        if not text:
            return ()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            dims = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"{what} {shape!r} is not a comma-separated list of integers, e.g. '2,32,32,3'") from None
    else:
        if hasattr(shape, "as_list"):
            shape = shape.as_list()
        if not isinstance(shape, (list, tuple)):
            raise TypeError(f"{what} must be a list/tuple of ints or a text like '2,32,3', got {type(shape).__name__}")
        dims = tuple(shape)
        for d in dims:
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
                raise TypeError(f"{what} {shape!r} must contain only integers, got {d!r}")
        dims = tuple(int(d) for d in dims)
    for d in dims:
        if d < 0:
            raise ValueError(f"{what} {dims} has a negative dimension; sizes must be ≥ 0")
    return dims


def align_shapes(a, b) -> list[tuple]:
    """Right-align two shapes for broadcasting.

    Returns one row per output axis ``(size_a | None, size_b | None, result | None, rule)`` where
    ``None`` marks a missing (inserted) axis and ``rule`` is one of ``'equal'``, ``'stretch-a'``,
    ``'stretch-b'``, ``'insert-a'``, ``'insert-b'`` or ``'conflict'`` (result ``None``).
    """
    a, b = _parse_shape(a, "shape a"), _parse_shape(b, "shape b")
    n = max(len(a), len(b))
    pa = (None,) * (n - len(a)) + a
    pb = (None,) * (n - len(b)) + b
    rows = []
    for x, y in zip(pa, pb):
        if x is None:
            rows.append((x, y, y, "insert-a"))
        elif y is None:
            rows.append((x, y, x, "insert-b"))
        elif x == y:
            rows.append((x, y, x, "equal"))
        elif x == 1:
            rows.append((x, y, y, "stretch-a"))
        elif y == 1:
            rows.append((x, y, x, "stretch-b"))
        else:
            rows.append((x, y, None, "conflict"))
    return rows


def broadcast_shape(a, b) -> tuple:
    """The shape that broadcasting ``a`` against ``b`` produces, or ``ValueError`` naming the conflict."""
    rows = align_shapes(a, b)
    bad = [(i, r) for i, r in enumerate(rows) if r[3] == "conflict"]
    if bad:
        n = len(rows)
        i, (x, y, _, _) = bad[0]
        raise ValueError(
            f"shapes {list(_parse_shape(a))} and {list(_parse_shape(b))} cannot be broadcast: "
            f"aligned from the right, axis {i - n} has sizes {x} and {y}; "
            "sizes must be equal or one of them must be 1")
    return tuple(r[2] for r in rows)


def broadcast_text(a, b) -> str:
    """A right-aligned text table of the two shapes and the result (or the conflicting axis)."""
    rows = align_shapes(a, b)
    def cell(v):
        return "·" if v is None else str(v)
    cols = [(cell(x), cell(y), "✗" if r == "conflict" else cell(z)) for x, y, z, r in rows]
    width = max([len(c) for col in cols for c in col] + [1])
    lines = []
    for label, k in (("a     ", 0), ("b     ", 1), ("结果  ", 2)):
        lines.append(label + " ".join(c[k].rjust(width) for c in cols))
    try:
        lines.append(f"→ 广播结果 shape = {list(broadcast_shape(a, b))}")
    except ValueError as err:
        lines.append("→ 无法广播: " + str(err))
    return "\n".join(lines)


_RULE_COLORS = {"equal": "#cfe8cf", "stretch-a": "#ffd9a8", "stretch-b": "#ffd9a8", "insert-a": "#c9ddf2",
                "insert-b": "#c9ddf2", "conflict": "#f4b6b6"}


def plot_broadcast(a, b, *, ax=None, title: str | None = "广播机制示意"):
    """Draw the two right-aligned shapes and the result as rows of boxes.

    Green: sizes equal; orange: a size-1 axis is stretched; blue: a missing axis is inserted;
    red: conflicting sizes (no result). Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    rows = align_shapes(a, b)
    n = len(rows)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * max(n, 2) + 1.6, 2.4))
    labels = ["a", "b", "结果"]
    for j, (x, y, z, rule) in enumerate(rows):
        for k, v in enumerate((x, y, z)):
            stretched = (k == 0 and rule in ("stretch-a", "insert-a")) or (k == 1 and rule in ("stretch-b", "insert-b"))
            if k == 2:
                color = _RULE_COLORS["conflict"] if rule == "conflict" else "#eeeeee"
            else:
                color = _RULE_COLORS[rule] if (stretched or rule in ("equal", "conflict")) else "#ffffff"
            ax.add_patch(Rectangle((j, -k), 0.9, 0.8, facecolor=color, edgecolor="#555555",
                                   linestyle="--" if v is None else "-"))
            text = "冲突" if (k == 2 and rule == "conflict") else ("(1)" if v is None else str(v))
            ax.text(j + 0.45, -k + 0.4, text, ha="center", va="center", fontsize=11)
    for k, lab in enumerate(labels):
        ax.text(-0.2, -k + 0.4, lab, ha="right", va="center", fontsize=11)
    ax.set_xlim(-1.2, n)
    ax.set_ylim(-2.1, 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- indexing and slicing

def parse_index(expr: str):
    """Parse a NumPy/TF index expression such as ``"1:3, ::2, ..., 0"`` without ``eval``.

    A leading ``x[`` and trailing ``]`` are optional. Returns a tuple of ints, slices and ``Ellipsis``.
    """
    if not isinstance(expr, str):
        raise TypeError(f"index expression must be a string like '1:3, ::2', got {type(expr).__name__}")
    text = expr.strip()
    if text.startswith("x[") and text.endswith("]"):
        text = text[2:-1]
    elif text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text.strip():
        raise ValueError("empty index expression; write e.g. '0, 1:3, ::2'")
    items = []
    for part in text.split(","):
        p = part.strip()
        if p in ("...", "…"):
            items.append(Ellipsis)
            continue
        bits = p.split(":")
        if len(bits) > 3:
            raise ValueError(f"{p!r} has too many ':'; a slice is start:stop:step")
        try:
            vals = [int(s) if s.strip() else None for s in bits]
        except ValueError:
            raise ValueError(f"{p!r} is not an integer, a slice start:stop:step or '...'") from None
        if len(bits) == 1:
            if vals[0] is None:
                raise ValueError("empty index between commas")
            items.append(vals[0])
        else:
            if len(vals) == 3 and vals[2] == 0:
                raise ValueError(f"{p!r}: slice step cannot be zero")
            items.append(slice(*vals))
    if items.count(Ellipsis) > 1:
        raise ValueError("an index can contain only one '...'")
    return tuple(items)


def format_index(key) -> str:
    """Inverse of :func:`parse_index`: ``(slice(1, 3), Ellipsis, 0)`` → ``'1:3, ..., 0'``."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if k is Ellipsis:
            out.append("...")
        elif isinstance(k, slice):
            s = ("" if k.start is None else str(k.start)) + ":" + ("" if k.stop is None else str(k.stop))
            if k.step is not None:
                s += ":" + str(k.step)
            out.append(s)
        else:
            out.append(str(int(k)))
    return ", ".join(out)


def selection_mask(shape, key) -> np.ndarray:
    """Boolean array of ``shape`` that is True where ``x[key]`` takes its elements."""
    shape = _parse_shape(shape)
    if isinstance(key, str):
        key = parse_index(key)
    n = int(np.prod(shape)) if shape else 1
    ids = np.arange(n).reshape(shape)
    try:
        picked = np.asarray(ids[key])
    except IndexError as err:
        raise ValueError(f"index [{format_index(key)}] does not fit shape {list(shape)}: {err}") from None
    mask = np.zeros(n, dtype=bool)
    mask[picked.ravel()] = True
    return mask.reshape(shape)


def slice_shape(shape, key) -> tuple:
    """Shape of ``x[key]`` for a tensor of ``shape`` (computed, not guessed)."""
    shape = _parse_shape(shape)
    if isinstance(key, str):
        key = parse_index(key)
    try:
        return tuple(np.empty(shape, dtype=np.int8)[key].shape)
    except IndexError as err:
        raise ValueError(f"index [{format_index(key)}] does not fit shape {list(shape)}: {err}") from None


def slice_table(x, rows):
    """A pandas DataFrame of ``(写法, 含义, 结果 shape)`` with shapes computed live on tensor ``x``.

    ``rows`` is a list of ``(expression, meaning)`` pairs; each expression is applied to ``x`` with TF.
    """
    import pandas as pd

    if not hasattr(x, "shape"):
        raise TypeError(f"slice_table needs a tensor or array, got {type(x).__name__}")
    out = []
    for expr, meaning in rows:
        key = parse_index(expr)
        out.append({"写法": f"x[{expr}]", "含义": meaning, "结果 shape": list(x[key].shape)})
    return pd.DataFrame(out)


def plot_selection(shape, key, *, ax=None, title: str | None = None):
    """Highlight which cells of a 1-D/2-D tensor ``x[key]`` selects (selected cells dark)."""
    import matplotlib.pyplot as plt

    shape = _parse_shape(shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"plot_selection draws 1-D or 2-D tensors, got shape {list(shape)}")
    mask = selection_mask(shape, key)
    grid = mask.reshape(1, -1) if len(shape) == 1 else mask
    ids = np.arange(grid.size).reshape(grid.shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * grid.shape[1] + 0.6, 0.45 * grid.shape[0] + 0.8))
    ax.imshow(grid, cmap="Blues", vmin=-0.3, vmax=1.2)
    for (i, j), v in np.ndenumerate(ids):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=8, color="white" if grid[i, j] else "#444444")
    ax.set_xticks(range(grid.shape[1]))
    ax.set_yticks(range(grid.shape[0]))
    ax.grid(False)
    index = key if not isinstance(key, str) else parse_index(key)
    ax.set_title(title if title is not None else f"x[{format_index(index)}]")
    return ax


def softmax(logits):
    """Softmax over the last axis of a NumPy array, stable for large logits (the max is subtracted first)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
