"""GANs for chapter 13: DCGAN generator/discriminator, WGAN-GP critic loss, compiled training steps,
small 1-D/2-D toy GANs, and classifier-based sample-quality scores.
"""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from book_utils.checks import check_choice
from book_utils.checks import check_int as _check_int
from book_utils.config import resolve_seed
from book_utils.progress import Progress


def _doublings(image_size):
    """image_size = start · 2^k with start 4 (64, 32, …) or 7 (28, 14); return (start, k)."""
    size = _check_int("image_size", image_size, 4)
    k = 0
    while size % 2 == 0 and size not in (4, 7):
        size //= 2
        k += 1
    if size not in (4, 7) or k < 1:
        raise ValueError(f"image_size must be 4·2^k or 7·2^k with k ≥ 1 (e.g. 28 or 64), got {image_size}")
    return size, k


# --------------------------------------------------------------------------- DCGAN

def make_image_dataset(images, batch_size: int = 64, *, resize: int | None = None, seed: int | None = None):
    """Images → shuffled, batched ``tf.data.Dataset`` scaled to [-1, 1] (repeat forever).

    ``images`` is an in-memory uint8 array (N, H, W) or (N, H, W, C), or a folder of jpg/png
    files (e.g. the textbook's anime faces: ``make_image_dataset('faces/', resize=64)``).
    """
    batch_size = _check_int("batch_size", batch_size)
    if isinstance(images, (str, Path)):
        folder = Path(images)
        files = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if not files:
            raise ValueError(f"no .jpg/.png files found under {folder}")
        ds = tf.data.Dataset.from_tensor_slices(files).map(
            lambda f: tf.io.decode_image(tf.io.read_file(f), channels=3, expand_animations=False),
            num_parallel_calls=tf.data.AUTOTUNE)
        n = len(files)
    else:
        arr = np.asarray(images)
        if arr.dtype != np.uint8 or arr.ndim not in (3, 4):
            raise TypeError(f"images must be uint8 (N,H,W) or (N,H,W,C) or a folder path, got {arr.dtype} {arr.shape}")
        if arr.ndim == 3:
            arr = arr[..., None]
        ds = tf.data.Dataset.from_tensor_slices(arr)
        n = len(arr)

    def prep(x):
        x = tf.cast(x, tf.float32)
        if resize is not None:
            x = tf.image.resize(x, (resize, resize))
        x = tf.clip_by_value(x, 0.0, 255.0)
        return x / 127.5 - 1.0

    ds = ds.map(prep, num_parallel_calls=tf.data.AUTOTUNE).cache()
    ds = ds.shuffle(min(n, max(128 * batch_size, 2048)), seed=resolve_seed(seed)).repeat()
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def make_generator(z_dim: int = 100, image_size: int = 28, channels: int = 1, base_filters: int = 64,
                   relu_z: bool = False):
    """DCGAN generator: z → [1,1,z] → ConvT(valid) to 4×4 (or 7×7) → stride-2 ConvT doublings → tanh.

    Unlike the textbook, z is NOT passed through a ReLU first (that makes the 28×28 model collapse);
    ``relu_z=True`` restores the textbook's ``tf.nn.relu(z)`` to reproduce the collapse.

    image_size=64 gives the textbook's stack 512→256→128→64→channels; 28 gives 128(7×7)→64(14×14)→1.
    """
    z_dim, channels = _check_int("z_dim", z_dim), _check_int("channels", channels)
    start, k = _doublings(image_size)
    x_in = keras.Input((z_dim,))
    # By default no activation on z: the textbook applies tf.nn.relu to z first, which gives every sample
    # the same positive mean that BatchNorm (per channel, not per position) cannot remove; G then learns
    # a z-independent template and collapses. z ~ N(0, I) goes straight into the first ConvT.
    x = layers.Reshape((1, 1, z_dim))(x_in)
    if relu_z:
        x = layers.ReLU()(x)
    filters = base_filters * 2 ** (k - 1)
    x = layers.Conv2DTranspose(filters, start, 1, "valid", use_bias=False)(x)   # → start×start
    x = layers.ReLU()(layers.BatchNormalization()(x))
    for _ in range(k - 1):
        filters //= 2
        x = layers.Conv2DTranspose(filters, 4, 2, "same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(channels, 4, 2, "same")(x)
    out = layers.Activation("tanh")(x)
    return keras.Model(x_in, out, name="generator")


def _norm(kind):
    if kind == "batch":
        return layers.BatchNormalization()
    if kind == "layer":
        return layers.LayerNormalization()
    if kind is None:
        return layers.Identity()
    raise ValueError(f"norm must be 'batch', 'layer' or None, got {kind!r}")


def make_discriminator(image_size: int = 28, channels: int = 1, base_filters: int = 64, norm: str | None = "batch"):
    """DCGAN discriminator / WGAN critic returning a raw logit (no sigmoid).

    image_size=64 follows the textbook (valid convs 64→128→256→512→1024, GAP, Dense(1));
    smaller images use stride-2 'same' convs down to ≤ 7×7, then Flatten → Dense(1).
    ``norm``: 'batch' (textbook), 'layer' or None (advised for WGAN-GP's per-sample penalty).
    """
    channels = _check_int("channels", channels)
    _doublings(image_size)
    x_in = keras.Input((image_size, image_size, channels))
    x = x_in
    if image_size == 64:
        spec = [(base_filters, 4, 2), (base_filters * 2, 4, 2), (base_filters * 4, 4, 2),
                (base_filters * 8, 3, 1), (base_filters * 16, 3, 1)]
        for f, ks, s in spec:
            x = layers.Conv2D(f, ks, s, "valid", use_bias=False)(x)
            x = layers.LeakyReLU(0.2)(_norm(norm)(x))
        x = layers.GlobalAveragePooling2D()(x)
    else:
        size, f, first = image_size, base_filters, True
        while size > 7 or first:
            x = layers.Conv2D(f, 4, 2, "same")(x)
            x = x if first else _norm(norm)(x)      # DCGAN: no norm on the first layer
            x = layers.LeakyReLU(0.2)(x)
            size, f, first = (size + 1) // 2, f * 2, False
        x = layers.Flatten()(x)
    out = layers.Dense(1)(x)
    return keras.Model(x_in, out, name="discriminator")


def gan_losses(real_logits, fake_logits, label_smoothing: float = 0.0):
    """Vanilla (non-saturating) GAN losses from logits: D: BCE(real,1)+BCE(fake,0); G: BCE(fake,1).

    ``label_smoothing`` > 0 is one-sided label smoothing (Salimans et al., 2016): D's target for
    real images becomes 1 − label_smoothing (fakes stay 0, G's target stays 1).
    """
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    real_target = 1.0 - float(label_smoothing)
    d_loss = tf.reduce_mean(bce(labels=tf.fill(tf.shape(real_logits), real_target), logits=real_logits)) + \
        tf.reduce_mean(bce(labels=tf.zeros_like(fake_logits), logits=fake_logits))
    g_loss = tf.reduce_mean(bce(labels=tf.ones_like(fake_logits), logits=fake_logits))
    return d_loss, g_loss


def gradient_penalty(critic, x_real, x_fake):
    """WGAN-GP penalty E[(‖∇D(x̂)‖₂ − 1)²] on x̂ = t·x_real + (1−t)·x_fake, with t drawn per sample."""
    shape = tf.concat([tf.shape(x_real)[:1], tf.ones([tf.rank(x_real) - 1], tf.int32)], axis=0)
    t = tf.random.uniform(shape)
    x_hat = t * x_real + (1.0 - t) * x_fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        score = critic(x_hat, training=True)
    grads = tape.gradient(score, x_hat)
    norm = tf.norm(tf.reshape(grads, [tf.shape(grads)[0], -1]), axis=1)   # one norm per sample
    return tf.reduce_mean(tf.square(norm - 1.0))


def make_gan_losses(generator, discriminator, *, loss: str = "gan", label_smoothing: float = 0.0,
                    gp_weight: float = 10.0):
    """(d_loss_fn(real, z), g_loss_fn(z)) for ``loss='gan'`` (BCE on logits) or ``'wgan-gp'``.

    ``label_smoothing`` (``loss='gan'`` only): one-sided smoothing of D's real targets to 1 − s.
    """
    check_choice("loss", loss, ("gan", "wgan-gp"))
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing!r}")

    def d_loss_fn(real, z):
        fake = generator(z, training=True)
        r, f = discriminator(real, training=True), discriminator(fake, training=True)
        if loss == "gan":
            return gan_losses(r, f, label_smoothing)[0]
        gp = gradient_penalty(discriminator, real, fake)
        return tf.reduce_mean(f) - tf.reduce_mean(r) + gp_weight * gp

    def g_loss_fn(z):
        f = discriminator(generator(z, training=True), training=True)
        if loss == "gan":
            bce = tf.nn.sigmoid_cross_entropy_with_logits
            return tf.reduce_mean(bce(labels=tf.ones_like(f), logits=f))
        return -tf.reduce_mean(f)

    return d_loss_fn, g_loss_fn


def make_ema_update(generator, ema_generator, decay: float = 0.999):
    """update() that moves every weight of ``ema_generator`` (BN statistics too) toward the generator's:
    ``ema ← d·ema + (1 − d)·G`` with the warm-up ``d = min(decay, (1 + t)/(10 + t))`` at update t,
    so the random initial weights fade quickly."""
    if not 0.0 < decay < 1.0:
        raise ValueError(f"ema_decay must be in (0, 1), got {decay!r}")
    pairs = list(zip(ema_generator.weights, generator.weights))
    if len(ema_generator.weights) != len(generator.weights) or any(a.shape != b.shape for a, b in pairs):
        raise ValueError("ema_generator must have the same architecture (weights) as the generator")
    t = tf.Variable(0.0, trainable=False, name="ema_step")

    def update():
        step = t.assign_add(1.0)
        d = tf.minimum(decay, (1.0 + step) / (10.0 + step))
        for v_ema, v in pairs:
            v_ema.assign(d * v_ema + (1.0 - d) * v)

    return update


def make_gan_train_step(generator, discriminator, g_opt, d_opt, *, z_dim: int, loss: str = "gan",
                        d_steps: int = 1, gp_weight: float = 10.0, label_smoothing: float = 0.0,
                        ema_generator=None, ema_decay: float = 0.999):
    """Compiled step(real) for Algorithm 1: ``d_steps`` D updates, then ONE G update.

    ``real`` holds ``d_steps`` mini-batches stacked on the batch axis (size d_steps·b); each D step
    uses its own slice. The losses come from ``make_gan_losses``. ``ema_generator`` (optional, the
    generator's architecture) tracks the moving average of its weights after every G step
    (``make_ema_update``). Returns (d_loss, g_loss) of the last D step and the G step.
    """
    d_steps = _check_int("d_steps", d_steps)
    d_loss_fn, g_loss_fn = make_gan_losses(generator, discriminator, loss=loss, label_smoothing=label_smoothing,
                                           gp_weight=gp_weight)
    ema_update = make_ema_update(generator, ema_generator, ema_decay) if ema_generator is not None else None

    @tf.function
    def step(real):
        b = tf.shape(real)[0] // d_steps
        d_loss = tf.constant(0.0)
        for i in range(d_steps):                       # k discriminator steps …
            real_i = real[i * b:(i + 1) * b]
            z = tf.random.normal([b, z_dim])
            with tf.GradientTape() as tape:
                d_loss = d_loss_fn(real_i, z)
            grads = tape.gradient(d_loss, discriminator.trainable_variables)
            d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        z = tf.random.normal([b, z_dim])               # … then one generator step
        with tf.GradientTape() as tape:
            g_loss = g_loss_fn(z)
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        if ema_update is not None:                     # weight averaging (incl. BN statistics)
            ema_update()
        return d_loss, g_loss

    return step


def train_gan(generator, discriminator, dataset, *, steps: int, z_dim: int, loss: str = "gan", d_steps: int = 1,
              lr: float = 2e-4, beta_1: float = 0.5, beta_2: float = 0.999, fixed_z=None, sample_every: int = 0,
              log_every: int = 50, label_smoothing: float = 0.0, ema_generator=None, ema_decay: float = 0.999):
    """Train for ``steps`` generator steps; return a history dict and snapshots {step: images}.

    ``dataset`` yields batches of real images of size d_steps·b (see ``make_gan_train_step``).
    ``ema_generator`` (optional, same architecture as ``generator``) starts as a copy of the generator
    and then holds the exponential moving average of its weights; snapshots still come from ``generator``.
    """
    steps = _check_int("steps", steps)
    g_opt = keras.optimizers.Adam(learning_rate=lr, beta_1=beta_1, beta_2=beta_2)
    d_opt = keras.optimizers.Adam(learning_rate=lr, beta_1=beta_1, beta_2=beta_2)
    step_fn = make_gan_train_step(generator, discriminator, g_opt, d_opt, z_dim=z_dim, loss=loss, d_steps=d_steps,
                                  label_smoothing=label_smoothing, ema_generator=ema_generator,
                                  ema_decay=ema_decay)
    if ema_generator is not None:
        ema_generator.set_weights(generator.get_weights())
    history = {"step": [], "d_loss": [], "g_loss": []}
    snapshots = {}
    it = iter(dataset)
    d_acc = g_acc = 0.0
    progress = Progress(steps, "GAN 训练")  # a live line in an interactive notebook only
    for s in range(1, steps + 1):
        d, g = (float(v) for v in step_fn(next(it)))
        d_acc += d
        g_acc += g
        progress.update(s, d_loss=d, g_loss=g)
        if s % log_every == 0 or s == steps:
            n = log_every if s % log_every == 0 else s % log_every
            history["step"].append(s)
            history["d_loss"].append(d_acc / n)
            history["g_loss"].append(g_acc / n)
            d_acc = g_acc = 0.0
        if fixed_z is not None and sample_every and (s % sample_every == 0 or s == steps):
            snapshots[s] = generator(tf.constant(fixed_z, tf.float32), training=False).numpy()
    return history, snapshots


def to_uint8(images):
    """Generator output in [-1, 1] → uint8 images (N, H, W) for 1 channel, else (N, H, W, C)."""
    x = np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    return x[..., 0] if x.shape[-1] == 1 else x


def generate(generator, n: int, z_dim: int, seed: int | None = None, batch_size: int = 500):
    """n samples in [-1, 1] from fixed-seed normal z (inference-mode BatchNorm)."""
    n = _check_int("n", n)
    z = np.random.default_rng(resolve_seed(seed)).standard_normal((n, z_dim)).astype(np.float32)
    return np.concatenate([generator(z[i:i + batch_size], training=False).numpy()
                           for i in range(0, n, batch_size)])


# --------------------------------------------------------------------------- sample quality

def make_classifier(image_size: int = 28, channels: int = 1, classes: int = 10):
    """Small CNN used only to score generated samples (expects inputs in [-1, 1])."""
    return keras.Sequential([
        keras.Input((image_size, image_size, channels)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.3), layers.Dense(classes),
    ], name="scorer")


def classifier_scores(probs, *, min_share: float = 0.01):
    """Classifier-based Inception Score exp(E_x KL(p(y|x) ‖ p(y))), classes covered and more.

    ``probs``: (N, classes) softmax outputs of a classifier on N samples. A class counts as
    covered when at least ``min_share`` of the samples are assigned to it (argmax).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) < 2:
        raise ValueError(f"probs must be a (N, classes) array with N ≥ 2, got shape {p.shape}")
    if np.any(p < -1e-6) or not np.allclose(p.sum(1), 1.0, atol=1e-3):
        raise ValueError("probs rows must be probability vectors (apply softmax first)")
    p = np.clip(p, 1e-12, 1.0)
    py = p.mean(0, keepdims=True)
    kl = (p * (np.log(p) - np.log(py))).sum(1)
    hist = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    return {"inception_score": float(np.exp(kl.mean())), "classes_covered": int((hist >= min_share).sum()),
            "class_share": hist, "mean_confidence": float(p.max(1).mean())}


# --------------------------------------------------------------------------- toy GANs (1-D and 2-D)

def toy_mlp(in_dim, out_dim, hidden=32, layers=2, name=None, seed=None):
    seed = resolve_seed(seed)
    net = [keras.Input((in_dim,))]
    for i in range(layers):
        net.append(keras.layers.Dense(hidden, activation="relu",
                                      kernel_initializer=keras.initializers.HeNormal(seed + i)))
    net.append(keras.layers.Dense(out_dim, kernel_initializer=keras.initializers.GlorotUniform(seed + 50)))
    return keras.Sequential(net, name=name)


def ring_of_gaussians(n: int, *, modes: int = 8, radius: float = 2.0, std: float = 0.02, seed: int | None = None):
    """n points from ``modes`` Gaussians evenly spaced on a circle (the mode-collapse benchmark)."""
    n, modes = _check_int("n", n), _check_int("modes", modes)
    rng = np.random.default_rng(resolve_seed(seed))
    k = rng.integers(0, modes, n)
    ang = 2 * np.pi * k / modes
    centers = radius * np.stack([np.cos(ang), np.sin(ang)], 1)
    return (centers + std * rng.standard_normal((n, 2))).astype(np.float32)


def modes_covered(points, *, modes: int = 8, radius: float = 2.0, tol: float = 0.3, min_share: float = 0.02):
    """How many ring modes receive ≥ ``min_share`` of the points within ``tol`` of the center; plus quality."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise ValueError(f"points must be a non-empty array of 2-D points [n, 2], got shape {list(pts.shape)}")
    if not np.all(np.isfinite(pts)):
        raise ValueError("points contain NaN or infinite values (did the generator diverge?)")
    modes = _check_int("modes", modes)
    ang = 2 * np.pi * np.arange(modes) / modes
    centers = radius * np.stack([np.cos(ang), np.sin(ang)], 1)
    d = np.linalg.norm(pts[:, None, :] - centers[None], axis=2)
    near = d.min(1) < tol
    counts = np.bincount(d.argmin(1)[near], minlength=modes) / len(pts)
    return {"modes": int((counts >= min_share).sum()), "high_quality": float(near.mean()), "share": counts}


def train_toy_gan(sample_real, *, data_dim: int, z_dim: int, steps: int, loss: str = "gan", d_steps: int = 1,
                  lr: float = 1e-3, batch_size: int = 256, hidden: int = 32, g_hidden: int | None = None,
                  g_layers: int = 2, checkpoints=(), n_show: int = 2000, seed: int | None = None, beta_1: float = 0.5,
                  beta_2: float = 0.999):
    """Train MLP G and D on a toy distribution; return (G, D, {step: samples}, history).

    ``sample_real(n, rng) -> (n, data_dim)`` draws real data. The steps are compiled.
    """
    steps, seed = _check_int("steps", steps), resolve_seed(seed)
    G = toy_mlp(z_dim, data_dim, g_hidden or hidden, g_layers, "G", seed)
    D = toy_mlp(data_dim, 1, hidden, 2, "D", seed + 7)
    g_opt = keras.optimizers.Adam(learning_rate=lr, beta_1=beta_1, beta_2=beta_2)
    d_opt = keras.optimizers.Adam(learning_rate=lr, beta_1=beta_1, beta_2=beta_2)
    step = make_gan_train_step(G, D, g_opt, d_opt, z_dim=z_dim, loss=loss, d_steps=d_steps)
    rng = np.random.default_rng(seed)
    z_show = rng.standard_normal((n_show, z_dim)).astype(np.float32)
    snaps, hist = {}, {"d_loss": [], "g_loss": []}
    if 0 in checkpoints:
        snaps[0] = G(z_show).numpy()
    progress = Progress(steps, "GAN 训练")
    for s in range(1, steps + 1):
        d, g = step(tf.constant(sample_real(batch_size * d_steps, rng), tf.float32))
        hist["d_loss"].append(float(d))
        hist["g_loss"].append(float(g))
        progress.update(s, d_loss=hist["d_loss"][-1], g_loss=hist["g_loss"][-1])
        if s in checkpoints:
            snaps[s] = G(z_show).numpy()
    return G, D, snaps, hist


def js_em_line(theta):
    """The textbook's two vertical lines p = (0, y), q = (θ, y): (D_JS, W) analytically."""
    theta = np.asarray(theta, dtype=float)
    js = np.where(np.isclose(theta, 0.0), 0.0, np.log(2.0))
    return js, np.abs(theta)
