"""Chapter 13 demos: latent-space walk through a trained generator, and the optimal-D equilibrium explorer."""
from __future__ import annotations

import numpy as np

from book_utils.widgets._fallback import with_fallback


def interpolate_latents(z0, z1, alphas):
    """Linear interpolation (1−α)·z0 + α·z1 for each α; returns (len(alphas), z_dim) float32."""
    z0, z1 = np.asarray(z0, np.float32).ravel(), np.asarray(z1, np.float32).ravel()
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same size, got {z0.shape} and {z1.shape}")
    a = np.asarray(alphas, np.float32).reshape(-1, 1)
    if np.any(a < 0) or np.any(a > 1):
        raise ValueError("alphas must lie in [0, 1]")
    return (1 - a) * z0 + a * z1


def latent_strip(generator, z0, z1, alpha: float, n: int = 8):
    """Images along the path z0 → z1 (``n`` evenly spaced) plus the image at ``alpha``; values in [0, 1]."""
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    z = interpolate_latents(z0, z1, list(np.linspace(0, 1, n)) + [float(alpha)])
    img = generator(z, training=False).numpy()
    img = np.clip((img + 1) / 2, 0, 1)
    img = img[..., 0] if img.shape[-1] == 1 else img
    return img[:n], img[n]


def draw_latent_strip(generator, z0, z1, alpha: float):
    """Figure: the interpolation strip z0 → z1 and, in the last panel, the image at ``alpha``."""
    import matplotlib.pyplot as plt

    strip, cur = latent_strip(generator, z0, z1, alpha)
    fig, axes = plt.subplots(1, len(strip) + 1, figsize=(1.1 * (len(strip) + 1), 1.5))
    for ax, im in zip(axes, list(strip) + [cur]):
        ax.imshow(im, cmap="gray", vmin=0, vmax=1)
        ax.axis("off")
    axes[-1].set_title(f"α={alpha:.2f}", fontsize=9)
    return fig


def latent_walk(generators: dict, z_dim: int, seed: int = 0):
    """Dropdown (generator) + α slider + two “new z” buttons → interpolation strip and the image at α."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    if not generators:
        raise ValueError("generators must be a non-empty dict {name: keras generator}")
    rng = np.random.default_rng(seed)
    state = {"z0": rng.standard_normal(z_dim), "z1": rng.standard_normal(z_dim)}
    choose = W.Dropdown(options=list(generators), description="生成器")
    alpha = W.FloatSlider(value=0.5, min=0, max=1, step=0.05, description="α", continuous_update=False)
    b0, b1 = W.Button(description="新 z₀"), W.Button(description="新 z₁")
    out = W.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            draw_latent_strip(generators[choose.value], state["z0"], state["z1"], alpha.value)
            plt.show()

    def new(key):
        def f(_):
            state[key] = rng.standard_normal(z_dim)
            redraw()
        return f

    b0.on_click(new("z0"))
    b1.on_click(new("z1"))
    choose.observe(redraw, "value")
    alpha.observe(redraw, "value")
    redraw()
    box = W.VBox([W.HBox([choose, alpha]), W.HBox([b0, b1]), out])
    z0, z1 = state["z0"], state["z1"]  # the preview keeps the first pair
    alphas = [0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0] if len(generators) <= 3 else [0.0, 0.5, 1.0]
    return with_fallback(box, lambda name, alpha: draw_latent_strip(generators[name], z0, z1, alpha),
                         {"name": ("生成器", list(generators)), "alpha": ("α", alphas, 0.5)})


# --------------------------------------------------------------------------- equilibrium explorer

def equilibrium_stats(mu_g: float, sigma_g: float, mu_r: float = 4.0, sigma_r: float = 0.5, grid=None):
    """Optimal D*(x) = p_r/(p_r+p_g), D_JS(p_r‖p_g) and L(G, D*) = 2·D_JS − 2·log 2 by numeric integration."""
    if sigma_g <= 0 or sigma_r <= 0:
        raise ValueError(f"standard deviations must be positive, got sigma_g={sigma_g}, sigma_r={sigma_r}")
    x = np.linspace(-4, 12, 4001) if grid is None else np.asarray(grid, float)

    def pdf(m, s):
        return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))

    pr, pg = pdf(mu_r, sigma_r), pdf(mu_g, sigma_g)
    m = 0.5 * (pr + pg)
    eps = 1e-300

    def kl(p, q):
        mask = p > 1e-12
        return np.trapezoid(np.where(mask, p * np.log((p + eps) / (q + eps)), 0.0), x)

    js = 0.5 * kl(pr, m) + 0.5 * kl(pg, m)
    d_star = np.where(pr + pg > 1e-12, pr / (pr + pg + eps), 0.5)
    return {"x": x, "p_r": pr, "p_g": pg, "d_star": d_star, "js": float(js), "loss": float(2 * js - 2 * np.log(2))}


def draw_equilibrium(mu_g: float, sigma_g: float, mu_r: float = 4.0, sigma_r: float = 0.5):
    """Figure: p_r, p_g and D*(x) (right axis), with D_JS and L(G, D*) in the title."""
    import matplotlib.pyplot as plt

    r = equilibrium_stats(mu_g, sigma_g, mu_r, sigma_r)
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.plot(r["x"], r["p_r"], label="$p_r$")
    ax.plot(r["x"], r["p_g"], label="$p_g$")
    ax2 = ax.twinx()
    ax2.plot(r["x"], r["d_star"], "k--", label="$D^*(x)$")
    ax2.set_ylim(-0.05, 1.05)
    ax.set_xlim(-2, 10)
    ax.set_title(f"$D_{{JS}}$={r['js']:.3f}，L(G,D*)={r['loss']:.3f}（下界 −2log2={-2 * np.log(2):.3f}）")
    ax.legend(loc="upper left")
    ax2.legend(loc="upper right")
    return fig


def equilibrium_explorer(mu_r: float = 4.0, sigma_r: float = 0.5):
    """Sliders μ_g, σ_g → p_r, p_g, D*(x) and the values of D_JS and L(G, D*)."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    mu = W.FloatSlider(value=1.0, min=-2, max=8, step=0.1, description="μ_g", continuous_update=False)
    sd = W.FloatSlider(value=1.0, min=0.2, max=2.0, step=0.05, description="σ_g", continuous_update=False)

    def draw(mu_g, sigma_g):
        return draw_equilibrium(mu_g, sigma_g, mu_r, sigma_r)

    box = W.VBox([W.HBox([mu, sd]), W.interactive_output(lambda **v: (draw(**v), plt.show()),
                                                         {"mu_g": mu, "sigma_g": sd})])
    # the full grid, so that μ_g = μ_r together with σ_g = σ_r (the equilibrium, D_JS = 0) is one of the frames
    mus = sorted({1.0, mu_r - 5, mu_r - 2, mu_r - 1, mu_r, mu_r + 2})
    sds = sorted({sigma_r, 1.0, 2.0})
    return with_fallback(box, draw, {"mu_g": ("μ_g", mus, 1.0), "sigma_g": ("σ_g", sds, 1.0)})
