"""Unit tests for book_utils.models.autoencoder (AE, VAE, losses, tiling)."""

import numpy as np
import pytest
import tensorflow as tf

from book_utils.models import autoencoder as ae


def test_ae_parameter_count_and_shapes():
    model = ae.AE(20)
    model.build((4, 784))
    assert model.count_params() == 2 * (784 * 256 + 256 * 128 + 128 * 20) + (256 + 128 + 20) + (128 + 256 + 784)
    assert model(tf.zeros([3, 784])).shape == (3, 784)


def test_vae_shapes_and_parameter_count():
    vae = ae.VAE(10)
    vae.build((2, 784))
    logits, mu, log_var = vae(tf.zeros([2, 784]), training=True)
    assert logits.shape == (2, 784) and mu.shape == (2, 10) and log_var.shape == (2, 10)
    assert vae.count_params() == (784 * 128 + 128) + 2 * (128 * 10 + 10) + (10 * 128 + 128) + (128 * 784 + 784)


def test_kl_closed_form():
    assert float(ae.kl_standard_normal(tf.zeros([1, 3]), tf.zeros([1, 3]))[0]) == pytest.approx(0.0)
    # KL(N(1, 1) || N(0, 1)) = 0.5
    assert float(ae.kl_standard_normal(tf.ones([1, 1]), tf.zeros([1, 1]))[0]) == pytest.approx(0.5)


def test_training_lowers_loss():
    x = np.random.default_rng(0).random((256, 28, 28)).astype("float32") ** 4
    model = ae.AE(4)
    hist = ae.train(model, x, epochs=3, batch_size=64, x_test=x[:32])
    assert hist["loss"][-1] < hist["loss"][0] and len(hist["test_loss"]) == 3
    vae = ae.VAE(2)
    hist = ae.train(vae, x, epochs=2, batch_size=64)
    assert set(hist) == {"loss", "rec", "kl"} and np.isfinite(hist["loss"]).all()
    assert ae.reconstruct(vae, x[:5]).shape == (5, 784)
    assert ae.latent_manifold(vae, n=3).shape == (84, 84)


def test_tiling():
    a, b = np.zeros((50, 784)), np.ones((50, 784))
    grid = ae.tile_pairs(a, b)
    assert grid.shape == (280, 280) and grid[:, :140].max() == 0 and grid[:, 140:].min() == 1
    assert ae.tile_images(np.ones((20, 784)), ncols=10).shape == (56, 280)
    with pytest.raises(ValueError):
        ae.tile_pairs(a[:10], b[:10])


def test_bad_inputs():
    with pytest.raises(ValueError, match="h_dim"):
        ae.AE(0)
    with pytest.raises(TypeError):
        ae.flatten_images(np.zeros((2, 4, 4), dtype="int64"))
    with pytest.raises(ValueError, match="0, 1"):
        ae.flatten_images(np.full((2, 4, 4), 3.0))
    with pytest.raises(TypeError, match="AE or a VAE"):
        ae.train(object(), np.zeros((4, 4, 4), "float32"), epochs=1)
    with pytest.raises(ValueError, match="z_dim=2"):
        ae.latent_manifold(ae.VAE(3))


def test_training_reports_progress_every_batch(monkeypatch):
    calls = []
    monkeypatch.setattr(ae.Progress, "update", lambda self, done, **m: calls.append((done, float(m["loss"]))))
    x = np.random.default_rng(1).random((192, 28, 28)).astype("float32")
    ae.train(ae.AE(3), x, epochs=2, batch_size=64)
    assert [done for done, _ in calls] == list(range(1, 7)) and all(np.isfinite(v) for _, v in calls)
