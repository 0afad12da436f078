"""Chapter 12 demo: latent sliders → decoded image of a trained VAE (or AE decoder), live."""
from __future__ import annotations

import io

import numpy as np
import tensorflow as tf

from book_utils.widgets._fallback import set_png, with_fallback


def decode_latent(decode, z_dim: int, values, *, image_shape=(28, 28)) -> np.ndarray:
    """Decode a latent vector whose first ``len(values)`` entries are ``values`` (the rest 0) → pixels [0, 1].

    ``decode`` maps a float32 array ``[1, z_dim]`` to logits ``[1, H·W]`` (e.g. ``vae.decode``).
    """
    if not callable(decode):
        raise TypeError("decode must be callable, e.g. vae.decode")
    values = [float(v) for v in values]
    if not 1 <= len(values) <= z_dim:
        raise ValueError(f"give between 1 and z_dim={z_dim} latent values, got {len(values)}")
    if not all(np.isfinite(values)):
        raise ValueError(f"latent values must be finite, got {values}")
    z = np.zeros((1, z_dim), dtype="float32")
    z[0, :len(values)] = values
    return tf.sigmoid(decode(z)).numpy().reshape(image_shape)


def _png(img: np.ndarray, scale: int = 6) -> bytes:
    from PIL import Image

    arr = (np.clip(img, 0, 1) * 255).astype("uint8")
    im = Image.fromarray(arr).resize((arr.shape[1] * scale, arr.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def latent_explorer(decode, z_dim: int, *, n_sliders: int = 4, image_shape=(28, 28)):
    """``n_sliders`` FloatSliders (−3…3) for the first latent dimensions → the decoded image (upscaled)."""
    import ipywidgets as W

    n = min(n_sliders, z_dim)
    sliders = [W.FloatSlider(value=0.0, min=-3, max=3, step=0.1, description=f"z[{i}]", continuous_update=True)
               for i in range(n)]
    image = W.Image(format="png")

    def draw(**values):
        return _png(decode_latent(decode, z_dim, [values[f"z{i}"] for i in range(n)], image_shape=image_shape))

    def update(_=None):
        set_png(image, draw(**{f"z{i}": s.value for i, s in enumerate(sliders)}))

    for s in sliders:
        s.observe(update, names="value")
    update()
    box = W.HBox([W.VBox(sliders), image])
    return with_fallback(box, draw, {f"z{i}": (f"z[{i}]", [-3.0, -1.5, 0.0, 1.5, 3.0], 0.0) for i in range(n)})
