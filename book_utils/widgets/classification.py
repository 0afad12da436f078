"""Chapter 3 demos: an MNIST browser with the network's outputs and a polynomial-capacity slider.

Pure functions (``digit_state``, ``capacity_data``, ``polynomial_capacity``) do the work and are
tested directly; the widget functions only wire sliders to the drawing functions.
"""
from __future__ import annotations

import numpy as np

from book_utils.checks import check_int, check_number
from book_utils.widgets._fallback import with_fallback

# --------------------------------------------------------------------------- MNIST browser

def digit_state(index: int, images, labels, scores=None) -> dict:
    """Label, image and (when ``scores`` of shape (N, 10) are given) the network's prediction for one sample."""
    images = np.asarray(images)
    labels = np.asarray(labels).reshape(-1)
    if images.ndim != 3:
        raise ValueError(f"images must be shaped (N, H, W), got {images.shape}")
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    check_int("index", index, 0, len(images) - 1)
    state = {"index": int(index), "image": images[index], "label": int(labels[index])}
    if scores is not None:
        scores = np.asarray(scores, dtype=float)
        if scores.ndim != 2 or len(scores) != len(images):
            raise ValueError(f"scores must be shaped (N, classes) with N = {len(images)}, got {scores.shape}")
        state["scores"] = scores[index]
        state["pred"] = int(np.argmax(scores[index]))
        state["correct"] = state["pred"] == state["label"]
    return state


def draw_pixel_matrix(image, ax=None, *, annotate: bool = True, colorbar: bool = True):
    """Heat map of a grayscale image with each pixel's value written in its cell."""
    import matplotlib.pyplot as plt

    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D (H, W), got shape {image.shape}")
    ax = ax or plt.gca()
    im = ax.imshow(image, cmap="gray_r", vmin=0, vmax=255)
    if annotate:
        for (r, c), v in np.ndenumerate(image):
            if v:
                ax.text(c, r, str(int(v)), ha="center", va="center", fontsize=3.2,
                        color="white" if v > 128 else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="像素值")
    return ax


def draw_digit(index: int, images, labels, scores=None, *, show_matrix: bool = False, axes=None) -> dict:
    """Left: the image (or its pixel matrix); right: a bar chart of the 10 network outputs."""
    import matplotlib.pyplot as plt

    state = digit_state(index, images, labels, scores)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
    ax_img, ax_bar = axes
    if show_matrix:
        draw_pixel_matrix(state["image"], ax_img, colorbar=False)
    else:
        ax_img.imshow(state["image"], cmap="gray")
        ax_img.axis("off")
    ax_img.set_title(f"测试样本 #{state['index']}，标签: {state['label']}")
    if scores is None:
        ax_bar.axis("off")
        ax_bar.text(0.5, 0.5, "（训练网络后显示输出）", ha="center", va="center")
        return state
    colors = ["tab:gray"] * len(state["scores"])
    colors[state["pred"]] = "tab:green" if state["correct"] else "tab:red"
    ax_bar.bar(np.arange(len(state["scores"])), state["scores"], color=colors)
    ax_bar.axhline(1.0, color="k", linestyle=":", linewidth=0.8)
    ax_bar.set_xticks(np.arange(len(state["scores"])))
    ax_bar.set_xlabel("类别")
    ax_bar.set_ylabel("网络输出")
    verdict = "正确" if state["correct"] else "错误"
    ax_bar.set_title(f"预测: {state['pred']}（{verdict}）")
    return state


def preview_indices(index: int, labels, scores=None, *, consecutive: int = 4, wrong: int = 3) -> list[tuple[str, int]]:
    """Samples for the browser's static preview: ``consecutive`` samples from ``index`` on, then the first
    ``wrong`` misclassified ones (when ``scores`` are given); ``(text, index)`` pairs."""
    labels = np.asarray(labels).reshape(-1)
    picks = [(f"#{i}", i) for i in range(index, min(index + consecutive, len(labels)))]
    if scores is not None:
        missed = np.flatnonzero(np.argmax(np.asarray(scores), axis=1) != labels)
        picks += [(f"#{i}（预测错误）", int(i)) for i in missed[missed >= index + consecutive][:wrong]]
    return picks


def mnist_browser(images, labels, scores=None, *, index: int = 0):
    """Slider over the test images and a pixel-matrix checkbox; shows the network's 10 outputs."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    digit_state(index, images, labels, scores)  # validate once, up front
    slider = W.IntSlider(value=index, min=0, max=len(images) - 1, description="测试样本", continuous_update=False)
    matrix = W.Checkbox(value=False, description="显示像素矩阵")

    def draw(index, show_matrix):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
        draw_digit(index, images, labels, scores, show_matrix=show_matrix, axes=axes)
        fig.tight_layout()
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"index": slider, "show_matrix": matrix})
    box = W.VBox([W.HBox([slider, matrix]), out])
    return with_fallback(box, draw, {"index": ("测试样本", preview_indices(index, labels, scores)),
                                     "show_matrix": ("显示像素矩阵", [("否", False), ("是", True)])})


# --------------------------------------------------------------------------- capacity

def target_curve(x):
    """The smooth (quadratic) curve the capacity demo samples from."""
    return 6.0 * (x - 0.5) ** 2 - 0.75


def capacity_data(n_train: int = 15, n_test: int = 200, noise: float = 0.25, seed: int = 0):
    """Noisy samples of :func:`target_curve` on [0, 1]: (x_train, y_train, x_test, y_test).

    Training inputs are stratified (one uniform draw per interval of width 1/n_train, so there are
    no large gaps); held-out inputs are plain uniform draws.
    """
    check_int("n_train", n_train, 2, 10_000)
    check_int("n_test", n_test, 1, 100_000)
    check_number("noise", noise, low=0)
    rng = np.random.default_rng(seed)
    x_train = (np.arange(n_train) + rng.uniform(0, 1, n_train)) / n_train
    y_train = target_curve(x_train) + rng.normal(0, noise, n_train)
    x_test = rng.uniform(0, 1, n_test)
    y_test = target_curve(x_test) + rng.normal(0, noise, n_test)
    return x_train, y_train, x_test, y_test


def polynomial_capacity(degree: int, noise: float = 0.25, *, n_train: int = 15, seed: int = 0) -> dict:
    """Least-squares polynomial of ``degree`` on noisy samples; train and held-out MSE.

    Uses ``numpy.polynomial.Polynomial.fit`` (which rescales x) so high degrees stay well conditioned.
    Returns ``poly`` (callable), ``train_mse``, ``test_mse`` and the data.
    """
    from numpy.polynomial import Polynomial

    check_int("degree", degree, 0, n_train - 1)
    x_tr, y_tr, x_te, y_te = capacity_data(n_train, noise=noise, seed=seed)
    poly = Polynomial.fit(x_tr, y_tr, degree)
    return {
        "poly": poly,
        "train_mse": float(np.mean((poly(x_tr) - y_tr) ** 2)),
        "test_mse": float(np.mean((poly(x_te) - y_te) ** 2)),
        "x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te,
    }


def draw_capacity(degree: int, noise: float = 0.25, *, seed: int = 0, ax=None) -> dict:
    import matplotlib.pyplot as plt

    r = polynomial_capacity(degree, noise, seed=seed)
    ax = ax or plt.gca()
    grid = np.linspace(0, 1, 300)
    ax.scatter(r["x_test"], r["y_test"], s=6, color="lightgray", label="留出样本")
    ax.scatter(r["x_train"], r["y_train"], s=24, color="tab:blue", zorder=3, label="训练样本")
    ax.plot(grid, target_curve(grid), "k--", linewidth=1, label="真实曲线")
    ax.plot(grid, r["poly"](grid), color="tab:orange", label=f"{degree} 次多项式")
    ax.set_ylim(-1.5, 2.0)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"训练 MSE = {r['train_mse']:.3f}，留出 MSE = {r['test_mse']:.3f}")
    ax.legend(fontsize=8, loc="lower left")
    return r


def capacity_slider(seed: int = 0):
    """Degree (0–14) and noise sliders showing the fit, the training MSE and the held-out MSE."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    degree = W.IntSlider(value=3, min=0, max=14, description="多项式次数", continuous_update=False)
    noise = W.FloatSlider(value=0.25, min=0.0, max=1.0, step=0.05, description="噪声 std", continuous_update=False)

    def draw(degree, noise):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        draw_capacity(degree, noise, seed=seed, ax=ax)
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"degree": degree, "noise": noise})
    box = W.VBox([W.HBox([degree, noise]), out])
    return with_fallback(box, draw, {"degree": ("多项式次数", [0, 1, 2, 3, 5, 9, 14], 3),
                                     "noise": ("噪声 std", [0.0, 0.25, 0.5, 1.0], 0.25)})
