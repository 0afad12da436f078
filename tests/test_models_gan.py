"""Fast tests of book_utils.models.gan."""

import numpy as np
import pytest
import tensorflow as tf

from book_utils.models import gan


def test_generator_discriminator_shapes():
    for size, ch in ((28, 1), (64, 3)):
        g = gan.make_generator(16, size, ch, base_filters=8)
        d = gan.make_discriminator(size, ch, base_filters=8)
        x = g(tf.random.normal([2, 16]), training=False)
        assert x.shape == (2, size, size, ch)
        assert d(x, training=False).shape == (2, 1)
    with pytest.raises(ValueError, match="image_size"):
        gan.make_generator(16, 30, 1)
    with pytest.raises(ValueError, match="norm"):
        gan.make_discriminator(28, 1, norm="group")


def test_gradient_penalty_linear_critic():
    import keras

    w = np.zeros((16, 1), np.float32)
    w[3, 0] = 1.0
    critic = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    critic.layers[-1].set_weights([w])
    gp = gan.gradient_penalty(critic, tf.zeros([5, 4, 4, 1]), tf.ones([5, 4, 4, 1]))
    assert float(gp) == pytest.approx(0.0, abs=1e-6)
    critic.layers[-1].set_weights([2 * w])
    assert float(gan.gradient_penalty(critic, tf.zeros([5, 4, 4, 1]), tf.ones([5, 4, 4, 1]))) == pytest.approx(1.0)


def test_gan_losses_and_train_step():
    d, g = gan.gan_losses(tf.constant([[10.0]]), tf.constant([[-10.0]]))
    assert float(d) < 1e-3 and float(g) > 9
    G = gan.make_generator(8, 28, 1, base_filters=4)
    D = gan.make_discriminator(28, 1, base_filters=4)
    ds = gan.make_image_dataset(np.zeros((40, 28, 28), np.uint8), batch_size=4 * 2)
    for loss in ("gan", "wgan-gp"):
        hist, snaps = gan.train_gan(
            G,
            D,
            ds,
            steps=2,
            z_dim=8,
            loss=loss,
            d_steps=2,
            fixed_z=np.zeros((3, 8), np.float32),
            sample_every=1,
            log_every=1,
        )
        assert len(hist["d_loss"]) == 2 and np.isfinite(hist["g_loss"]).all()
        assert snaps[2].shape == (3, 28, 28, 1)
    with pytest.raises(ValueError, match="loss"):
        gan.make_gan_train_step(G, D, None, None, z_dim=8, loss="lsgan")


def test_make_image_dataset_inputs(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        gan.make_image_dataset(np.zeros((4, 8, 8), np.float32))
    with pytest.raises(ValueError, match="jpg"):
        gan.make_image_dataset(tmp_path)
    x = next(iter(gan.make_image_dataset(np.full((4, 8, 8), 255, np.uint8), batch_size=2, resize=16)))
    assert x.shape == (2, 16, 16, 1) and float(tf.reduce_max(x)) == pytest.approx(1.0)


def test_classifier_scores():
    perfect = np.eye(10)[np.arange(100) % 10]
    s = gan.classifier_scores(perfect)
    assert s["inception_score"] == pytest.approx(10.0, rel=1e-3) and s["classes_covered"] == 10
    collapsed = np.tile(np.eye(10)[:1], (50, 1))
    assert gan.classifier_scores(collapsed)["inception_score"] == pytest.approx(1.0, rel=1e-3)
    with pytest.raises(ValueError, match="softmax"):
        gan.classifier_scores(np.ones((5, 10)))


def test_toys():
    pts = gan.ring_of_gaussians(800, seed=0)
    assert gan.modes_covered(pts)["modes"] == 8
    js, w = gan.js_em_line(np.array([-0.5, 0.0, 0.3]))
    np.testing.assert_allclose(js, [np.log(2), 0, np.log(2)])
    np.testing.assert_allclose(w, [0.5, 0, 0.3])
    G, D, snaps, hist = gan.train_toy_gan(
        lambda n, rng: rng.normal(4, 0.5, (n, 1)), data_dim=1, z_dim=1, steps=3, checkpoints=(0, 3), batch_size=16
    )
    assert snaps[3].shape == (2000, 1)


def test_generator_does_not_relu_z():
    """Regression: the textbook's relu(z) first layer made the 28×28 DCGAN collapse (IS ≈ 1)."""
    import keras

    g = gan.make_generator(16, 28, 1, base_filters=8)
    assert not any(isinstance(layer, keras.layers.ReLU) and layer.input.shape[1:] == (1, 1, 16) for layer in g.layers)
    g_tb = gan.make_generator(16, 28, 1, base_filters=8, relu_z=True)
    assert any(
        isinstance(layer, keras.layers.ReLU) and tuple(layer.input.shape[1:]) == (1, 1, 16) for layer in g_tb.layers
    )
    z = tf.random.normal([8, 16], seed=0)
    out = g(z, training=True).numpy()
    assert out.std(axis=0).mean() > 1e-3  # different z → different images


def test_one_sided_label_smoothing():
    real, fake = tf.constant([[10.0]]), tf.constant([[-10.0]])
    d0, g0 = gan.gan_losses(real, fake)
    d1, g1 = gan.gan_losses(real, fake, label_smoothing=0.1)
    assert float(d1) > float(d0) + 0.5  # confident "real" is now penalised (target 0.9)
    assert float(g1) == pytest.approx(float(g0))  # G's target is unchanged
    G = gan.make_generator(8, 28, 1, base_filters=4)
    D = gan.make_discriminator(28, 1, base_filters=4)
    with pytest.raises(ValueError, match="label_smoothing"):
        gan.make_gan_train_step(G, D, None, None, z_dim=8, label_smoothing=0.7)


def test_ema_generator_tracks_weights():
    G = gan.make_generator(8, 28, 1, base_filters=4)
    D = gan.make_discriminator(28, 1, base_filters=4, norm=None)
    G_ema = gan.make_generator(8, 28, 1, base_filters=4)
    ds = gan.make_image_dataset(np.zeros((16, 28, 28), np.uint8), batch_size=4)
    gan.train_gan(G, D, ds, steps=3, z_dim=8, ema_generator=G_ema, ema_decay=0.99, label_smoothing=0.1)
    w, w_ema = G.trainable_weights[0].numpy(), G_ema.trainable_weights[0].numpy()
    assert np.isfinite(w_ema).all() and not np.allclose(w_ema, w)  # an average, not a copy …
    assert np.abs(w_ema - w).max() < np.abs(w).max()  # … close to the live weights
    with pytest.raises(ValueError, match="architecture"):
        gan.make_gan_train_step(G, D, None, None, z_dim=8, ema_generator=gan.make_generator(8, 28, 1, base_filters=8))
    with pytest.raises(ValueError, match="ema_decay"):
        gan.make_gan_train_step(G, D, None, None, z_dim=8, ema_generator=G_ema, ema_decay=1.0)
