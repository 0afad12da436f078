"""Chapter 9 widgets and helpers: polynomial capacity lab, decision-boundary plots, regularisation dashboard.

Pure functions (``poly_fit``, ``boundary_grid``, ``make_plot``, ``weight_stats``) plus thin
ipywidgets wrappers (``poly_capacity_lab``, ``regularisation_dashboard``).
"""
from __future__ import annotations

import numpy as np

from book_utils.checks import check_int as _check_int
from book_utils.widgets._fallback import with_fallback


def sine_data(n: int = 120, noise: float = 1.0, seed: int = 0, freq: float = 1.2):
    """``n`` points x ~ U(-1, 1), y = sin(freq·π·x) + N(0, noise²), sorted by x."""
    n = _check_int("n", n, 2)
    if not float(noise) >= 0:
        raise ValueError(f"noise must be a non-negative std, got {noise!r}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1, 1, n))
    return x, np.sin(freq * np.pi * x) + rng.normal(0, noise, n)


def poly_fit(degree: int, noise: float = 1.0, n: int = 120, seed: int = 0) -> dict:
    """Fit a polynomial of ``degree`` to noisy sin(1.2πx) data; report train and held-out MSE.

    Uses ``numpy.polynomial.Polynomial.fit`` (scaled domain, stable at high degree). The held-out
    set is 500 fresh points from the same distribution. Returns the fitted curve on a grid too.
    """
    from numpy.polynomial import Polynomial

    degree = _check_int("degree", degree, 0, 40)
    x, y = sine_data(n, noise, seed)
    if degree >= n:
        raise ValueError(f"degree {degree} needs more than {n} points; raise n or lower the degree")
    xt, yt = sine_data(500, noise, seed + 1)
    p = Polynomial.fit(x, y, degree)
    grid = np.linspace(-1, 1, 300)
    return {
        "x": x, "y": y, "grid": grid, "curve": p(grid), "truth": np.sin(1.2 * np.pi * grid),
        "train_mse": float(np.mean((p(x) - y) ** 2)), "test_mse": float(np.mean((p(xt) - yt) ** 2)),
    }


def draw_poly_fit(degree: int = 3, noise: float = 0.3, n: int = 40):
    """Figure: the :func:`poly_fit` curve over its samples and train vs held-out MSE bars."""
    import matplotlib.pyplot as plt

    r = poly_fit(degree, noise, n)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.3), gridspec_kw={"width_ratios": [3, 1]})
    axes[0].scatter(r["x"], r["y"], s=10, c="k", label="训练样本")
    axes[0].plot(r["grid"], r["truth"], "g--", label="真实函数")
    axes[0].plot(r["grid"], r["curve"], "r", label=f"{degree} 阶多项式")
    axes[0].set_ylim(r["y"].min() - 1, r["y"].max() + 1)
    axes[0].legend(fontsize=8)
    axes[1].bar(["训练", "测试"], [r["train_mse"], r["test_mse"]], color=["C0", "C1"])
    axes[1].set_title("MSE")
    return fig


def _with_value(options, value):
    """``options`` plus ``value`` (the widget's start value), sorted."""
    return sorted({*options, value})


def poly_capacity_lab(degree: int = 3, noise: float = 0.3, n: int = 40):
    """Degree / noise / sample-count sliders; redraws the fit and train vs held-out MSE bars."""
    import html

    import ipywidgets as W
    import matplotlib.pyplot as plt

    deg = W.IntSlider(value=degree, min=0, max=25, description="阶数")
    nz = W.FloatSlider(value=noise, min=0.0, max=1.5, step=0.05, description="噪声 std")
    num = W.IntSlider(value=n, min=10, max=200, step=5, description="样本数")
    out = W.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            try:
                draw_poly_fit(deg.value, nz.value, num.value)
            except ValueError as err:
                print(err)
                return
            plt.show()

    def render(degree, noise, n):
        try:
            return draw_poly_fit(degree, noise, n)
        except ValueError as err:
            return f"<pre>{html.escape(str(err))}</pre>"

    for w in (deg, nz, num):
        w.observe(redraw, names="value")
    redraw()
    box = W.VBox([W.HBox([deg, nz, num]), out])
    return with_fallback(box, render, {
        "degree": ("阶数", _with_value([0, 1, 3, 5, 9, 15, 25], degree), degree),
        "noise": ("噪声 std", _with_value([0.0, 0.3, 0.6, 1.0, 1.5], noise), noise),
        "n": ("样本数", _with_value([10, 20, 40, 100, 200], n), n)})


# ----------------------------------------------------------------------------- decision boundaries
def boundary_grid(X, step: float = 0.01, padding: float = 0.5):
    """``np.meshgrid`` over the data range of 2-D points ``X`` (plus ``padding``) with spacing ``step``."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be 2-D points shaped (N, 2), got {X.shape}")
    if not float(step) > 0:
        raise ValueError(f"step must be positive, got {step!r}")
    lo, hi = X.min(0) - padding, X.max(0) + padding
    return np.meshgrid(np.arange(lo[0], hi[0], step, dtype=np.float32),
                       np.arange(lo[1], hi[1], step, dtype=np.float32))


def make_plot(X, y, title, XX, YY, preds, ax=None):
    """The textbook's ``make_plot``: probability filled contour (alpha 0.08), bold 0.5 contour, points
    drawn with a circle (class 0) or square (class 1) marker (our ``mscatter``)."""
    import matplotlib.pyplot as plt

    X, y = np.asarray(X), np.asarray(y).ravel()
    preds = np.asarray(preds).reshape(XX.shape)
    if XX.shape != YY.shape:
        raise ValueError(f"XX and YY must have the same shape, got {XX.shape} and {YY.shape}")
    ax = ax or plt.gca()
    ax.contourf(XX, YY, preds, 25, alpha=0.08, cmap=plt.cm.Spectral)
    ax.contour(XX, YY, preds, levels=[0.5], cmap="Greys", vmin=0, vmax=0.6, linewidths=2)
    for cls, marker, color in ((0, "o", "#d7191c"), (1, "s", "#2b83ba")):
        m = y == cls
        ax.scatter(X[m, 0], X[m, 1], marker=marker, s=14, c=color, edgecolors="k", linewidths=0.3)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def weight_stats(w) -> dict:
    """min / max / mean of a weight matrix (Table 9.1)."""
    w = np.asarray(w, dtype=np.float64)
    if w.size == 0:
        raise ValueError("weight matrix is empty")
    return {"min": float(w.min()), "max": float(w.max()), "mean": float(w.mean())}


def regularisation_dashboard(results: dict, X, y):
    """Browse precomputed experiments; never trains.

    ``results`` maps an experiment name (e.g. "网络层数") to ``{setting_label: record}`` where a record
    has ``XX``, ``YY``, ``preds``, ``train_acc``, ``test_acc`` and optionally ``weights``.
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt

    if not results or not all(isinstance(v, dict) and v for v in results.values()):
        raise ValueError("results must map each experiment to a non-empty {setting: record} dict")
    exp = W.ToggleButtons(options=list(results), value=list(results)[0])
    setting = W.SelectionSlider(options=list(results[exp.value]), description="设置")
    out = W.Output()

    def draw(experiment, label):
        rec = results[experiment][label]
        has_w = rec.get("weights") is not None
        fig, axes = plt.subplots(1, 2 if has_w else 1, figsize=(9 if has_w else 4.5, 3.8), squeeze=False)
        make_plot(X, y, f"{experiment}: {label}（训练 {rec['train_acc']:.3f} / 测试 {rec['test_acc']:.3f}）",
                  rec["XX"], rec["YY"], rec["preds"], ax=axes[0, 0])
        if has_w:
            w = np.asarray(rec["weights"])[:64, :64]  # a readable block (the whole 256×256 is noise at this size)
            im = axes[0, 1].imshow(w, cmap="coolwarm", vmin=-0.5, vmax=0.5, interpolation="nearest")
            axes[0, 1].grid(False)
            axes[0, 1].set_title(f"权值矩阵（左上角 {w.shape[0]}×{w.shape[1]}）")
            fig.colorbar(im, ax=axes[0, 1])
        return fig

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            draw(exp.value, setting.value)
            plt.show()

    def on_exp(change):
        setting.options = list(results[change["new"]])
        redraw()

    exp.observe(on_exp, names="value")
    setting.observe(redraw, names="value")
    redraw()
    box = W.VBox([exp, setting, out])
    # the settings depend on the experiment: one control over (experiment, setting) pairs; a frame is
    # ~30–45 KB, so the preview keeps each experiment's first, middle and last setting
    runs = []
    for e, recs in results.items():
        labels = list(recs)
        runs += [(f"{e}: {labels[j]}", (e, labels[j])) for j in sorted({0, (len(labels) - 1) // 2, len(labels) - 1})]
    return with_fallback(box, lambda run: draw(*run), {"run": ("实验与设置", runs)}, max_frames=len(runs))
