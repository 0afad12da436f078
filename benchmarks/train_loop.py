"""One epoch of the MNIST MLP three ways: eager GradientTape loop, book_utils.training.fit, model.fit.

    flock /tmp/book_exec.lock .venv/bin/python benchmarks/train_loop.py [--batch-size 128] [--repeats 2]

Prints examples/s of each and the ratios (target: compiled ≥ 3× eager, within 10% of model.fit).
All three run in one process on the same data, so compare the ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402,F401  (repository on sys.path; BOOK_DATA_DIR as .ci/run sets it)

import keras
import tensorflow as tf

import book_utils as bu


def build():
    bu.set_seed(0)
    return keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ]
    )


def loss_fn(y, logits):
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))


def eager_epoch(ds):
    model, opt = build(), keras.optimizers.SGD(0.01)
    for x, y in ds:  # the textbook's loop: no tf.function
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))


def compiled_epoch(ds):
    bu.training.fit(build(), ds, loss=loss_fn, optimizer=keras.optimizers.SGD(0.01), epochs=1, verbose=0)


def keras_fit_epoch(ds):
    model = build()
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss_fn)
    model.fit(ds, epochs=1, verbose=0)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2, help="best of N runs per method")
    args = parser.parse_args(argv)
    bu.setup(seed=0)
    (x, y), _ = bu.data.load_mnist()
    ds = bu.data.make_dataset(
        bu.data.preprocess_images(x, flatten=True), y.astype("int32"), batch_size=args.batch_size, shuffle=True
    )
    for _ in ds:  # fill the cache before timing
        pass
    rates = {}
    for name, fn in (
        ("eager GradientTape", eager_epoch),
        ("book_utils.training.fit", compiled_epoch),
        ("model.fit", keras_fit_epoch),
    ):
        best = float("inf")
        for _ in range(args.repeats):
            with bu.Timer() as t:
                fn(ds)
            best = min(best, t.seconds)
        rates[name] = len(x) / best
        print(f"{name:26s} {best:6.2f} s/epoch  {rates[name]:9.0f} examples/s")
    compiled, eager, kfit = rates["book_utils.training.fit"], rates["eager GradientTape"], rates["model.fit"]
    print(f"compiled / eager    = {compiled / eager:.2f}×  (target ≥ 3×)")
    print(f"compiled / model.fit = {compiled / kfit:.2f}×  (target ≥ 0.90×)")


if __name__ == "__main__":
    main()
