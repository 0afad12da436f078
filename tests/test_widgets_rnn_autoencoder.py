"""Unit tests for the chapter 11 and 12 widgets' pure functions and wrappers."""

import numpy as np
import pytest

from book_utils.widgets import autoencoder_demo, rnn_demo


def test_matrix_power_norms_follow_eigenvalue():
    r = rnn_demo.matrix_power_norms(1.5, 6)
    np.testing.assert_allclose(r["norm"], 1.5 ** np.arange(1, 7), rtol=1e-10)
    assert r["eigenvalues"] == (1.5, 0.75)
    with pytest.raises(ValueError):
        rnn_demo.matrix_power_norms(-1, 5)
    with pytest.raises(ValueError):
        rnn_demo.matrix_power_norms(1.0, 0)


def test_eigenvalue_lab_builds():
    import matplotlib

    matplotlib.use("Agg")
    box = rnn_demo.eigenvalue_lab(0.75, 10)
    assert len(box.children) == 2
    page = box.fallback_html
    # one slider at a time: λ ∈ {0.5, 0.75, 0.8, 0.9, 1, 1.1, 1.2, 1.5, 2}, steps ∈ {10, 30, 100}
    assert page.count("data-key=") == 1 + 8 + 2 and 'data-mode="star"' in page
    assert "最大特征值 λ" in page and "<output>0.75</output>" in page and len(page) < 400_000


def test_decode_latent_and_explorer():
    def decode(z):
        return np.tile(z[:, :1], (1, 784)).astype("float32")

    img = autoencoder_demo.decode_latent(decode, 3, [0.0])
    assert img.shape == (28, 28) and np.allclose(img, 0.5)
    with pytest.raises(ValueError):
        autoencoder_demo.decode_latent(decode, 2, [0.0, 0.0, 0.0])
    with pytest.raises(TypeError):
        autoencoder_demo.decode_latent("nope", 2, [0.0])
    box = autoencoder_demo.latent_explorer(decode, 3, n_sliders=2)
    sliders = box.children[0].children
    before = box.children[1].value
    sliders[0].value = 2.0
    assert len(sliders) == 2 and box.children[1].value != before
    assert box.children[1].layout.width == f"{28 * 6}px", "natural size, not stretched"


def test_latent_explorer_fallback():
    def decode(z):
        return np.tile(z[:, :2].sum(1, keepdims=True), (1, 784)).astype("float32")

    page = autoencoder_demo.latent_explorer(decode, 8).fallback_html
    # 4 sliders × 5 values, one slider at a time around z = 0
    assert page.count("data-key=") == 1 + 4 * 4 and 'data-mode="star"' in page
    assert all(f"z[{i}]" in page for i in range(4)) and "z[4]" not in page and len(page) < 400_000
