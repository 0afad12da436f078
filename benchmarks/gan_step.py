"""DCGAN step of chapter 13 (28×28 MNIST, base_filters 32, batch 64, z 100), all measured in one process.

    flock /tmp/book_exec.lock .venv/bin/python benchmarks/gan_step.py [--part main|xla|batch|all]

ch13's recipe: D without normalisation, one-sided label smoothing 0.1, Adam(2e-4, 0.5), EMA of G.

* ``main``: ``gan.train_gan`` as ch13 calls it (one Python call and one ``float()`` sync per step,
  batches from ``make_image_dataset``); the compiled step alone on a synthetic batch; the D step
  and the G step alone (compiled separately, same code as in ``make_gan_train_step``); k steps
  per compiled call; the input pipeline alone; the same step with mixed_bfloat16 models; and an
  op-level profile of the step.
* ``xla``: the ch13 step compiled with ``jit_compile=True`` vs without.
* ``batch``: steps/s and images/s (real images seen by D) at batch 64, 128, 256.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import book_utils as bu  # noqa: E402
from book_utils.models import cnn, gan  # noqa: E402

Z, SIZE, FILTERS, BATCH = 100, 28, 32, 64


def f32_output(model):
    """The model with its output cast to float32 (for mixed_bfloat16 models; ch13's losses expect float32)."""
    return keras.Model(model.input, keras.layers.Activation("linear", dtype="float32")(model.output))


class Setup:
    def __init__(self, *, batch: int = BATCH, policy: str = "float32", jit: bool = False, seed: int = 0):
        bu.set_seed(seed)
        self.batch = batch
        with bu.device.dtype_policy(policy):
            G = gan.make_generator(Z, SIZE, 1, base_filters=FILTERS)
            D = gan.make_discriminator(SIZE, 1, base_filters=FILTERS, norm=None)
            self.G_ema = gan.make_generator(Z, SIZE, 1, base_filters=FILTERS)
        self.G, self.D = (f32_output(G), f32_output(D)) if policy != "float32" else (G, D)
        if policy != "float32":
            self.G_ema = f32_output(self.G_ema)
        self.g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        step = gan.make_gan_train_step(
            self.G,
            self.D,
            self.g_opt,
            self.d_opt,
            z_dim=Z,
            label_smoothing=0.1,
            ema_generator=self.G_ema,
            ema_decay=0.999,
        )
        self.step = tf.function(step.python_function, jit_compile=True) if jit else step
        rng = np.random.default_rng(seed)
        self.real = tf.constant(rng.uniform(-1, 1, (batch, SIZE, SIZE, 1)).astype("float32"))
        G_, D_, g_opt, d_opt = self.G, self.D, self.g_opt, self.d_opt

        @tf.function
        def d_step(real):  # make_gan_train_step's D part (loss='gan', d_steps=1)
            z = tf.random.normal([tf.shape(real)[0], Z])
            with tf.GradientTape() as tape:
                fake = G_(z, training=True)
                d_loss = gan.gan_losses(D_(real, training=True), D_(fake, training=True), 0.1)[0]
            grads = tape.gradient(d_loss, D_.trainable_variables)
            d_opt.apply_gradients(zip(grads, D_.trainable_variables))
            return d_loss

        @tf.function
        def g_step(real):  # … its G part (no EMA)
            z = tf.random.normal([tf.shape(real)[0], Z])
            with tf.GradientTape() as tape:
                f = D_(G_(z, training=True), training=True)
                g_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(f), logits=f))
            grads = tape.gradient(g_loss, G_.trainable_variables)
            g_opt.apply_gradients(zip(grads, G_.trainable_variables))
            return g_loss

        self.d_step, self.g_step = d_step, g_step

    def rate(self, fn, steps: int = 40, repeats: int = 3) -> float:
        """steps/s of ``steps`` Python calls of ``fn(real)`` (one sync at the end)."""

        def run():
            for _ in range(steps):
                out = fn(self.real)
            tf.nest.map_structure(lambda t: t.numpy(), out)

        return _common.best_rate(run, steps, repeats=repeats)

    def multi_rate(self, k: int, repeats: int = 3) -> float:
        step, reals = self.step, tf.stack([self.real] * k)

        @tf.function
        def k_steps(reals):
            d = g = tf.constant(0.0)
            for i in tf.range(k):
                d, g = step(reals[i])
            return d, g

        return _common.best_rate(lambda: k_steps(reals)[0].numpy(), k, repeats=repeats)


def _macs(model) -> int:
    """Multiply-adds of one forward pass of one sample, counted per layer.

    Conv2D: out_h·out_w·k²·c_in·c_out; Conv2DTranspose: in_h·in_w·k²·c_in·c_out (each input pixel
    scatters a k×k×c_out patch); Dense: in·out. (TF's graph profiler, used by cnn.forward_flops,
    counts a stride-2 Conv2DTranspose 4× too high, so it is not used here.)
    """
    from keras import layers

    total = 0
    for layer in model.layers:
        if hasattr(layer, "layers"):
            total += _macs(layer)
        elif isinstance(layer, layers.Conv2DTranspose):
            _, h, w, cin = layer.input.shape
            kh, kw = layer.kernel_size
            total += h * w * kh * kw * cin * layer.filters
        elif isinstance(layer, layers.Conv2D):
            _, h, w, cout = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * kh * kw * layer.input.shape[-1] * cout
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return total


def flops_per_step(s: Setup) -> float:
    """FLOPs of one D+G step (2 per multiply-add): D step = G fwd + D fwd+bwd (≈3×) on 2b images;
    G step = G fwd+bwd (3×) + D fwd + D input-gradient (2×)."""
    b = s.batch
    g, d = 2 * _macs(s.G) * b, 2 * _macs(s.D) * b
    return (g + 2 * 3 * d) + (3 * g + 2 * d)


def part_main():
    (x, _), _ = bu.data.load_mnist()
    s = Setup()
    fl = flops_per_step(s)
    print(f"== DCGAN 28×28, base_filters {FILTERS}, batch {BATCH}, float32; ≈{fl / 1e9:.2f} GFLOP per D+G step")
    ds = gan.make_image_dataset(x, batch_size=BATCH, seed=0)
    it = iter(ds)
    for _ in range(3):
        next(it)

    def train_gan_like(steps=40):  # train_gan's loop body: next(it), step, float() of both losses
        for _ in range(steps):
            d, g = s.step(next(it))
            float(d), float(g)

    r_tg = _common.best_rate(train_gan_like, 40)
    # the real thing, as ch13 calls it (fresh models; includes tracing, so longer to amortise)
    t = Setup(seed=1)
    with bu.Timer() as tm:
        gan.train_gan(t.G, t.D, ds, steps=200, z_dim=Z, label_smoothing=0.1, ema_generator=t.G_ema)
    r_real = 200 / tm.seconds
    r_step = s.rate(s.step)
    r_d, r_g = s.rate(s.d_step), s.rate(s.g_step)
    r_k = s.multi_rate(20)

    @tf.function
    def drain(d, n):
        k = tf.constant(0)
        for xb in d.take(n):
            k += tf.shape(xb)[0]
        return k

    r_pipe = _common.best_rate(lambda: int(drain(ds, 200)), 200, repeats=2)
    print(f"  gan.train_gan (200 steps, incl. tracing)  {r_real:6.1f} steps/s")
    print(f"  train_gan's loop (warm, pipeline + float sync) {r_tg:6.1f} steps/s")
    print(
        f"  step alone, 1 step/call        {r_step:6.1f} steps/s  {r_step * fl / 1e9:5.1f} GFLOP/s  "
        f"(loop / step alone {r_tg / r_step:.2f}×)"
    )
    print(f"  step alone, 20 steps/call      {r_k:6.1f} steps/s  ratio to 1 step/call {r_k / r_step:.2f}×")
    print(f"  D step alone                   {r_d:6.1f} steps/s  ({1e3 / r_d:.1f} ms)")
    print(
        f"  G step alone                   {r_g:6.1f} steps/s  ({1e3 / r_g:.1f} ms)   "
        f"D+G {1e3 / r_d + 1e3 / r_g:.1f} ms vs full step {1e3 / r_step:.1f} ms (rest: EMA update)"
    )
    print(f"  input pipeline alone           {r_pipe:6.0f} batches/s")
    b = Setup(policy="mixed_bfloat16")
    r_b = b.rate(b.step)
    print(f"  mixed_bfloat16 step alone      {r_b:6.1f} steps/s  bf16 / fp32 {r_b / r_step:.2f}×")
    steps = 20

    def prof():
        for _ in range(steps):
            out = s.step(s.real)
        out[0].numpy()

    _common.print_profile(_common.op_profile(prof, top=14), "the fp32 D+G step", steps)


def part_xla():
    for policy in ("float32", "mixed_bfloat16"):
        s = Setup(policy=policy)
        r0 = s.rate(s.step)
        x = Setup(policy=policy, jit=True)
        with bu.Timer() as t:
            x.step(x.real)
        rx = x.rate(x.step)
        print(
            f"DCGAN step {policy:15s} no XLA {r0:6.1f} steps/s   XLA {rx:6.1f} steps/s   "
            f"XLA / no XLA {rx / r0:.2f}×  (XLA compile {t.seconds:.1f} s)"
        )


def part_batch():
    for b in (64, 128, 256):
        s = Setup(batch=b)
        r = s.rate(s.step, steps=max(10, 2560 // b))
        print(f"DCGAN batch {b:4d}: {r:6.1f} steps/s  {r * b:7.0f} real images/s")


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--part", default="main", choices=("main", "xla", "batch", "all"))
    args = p.parse_args(argv)
    bu.setup(seed=0, quiet=True)
    pk = _common.peaks()
    print(f"TF {tf.__version__}; matmul peaks: fp32 {pk['fp32']:.0f} GFLOP/s, bf16 {pk['bf16']:.0f} GFLOP/s")
    for part in ("main", "xla", "batch") if args.part == "all" else (args.part,):
        print(f"\n##### part {part}")
        globals()[f"part_{part}"]()


if __name__ == "__main__":
    main()
