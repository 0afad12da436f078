import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from book_utils.widgets import gan_demo  # noqa: E402


def test_interpolate_latents():
    z = gan_demo.interpolate_latents(np.zeros(3), np.ones(3), [0, 0.5, 1])
    np.testing.assert_allclose(z[:, 0], [0, 0.5, 1])
    with pytest.raises(ValueError, match="same size"):
        gan_demo.interpolate_latents(np.zeros(3), np.ones(4), [0.5])
    with pytest.raises(ValueError, match="alphas"):
        gan_demo.interpolate_latents(np.zeros(3), np.ones(3), [1.5])


def test_equilibrium_stats():
    same = gan_demo.equilibrium_stats(4.0, 0.5)
    assert same["js"] == pytest.approx(0.0, abs=1e-6)
    assert same["loss"] == pytest.approx(-2 * np.log(2), abs=1e-6)
    far = gan_demo.equilibrium_stats(-1.0, 0.5)
    assert far["js"] == pytest.approx(np.log(2), abs=1e-3)
    with pytest.raises(ValueError, match="positive"):
        gan_demo.equilibrium_stats(0.0, 0.0)


def test_latent_strip():
    from book_utils.models import gan

    g = gan.make_generator(4, 28, 1, base_filters=4)
    strip, cur = gan_demo.latent_strip(g, np.zeros(4), np.ones(4), 0.3, n=5)
    assert strip.shape == (5, 28, 28) and cur.shape == (28, 28)
    assert 0 <= strip.min() and strip.max() <= 1
    with pytest.raises(ValueError):
        gan_demo.latent_walk({}, 4)


def test_latent_walk_fallback():
    import keras

    def tiny(seed):  # z (4) -> 8x8x1 image in [-1, 1]
        keras.utils.set_random_seed(seed)
        return keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(64, activation="tanh"), keras.layers.Reshape((8, 8, 1))]
        )

    box = gan_demo.latent_walk({"甲": tiny(0), "乙": tiny(1)}, 4)
    page = box.fallback_html
    assert page.count("data-key=") == 2 * 7 and 'data-mode="grid"' in page  # generator × 7 values of α
    assert "生成器" in page and '<option value="1">乙</option>' in page and "<output>0.5</output>" in page
    assert len(page) < 400_000 and len(box.children) == 3


def test_equilibrium_explorer_fallback():
    box = gan_demo.equilibrium_explorer()
    page = box.fallback_html
    assert page.count("data-key=") == 6 * 3 and 'data-mode="grid"' in page  # μ_g × σ_g, full grid
    assert "μ_g" in page and "σ_g" in page and "&quot;4&quot;" in page  # μ_g = μ_r is a frame
    assert len(page) < 400_000
