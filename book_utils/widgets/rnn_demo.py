"""Chapter 11 demo: how ‖Wᵏ‖ (the gradient factor through k steps) depends on W's largest eigenvalue."""
from __future__ import annotations

import numpy as np

from book_utils.checks import check_int
from book_utils.widgets._fallback import with_fallback


def matrix_power_norms(max_eigenvalue: float, steps: int, *, ratio: float = 0.5, seed: int = 0) -> dict:
    """Spectral norms ‖Wᵏ‖₂, k = 1…steps, of a random symmetric 2×2 W with eigenvalues (λ, ratio·λ).

    Returns ``{"k": [...], "norm": [...], "eigenvalues": (λ1, λ2)}``; the norms equal λᵏ exactly.
    """
    lam = float(max_eigenvalue)
    if not (np.isfinite(lam) and lam > 0):
        raise ValueError(f"max_eigenvalue must be a positive number, got {max_eigenvalue!r}")
    check_int("steps", steps, 1, 200)
    if not 0 <= ratio <= 1:
        raise ValueError(f"ratio must lie in [0, 1], got {ratio!r}")
    theta = np.random.default_rng(seed).uniform(0, np.pi)
    q = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    w = q @ np.diag([lam, ratio * lam]) @ q.T
    norms, p = [], np.eye(2)
    for _ in range(steps):
        p = p @ w
        norms.append(float(np.linalg.norm(p, 2)))
    return {"k": list(range(1, steps + 1)), "norm": norms, "eigenvalues": (lam, ratio * lam)}


def plot_power_norms(result: dict, ax=None):
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    lam = result["eigenvalues"][0]
    color = "tab:red" if lam > 1 else "tab:blue" if lam < 1 else "tab:green"
    ax.plot(result["k"], result["norm"], marker="o", markersize=3, color=color)
    ax.axhline(1.0, color="gray", ls="--", lw=1, label=r"$\|W^k\|=1$（λ = 1 的边界）")
    ax.set_yscale("log")
    ax.set_xlabel("步数 k")
    ax.set_ylabel(r"$\|W^k\|_2$")
    kind = "梯度爆炸" if lam > 1 else "梯度弥散" if lam < 1 else "临界 λ = 1"
    ax.set_title(f"最大特征值 λ = {lam:.2f}：{kind}")
    ax.legend(loc="best")
    return ax


def eigenvalue_lab(initial: float = 1.2, steps: int = 30):
    """FloatSlider for λ (0.1–2.0) and IntSlider for the number of steps, redrawing ‖Wᵏ‖ on a log scale."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    lam = W.FloatSlider(value=initial, min=0.1, max=2.0, step=0.05, description="最大特征值 λ",
                        continuous_update=False, style={"description_width": "initial"})
    k = W.IntSlider(value=steps, min=2, max=100, description="步数", continuous_update=False)

    def draw(lam, k):
        fig, ax = plt.subplots(figsize=(6, 3.4))
        plot_power_norms(matrix_power_norms(lam, k), ax)
        return fig

    out = W.interactive_output(lambda **v: (draw(**v), plt.show()), {"lam": lam, "k": k})
    box = W.VBox([W.HBox([lam, k]), out])
    lams = sorted({0.5, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0, float(initial)})
    # one slider at a time (~10 frames): the full grid would take ~7 s to draw
    return with_fallback(box, draw, {"lam": ("最大特征值 λ", lams, float(initial)),
                                     "k": ("步数", sorted({10, 30, 100, int(steps)}), int(steps))}, max_frames=12)
