"""Autoencoders of chapter 12: the fully connected AE and the VAE, with compiled training steps.

Both work on flattened images in [0, 1] (any ``[N, H, W]`` or ``[N, H, W, C]`` array can be passed
through :func:`flatten_images`) and output **logits**; ``tf.sigmoid`` turns them into pixels.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from book_utils.checks import check_int as _check_int
from book_utils.config import resolve_seed
from book_utils.progress import Progress


def flatten_images(x) -> np.ndarray:
    """``[N, H, W]`` / ``[N, H, W, C]`` images (uint8 or floats in [0, 1]) → float32 ``[N, H·W·C]``."""
    x = np.asarray(x)
    if x.ndim not in (2, 3, 4) or len(x) == 0:
        raise ValueError(f"expected a non-empty batch of images [N, H, W(, C)] or vectors [N, D], got {x.shape}")
    if x.dtype == np.uint8:
        x = x.astype("float32") / 255.0
    elif x.dtype.kind != "f":
        raise TypeError(f"images must be uint8 or float, got {x.dtype}")
    elif not np.all(np.isfinite(x)):
        raise ValueError("images contain NaN or infinite values; clean the data first")
    elif x.min() < 0 or x.max() > 1:
        raise ValueError("float images must lie in [0, 1] (sigmoid cross-entropy needs targets in [0, 1])")
    return x.reshape(len(x), -1).astype("float32")


class AE(keras.Model):
    """784-256-128-``h_dim`` encoder and its mirror decoder (logits), as in the textbook's 12.2.

    ``input_noise`` > 0 adds Gaussian noise to the input while training (denoising AE);
    ``input_dropout`` > 0 drops input pixels while training (dropout AE).
    """

    def __init__(self, h_dim: int = 20, *, input_dim: int = 784, input_noise: float = 0.0,
                 input_dropout: float = 0.0, **kwargs):
        super().__init__(name=kwargs.pop("name", "ae"), **kwargs)
        h_dim, input_dim = _check_int("h_dim", h_dim), _check_int("input_dim", input_dim)
        if input_noise < 0 or not 0 <= input_dropout < 1:
            raise ValueError("input_noise must be >= 0 and input_dropout in [0, 1)")
        front = []
        if input_noise > 0:
            front.append(layers.GaussianNoise(input_noise))
        if input_dropout > 0:
            front.append(layers.Dropout(input_dropout))
        self.encoder = keras.Sequential(front + [
            layers.Dense(256, activation="relu"),
            layers.Dense(128, activation="relu"),
            layers.Dense(h_dim),
        ], name="encoder")
        self.decoder = keras.Sequential([
            layers.Dense(128, activation="relu"),
            layers.Dense(256, activation="relu"),
            layers.Dense(input_dim),                    # logits; tf.sigmoid gives the pixels
        ], name="decoder")

    def build(self, input_shape):
        self.encoder.build(input_shape)
        self.decoder.build(self.encoder.compute_output_shape(input_shape))
        self.built = True

    def call(self, x, training=None):
        return self.decoder(self.encoder(x, training=training), training=training)


class VAE(keras.Model):
    """The textbook's VAE (12.5): fc1(128)→(μ, log σ²) of size ``z_dim``; fc4(128)→fc5(784) logits."""

    def __init__(self, z_dim: int = 20, *, input_dim: int = 784, hidden: int = 128, **kwargs):
        super().__init__(name=kwargs.pop("name", "vae"), **kwargs)
        self.z_dim = _check_int("z_dim", z_dim)
        hidden, input_dim = _check_int("hidden", hidden), _check_int("input_dim", input_dim)
        self.fc1 = layers.Dense(hidden, activation="relu")
        self.fc2 = layers.Dense(self.z_dim)             # μ
        self.fc3 = layers.Dense(self.z_dim)             # log σ² (a log, so σ is always positive)
        self.fc4 = layers.Dense(hidden, activation="relu")
        self.fc5 = layers.Dense(input_dim)              # logits

    def build(self, input_shape):
        self.fc1.build(input_shape)
        hidden_shape = self.fc1.compute_output_shape(input_shape)
        self.fc2.build(hidden_shape)
        self.fc3.build(hidden_shape)
        self.fc4.build((input_shape[0], self.z_dim))
        self.fc5.build(self.fc4.compute_output_shape((input_shape[0], self.z_dim)))
        self.built = True

    def encode(self, x):
        h = self.fc1(x)
        return self.fc2(h), self.fc3(h)

    def decode(self, z):
        return self.fc5(self.fc4(z))

    @staticmethod
    def reparameterize(mu, log_var):
        """z = μ + σ·ε with ε ~ N(0, I): the randomness sits in ε, so gradients reach μ and σ."""
        eps = tf.random.normal(tf.shape(log_var))
        return mu + tf.exp(0.5 * log_var) * eps

    def call(self, x, training=None):
        mu, log_var = self.encode(x)
        z = self.reparameterize(mu, log_var) if training else mu
        return self.decode(z), mu, log_var


def ae_loss(x, logits):
    """Mean sigmoid cross-entropy per pixel (the textbook's AE loss)."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))


def kl_standard_normal(mu, log_var):
    """KL(N(μ, σ²) ‖ N(0, 1)) summed over latent dimensions: −½ Σ (1 + log σ² − μ² − σ²), per sample."""
    return -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mu) - tf.exp(log_var), axis=-1)


def vae_loss(x, logits, mu, log_var, kl_weight: float = 1.0):
    """(loss, rec, kl): rec = Σ pixel cross-entropy / batch, kl = Σ KL / batch, loss = rec + w·kl = −ELBO."""
    rec = tf.reduce_mean(tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), -1))
    kl = tf.reduce_mean(kl_standard_normal(mu, log_var))
    return rec + kl_weight * kl, rec, kl


def make_ae_step(model: AE, optimizer, *, target_noise: float = 0.0):
    """Compiled ``step(x) -> loss``. ``target_noise`` > 0 feeds x + noise (clipped) and reconstructs clean x."""

    @tf.function
    def step(x):
        inp = x
        if target_noise > 0:
            inp = tf.clip_by_value(x + target_noise * tf.random.normal(tf.shape(x)), 0.0, 1.0)
        with tf.GradientTape() as tape:
            loss = ae_loss(x, model(inp, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def make_vae_step(model: VAE, optimizer, kl_weight: float = 1.0):
    """Compiled ``step(x) -> (loss, rec, kl)``; the whole loss is computed inside the tape."""

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            logits, mu, log_var = model(x, training=True)
            loss, rec, kl = vae_loss(x, logits, mu, log_var, kl_weight)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss, rec, kl

    return step


def train(model, x_train, *, epochs: int, batch_size: int = 512, learning_rate: float = 1e-3,
          x_test=None, target_noise: float = 0.0, on_epoch_end=None, seed: int | None = None) -> dict:
    """Train an :class:`AE` or :class:`VAE` on flattened images; return the per-epoch history.

    History keys: ``loss`` (and ``rec``/``kl`` for a VAE), plus ``test_*`` twins when ``x_test`` is
    given (the VAE's test terms use the sampled z, so ``test_loss`` is the test −ELBO per image).
    ``on_epoch_end(epoch, model)`` is called after every epoch (e.g. to save image grids).
    """
    epochs = _check_int("epochs", epochs)
    batch_size = _check_int("batch_size", batch_size)
    x_train = flatten_images(x_train)
    is_vae = isinstance(model, VAE)
    if not isinstance(model, (AE, VAE)):
        raise TypeError(f"model must be an AE or a VAE, got {type(model).__name__}")
    ds = (tf.data.Dataset.from_tensor_slices(x_train).shuffle(batch_size * 5, seed=resolve_seed(seed))
          .batch(batch_size).prefetch(tf.data.AUTOTUNE))
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    model(x_train[:1])
    step = make_vae_step(model, optimizer) if is_vae else make_ae_step(model, optimizer, target_noise=target_noise)
    keys = ["loss", "rec", "kl"] if is_vae else ["loss"]
    history = {k: [] for k in keys}
    if x_test is not None:
        x_test = flatten_images(x_test)
        history.update({f"test_{k}": [] for k in keys})
    batches = len(ds)
    progress = Progress(epochs * batches, "VAE 训练" if is_vae else "自编码器训练")  # live in a notebook only
    for epoch in range(1, epochs + 1):
        sums, n = tf.zeros(len(keys)), 0
        for i, x in enumerate(ds, 1):
            out = step(x)
            sums += tf.stack(out if is_vae else (out,)) * tf.cast(tf.shape(x)[0], tf.float32)
            n += len(x)
            progress.update((epoch - 1) * batches + i, loss=out[0] if is_vae else out)
        for k, s in zip(keys, sums.numpy() / n):
            history[k].append(float(s))
        if x_test is not None:
            for k, v in evaluate(model, x_test, batch_size=batch_size).items():
                history[f"test_{k}"].append(v)
        if on_epoch_end is not None:
            on_epoch_end(epoch, model)
    return history


def evaluate(model, x, *, batch_size: int = 1000) -> dict:
    """Mean test loss terms: AE → ``loss`` (per-pixel BCE); VAE → ``loss``/``rec``/``kl`` per image (sampled z)."""
    x = flatten_images(x)
    is_vae = isinstance(model, VAE)
    sums, n = None, 0
    for i in range(0, len(x), batch_size):
        xb = tf.constant(x[i:i + batch_size])
        if is_vae:
            logits, mu, log_var = model(xb, training=True)  # training=True: sample z as the ELBO requires
            vals = [float(v) for v in vae_loss(xb, logits, mu, log_var)]
        else:
            vals = [float(ae_loss(xb, model(xb, training=False)))]
        sums = np.array(vals) * len(xb) if sums is None else sums + np.array(vals) * len(xb)
        n += len(xb)
    keys = ["loss", "rec", "kl"] if is_vae else ["loss"]
    return {k: float(v) for k, v in zip(keys, sums / n)}


def reconstruct(model, x) -> np.ndarray:
    """Reconstructed pixels in [0, 1] (the VAE uses z = μ)."""
    x = flatten_images(x)
    out = model(x, training=False)
    logits = out[0] if isinstance(model, VAE) else out
    return tf.sigmoid(logits).numpy()


def tile_pairs(originals, reconstructions, *, image_shape=(28, 28), rows: int = 10, pairs_per_row: int = 5):
    """A grid whose rows show ``pairs_per_row`` originals then their reconstructions (the textbook's 280×280)."""
    h, w = image_shape
    n = rows * pairs_per_row
    a = np.asarray(originals)[:n].reshape(-1, h, w)
    b = np.asarray(reconstructions)[:n].reshape(-1, h, w)
    if len(a) < n or len(b) < n:
        raise ValueError(f"need at least {n} originals and reconstructions, got {len(a)} and {len(b)}")
    grid = np.zeros((rows * h, 2 * pairs_per_row * w), dtype="float32")
    for r in range(rows):
        for c in range(pairs_per_row):
            k = r * pairs_per_row + c
            grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = a[k]
            grid[r * h:(r + 1) * h, (c + pairs_per_row) * w:(c + pairs_per_row + 1) * w] = b[k]
    return np.clip(grid, 0, 1)


def tile_images(images, *, image_shape=(28, 28), ncols: int = 10):
    """Tile ``[N, H·W]`` images into one array (N must be a multiple of ``ncols``)."""
    h, w = image_shape
    ncols = _check_int("ncols", ncols)
    imgs = np.asarray(images).reshape(-1, h, w)
    if len(imgs) % ncols:
        raise ValueError(f"{len(imgs)} images do not fill rows of {ncols}")
    nrows = len(imgs) // ncols
    return np.clip(imgs.reshape(nrows, ncols, h, w).transpose(0, 2, 1, 3).reshape(nrows * h, ncols * w), 0, 1)


def latent_manifold(model: VAE, *, n: int = 15, span: float = 3.0, image_shape=(28, 28)):
    """Decode an ``n × n`` grid over z ∈ [−span, span]² of a 2-D VAE into one image."""
    if model.z_dim != 2:
        raise ValueError(f"latent_manifold needs a VAE with z_dim=2, got z_dim={model.z_dim}")
    n = _check_int("n", n, 2)
    grid = np.linspace(-span, span, n)
    z = np.array([[x, y] for y in grid[::-1] for x in grid], dtype="float32")
    imgs = tf.sigmoid(model.decode(z)).numpy()
    return tile_images(imgs, image_shape=image_shape, ncols=n)
