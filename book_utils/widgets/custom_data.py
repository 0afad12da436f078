"""Chapter 15 widgets: an image-pipeline explorer and a train/val/test split inspector.

Pure functions (:func:`pipeline_preview`, :func:`split_counts`, and :func:`pipeline_view`,
:func:`split_view`, :func:`freeze_depth_readout` for what the widgets show) do the work and are tested
without a browser; the ipywidgets wrappers render figures into ``widgets.Image`` / ``widgets.HTML`` (no
Output widget) and carry a static preview of a few settings for the HTML site.
"""
from __future__ import annotations

import html

import numpy as np
import tensorflow as tf

from book_utils.checks import check_int, check_number
from book_utils.widgets._fallback import fig_png, frame_html, set_png, with_fallback

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def _with_note(fig, note: str) -> str:
    """A fallback frame: the figure as a (palette) PNG, then the note line the live widget shows under it."""
    return f"{frame_html(fig)}<div>{note}</div>"


def _check_image(image) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f"image must be an RGB array [h, w, 3], got shape {list(img.shape)}")
    if img.dtype != np.uint8:
        raise TypeError(f"image must be uint8 (0–255), got {img.dtype}")
    return img


# ----------------------------------------------------------------------------- pipeline explorer
def pipeline_preview(image, *, size: int = 64, flip: bool = True, crop: bool = True, normalise: bool = True,
                     seed: int = 0) -> dict:
    """One pass of the chapter's training preprocessing on a single uint8 image, with a fixed ``seed``.

    resize to ``1.1 × size`` → (random left-right flip) → (random crop to ``size``, else resize to
    ``size``) → /255 → (ImageNet mean/std normalisation). Uses stateless random ops, so the same seed
    gives the same result. Returns ``{'tensor', 'display', 'mean', 'std', 'flipped'}``: the model
    input, a de-normalised [0, 1] copy for display, and per-channel mean/std of the model input.
    """
    img = _check_image(image)
    check_int("size", size, 8, 512)
    check_int("seed", seed, 0)
    big = int(round(size * 1.1))
    x = tf.image.resize(tf.convert_to_tensor(img, tf.float32), [big, big])
    pair = tf.constant([int(seed), 15], tf.int64)
    flipped = False
    if flip:
        flipped = bool(tf.random.stateless_uniform([], seed=pair) < 0.5)
        if flipped:
            x = tf.image.flip_left_right(x)
    if crop:
        x = tf.image.stateless_random_crop(x, [size, size, 3], seed=pair + 1)
    else:
        x = tf.image.resize(x, [size, size])
    x = x / 255.0
    if normalise:
        x = (x - IMAGENET_MEAN) / IMAGENET_STD
    t = x.numpy().astype(np.float32)
    display = t * IMAGENET_STD + IMAGENET_MEAN if normalise else t
    return {"tensor": t, "display": np.clip(display, 0.0, 1.0), "mean": t.mean(axis=(0, 1)),
            "std": t.std(axis=(0, 1)), "flipped": flipped}


def pipeline_view(image, label=None, *, size: int = 64, flip: bool = True, crop: bool = True,
                  normalise: bool = True, seed: int = 0):
    """What :func:`pipeline_explorer` shows: a figure (original | preprocessed) and an HTML line with
    the per-channel mean/std of the model input."""
    import matplotlib.pyplot as plt

    res = pipeline_preview(image, size=size, flip=flip, crop=crop, normalise=normalise, seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    axes[0].imshow(image)
    axes[0].set_title("原图" + (f"（{label}）" if label is not None else ""))
    axes[1].imshow(res["display"])
    axes[1].set_title(f"预处理后 {size}×{size}" + ("（已翻转）" if res["flipped"] else ""))
    for ax in axes:
        ax.axis("off")
    mean = ", ".join(f"{v:+.3f}" for v in res["mean"])
    std = ", ".join(f"{v:.3f}" for v in res["std"])
    return fig, f"<b>逐通道均值</b> [{mean}]　<b>标准差</b> [{std}]　（随机种子 {seed}）"


def pipeline_explorer(images, labels=None, *, size: int = 64):
    """Slider over ``images`` (uint8 [n, h, w, 3]), checkboxes for flip/crop/normalise, a resample button."""
    import ipywidgets as W

    images = [_check_image(im) for im in images]
    if not images:
        raise ValueError("images is empty")
    index = W.IntSlider(value=0, min=0, max=len(images) - 1, description="图像序号")
    flip = W.Checkbox(value=True, description="随机翻转")
    crop = W.Checkbox(value=True, description="随机裁剪")
    norm = W.Checkbox(value=True, description="标准化")
    button = W.Button(description="重新采样随机数")
    picture = W.Image(format="png")
    stats = W.HTML()
    state = {"seed": 0}

    def view(index, flip, crop, normalise, seed=0):
        label = labels[index] if labels is not None else None
        return pipeline_view(images[index], label, size=size, flip=flip, crop=crop, normalise=normalise, seed=seed)

    def redraw(*_):
        fig, stats.value = view(index.value, flip.value, crop.value, norm.value, state["seed"])
        set_png(picture, fig_png(fig))

    def resample(_):
        state["seed"] += 1
        redraw()

    for w in (index, flip, crop, norm):
        w.observe(redraw, names="value")
    button.on_click(resample)
    redraw()
    box = W.VBox([index, W.HBox([flip, crop, norm, button]), picture, stats])
    on = [("开", True), ("关", False)]
    return with_fallback(box, lambda **v: _with_note(*view(**v)), {
        "index": ("图像序号", list(range(min(len(images), 6)))), "flip": ("随机翻转", on),
        "crop": ("随机裁剪", on), "normalise": ("标准化", on)})


# ----------------------------------------------------------------------------- split inspector
def split_counts(labels, *, train: float = 0.6, val: float = 0.2, num_classes: int | None = None,
                 min_val: int = 20) -> dict:
    """Per-class counts of a sequential split of the (already shuffled) ``labels``.

    The first ``train`` fraction is the training set, the next ``val`` fraction the validation set,
    the rest the test set (the textbook's 60/20/20 rule). Returns ``{'counts': int array [3, C]
    (rows train/val/test), 'sizes': (n_train, n_val, n_test), 'warnings': [class indices with fewer
    than min_val validation images]}``.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError("labels must be a non-empty 1-D array of integer class indices")
    for name, frac in (("train", train), ("val", val)):
        check_number(name, frac, 0.0, 1.0)
    if train + val > 1.0 + 1e-9:
        raise ValueError(f"train + val must be at most 1 (test is the rest), got {train} + {val}")
    c = int(num_classes) if num_classes is not None else int(y.max()) + 1
    if y.min() < 0 or y.max() >= c:
        raise ValueError(f"labels must lie in 0..{c - 1}")
    n = len(y)
    a, b = int(n * train), int(n * (train + val))
    parts = (y[:a], y[a:b], y[b:])
    counts = np.stack([np.bincount(p, minlength=c) for p in parts])
    warn = [k for k in range(c) if counts[1, k] < min_val]
    return {"counts": counts, "sizes": tuple(len(p) for p in parts), "warnings": warn}


def split_view(labels, class_names, *, train: float = 0.6, val: float = 0.2, min_val: int = 20):
    """What :func:`split_inspector` shows: a stacked bar of per-class counts per split and an HTML line
    with the split sizes and the classes with fewer than ``min_val`` validation images (``val`` is
    capped at ``1 − train``)."""
    import matplotlib.pyplot as plt

    names = list(class_names)
    res = split_counts(labels, train=train, val=min(val, 1.0 - train), num_classes=len(names), min_val=min_val)
    fig, ax = plt.subplots(figsize=(6, 3))
    bottom = np.zeros(len(names))
    for row, label in zip(res["counts"], ("训练集", "验证集", "测试集")):
        ax.bar(names, row, bottom=bottom, label=label)
        bottom += row
    ax.set_ylabel("图片数")
    ax.set_title("各类别在三个子集中的数量")
    ax.legend(fontsize=8)
    sizes = "／".join(str(s) for s in res["sizes"])
    warn = html.escape("、".join(names[k] for k in res["warnings"]))
    warning = f"　<span style='color:#c00'>⚠ 验证图片少于 {min_val} 张的类别：{warn}</span>" if warn else ""
    return fig, f"训练／验证／测试 = {sizes}{warning}"


def split_inspector(labels, class_names, *, min_val: int = 20):
    """Two sliders (train, val fraction) and a stacked bar of per-class counts per split."""
    import ipywidgets as W

    train = W.FloatSlider(value=0.6, min=0.1, max=0.9, step=0.05, description="训练比例")
    val = W.FloatSlider(value=0.2, min=0.0, max=0.5, step=0.05, description="验证比例")
    picture = W.Image(format="png")
    note = W.HTML()

    def view(train, val):
        return split_view(labels, class_names, train=train, val=val, min_val=min_val)

    def redraw(*_):
        fig, note.value = view(train.value, val.value)
        set_png(picture, fig_png(fig))

    train.observe(redraw, names="value")
    val.observe(redraw, names="value")
    redraw()
    box = W.VBox([W.HBox([train, val]), picture, note])
    return with_fallback(box, lambda **v: _with_note(*view(**v)), {
        "train": ("训练比例", [0.4, 0.5, 0.6, 0.7, 0.8], 0.6), "val": ("验证比例", [0.1, 0.2, 0.3], 0.2)})


# ----------------------------------------------------------------------------- freeze depth
def freeze_depth_table(backbone) -> list[dict]:
    """Trainable / non-trainable parameters of a DenseNet backbone for k = 0…4 unfrozen last dense blocks.

    Leaves ``backbone`` fully frozen (k = 0) afterwards.
    """
    from book_utils.models import transfer

    rows = [dict(k=k, **transfer.unfreeze_last_blocks(backbone, k)) for k in range(5)]
    transfer.unfreeze_last_blocks(backbone, 0)
    return rows


def freeze_depth_readout(summary: dict) -> str:
    """HTML bar and numbers of trainable vs non-trainable parameters (a :func:`book_utils.zoo.count_params` dict)."""
    total = summary["trainable"] + summary["non_trainable"]
    bar = int(round(40 * summary["trainable"] / total))
    return (f"<code>{'█' * bar}{'░' * (40 - bar)}</code><br>"
            f"可训练 {summary['trainable']:,}（{summary['trainable'] / total:.1%}）　"
            f"不可训练 {summary['non_trainable']:,}")


def freeze_depth_explorer(backbone):
    """A ``SelectionSlider`` over how many of the last dense blocks to unfreeze, with a live parameter readout.

    No training runs: the slider only flips ``trainable`` flags and counts parameters.
    """
    import ipywidgets as W

    from book_utils.models import transfer

    labels = {0: "全部冻结", 1: "解冻最后 1 个块", 2: "解冻最后 2 个块", 3: "解冻最后 3 个块", 4: "只冻结 stem"}
    slider = W.SelectionSlider(options=[(v, k) for k, v in labels.items()], value=0, description="冻结深度",
                               layout=W.Layout(width="420px"), style={"description_width": "initial"})
    readout = W.HTML()

    def redraw(*_):
        readout.value = freeze_depth_readout(transfer.unfreeze_last_blocks(backbone, slider.value))

    slider.observe(redraw, names="value")
    rows = freeze_depth_table(backbone)  # leaves the backbone fully frozen, as the slider's first value
    redraw()
    return with_fallback(W.VBox([slider, readout]), lambda k: freeze_depth_readout(rows[k]),
                         {"k": ("冻结深度", list(slider.options))})
