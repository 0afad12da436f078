"""Chapter 2 demos: fit a line by hand, a gradient-descent lab and 1-D descent on x²·sin(x).

Everything here is pure NumPy (chapter 2 comes before automatic differentiation), so the
widgets redraw instantly. Each widget is a thin wrapper around a pure function that the tests
and the notebook call directly.
"""
from __future__ import annotations

import numpy as np

from book_utils.checks import check_number as _check_number
from book_utils.widgets._fallback import with_fallback

TRUE_W = 1.477
TRUE_B = 0.089
LOSS_CAP = 1e4  # plotted losses are clipped here so a diverging run stays visible


def _log_options(*exponents):
    """Preview options 10**e (points of a FloatLogSlider), labelled with 3 significant digits."""
    return [(f"{10**e:.3g}", 10**e) for e in exponents]


def _check_points(points):
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
        raise ValueError(f"points must be an (N, 2) array of (x, y) rows with N ≥ 2, got shape {points.shape}")
    return points


def make_points(n: int = 100, *, w: float = TRUE_W, b: float = TRUE_B, noise: float = 0.1, seed: int = 0):
    """``n`` rows (x, y) with x ~ U(-10, 10) and y = w·x + b + N(0, noise²), from a local generator."""
    _check_number("n", n, low=2, integer=True)
    _check_number("noise", noise, low=0)
    _check_number("seed", seed, low=0, integer=True)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-10.0, 10.0, n)
    y = w * x + b + rng.normal(0.0, noise, n)
    return np.stack([x, y], axis=1)


def least_squares(points) -> tuple[float, float]:
    """Closed-form least-squares line through ``points``: returns (w, b)."""
    points = _check_points(points)
    X = np.stack([points[:, 0], np.ones(len(points))], axis=1)
    (w, b), *_ = np.linalg.lstsq(X, points[:, 1], rcond=None)
    return float(w), float(b)


def line_fit_state(w: float, b: float, points) -> dict:
    """Predictions, residuals and MSE of the line y = w·x + b on ``points``."""
    _check_number("w", w)
    _check_number("b", b)
    points = _check_points(points)
    pred = w * points[:, 0] + b
    residual = pred - points[:, 1]
    return {"pred": pred, "residual": residual, "mse": float(np.mean(residual**2))}


def run_gradient_descent(points, lr: float, iterations: int, *, w0: float = 0.0, b0: float = 0.0) -> dict:
    """Vectorised gradient descent on the MSE with the hand-derived gradients (factor 2/n kept).

    Returns ``w``/``b`` trajectories (length iterations + 1, starting at the initial values),
    ``loss`` after every update, and ``diverged`` (True when the loss exceeded the square of ``LOSS_CAP`` or
    stopped being finite; the run is then cut short).
    """
    points = _check_points(points)
    _check_number("lr", lr, low=0)
    _check_number("iterations", iterations, low=1, integer=True)
    x, y = points[:, 0], points[:, 1]
    n = len(x)
    w, b = float(w0), float(b0)
    ws, bs, losses = [w], [b], []
    diverged = False
    for _ in range(iterations):
        err = w * x + b - y
        w, b = w - lr * 2.0 / n * np.dot(err, x), b - lr * 2.0 / n * err.sum()
        loss = float(np.mean((w * x + b - y) ** 2))
        ws.append(w)
        bs.append(b)
        losses.append(loss)
        if not np.isfinite(loss) or loss > LOSS_CAP**2:
            diverged = True
            break
    return {"w": np.array(ws), "b": np.array(bs), "loss": np.array(losses), "diverged": diverged}


def mse_grid(points, w_range=(0.0, 3.0), b_range=(-2.0, 2.0), resolution: int = 80):
    """MSE over a (w, b) grid, for contour plots: returns (W, B, L)."""
    points = _check_points(points)
    ws = np.linspace(*w_range, resolution)
    bs = np.linspace(*b_range, resolution)
    W, B = np.meshgrid(ws, bs)
    x, y = points[:, 0], points[:, 1]
    L = np.mean((W[..., None] * x + B[..., None] - y) ** 2, axis=-1)
    return W, B, L


def draw_fit_by_hand(w: float, b: float, points, *, show_optimum: bool = False, ax=None) -> dict:
    """Scatter, the line y = w·x + b, residual segments and the MSE in the title."""
    import matplotlib.pyplot as plt

    state = line_fit_state(w, b, points)
    points = _check_points(points)
    ax = ax or plt.gca()
    x, y = points[:, 0], points[:, 1]
    ax.vlines(x, y, state["pred"], colors="tab:red", alpha=0.4, linewidth=1, label="残差")
    ax.scatter(x, y, s=12, label="观测样本")
    xs = np.array([-10.0, 10.0])
    ax.plot(xs, w * xs + b, color="tab:orange", label=f"当前直线 w={w:.3f}, b={b:.3f}")
    if show_optimum:
        w_opt, b_opt = least_squares(points)
        ax.plot(xs, w_opt * xs + b_opt, "--", color="k", label=f"最小二乘 w={w_opt:.3f}, b={b_opt:.3f}")
        state.update(w_opt=w_opt, b_opt=b_opt)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"均方误差 MSE = {state['mse']:.4f}")
    ax.legend(loc="upper left", fontsize=8)
    return state


def fit_by_hand(points=None):
    """Sliders for w and b plus a "show optimum" checkbox redrawing the fit and its residuals."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    points = make_points() if points is None else _check_points(points)
    w = W.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.01, description="w", continuous_update=False)
    b = W.FloatSlider(value=1.0, min=-2.0, max=2.0, step=0.01, description="b", continuous_update=False)
    opt = W.Checkbox(value=False, description="显示最优直线")

    def draw(w, b, show_optimum):
        fig, ax = plt.subplots(figsize=(6, 3.8))
        draw_fit_by_hand(w, b, points, show_optimum=show_optimum, ax=ax)
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"w": w, "b": b, "show_optimum": opt})
    box = W.VBox([W.HBox([w, b, opt]), out])
    return with_fallback(box, draw, {"w": ("w", [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0], 1.0),
                                     "b": ("b", [-2.0, -1.0, 0.0, 1.0, 2.0], 1.0),
                                     "show_optimum": ("显示最优直线", [("否", False), ("是", True)])})


def draw_gradient_descent_lab(lr: float, iterations: int, noise: float = 0.1, *, seed: int = 0, axes=None):
    """Three panels: fitted line on the data, capped loss curve, (w, b) trajectory on the MSE contour."""
    import matplotlib.pyplot as plt

    points = make_points(noise=noise, seed=seed)
    run = run_gradient_descent(points, lr, iterations)
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax_line, ax_loss, ax_traj = axes
    w, b = run["w"][-1], run["b"][-1]
    xs = np.array([-10.0, 10.0])
    ax_line.scatter(points[:, 0], points[:, 1], s=10, label="观测样本")
    ax_line.plot(xs, TRUE_W * xs + TRUE_B, "k--", label="真实模型")
    if np.isfinite(w) and np.isfinite(b) and abs(w) < 1e3 and abs(b) < 1e3:
        ax_line.plot(xs, w * xs + b, color="tab:orange", label="梯度下降结果")
    ax_line.set_ylim(points[:, 1].min() - 3, points[:, 1].max() + 3)
    ax_line.set_title(f"w={w:.4g}, b={b:.4g}（真实 w={TRUE_W}, b={TRUE_B}）", fontsize=9)
    ax_line.legend(fontsize=8)
    ax_line.set_xlabel("x")
    ax_line.set_ylabel("y")
    loss = np.clip(np.nan_to_num(run["loss"], nan=LOSS_CAP, posinf=LOSS_CAP), None, LOSS_CAP)
    ax_loss.plot(np.arange(len(loss)), loss)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("迭代次数")
    ax_loss.set_ylabel("均方误差 (MSE)")
    ax_loss.set_title("发散！（损失已截断显示）" if run["diverged"] else f"最终 MSE = {loss[-1]:.4g}", fontsize=9)
    Wg, Bg, L = mse_grid(points)
    ax_traj.contourf(Wg, Bg, np.log10(L), levels=30, cmap="viridis")
    keep = (np.abs(run["w"]) < 10) & (np.abs(run["b"]) < 10)
    ax_traj.plot(run["w"][keep], run["b"][keep], ".-", color="w", markersize=2, linewidth=0.8)
    ax_traj.plot([TRUE_W], [TRUE_B], "r*", markersize=10)
    ax_traj.set_xlim(0, 3)
    ax_traj.set_ylim(-2, 2)
    ax_traj.set_xlabel("w")
    ax_traj.set_ylabel("b")
    ax_traj.set_title(r"参数轨迹（等高线为 $\log_{10}$ MSE）", fontsize=9)
    return run


def gradient_descent_lab(seed: int = 0):
    """Learning-rate, iteration and noise sliders redrawing line, loss curve and trajectory."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    lr = W.FloatLogSlider(value=0.01, base=10, min=-4, max=-1, step=0.1, description="学习率",
                          readout_format=".4f", continuous_update=False)
    its = W.IntSlider(value=1000, min=10, max=2000, step=10, description="迭代次数", continuous_update=False)
    noise = W.FloatSlider(value=0.1, min=0.0, max=2.0, step=0.05, description="噪声 std", continuous_update=False)

    def draw(lr, iterations, noise):
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
        draw_gradient_descent_lab(lr, iterations, noise, seed=seed, axes=axes)
        fig.tight_layout()
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"lr": lr, "iterations": its, "noise": noise})
    box = W.VBox([W.HBox([lr, its, noise]), out])
    lrs = _log_options(-4, -3, -2, -1.6, -1.4, -1)  # too slow, slow, good, zig-zag, diverging (x ~ U(-10, 10))
    return with_fallback(box, draw, {"lr": ("学习率", lrs, 0.01), "iterations": ("迭代次数", [10, 100, 1000], 1000),
                                     "noise": ("噪声 std", [0.1, 1.0, 2.0], 0.1)})


def f_xsinx(x):
    """f(x) = x²·sin(x)."""
    return x**2 * np.sin(x)


def df_xsinx(x):
    """f'(x) = 2x·sin(x) + x²·cos(x)."""
    return 2 * x * np.sin(x) + x**2 * np.cos(x)


def descend_1d(x0: float, lr: float, steps: int = 30) -> np.ndarray:
    """Positions of gradient descent x ← x − lr·f'(x) on x²·sin(x), kept inside [-10, 10]."""
    _check_number("x0", x0, low=-10, high=10)
    _check_number("lr", lr, low=0)
    _check_number("steps", steps, low=1, integer=True)
    xs = [float(x0)]
    for _ in range(steps):
        xs.append(float(np.clip(xs[-1] - lr * df_xsinx(xs[-1]), -10, 10)))
    return np.array(xs)


def draw_descent_1d(x0: float, lr: float, steps: int = 30, ax=None) -> np.ndarray:
    import matplotlib.pyplot as plt

    path = descend_1d(x0, lr, steps)
    ax = ax or plt.gca()
    grid = np.linspace(-10, 10, 400)
    ax.plot(grid, f_xsinx(grid), label="函数 f(x)")
    ax.scatter(path, f_xsinx(path), c=np.arange(len(path)), cmap="autumn", s=20, zorder=3, label="下降轨迹")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(f"起点 x0={x0:.2f}，终点 x={path[-1]:.3f}", fontsize=10)
    ax.legend(fontsize=8)
    return path


def descent_1d_widget():
    """Sliders for the start x₀ and the learning rate of descent on x²·sin(x)."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    x0 = W.FloatSlider(value=2.0, min=-10, max=10, step=0.1, description="起点 x₀", continuous_update=False)
    lr = W.FloatLogSlider(value=0.01, base=10, min=-3, max=-0.5, step=0.1, description="学习率",
                          readout_format=".3f", continuous_update=False)
    steps = W.IntSlider(value=30, min=1, max=100, description="步数", continuous_update=False)

    def draw(x0, lr, steps):
        fig, ax = plt.subplots(figsize=(6, 3.6))
        draw_descent_1d(x0, lr, steps, ax)
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"x0": x0, "lr": lr, "steps": steps})
    box = W.VBox([W.HBox([x0, lr, steps]), out])
    return with_fallback(box, draw, {"x0": ("起点 x₀", [-8.0, -5.0, -2.0, 0.0, 2.0, 5.0, 8.0], 2.0),
                                     "lr": ("学习率", _log_options(-3, -2.5, -2, -1.5, -1, -0.5), 0.01),
                                     "steps": ("步数", [1, 10, 30, 100], 30)})
