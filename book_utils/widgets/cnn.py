"""Chapter 10 widgets: kernel editor, convolution-arithmetic calculator, feature-map browser.

Each widget is a pure function (testable without a browser) plus a thin ipywidgets wrapper.
"""
from __future__ import annotations

import io

import numpy as np

from book_utils.checks import check_int as _check_int


def _fig_png(fig) -> bytes:
    """Render a figure to PNG bytes for a ``widgets.Image`` (no Output-widget capture needed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()

KERNEL_PRESETS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "blur": [[1 / 16, 1 / 8, 1 / 16], [1 / 8, 1 / 4, 1 / 8], [1 / 16, 1 / 8, 1 / 16]],
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
}


# ----------------------------------------------------------------------------- kernel editor
def apply_kernel(image, kernel, *, normalise: bool = False) -> np.ndarray:
    """Convolve every channel of ``image`` ([H, W] or [H, W, C], values in [0, 1]) with a 3×3 ``kernel``.

    Uses ``tf.nn.depthwise_conv2d`` with SAME padding (cross-correlation, as deep-learning
    "convolution" is). ``normalise=True`` divides the kernel by its sum when that is non-zero.
    Returns float32 values clipped to [0, 1], same shape as ``image``.
    """
    import tensorflow as tf

    img = np.asarray(image, dtype=np.float32)
    if img.ndim not in (2, 3):
        raise ValueError(f"image must be [H, W] or [H, W, C], got shape {img.shape}")
    k = np.asarray(kernel, dtype=np.float32)
    if k.shape != (3, 3):
        raise ValueError(f"kernel must be 3×3, got shape {k.shape}")
    if normalise and abs(k.sum()) > 1e-8:
        k = k / k.sum()
    squeeze = img.ndim == 2
    if squeeze:
        img = img[..., None]
    c = img.shape[-1]
    w = np.repeat(k[:, :, None, None], c, axis=2)  # [3, 3, C, 1]
    out = tf.nn.depthwise_conv2d(img[None], w, strides=[1, 1, 1, 1], padding="SAME")[0].numpy()
    out = np.clip(out, 0.0, 1.0)
    return out[..., 0] if squeeze else out


def kernel_editor(image, preset: str = "sharpen"):
    """A 3×3 grid of FloatText, a preset dropdown and a normalise checkbox; the photo updates live."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    if preset not in KERNEL_PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(KERNEL_PRESETS)}")
    cells = [W.FloatText(value=float(v), layout=W.Layout(width="70px"))
             for row in KERNEL_PRESETS[preset] for v in row]
    dropdown = W.Dropdown(options=list(KERNEL_PRESETS), value=preset, description="预设")
    norm = W.Checkbox(value=False, description="归一化")
    out = W.Image(format="png")

    def redraw(*_):
        k = np.array([c.value for c in cells]).reshape(3, 3)
        fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
        axes[0].imshow(image)
        axes[0].set_title("原图")
        axes[1].imshow(apply_kernel(image, k, normalise=norm.value))
        axes[1].set_title("卷积结果")
        for ax in axes:
            ax.axis("off")
        out.value = _fig_png(fig)

    def on_preset(change):
        for c, v in zip(cells, np.ravel(KERNEL_PRESETS[change["new"]])):
            c.value = float(v)

    dropdown.observe(on_preset, names="value")
    for w in (*cells, norm):
        w.observe(redraw, names="value")
    redraw()
    grid = W.GridBox(cells, layout=W.Layout(grid_template_columns="repeat(3, 75px)"))
    return W.HBox([W.VBox([dropdown, grid, norm]), out])


# ----------------------------------------------------------------------------- conv arithmetic
def conv_output_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1, *, transposed: bool = False) -> dict:
    """Output size of a convolution (or transposed convolution) along one axis, with the formula.

    Convolution: o = ⌊(i + 2p − k_eff) / s⌋ + 1 with k_eff = d(k − 1) + 1 (floor, not ceil).
    Transposed convolution: o = (i − 1)s + k_eff − 2p (the size ``conv2d_transpose`` returns when
    no ``output_padding`` is added). Returns ``{"output": o, "formula": text}``.
    """
    i, k, s = _check_int("input size i", i, 1), _check_int("kernel k", k, 1), _check_int("stride s", s, 1)
    p, d = _check_int("padding p", p, 0), _check_int("dilation d", d, 1)
    k_eff = d * (k - 1) + 1
    if transposed:
        o = (i - 1) * s + k_eff - 2 * p
        formula = f"o = (i−1)·s + k' − 2p = ({i}−1)·{s} + {k_eff} − 2·{p} = {o}"
    else:
        if i + 2 * p < k_eff:
            raise ValueError(f"the (dilated) kernel {k_eff} is larger than the padded input {i + 2 * p}")
        o = (i + 2 * p - k_eff) // s + 1
        formula = f"o = ⌊(i + 2p − k')/s⌋ + 1 = ⌊({i} + 2·{p} − {k_eff})/{s}⌋ + 1 = {o}"
    if o < 1:
        raise ValueError(f"these settings give an empty output (o = {o})")
    if d > 1:
        formula = f"k' = d(k−1)+1 = {k_eff};  " + formula
    return {"output": o, "formula": formula}


def draw_conv_window(ax, i: int, k: int, s: int, p: int, d: int, step: int):
    """Draw the padded input grid and highlight the receptive window of output position ``step``."""
    import matplotlib.patches as patches

    info = conv_output_size(i, k, s, p, d)
    o = info["output"]
    step = int(step) % (o * o)
    r, c = divmod(step, o)
    n = i + 2 * p
    ax.clear()
    for y in range(n):
        for x in range(n):
            pad = not (p <= y < p + i and p <= x < p + i)
            ax.add_patch(patches.Rectangle((x, n - 1 - y), 1, 1, fill=True,
                                           facecolor="#eeeeee" if pad else "#cfe2f3", edgecolor="gray"))
    for a in range(k):
        for b in range(k):
            y, x = r * s + a * d, c * s + b * d
            ax.add_patch(patches.Rectangle((x, n - 1 - y), 1, 1, facecolor="#f4a261", edgecolor="k", alpha=0.9))
    ax.set_xlim(0, n)
    ax.set_ylim(0, n)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"卷积运算示意：输出位置 ({r}, {c})，输出 {o}×{o}")
    return r, c


def conv_calculator():
    """Sliders for i, k, s, p, d and a conv/transposed toggle; formula, size and a sliding window."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    sl = {name: W.IntSlider(value=v, min=lo, max=hi, description=name)
          for name, v, lo, hi in (("输入 i", 7, 1, 16), ("核 k", 3, 1, 7), ("步长 s", 2, 1, 4),
                                  ("填充 p", 1, 0, 3), ("膨胀 d", 1, 1, 3))}
    mode = W.ToggleButtons(options=["卷积", "转置卷积"], value="卷积")
    play = W.Play(value=0, min=0, max=63, interval=600, description="播放")
    text = W.HTML()
    out = W.Image(format="png")

    def redraw(*_):
        i, k, s, p, d = (w.value for w in sl.values())
        try:
            info = conv_output_size(i, k, s, p, d, transposed=mode.value == "转置卷积")
            text.value = f"<code>{info['formula']}</code>"
        except ValueError as err:
            text.value = f"<b>{err}</b>"
            return
        if mode.value == "卷积":
            fig, ax = plt.subplots(figsize=(3.6, 3.6))
            draw_conv_window(ax, i, k, s, p, d, play.value)
            out.value = _fig_png(fig)

    for w in (*sl.values(), mode, play):
        w.observe(redraw, names="value")
    redraw()
    return W.VBox([W.HBox([W.VBox(list(sl.values())), W.VBox([mode, play, text])]), out])


# ----------------------------------------------------------------------------- feature maps
def feature_maps(model, image, layer_index: int) -> np.ndarray:
    """Activations [H, W, C] of ``model.layers[layer_index]`` (a Sequential) for one image [H, W, 1]."""
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise ValueError(f"image must be [H, W] or [H, W, C], got shape {x.shape}")
    n = len(model.layers)
    _check_int("layer_index", layer_index, 0, n - 1)
    h = x[None]
    for layer in model.layers[: layer_index + 1]:
        h = layer(h, training=False)
    h = np.asarray(h)[0]
    if h.ndim != 3:
        raise ValueError(f"layer {layer_index} ({model.layers[layer_index].name}) is not a feature-map layer")
    return h


def feature_map_browser(model, images, layer_indices=None):
    """Index slider over ``images`` and a layer dropdown; shows that layer's maps of the trained model."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    if layer_indices is None:
        layer_indices = [i for i, layer in enumerate(model.layers) if len(layer.output.shape) == 4]
    options = [(f"{i}: {model.layers[i].name}", i) for i in layer_indices]
    idx = W.IntSlider(value=0, min=0, max=len(images) - 1, description="样本")
    layer = W.Dropdown(options=options, value=options[0][1], description="层")
    out = W.Image(format="png")

    def redraw(*_):
        maps = feature_maps(model, images[idx.value], layer.value)
        c = maps.shape[-1]
        cols = min(8, c)
        rows = int(np.ceil(c / cols))
        fig, axes = plt.subplots(rows, cols + 1, figsize=(1.3 * (cols + 1), 1.4 * rows), squeeze=False)
        for ax in axes.ravel():
            ax.axis("off")
        axes[0, 0].imshow(np.squeeze(images[idx.value]), cmap="gray")
        axes[0, 0].set_title("输入")
        for j in range(c):
            ax = axes[j // cols, j % cols + 1]
            ax.imshow(maps[..., j], cmap="viridis")
            ax.set_title(f"通道 {j}", fontsize=8)
        out.value = _fig_png(fig)

    idx.observe(redraw, names="value")
    layer.observe(redraw, names="value")
    redraw()
    return W.VBox([W.HBox([idx, layer]), out])


# ----------------------------------------------------------------------------- BN train/test toggle
def bn_demo(batch_size: int = 32, momentum: float = 0.99, training: bool = True, steps: int = 50,
            seed: int = 0, true_mean: float = 3.0, true_std: float = 2.0) -> dict:
    """Feed ``steps`` batches of N(true_mean, true_std²) through a fresh BatchNormalization layer.

    Returns the activations of the last batch before and after BN (in the chosen ``training`` mode)
    and the running mean after every step (it only moves in training mode).
    """
    import keras
    import tensorflow as tf

    batch_size = _check_int("batch_size", batch_size, 2)
    steps = _check_int("steps", steps, 1)
    if not 0.0 <= float(momentum) < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    bn = keras.layers.BatchNormalization(momentum=float(momentum))
    running = []
    for step in range(steps):
        x = tf.random.stateless_normal([batch_size, 1], seed=(seed, step)) * true_std + true_mean
        bn(x, training=True)
        running.append(float(bn.moving_mean[0]))
    after = np.asarray(bn(x, training=bool(training)))[:, 0]
    return {"before": np.asarray(x)[:, 0], "after": after, "running_mean": running, "true_mean": true_mean}


def bn_explorer():
    """Batch-size and momentum sliders, a training toggle; histograms and the running-mean curve."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    bs = W.IntSlider(value=32, min=2, max=256, description="batch")
    mom = W.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="momentum")
    tr = W.ToggleButtons(options=[("training=True", True), ("training=False", False)], value=True)
    out = W.Image(format="png")

    def redraw(*_):
        d = bn_demo(bs.value, mom.value, tr.value)
        fig, axes = plt.subplots(1, 2, figsize=(9, 3))
        axes[0].hist(d["before"], bins=20, alpha=0.6, label="BN 前")
        axes[0].hist(d["after"], bins=20, alpha=0.6, label="BN 后")
        axes[0].legend()
        axes[0].set_title("激活直方图")
        axes[1].plot(d["running_mean"], label="滑动均值")
        axes[1].axhline(d["true_mean"], ls="--", c="gray", label="真实均值")
        axes[1].set_xlabel("步数")
        axes[1].legend()
        axes[1].set_title("滑动均值收敛")
        out.value = _fig_png(fig)

    for w in (bs, mom, tr):
        w.observe(redraw, names="value")
    redraw()
    return W.VBox([W.HBox([bs, mom, tr]), out])
