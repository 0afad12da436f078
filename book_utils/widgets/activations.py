"""Activation-function explorer, softmax temperature and gradient saturation (chapters 6 and 7).

Pure functions (``activation_curve``, ``softmax_temperature``, ``saturation_at``) compute what the
widgets show and are testable without a browser; ``activation_explorer``, ``softmax_explorer`` and
``saturation_explorer`` are thin ipywidgets wrappers around them.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from book_utils.checks import check_int, check_number, check_range
from book_utils.widgets._fallback import with_fallback

ACTIVATIONS = ("sigmoid", "relu", "leaky_relu", "tanh", "softplus")
LABELS = {"sigmoid": "Sigmoid", "relu": "ReLU", "leaky_relu": "LeakyReLU", "tanh": "Tanh", "softplus": "Softplus"}


def _check_name(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def _tf_activation(name, slope):
    return {
        "sigmoid": tf.nn.sigmoid,
        "relu": tf.nn.relu,
        "leaky_relu": lambda z: tf.nn.leaky_relu(z, alpha=slope),
        "tanh": tf.nn.tanh,
        "softplus": tf.nn.softplus,
    }[name]


def activation_curve(name: str, x_range=(-6.0, 6.0), *, slope: float = 0.1, num: int = 201,
                     saturation_threshold: float = 0.05):
    """Evaluate an activation and its derivative (via ``tf.GradientTape``) on a grid.

    Returns a dict with ``x``, ``y``, ``dy`` (NumPy float64 arrays) and ``saturated`` (boolean mask
    where ``|dy| < saturation_threshold``, i.e. where gradients almost vanish).
    """
    _check_name(name)
    lo, hi = check_range("x_range", x_range)
    slope = check_number("slope", slope, 0, accepted="the LeakyReLU negative slope, a number in [0, 1)")
    if slope >= 1:
        raise ValueError(f"slope (the LeakyReLU negative slope) must be a number in [0, 1), got {slope!r}")
    num = check_int("num", num, 2)
    x = tf.constant(np.linspace(lo, hi, int(num)), dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = _tf_activation(name, float(slope))(x)
    dy = tape.gradient(y, x)
    dy = dy.numpy()
    return {"x": x.numpy(), "y": y.numpy(), "dy": dy, "saturated": np.abs(dy) < saturation_threshold}


def plot_activation(name: str, x_range=(-6.0, 6.0), *, slope: float = 0.1, ax=None):
    """Draw an activation, its derivative and the shaded saturation regions; return the axes."""
    import matplotlib.pyplot as plt

    c = activation_curve(name, x_range, slope=slope)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(c["x"], c["y"], lw=2, label="函数")
    ax.plot(c["x"], c["dy"], lw=2, ls="--", label="导数")
    ymin, ymax = ax.get_ylim()
    ax.fill_between(c["x"], ymin, ymax, where=c["saturated"], color="grey", alpha=0.15, label="饱和区（|导数|<0.05）")
    ax.set_ylim(ymin, ymax)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("x")
    ax.set_ylabel("激活函数输出")
    ax.set_title(LABELS[name])
    ax.legend(loc="upper left", fontsize=9)
    return ax


def activation_explorer():
    """Dropdown (activation), LeakyReLU slope slider and x-range slider around ``plot_activation``."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    name = W.Dropdown(options=[(LABELS[n], n) for n in ACTIVATIONS], value="sigmoid", description="激活函数")
    slope = W.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.01, description="负半轴斜率")
    xr = W.FloatRangeSlider(value=(-6.0, 6.0), min=-12.0, max=12.0, step=0.5, description="x 范围")

    def draw(name, slope, x_range):
        fig, ax = plt.subplots(figsize=(6, 3.6))
        plot_activation(name, x_range, slope=slope, ax=ax)
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"name": name, "slope": slope, "x_range": xr})
    box = W.VBox([W.HBox([name, slope]), xr, out])
    return with_fallback(box, draw, {"name": ("激活函数", name.options), "slope": ("负半轴斜率", [0.0, 0.1, 0.3]),
                                     "x_range": ("x 范围", [(-6.0, 6.0), (-12.0, 12.0)])}, max_frames=30)


def softmax_temperature(logits, temperature: float = 1.0, true_class: int = 0):
    """softmax(z / T), its entropy in nats and the cross-entropy for ``true_class``.

    Returns a dict with ``probs`` (NumPy), ``entropy`` and ``ce`` (floats).
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"logits must be a 1-D sequence of at least 2 numbers, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite numbers")
    temperature = check_number("temperature", temperature, accepted="a positive number")
    if temperature <= 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    check_int("true_class", true_class, 0, z.size - 1)
    s = z / float(temperature)
    s = s - s.max()  # stable: exp never overflows
    log_p = s - np.log(np.exp(s).sum())
    p = np.exp(log_p)
    entropy = float(-(p * log_p).sum())
    return {"probs": p, "entropy": entropy, "ce": float(-log_p[true_class])}


def softmax_explorer(logits=(2.0, 1.0, 0.1)):
    """Three logit sliders, a temperature log-slider and a true-class dropdown."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    sliders = [W.FloatSlider(value=float(v), min=-5, max=5, step=0.1, description=f"z{i}")
               for i, v in enumerate(logits)]
    temp = W.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05, description="温度 T")
    true = W.Dropdown(options=list(range(len(sliders))), value=0, description="真实类别")

    def draw(T, true_class, **zs):
        z = [zs[f"z{i}"] for i in range(len(sliders))]
        r = softmax_temperature(z, T, true_class)
        fig, ax = plt.subplots(figsize=(5, 3))
        colors = ["C3" if i == true_class else "C0" for i in range(len(z))]
        ax.bar(range(len(z)), r["probs"], color=colors)
        ax.set_ylim(0, 1)
        ax.set_xticks(range(len(z)))
        ax.set_xlabel("类别")
        ax.set_ylabel("Softmax 概率")
        ax.set_title(f"T={T:.2f}  熵={r['entropy']:.3f}  交叉熵={r['ce']:.3f}")
        return fig

    controls = {"T": temp, "true_class": true, **{f"z{i}": s for i, s in enumerate(sliders)}}
    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), controls)
    box = W.VBox([W.HBox(sliders), W.HBox([temp, true]), out])
    frames = {"T": ("温度 T", [0.1, 0.3, 1.0, 3.0, 10.0], 1.0), "true_class": ("真实类别", true.options),
              **{f"z{i}": (f"z{i}", [float(v)]) for i, v in enumerate(logits)}}
    return with_fallback(box, draw, frames)


def saturation_at(z: float) -> dict:
    """Values and derivatives of sigmoid and tanh at a pre-activation ``z``."""
    check_number("z", z)
    s = 1.0 / (1.0 + np.exp(-float(z)))
    t = np.tanh(float(z))
    return {"sigmoid": float(s), "d_sigmoid": float(s * (1 - s)), "tanh": float(t), "d_tanh": float(1 - t * t)}


def saturation_explorer():
    """A slider for z showing sigma'(z) and tanh'(z) as numbers and as points on the derivative curves."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    zs = W.FloatSlider(value=0.0, min=-8, max=8, step=0.25, description="z")
    grid = np.linspace(-8, 8, 321)

    def draw(z):
        r = saturation_at(z)
        s = 1 / (1 + np.exp(-grid))
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.plot(grid, s * (1 - s), label="σ'(z)")
        ax.plot(grid, 1 - np.tanh(grid) ** 2, label="tanh'(z)")
        ax.plot([z], [r["d_sigmoid"]], "o", color="C0")
        ax.plot([z], [r["d_tanh"]], "o", color="C1")
        ax.set_xlabel("z")
        ax.set_ylabel("导数")
        ax.set_title(f"σ'({z:.2f})={r['d_sigmoid']:.4f}   tanh'({z:.2f})={r['d_tanh']:.4f}")
        ax.legend()
        return fig

    box = W.VBox([zs, W.interactive_output(lambda z: (draw(z), plt.show()), {"z": zs})])
    return with_fallback(box, draw, {"z": ("z", [-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0], 0.0)})
