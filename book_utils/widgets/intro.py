"""Chapter 1 demos: an autograd explorer and a CPU/GPU matrix-multiply timing playground."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .. import device
from ._fallback import with_fallback

SHAPES = {"vector": "向量 [1,n]@[n,1]", "square": "方阵 [n,n]@[n,n]"}


def quadratic_gradient(a: float, b: float, c: float, w: float) -> dict:
    """y = a·w² + b·w + c and dy/dw from ``tf.GradientTape`` next to the analytic 2aw + b."""
    values = [float(v) for v in (a, b, c, w)]
    if not all(np.isfinite(values)):
        raise ValueError(f"a, b, c and w must be finite numbers, got {values}")
    a_t, b_t, c_t, w_t = (tf.constant(v, dtype=tf.float64) for v in values)
    with tf.GradientTape() as tape:
        tape.watch(w_t)
        y = a_t * w_t**2 + b_t * w_t + c_t
    grad = tape.gradient(y, w_t)
    return {"y": float(y), "tape": float(grad), "analytic": 2 * values[0] * values[3] + values[1]}


def draw_quadratic(a: float, b: float, c: float, w: float, ax=None):
    """Plot y(w) on [-6, 6], the point at w and its tangent from the tape gradient; return the result dict."""
    import matplotlib.pyplot as plt

    r = quadratic_gradient(a, b, c, w)
    ax = ax or plt.gca()
    ws = np.linspace(-6, 6, 200)
    ax.plot(ws, a * ws**2 + b * ws + c, label="y = a·w² + b·w + c")
    ax.plot(ws, r["y"] + r["tape"] * (ws - w), "--", color="tab:orange", label="切线（斜率来自 GradientTape）")
    ax.plot([w], [r["y"]], "o", color="red")
    ax.set_xlabel("w")
    ax.set_ylabel("y")
    ax.set_title(f"tape 梯度 = {r['tape']:.3f}，解析式 2aw+b = {r['analytic']:.3f}")
    ax.legend(loc="upper center")
    return r


def autograd_explorer():
    """Four sliders (a, b, c, w) redrawing the curve, the point and the tangent."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    sliders = {k: W.FloatSlider(value=v, min=-5, max=5, step=0.1, description=k, continuous_update=False)
               for k, v in dict(a=1.0, b=2.0, c=3.0, w=4.0).items()}
    sliders["w"].min, sliders["w"].max = -6, 6

    def draw(a, b, c, w):
        fig, ax = plt.subplots(figsize=(6, 3.6))
        draw_quadratic(a, b, c, w, ax)
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), sliders)
    box = W.VBox([W.HBox(list(sliders.values())[:2]), W.HBox(list(sliders.values())[2:]), out])
    return with_fallback(box, draw, {
        "a": ("a", [-2.0, -1.0, 0.0, 1.0, 2.0], 1.0), "b": ("b", [-4.0, -2.0, 0.0, 2.0, 4.0], 2.0),
        "c": ("c", [-3.0, 0.0, 3.0], 3.0), "w": ("w", [-6.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 6.0], 4.0)})


def timing_sweep(shape: str = "vector", log2_range=(0, 12), devices=("CPU",), number: int = 10,
                 repeat: int = 3) -> dict:
    """Milliseconds for ``number`` matmuls (fastest of ``repeat`` rounds) at n = 2^k for k in the range, per device."""
    lo, hi = log2_range
    if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi <= 26):
        raise ValueError(f"log2_range must be integers 0 ≤ low ≤ high ≤ 26, got {log2_range!r}")
    sizes = [2**k for k in range(lo, hi + 1)]
    result = {"n": sizes}
    for dev in devices:
        if dev not in ("CPU", "GPU"):
            raise ValueError(f"devices may contain 'CPU' and 'GPU', got {dev!r}")
        result[dev] = [1000 * device.time_matmul(n, f"/{dev}:0", shape=shape, number=number, repeat=repeat)
                       for n in sizes]
    return result


def timing_window(result: dict, log2_range) -> dict:
    """The part of a :func:`timing_sweep` result with 2^low ≤ n ≤ 2^high (no new measurement)."""
    lo, hi = log2_range
    keep = [i for i, n in enumerate(result["n"]) if 2**lo <= n <= 2**hi]
    return {k: [v[i] for i in keep] for k, v in result.items()}


def plot_timing(result: dict, ax=None, title: str = "矩阵相乘耗时对比"):
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    for dev in ("CPU", "GPU"):
        if dev in result:
            ax.plot(result["n"], result[dev], marker="o", markersize=3, label=dev)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("矩阵大小 n")
    ax.set_ylabel("运算时间（毫秒）")
    ax.set_title(title)
    ax.legend()
    return ax


def timing_playground(initial_range=(0, 10)):
    """Shape dropdown, log2 n range, device checkboxes and a Run button (timing only on click)."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    gpu = device.has_gpu()
    shape = W.Dropdown(options=[(t, k) for k, t in SHAPES.items()], value="vector", description="形状")
    rng = W.IntRangeSlider(value=initial_range, min=0, max=24, description="log₂ n", continuous_update=False)
    use_cpu = W.Checkbox(value=True, description="CPU", disabled=True)
    use_gpu = W.Checkbox(value=gpu, description="GPU", disabled=not gpu)
    note = W.HTML("" if gpu else "<i>本机没有可用 GPU，因此 GPU 选项不可用。</i>")
    run = W.Button(description="运行计时", button_style="primary")
    out = W.Output()

    def draw(result, log2_range):
        fig, ax = plt.subplots(figsize=(6, 3.6))
        plot_timing(timing_window(result, log2_range), ax)
        return fig

    def on_run(_=None):
        hi = rng.value[1] if shape.value == "vector" else min(rng.value[1], 12)
        lo, hi = rng.value[0], max(hi, rng.value[0])
        devices = ["CPU"] + (["GPU"] if use_gpu.value else [])
        result = timing_sweep(shape.value, (lo, hi), devices)
        out.clear_output(wait=True)
        with out:
            draw(result, (lo, hi))
            plt.show()
        return result, (lo, hi)

    run.on_click(on_run)
    measured, (lo, hi) = on_run()
    box = W.VBox([W.HBox([shape, rng]), W.HBox([use_cpu, use_gpu, run]), note, out])
    # the preview redraws the one sweep measured above over narrower displayed ranges; it never re-times
    ranges = [(lo, int(k)) for k in sorted(set(np.linspace(min(lo + 2, hi), hi, 9).round().astype(int)))]
    return with_fallback(box, lambda log2_range, **_: draw(measured, log2_range), {
        "shape": ("形状", [(SHAPES[shape.value], shape.value)]), "log2_range": ("log₂ n", ranges, (lo, hi))})
