"""Chapter 10 widgets: kernel editor, convolution-arithmetic calculator, feature-map browser.

Each widget is a pure function (testable without a browser) plus a thin ipywidgets wrapper.
"""
from __future__ import annotations

import html

import keras
import numpy as np
import tensorflow as tf

from book_utils.checks import check_int as _check_int
from book_utils.widgets._fallback import fig_png, frame_html, set_png, with_fallback

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


def draw_kernel_result(image, kernel, *, normalise: bool = False):
    """Figure: the photo and its convolution with ``kernel`` side by side."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
    axes[0].imshow(image)
    axes[0].set_title("原图")
    axes[1].imshow(apply_kernel(image, kernel, normalise=normalise))
    axes[1].set_title("卷积结果")
    for ax in axes:
        ax.axis("off")
    return fig


def kernel_editor(image, preset: str = "sharpen"):
    """A 3×3 grid of FloatText, a preset dropdown and a normalise checkbox; the photo updates live."""
    import ipywidgets as W

    if preset not in KERNEL_PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(KERNEL_PRESETS)}")
    cells = [W.FloatText(value=float(v), layout=W.Layout(width="70px"))
             for row in KERNEL_PRESETS[preset] for v in row]
    dropdown = W.Dropdown(options=list(KERNEL_PRESETS), value=preset, description="预设")
    norm = W.Checkbox(value=False, description="归一化")
    out = W.Image(format="png")

    def redraw(*_):
        k = np.array([c.value for c in cells]).reshape(3, 3)
        set_png(out, fig_png(draw_kernel_result(image, k, normalise=norm.value)))

    def on_preset(change):
        for c, v in zip(cells, np.ravel(KERNEL_PRESETS[change["new"]])):
            c.value = float(v)

    dropdown.observe(on_preset, names="value")
    for w in (*cells, norm):
        w.observe(redraw, names="value")
    redraw()
    grid = W.GridBox(cells, layout=W.Layout(grid_template_columns="repeat(3, 75px)"))
    box = W.HBox([W.VBox([dropdown, grid, norm]), out])
    # every preset sums to 1 or 0, so "normalise" changes none of them: the preview varies the preset only
    return with_fallback(box, lambda preset: draw_kernel_result(image, KERNEL_PRESETS[preset]),
                         {"preset": ("预设卷积核", list(KERNEL_PRESETS), preset)})


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


#: Cell colours of the window pictures: padding, input pixel, zero inserted by a transposed convolution.
GRID_COLOURS = ("#eeeeee", "#cfe2f3", "#ffffff")
PAD, INPUT, ZERO = 0, 1, 2


def conv_grid(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> np.ndarray:
    """Cell kinds (``PAD``/``INPUT``) of the zero-padded input a convolution slides over, (i+2p)×(i+2p)."""
    conv_output_size(i, k, s, p, d)
    inside = (np.arange(i + 2 * p) >= p) & (np.arange(i + 2 * p) < p + i)
    return np.where(inside[:, None] & inside[None, :], INPUT, PAD)


def transposed_grid(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> np.ndarray:
    """Cell kinds of the grid a transposed convolution is a stride-1 convolution over.

    The i×i input is spread out with s−1 zeros (``ZERO``) between its pixels and padded with
    q = k'−1−p cells (``PAD``) on each side (cropped by −q when q < 0); a k'×k' window sliding with
    stride 1 then gives the o×o output of ``conv_output_size(..., transposed=True)``.
    """
    o = conv_output_size(i, k, s, p, d, transposed=True)["output"]
    k_eff = d * (k - 1) + 1
    q = k_eff - 1 - p
    u = np.arange(o + k_eff - 1) - q  # position in the spread-out input, (i−1)s+1 long
    inside = (u >= 0) & (u <= (i - 1) * s)
    pixel = inside & (u % s == 0)
    kinds = np.where(pixel[:, None] & pixel[None, :], INPUT, ZERO)
    return np.where(inside[:, None] & inside[None, :], kinds, PAD)


def _draw_grid(ax, kinds: np.ndarray, window, title: str):
    """Cells coloured by kind (row 0 on top, cell (y, x) at [x, x+1]×[n−1−y, n−y]) and the window."""
    import matplotlib.patches as patches
    from matplotlib.colors import ListedColormap

    n = kinds.shape[0]
    ax.clear()
    ax.imshow(kinds, cmap=ListedColormap(GRID_COLOURS), vmin=-0.5, vmax=len(GRID_COLOURS) - 0.5,
              extent=(0, n, 0, n), interpolation="nearest")
    lw = min(0.8, 24 / n)  # thinner lines on the large grids of a transposed convolution
    ax.hlines(range(n + 1), 0, n, colors="gray", lw=lw)
    ax.vlines(range(n + 1), 0, n, colors="gray", lw=lw)
    for y, x in window:
        ax.add_patch(patches.Rectangle((x, n - 1 - y), 1, 1, facecolor=(0.96, 0.64, 0.38, 0.45),
                                       edgecolor="#c2410c", lw=1.5))
    ax.set_xlim(0, n)
    ax.set_ylim(0, n)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def draw_conv_window(ax, i: int, k: int, s: int, p: int, d: int, step: int):
    """Draw the padded input grid and highlight the receptive window of output position ``step``."""
    o = conv_output_size(i, k, s, p, d)["output"]
    r, c = divmod(int(step) % (o * o), o)
    window = [(r * s + a * d, c * s + b * d) for a in range(k) for b in range(k)]
    _draw_grid(ax, conv_grid(i, k, s, p, d), window, f"卷积运算示意：输出位置 ({r}, {c})，输出 {o}×{o}")
    return r, c


def draw_transposed_window(ax, i: int, k: int, s: int, p: int, d: int, step: int):
    """Draw what a transposed convolution slides over (:func:`transposed_grid`) and the window of ``step``.

    The window is the dilated k×k kernel moving with stride 1; its (r, c)-th position gives output
    pixel (r, c) of the o×o output. Returns ``(r, c)``.
    """
    o = conv_output_size(i, k, s, p, d, transposed=True)["output"]
    q = d * (k - 1) - p
    r, c = divmod(int(step) % (o * o), o)
    window = [(r + a * d, c + b * d) for a in range(k) for b in range(k)]
    legend = ["蓝：输入"] + ([f"白：插入的 {s - 1} 个 0"] if s > 1 else [])
    legend.append(f"灰：填充 k'−1−p = {q}" if q >= 0 else f"裁掉 p−(k'−1) = {-q} 圈")
    _draw_grid(ax, transposed_grid(i, k, s, p, d), window,
               f"转置卷积示意：输出位置 ({r}, {c})，输出 {o}×{o}\n" + "  ".join(legend))
    return r, c


def draw_conv_figure(i: int, k: int, s: int, p: int, d: int, *, transposed: bool = False, step: int = 0):
    """A 3.6×3.6 figure with :func:`draw_conv_window` or :func:`draw_transposed_window`."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.6, 3.6))
    (draw_transposed_window if transposed else draw_conv_window)(ax, i, k, s, p, d, step)
    return fig


#: Settings (i, k, s, p, d) of the calculator's static preview.
CONV_PRESETS = ((7, 3, 2, 1, 1), (5, 3, 1, 0, 1), (7, 3, 1, 0, 2), (4, 4, 2, 1, 1))


def conv_calculator():
    """Sliders for i, k, s, p, d and a conv/transposed toggle; formula, size and a sliding window."""
    import ipywidgets as W

    sl = {name: W.IntSlider(value=v, min=lo, max=hi, description=name)
          for name, v, lo, hi in (("输入 i", 7, 1, 16), ("核 k", 3, 1, 7), ("步长 s", 2, 1, 4),
                                  ("填充 p", 1, 0, 3), ("膨胀 d", 1, 1, 3))}
    mode = W.ToggleButtons(options=["卷积", "转置卷积"], value="卷积")
    play = W.Play(value=0, min=0, max=63, interval=600, description="播放")
    text = W.HTML()
    out = W.Image(format="png")

    def redraw(*_):
        i, k, s, p, d = (w.value for w in sl.values())
        transposed = mode.value == "转置卷积"
        try:
            info = conv_output_size(i, k, s, p, d, transposed=transposed)
        except ValueError as err:
            text.value = f"<b>{err}</b>"
            return
        text.value = f"<code>{info['formula']}</code>"
        set_png(out, fig_png(draw_conv_figure(i, k, s, p, d, transposed=transposed, step=play.value)))

    for w in (*sl.values(), mode, play):
        w.observe(redraw, names="value")
    redraw()
    box = W.VBox([W.HBox([W.VBox(list(sl.values())), W.VBox([mode, play, text])]), out])

    def frame(setting, transposed, step):  # the formula line, then the picture, as in the live widget
        formula = conv_output_size(*setting, transposed=transposed)["formula"]
        fig = draw_conv_figure(*setting, transposed=transposed, step=step)
        return f"<p><code>{html.escape(formula)}</code></p>{frame_html(fig)}"

    settings = [("i={}, k={}, s={}, p={}, d={}".format(*v), v) for v in CONV_PRESETS]
    return with_fallback(box, frame, {"setting": ("设置", settings),
                                      "transposed": ("模式", [("卷积", False), ("转置卷积", True)]),
                                      "step": ("输出位置编号", [0, 1, 2])})


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


def draw_feature_maps(model, image, layer_index: int):
    """Figure: the input image and every channel of ``feature_maps(model, image, layer_index)``."""
    import matplotlib.pyplot as plt

    maps = feature_maps(model, image, layer_index)
    c = maps.shape[-1]
    cols = min(8, c)
    rows = int(np.ceil(c / cols))
    fig, axes = plt.subplots(rows, cols + 1, figsize=(1.3 * (cols + 1), 1.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(np.squeeze(image), cmap="gray")
    axes[0, 0].set_title("输入")
    for j in range(c):
        ax = axes[j // cols, j % cols + 1]
        ax.imshow(maps[..., j], cmap="viridis")
        ax.set_title(f"通道 {j}", fontsize=8)
    return fig


def feature_map_browser(model, images, layer_indices=None):
    """Index slider over ``images`` and a layer dropdown; shows that layer's maps of the trained model."""
    import ipywidgets as W

    if layer_indices is None:
        layer_indices = [i for i, layer in enumerate(model.layers) if len(layer.output.shape) == 4]
    options = [(f"{i}: {model.layers[i].name}", i) for i in layer_indices]
    idx = W.IntSlider(value=0, min=0, max=len(images) - 1, description="样本")
    layer = W.Dropdown(options=options, value=options[0][1], description="层")
    out = W.Image(format="png")

    def draw(index, layer_index):
        return draw_feature_maps(model, images[index], layer_index)

    def redraw(*_):
        set_png(out, fig_png(draw(idx.value, layer.value)))

    idx.observe(redraw, names="value")
    layer.observe(redraw, names="value")
    redraw()
    box = W.VBox([W.HBox([idx, layer]), out])
    return with_fallback(box, draw, {"index": ("样本", list(range(min(3, len(images))))),
                                     "layer_index": ("层", options)})


# ----------------------------------------------------------------------------- BN train/test toggle
def bn_demo(batch_size: int = 32, momentum: float = 0.99, training: bool = True, steps: int = 50,
            seed: int = 0, true_mean: float = 3.0, true_std: float = 2.0) -> dict:
    """Feed ``steps`` batches of N(true_mean, true_std²) through a fresh BatchNormalization layer.

    Returns the activations of the last batch before and after BN (in the chosen ``training`` mode)
    and the running mean after every step (it only moves in training mode).
    """
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


def draw_bn_demo(batch_size: int = 32, momentum: float = 0.9, training: bool = True):
    """Figure: histograms before/after BN and the running-mean curve of :func:`bn_demo`."""
    import matplotlib.pyplot as plt

    d = bn_demo(batch_size, momentum, training)
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
    return fig


def bn_explorer():
    """Batch-size and momentum sliders, a training toggle; histograms and the running-mean curve."""
    import ipywidgets as W

    bs = W.IntSlider(value=32, min=2, max=256, description="batch")
    mom = W.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="momentum")
    tr = W.ToggleButtons(options=[("training=True", True), ("training=False", False)], value=True)
    out = W.Image(format="png")

    def redraw(*_):
        set_png(out, fig_png(draw_bn_demo(bs.value, mom.value, tr.value)))

    for w in (bs, mom, tr):
        w.observe(redraw, names="value")
    redraw()
    box = W.VBox([W.HBox([bs, mom, tr]), out])
    return with_fallback(box, draw_bn_demo, {
        "batch_size": ("batch", [4, 32], 32), "momentum": ("momentum", [0.0, 0.9, 0.99], 0.9),
        "training": ("training", tr.options, True)})
