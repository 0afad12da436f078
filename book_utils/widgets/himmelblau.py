"""Himmelblau gradient-descent playground (chapter 7, section 7.8).

``himmelblau`` and ``descend`` are pure and testable; ``himmelblau_lab`` is the ipywidgets wrapper.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from book_utils.checks import check_int, check_number
from book_utils.widgets._fallback import with_fallback

#: The four minima of Himmelblau's function (f = 0 at each), to three decimals.
MINIMA = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])


def himmelblau(x, y=None):
    """f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2.

    Call as ``himmelblau(X, Y)`` on arrays/tensors, or ``himmelblau(p)`` with ``p[..., 0]``, ``p[..., 1]``
    (works for NumPy arrays and TensorFlow tensors alike).
    """
    if y is None:
        x, y = x[..., 0], x[..., 1]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def nearest_minimum(point):
    """Index of and distance to the closest of the four known minima."""
    p = np.asarray(point, dtype=float).reshape(-1)
    if p.shape != (2,):
        raise ValueError(f"point must have two coordinates (x, y), got shape {np.shape(point)}")
    d = np.linalg.norm(MINIMA - p, axis=1)
    return int(d.argmin()), float(d.min())


def _check_number(name, value, positive=False):
    check_number(name, value)
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def descend(start, lr: float = 0.01, steps: int = 200, *, momentum: bool = False, bound: float = 1e3):
    """Gradient descent on Himmelblau's function from ``start`` with ``tf.GradientTape``.

    Plain descent updates ``x <- x - lr * grad`` by hand (the textbook's loop); ``momentum=True``
    uses ``keras.optimizers.SGD(learning_rate=lr, momentum=0.9)``. Stops early once the point leaves
    ``[-bound, bound]^2`` or is no longer finite. Returns a dict with ``path`` ((k+1, 2) NumPy array),
    ``final``, ``f``, ``diverged``, ``minimum`` (index into ``MINIMA``) and ``distance``.
    """
    start = np.asarray(start, dtype=float).reshape(-1)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"start must be two finite numbers (x0, y0), got {start!r}")
    _check_number("lr", lr, positive=True)
    steps = check_int("steps", steps)

    path = [start.copy()]
    diverged = False
    if momentum:
        x = tf.Variable(start, dtype=tf.float64)
        opt = keras.optimizers.SGD(learning_rate=lr, momentum=0.9)
    else:
        x = tf.constant(start, dtype=tf.float64)
    for _ in range(int(steps)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            f = himmelblau(x)
        grad = tape.gradient(f, x)
        if momentum:
            opt.apply_gradients([(grad, x)])
            value = x.numpy().copy()
        else:
            x = x - lr * grad
            value = x.numpy()
        path.append(value)
        if not np.all(np.isfinite(value)) or np.abs(value).max() > bound:
            diverged = True
            break
    path = np.array(path)
    final = path[-1]
    idx, dist = nearest_minimum(final) if np.all(np.isfinite(final)) else (-1, float("inf"))
    f_final = float(himmelblau(final)) if np.all(np.isfinite(final)) else float("inf")
    return {"path": path, "final": final, "f": f_final, "diverged": diverged, "minimum": idx, "distance": dist}


def contour_axes(ax=None, lim: float = 6.0, levels: int = 40):
    """Himmelblau contour map (log-spaced levels) with the four minima marked; return the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    g = np.arange(-lim, lim, 0.1)
    X, Y = np.meshgrid(g, g)
    Z = himmelblau(X, Y)
    ax.contourf(X, Y, np.log1p(Z), levels=levels, cmap="viridis", alpha=0.8)
    ax.contour(X, Y, np.log1p(Z), levels=levels, colors="k", linewidths=0.2)
    ax.plot(MINIMA[:, 0], MINIMA[:, 1], "r*", ms=12, label="极小值点")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal")
    return ax


def draw_descent(x0: float = 4.0, y0: float = 0.0, lr: float = 0.01, steps: int = 200, momentum: bool = False):
    """Figure: the contour map with the :func:`descend` path from (x0, y0) and where it ended."""
    r = descend((x0, y0), lr, steps, momentum=momentum)
    ax = contour_axes()
    p = np.clip(r["path"], -6, 6)
    ax.plot(p[:, 0], p[:, 1], "w.-", ms=3, lw=1)
    ax.plot([x0], [y0], "wo", ms=8)
    if r["diverged"]:
        ax.set_title("发散（diverged）：请减小学习率")
    else:
        m = MINIMA[r["minimum"]]
        ax.set_title(f"终点 ({r['final'][0]:.3f}, {r['final'][1]:.3f})  f={r['f']:.2e}\n"
                     f"最近极小值 ({m[0]:.3f}, {m[1]:.3f})")
    return ax.figure


#: Start points of the static preview: each one leads plain descent (lr 0.01) to a different minimum.
PREVIEW_STARTS = ((4.0, 0.0), (1.0, 1.0), (-2.0, 2.0), (-2.0, -2.0))


def himmelblau_lab():
    """Sliders for the start point, learning rate and steps, plus a momentum checkbox."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    x0 = W.FloatSlider(value=4.0, min=-6, max=6, step=0.1, description="x₀")
    y0 = W.FloatSlider(value=0.0, min=-6, max=6, step=0.1, description="y₀")
    lr = W.FloatLogSlider(value=0.01, base=10, min=-4, max=np.log10(0.05), step=0.05, description="学习率")
    steps = W.IntSlider(value=200, min=10, max=500, step=10, description="步数")
    mom = W.Checkbox(value=False, description="动量 SGD(momentum=0.9)")

    out = W.interactive_output(lambda **v: (draw_descent(**v), plt.show()),
                               {"x0": x0, "y0": y0, "lr": lr, "steps": steps, "momentum": mom})
    box = W.VBox([W.HBox([x0, y0]), W.HBox([lr, steps]), mom, out])
    # a contour frame is ~50 KB: one control at a time (7 frames); lr 0.05 diverges
    starts = [(f"({x:g}, {y:g})", (x, y)) for x, y in PREVIEW_STARTS]
    return with_fallback(
        box, lambda start, lr, steps, momentum: draw_descent(*start, lr, steps, momentum),
        {"start": ("起点 (x₀, y₀)", starts), "lr": ("学习率", [0.001, 0.01, 0.05], 0.01),
         "steps": ("步数", [200]), "momentum": ("动量 SGD", [("关", False), ("开", True)])}, max_frames=1)
