"""Chapter 8 demos: a learning-rate / optimizer history explorer and a freeze/unfreeze counter.

The explorer replays histories trained once at build time (``lr_sweep``), so the static page
and JupyterLab show the same curves; ``draw_history`` is the pure drawing function behind it.
"""
from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from book_utils.checks import check_int, check_shape
from book_utils.widgets._fallback import with_fallback

OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}


def build_mlp(units=(256, 128, 64, 32, 10), *, input_dim: int = 784, activation: str = "relu", name=None):
    """The textbook's MNIST MLP (784-256-128-64-32-10): ReLU hidden layers, logits out."""
    units = check_shape("units", units, accepted="a non-empty sequence of positive integers")
    input_dim = check_int("input_dim", input_dim)
    layers = [keras.layers.Dense(u, activation=activation) for u in units[:-1]]
    return keras.Sequential([keras.Input((input_dim,)), *layers, keras.layers.Dense(units[-1])], name=name)


def make_optimizer(name: str, learning_rate: float):
    """``keras.optimizers.<Name>(learning_rate=...)`` from a short name (adam, sgd, rmsprop)."""
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    lr = float(learning_rate)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    return getattr(keras.optimizers, OPTIMIZERS[name.lower()])(learning_rate=lr)


def lr_sweep(x_train, y_train, x_val, y_val, *, learning_rates=(1e-4, 1e-3, 1e-2, 1e-1, 1.0),
             optimizers=("adam",), epochs: int = 5, batch_size: int = 128, seed: int = 0) -> dict:
    """Train :func:`build_mlp` once per (optimizer, lr) with ``compile``/``fit``; return the histories.

    ``x`` are flattened images in [0, 1], ``y`` one-hot labels. The result maps
    ``(optimizer, lr)`` to ``history.history`` (loss, accuracy, val_loss, val_accuracy per epoch).
    Diverged runs keep their ``nan``/huge losses: showing them is the point.
    """
    epochs = check_int("epochs", epochs)
    if len(x_train) != len(y_train) or len(x_val) != len(y_val):
        raise ValueError("x and y must have the same number of samples (train and validation)")
    if np.ndim(y_train) != 2:
        raise ValueError(f"y_train must be one-hot, shaped (N, classes); got shape {np.shape(y_train)}")
    train = tf.data.Dataset.from_tensor_slices((np.asarray(x_train, "float32"), np.asarray(y_train, "float32")))
    train = train.shuffle(len(x_train), seed=seed).batch(batch_size)
    val = tf.data.Dataset.from_tensor_slices((np.asarray(x_val, "float32"), np.asarray(y_val, "float32")))
    val = val.batch(batch_size)
    histories = {}
    for opt in optimizers:
        for lr in learning_rates:
            keras.utils.set_random_seed(seed)
            model = build_mlp(input_dim=int(np.shape(x_train)[1]), units=(256, 128, 64, 32, np.shape(y_train)[1]))
            model.compile(optimizer=make_optimizer(opt, lr),
                          loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
            # the dataset shuffles itself; shuffle=False only silences Keras's "shuffle ignored" warning
            h = model.fit(train, epochs=int(epochs), validation_data=val, shuffle=False, verbose=0)
            histories[(opt, float(lr))] = {k: [float(v) for v in vals] for k, vals in h.history.items()}
    return histories


def draw_history(histories: dict, optimizer: str, learning_rate: float, *, logy: bool = True, axes=None) -> dict:
    """Draw loss and accuracy curves of one cached run; return its final numbers.

    Returns ``{'loss', 'val_accuracy', 'diverged'}`` for the last epoch (``diverged``: the loss is not
    finite or ended above its first value).
    """
    import matplotlib.pyplot as plt

    key = (optimizer, float(learning_rate))
    if key not in histories:
        raise KeyError(f"no cached run for optimizer={optimizer!r}, lr={learning_rate!r}; "
                       f"have {sorted(histories)}")
    h = histories[key]
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = np.arange(1, len(h["loss"]) + 1)
    ax_loss, ax_acc = axes
    for k, style in (("loss", "-o"), ("val_loss", "--s")):
        vals = np.asarray(h.get(k, []), dtype=float)
        if len(vals):
            ax_loss.plot(epochs[: len(vals)], np.where(np.isfinite(vals), vals, np.nan), style, markersize=3,
                         label={"loss": "训练", "val_loss": "验证"}[k])
    if logy:
        ax_loss.set_yscale("log")
    ax_loss.set_xlabel("Epoch")
    ax_loss.set_ylabel("交叉熵损失")
    ax_loss.legend()
    for k, style in (("accuracy", "-o"), ("val_accuracy", "--s")):
        vals = np.asarray(h.get(k, []), dtype=float)
        if len(vals):
            ax_acc.plot(epochs[: len(vals)], vals, style, markersize=3, label={"accuracy": "训练",
                                                                              "val_accuracy": "验证"}[k])
    ax_acc.set_ylim(0, 1)
    ax_acc.set_xlabel("Epoch")
    ax_acc.set_ylabel("准确率")
    ax_acc.legend()
    loss = float(h["loss"][-1])
    diverged = (not math.isfinite(loss)) or loss > float(h["loss"][0])
    val_acc = float(h["val_accuracy"][-1]) if h.get("val_accuracy") else float("nan")
    ax_loss.figure.suptitle(f"{OPTIMIZERS.get(optimizer, optimizer)}, lr={learning_rate:g}："
                            f"最终验证准确率 {val_acc:.3f}" + ("（发散）" if diverged else ""))
    return {"loss": loss, "val_accuracy": val_acc, "diverged": diverged}


def lr_explorer(histories: dict):
    """Optimizer dropdown, lr slider and a log-scale checkbox replaying the cached histories."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    if not histories:
        raise ValueError("histories is empty; run lr_sweep first")
    opts = sorted({o for o, _ in histories})
    lrs = sorted({lr for _, lr in histories})
    opt = W.Dropdown(options=[(OPTIMIZERS.get(o, o), o) for o in opts], value=opts[0], description="优化器")
    lr = W.SelectionSlider(options=[(f"{v:g}", v) for v in lrs], value=lrs[len(lrs) // 2], description="学习率",
                           continuous_update=False)
    logy = W.Checkbox(value=True, description="损失取对数坐标")

    def draw(optimizer, learning_rate, log_scale):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        if (optimizer, learning_rate) in histories:
            draw_history(histories, optimizer, learning_rate, logy=log_scale, axes=axes)
        fig.tight_layout()
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()),
                               {"optimizer": opt, "learning_rate": lr, "log_scale": logy})
    box = W.VBox([W.HBox([opt, lr, logy]), out])
    # every cached run, on the default log scale only (~30 KB a frame)
    return with_fallback(box, draw, {"optimizer": ("优化器", opt.options),
                                     "learning_rate": ("学习率", lr.options, lr.value),
                                     "log_scale": ("损失取对数坐标", [("是", True)])})


def freeze_report(model, backbone, *, backbone_trainable: bool, freeze_batchnorm: bool = False) -> dict:
    """Set the backbone's trainable flags and return ``model``'s parameter counts.

    With ``backbone_trainable=False`` the whole backbone freezes; with ``True`` and
    ``freeze_batchnorm=True`` only its BatchNormalization layers freeze.
    """
    from .. import zoo

    zoo.set_trainable(backbone, trainable=bool(backbone_trainable), freeze_batchnorm=bool(freeze_batchnorm))
    return zoo.count_params(model)


def _freeze_html(model, backbone, *, backbone_trainable: bool, freeze_batchnorm: bool = False) -> str:
    """:func:`freeze_report` as the one-line HTML readout of :func:`freeze_counter`."""
    c = freeze_report(model, backbone, backbone_trainable=backbone_trainable, freeze_batchnorm=freeze_batchnorm)
    return (f"可训练参数 <b>{c['trainable']:,}</b> · 不可训练参数 <b>{c['non_trainable']:,}</b>"
            f" · 总计 {c['total']:,}")


def freeze_counter(model, backbone):
    """Two checkboxes (train the backbone / freeze BatchNorm only) and a live parameter count."""
    import ipywidgets as W

    train = W.Checkbox(value=True, description="主干可训练")
    bn = W.Checkbox(value=False, description="仅冻结 BatchNorm")
    readout = W.HTML()

    def refresh(_=None):
        bn.disabled = not train.value
        readout.value = _freeze_html(model, backbone, backbone_trainable=train.value, freeze_batchnorm=bn.value)

    train.observe(refresh, names="value")
    bn.observe(refresh, names="value")
    box = W.VBox([W.HBox([train, bn]), readout])

    def render(trainable, bn_only):
        note = "（主干已冻结，此项不起作用）" if bn_only and not trainable else ""
        text = _freeze_html(model, backbone, backbone_trainable=trainable, freeze_batchnorm=bn_only)
        return f"<p>{text}{note}</p>"

    with_fallback(box, render, {"trainable": ("主干可训练", [("是", True), ("否", False)]),
                                "bn_only": ("仅冻结 BatchNorm", [("否", False), ("是", True)])})
    refresh()  # the preview changed the flags: leave the model as the live widget shows it
    return box
