"""CNN training step of chapter 10 against this machine's matmul peaks, all measured in one process.

    flock /tmp/book_exec.lock .venv/bin/python benchmarks/cnn_step.py [--part main|loop|loop2|fitproto|
                                      bn|xla|xla_ops|profile|batch|all] [--models vgg,resnet] [--determinism on|off]

Models and settings are ch10's `book` profile: VGG13-BN width 0.25, batch 256, and ResNet18
width 0.125, batch 128; SGD(momentum 0.9, nesterov, weight decay 5e-4), label smoothing 0.1,
mixed_bfloat16 when ``bu.device.bfloat16_is_fast()``.

Parts (each well under 3 minutes on the 2-core CPU):

* ``main``: fp32/bf16 matmul peaks (before and after); per model the compiled step alone on one
  synthetic in-memory batch (one Python call per step), k steps per compiled call, the input
  pipeline alone (ch10's ``image_dataset`` with augmentation), and ``bu.training.fit`` on that
  pipeline (its 2nd epoch); the same step in float32. images/s, GFLOP/s (3 × forward FLOPs per
  image) and the % of each peak.
* ``loop`` / ``loop2``: interleaved A/B/C/D(/E/F) comparison of loop forms (where ``fit`` loses time).
* ``fitproto``: ``fit``'s epoch loop vs the proposed ``next(iterator)``-in-``tf.range`` loop, with a
  check that both give bit-identical weights.
* ``xla``: the same step with ``jit_compile=True`` vs without, in bf16 and fp32 (needs
  ``--determinism off``: XLA has no deterministic MaxPoolGrad). ``xla_ops``: one conv, fwd and both
  gradients, XLA vs not. ``--xla-flags=...`` sets ``XLA_FLAGS``.
* ``profile``: forward / forward+backward / full step timed as separate compiled functions, and
  an op-level profile (TF profiler) of the step by op type.
* ``batch``: step alone at several batch sizes.
* ``bn``: the step with Keras's ``BatchNormalization`` vs ``FusedBatchNorm`` (what the cnn models use),
  interleaved rounds in one process.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

for _i, _a in enumerate(sys.argv):  # XLA reads XLA_FLAGS once, before TensorFlow is imported
    if _a.startswith("--xla-flags="):
        os.environ["XLA_FLAGS"] = _a.split("=", 1)[1]
    elif _a == "--xla-flags" and _i + 1 < len(sys.argv):
        os.environ["XLA_FLAGS"] = sys.argv[_i + 1]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (puts the repository on sys.path)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import book_utils as bu  # noqa: E402
from book_utils.models import cnn  # noqa: E402

MODELS = {  # name: (builder, batch size) as in ch10's book profile
    "vgg": (lambda: cnn.vgg13(width=0.25, batch_norm=True), 256),
    "resnet": (lambda: cnn.resnet18(width=0.125), 128),
}
LABEL = {"vgg": "VGG13-BN w0.25", "resnet": "ResNet18 w0.125"}


def precision(bf16: bool) -> str:
    return "mixed_bfloat16" if bf16 and bu.device.bfloat16_is_fast() else "float32"


class Setup:
    """A freshly built model, its optimizer/loss/metrics and one synthetic batch."""

    def __init__(
        self,
        name: str,
        *,
        bf16: bool = True,
        batch: int | None = None,
        jit: bool = False,
        seed: int = 0,
        keras_bn: bool = False,
    ):
        build, default_batch = MODELS[name]
        self.batch = batch or default_batch
        self.policy = precision(bf16)
        bu.set_seed(seed)
        fused = cnn.FusedBatchNorm  # keras_bn: build with Keras's own (unfused) BatchNormalization
        cnn.FusedBatchNorm = keras.layers.BatchNormalization if keras_bn else fused
        try:
            with bu.device.dtype_policy(self.policy):
                self.model = build()
        finally:
            cnn.FusedBatchNorm = fused
        self.model(tf.zeros([1, 32, 32, 3]))
        self.loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
        self.opt = keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
        self.opt.build(self.model.trainable_variables)
        self.metrics = {"accuracy": keras.metrics.CategoricalAccuracy()}
        self.step = bu.training.make_train_step(
            self.model, self.loss, self.opt, self.metrics, loss_tracker=keras.metrics.Mean(), jit_compile=jit
        )
        rng = np.random.default_rng(seed)
        self.x = tf.constant(rng.uniform(-1, 1, (self.batch, 32, 32, 3)).astype("float32"))
        self.y = tf.one_hot(rng.integers(0, 10, self.batch), 10)
        self.flops = 3 * cnn.forward_flops(self.model, (1, 32, 32, 3))  # per image, as in ch10

    def step_rate(self, steps: int, repeats: int = 3) -> float:
        """images/s of ``steps`` Python calls of the compiled step on the same in-memory batch."""

        def run():
            for _ in range(steps):
                loss = self.step(self.x, self.y)
            float(loss)

        return _common.best_rate(run, steps * self.batch, repeats=repeats)

    def k_steps(self, k: int):
        """(compiled fn(xs, ys) running ``k`` steps in a tf.range loop, xs, ys: k stacked copies of the batch)."""
        step = self.step

        @tf.function
        def k_steps(xs, ys):
            loss = tf.constant(0.0)
            for i in tf.range(k):
                loss = step(xs[i], ys[i])
            return loss

        return k_steps, tf.stack([self.x] * k), tf.stack([self.y] * k)

    def multi_rate(self, k: int, calls: int = 1, repeats: int = 3) -> float:
        """images/s when one compiled call runs ``k`` steps (a tf.range loop over k stacked batches)."""
        k_steps, xs, ys = self.k_steps(k)

        def run():
            for _ in range(calls):
                loss = k_steps(xs, ys)
            float(loss)

        return _common.best_rate(run, k * calls * self.batch, repeats=repeats)


def fmt(rate, flops, pk):
    g = rate * flops / 1e9
    return (
        f"{rate:7.0f} img/s  {g:6.1f} GFLOP/s  {g / pk['fp32']:5.1%} of fp32 peak  {g / pk['bf16']:5.1%} of bf16 peak"
    )


_cifar = None


def cifar(n):
    global _cifar
    if _cifar is None:
        (x, y), _ = bu.data.load_cifar10()
        _cifar = (x, np.asarray(y).reshape(-1))  # labels come as (N, 1)
    return _cifar[0][:n], _cifar[1][:n]


def cifar_prep(x, y):  # ch10's
    x = 2 * tf.cast(x, tf.float32) / 255.0 - 1
    return x, tf.one_hot(tf.cast(y, tf.int32), depth=10)


def part_main(names, pk):
    for name in names:
        s = Setup(name)
        print(f"\n== {LABEL[name]}, batch {s.batch}, {s.policy}; {s.flops / 1e6:.1f} MFLOP per training image")
        r1 = s.step_rate(steps=8)
        print(f"  step alone (1 step/call)   {fmt(r1, s.flops, pk)}")
        r10 = s.multi_rate(k=8)
        print(f"  step alone (8 steps/call)  {fmt(r10, s.flops, pk)}   ratio {r10 / r1:.3f}×")
        n = s.batch * 24
        x, y = cifar(n)
        ds = bu.training.image_dataset(x, y, batch_size=s.batch, map_fn=cifar_prep, augment=True, shuffle=True)

        @tf.function
        def drain(d):
            k = tf.constant(0)
            for xb, _ in d:
                k += tf.shape(xb)[0]
            return k

        rp = _common.best_rate(lambda: int(drain(ds)), n, repeats=2)
        print(f"  input pipeline alone       {rp:7.0f} img/s  ({rp / r1:.1f}× the step's rate)")
        fresh = Setup(name)
        opt = keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
        hist = bu.training.fit(
            fresh.model, ds, loss=fresh.loss, optimizer=opt, epochs=2, metrics=fresh.metrics, verbose=0
        )
        rf = n / hist["time"][1]
        print(f"  bu.training.fit (epoch 2)  {fmt(rf, s.flops, pk)}   fit / step alone {rf / r1:.3f}×")
        s32 = Setup(name, bf16=False)
        r32 = s32.step_rate(steps=4)
        print(f"  float32 step alone         {fmt(r32, s.flops, pk)}   bf16 / fp32 {r1 / r32:.2f}×")


def part_xla(names, pk):
    for name in names:
        for bf16 in (True, False):
            base = Setup(name, bf16=bf16)
            r0 = base.step_rate(steps=4, repeats=2)
            with bu.Timer() as t:
                xla = Setup(name, bf16=bf16, jit=True)
                xla.step(xla.x, xla.y)  # compile
            rx = xla.step_rate(steps=4, repeats=2)
            print(
                f"{LABEL[name]:16s} {base.policy:15s} no XLA {r0:6.0f} img/s   XLA {rx:6.0f} img/s   "
                f"XLA / no XLA {rx / r0:.2f}×   (build + first XLA step {t.seconds:.0f} s)"
            )


def part_loop(names, pk, rounds: int = 5, k: int = 8, variant_e: bool = False):
    """Where fit's rate goes, A/B/C/D interleaved ``rounds`` times (median and best of each), k steps per variant:
    A one Python call per step on an in-memory batch; B one compiled call running k steps (tf.range loop
    over k stacked copies); C one compiled call iterating a Dataset of k in-memory batches (fit's old loop
    structure, no input work); D the same over ch10's real augmented pipeline (what fit ran before it
    switched to E/F's loop).
    With ``variant_e`` (``--part loop2``) also E/F: k × next(iterator) inside a tf.range loop."""
    for name in names:
        s = Setup(name)
        step, b = s.step, s.batch
        in_graph, xs, ys = s.k_steps(k)
        x, y = cifar(b * k)
        real = bu.training.image_dataset(x, y, batch_size=b, map_fn=cifar_prep, augment=True, shuffle=True)
        synth = tf.data.Dataset.from_tensors((s.x, s.y)).repeat(k)

        @tf.function
        def over_dataset(ds):
            loss = tf.constant(0.0)
            for xb, yb in ds:
                loss = step(xb, yb)
            return loss

        @tf.function
        def next_in_range(it):  # k × next(iterator) in a tf.range loop: no tf.cond around the step
            loss = tf.constant(0.0)
            for _ in tf.range(k):
                xb, yb = next(it)
                loss = step(xb, yb)
            return loss

        def a():
            for _ in range(k):
                loss = step(s.x, s.y)
            float(loss)

        variants = {
            "A 1 step per Python call": a,
            "B k steps per call (tf.range)": lambda: float(in_graph(xs, ys)),
            "C k steps per call (Dataset, in-memory)": lambda: float(over_dataset(synth)),
            "D k steps per call (ch10 pipeline) = old fit": lambda: float(over_dataset(real)),
        }
        if variant_e:
            variants["E k × next(it) in tf.range, in-memory"] = lambda: float(next_in_range(iter(synth)))
            variants["F k × next(it) in tf.range, ch10 pipeline"] = lambda: float(next_in_range(iter(real)))
        for fn in variants.values():
            fn()
        times = {v: [] for v in variants}
        for _ in range(rounds):
            for v, fn in variants.items():
                with bu.Timer() as t:
                    fn()
                times[v].append(t.seconds)
        print(f"\n== {LABEL[name]}, batch {b}, {s.policy}, k={k}, {rounds} interleaved rounds")
        base = float(np.median(times["A 1 step per Python call"]))
        for v, ts in times.items():
            med, best = float(np.median(ts)), min(ts)
            print(
                f"  {v:42s} median {k * b / med:6.0f} img/s  best {k * b / best:6.0f} img/s   "
                f"median vs A {base / med:.2f}×   {fmt(k * b / med, s.flops, pk)[16:]}"
            )


def part_loop2(names, pk):
    part_loop(names, pk, variant_e=True)


def part_fitproto(names, pk, rounds: int = 4, k: int = 12):
    """bu.training.fit's two epoch loops (``_graph_loop``: ``for x, y in dataset``, used for datasets of
    unknown length, vs ``next(it)`` in ``tf.range``, used for known lengths) on ch10's pipeline (k
    batches), interleaved; then checks that both give the same weights after one epoch from the same start."""
    for name in names:
        b = MODELS[name][1]
        x, y = cifar(b * k)
        times = {"dataset loop (for x, y in dataset)": [], "fit's loop (next(it) in tf.range)": []}
        setups = {}
        for v in times:
            s = Setup(name)
            ds = bu.training.image_dataset(x, y, batch_size=b, map_fn=cifar_prep, augment=True, shuffle=True)
            loop = bu.training._graph_loop(bu.training._checked_batch(s.step), (0, -1, -1))
            run = functools.partial(loop.any_length if v.startswith("dataset") else loop, ds)
            setups[v] = (s, run)
        first = {}
        for v, (s, run) in setups.items():  # epoch 1 from identical weights: compare the results
            run()[0].numpy()
            first[v] = [w.numpy() for w in s.model.trainable_weights]
        a, b_ = first.values()
        same = all(np.array_equal(p, q) for p, q in zip(a, b_))
        maxdiff = max(float(np.max(np.abs(p - q))) for p, q in zip(a, b_))
        for _ in range(rounds):
            for v, (s, run) in setups.items():
                with bu.Timer() as t:
                    run()[0].numpy()
                times[v].append(t.seconds)
        print(f"\n== {LABEL[name]}, batch {b}, {k} batches per epoch, {rounds} interleaved epochs")
        base = float(np.median(times["dataset loop (for x, y in dataset)"]))
        for v, ts in times.items():
            med = float(np.median(ts))
            print(f"  {v:40s} median {k * b / med:6.0f} img/s  ({base / med:.2f}× the dataset loop)")
        print(f"  weights after epoch 1 identical: {same} (max |diff| {maxdiff:.2e})")


def part_xla_ops(names, pk):
    """One 3×3 convolution of VGG13-BN w0.25's first stage (batch 256, 32×32, 16→16 channels) and of its
    third stage (8×8, 64→64): forward, gradient w.r.t. the input, gradient w.r.t. the filter, each in
    fp32 and bf16, each with and without XLA. Shows which part of a training step XLA:CPU makes slow."""
    rng = np.random.default_rng(0)
    for hw, c in ((32, 16), (8, 64)):
        b = 256
        flops = 2 * b * hw * hw * c * c * 9
        for dtype in (tf.float32, tf.bfloat16):
            x = tf.constant(rng.standard_normal((b, hw, hw, c)), dtype)
            w = tf.constant(rng.standard_normal((3, 3, c, c)) * 0.1, dtype)
            dy = tf.constant(rng.standard_normal((b, hw, hw, c)), dtype)

            def fwd(x, w):
                return tf.nn.conv2d(x, w, 1, "SAME")

            def d_input(x, w, dy):
                return tf.raw_ops.Conv2DBackpropInput(
                    input_sizes=tf.shape(x), filter=w, out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"
                )

            def d_filter(x, w, dy):
                return tf.raw_ops.Conv2DBackpropFilter(
                    input=x, filter_sizes=tf.shape(w), out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"
                )

            row = []
            for label, fn, args in (
                ("fwd", fwd, (x, w)),
                ("d_input", d_input, (x, w, dy)),
                ("d_filter", d_filter, (x, w, dy)),
            ):
                rates = []
                for jit in (False, True):
                    f = tf.function(fn, jit_compile=jit)

                    def run(f=f, args=args):
                        for _ in range(5):
                            out = f(*args)
                        out.numpy()

                    rates.append(_common.best_rate(run, 5 * flops, repeats=3) / 1e9)
                row.append(f"{label} {rates[0]:5.0f}→{rates[1]:5.0f} ({rates[1] / rates[0]:4.2f}×)")
            print(f"conv {hw}×{hw}×{c}→{c} b{b} {dtype.name:8s} GFLOP/s no XLA→XLA: " + "  ".join(row))


def part_profile(names, pk):
    for name in names:
        s = Setup(name)
        model, loss_fn = s.model, s.loss
        print(f"\n== {LABEL[name]}, batch {s.batch}, {s.policy}")

        @tf.function
        def forward(x):
            return model(x, training=True)

        @tf.function
        def fwd_bwd(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(loss_fn(y, model(x, training=True)))
            return tape.gradient(loss, model.trainable_variables)

        parts = {}
        for label, fn in (
            ("forward (training=True)", lambda: forward(s.x)[0, 0].numpy()),
            ("forward + backward", lambda: fwd_bwd(s.x, s.y)[0].numpy()),
            ("full step (+ SGD, metrics)", lambda: float(s.step(s.x, s.y))),
        ):

            def run(fn=fn):
                for _ in range(4):
                    fn()

            parts[label] = _common.best_rate(run, 4, repeats=2)
            ms = 1e3 / parts[label]
            print(f"  {label:28s} {ms:7.1f} ms/step")
        steps = 4

        def prof():
            for _ in range(steps):
                loss = s.step(s.x, s.y)
            float(loss)

        _common.print_profile(_common.op_profile(prof, top=14), "the full step", steps)


def part_bn(names, pk, rounds: int = 5):
    """The step with Keras's BatchNormalization vs book_utils' FusedBatchNorm: medians of interleaved rounds."""
    for name in names:
        setups = {"Keras BatchNormalization": Setup(name, keras_bn=True), "FusedBatchNorm": Setup(name)}
        rates = {k: [] for k in setups}
        for _ in range(rounds):
            for k, s in setups.items():
                rates[k].append(s.step_rate(steps=8, repeats=1))
        med = {k: float(np.median(v)) for k, v in rates.items()}
        s = setups["FusedBatchNorm"]
        for k, r in med.items():
            print(f"{LABEL[name]:16s} {k:25s} {fmt(r, s.flops, pk)}")
        print(f"{LABEL[name]:16s} fused / Keras {med['FusedBatchNorm'] / med['Keras BatchNormalization']:.2f}×")


def part_batch(names, pk):
    sizes = {"vgg": (64, 128, 256, 512), "resnet": (64, 128, 256, 512)}
    for name in names:
        for b in sizes[name]:
            s = Setup(name, batch=b)
            r = s.step_rate(steps=max(2, 1024 // b), repeats=2)
            print(f"{LABEL[name]:16s} batch {b:4d}  {fmt(r, s.flops, pk)}")


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument(
        "--part",
        default="main",
        choices=("main", "bn", "loop", "loop2", "fitproto", "xla", "xla_ops", "profile", "batch", "all"),
    )
    p.add_argument("--models", default="vgg,resnet")
    p.add_argument(
        "--determinism",
        default="on",
        choices=("on", "off"),
        help="bu.setup turns op determinism on, as in every chapter; 'off' turns it off again",
    )
    p.add_argument("--xla-flags", default="", help="XLA_FLAGS for the xla part, e.g. --xla_cpu_use_onednn=true")
    args = p.parse_args(argv)
    names = [m for m in args.models.split(",") if m]
    bu.setup(seed=0, quiet=True)
    if args.determinism == "off":
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()
    print(
        f"TF {tf.__version__}; bfloat16_is_fast={bu.device.bfloat16_is_fast()}; "
        f"threads intra={tf.config.threading.get_intra_op_parallelism_threads()} "
        f"inter={tf.config.threading.get_inter_op_parallelism_threads()}; "
        f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', '(default)')}; "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}; op determinism {args.determinism}"
    )
    pk = _common.peaks()
    print(
        f"matmul peaks (start): fp32 {pk['fp32']:.0f} GFLOP/s, bf16 {pk['bf16']:.0f} GFLOP/s "
        f"(bf16/fp32 {pk['bf16'] / pk['fp32']:.2f}×)"
    )
    parts = ("main", "bn", "loop", "xla", "xla_ops", "profile", "batch") if args.part == "all" else (args.part,)
    for part in parts:
        print(f"\n##### part {part}")
        globals()[f"part_{part}"](names, pk)
    pk2 = _common.peaks()
    print(
        f"\nmatmul peaks (end): fp32 {pk2['fp32']:.0f} GFLOP/s, bf16 {pk2['bf16']:.0f} GFLOP/s; "
        "the percentages above use the start values"
    )


if __name__ == "__main__":
    main()
