"""Unit tests for the CPU training recipe helpers in book_utils.training."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from book_utils import training


def test_warmup_cosine_shape():
    s = training.warmup_cosine(0.1, 100, warmup_fraction=0.2, start_fraction=0.1)
    lrs = np.array([float(s(i)) for i in range(101)])
    assert np.isclose(lrs[0], 0.01) and np.isclose(lrs[20], 0.1)
    assert np.all(np.diff(lrs[:21]) > 0) and np.all(np.diff(lrs[20:]) <= 1e-9)
    assert lrs[-1] < 1e-6
    flat = training.warmup_cosine(0.5, 10, warmup_fraction=0)
    assert np.isclose(float(flat(0)), 0.5)
    with pytest.raises(ValueError, match="total_steps"):
        training.warmup_cosine(0.1, 0)
    with pytest.raises(ValueError, match="peak_lr"):
        training.warmup_cosine(0.0, 10)
    with pytest.raises(ValueError, match="warmup_fraction"):
        training.warmup_cosine(0.1, 10, warmup_fraction=1.0)


def test_random_flip_crop_is_seeded_and_shape_preserving():
    img = tf.reshape(tf.range(8 * 8 * 3, dtype=tf.float32), (8, 8, 3))
    a = training.random_flip_crop(img, tf.constant([1, 2]), pad=2)
    b = training.random_flip_crop(img, tf.constant([1, 2]), pad=2)
    assert a.shape == img.shape and np.array_equal(a.numpy(), b.numpy())
    outs = {training.random_flip_crop(img, tf.constant([i, 0]), pad=2).numpy().tobytes() for i in range(12)}
    assert len(outs) > 1
    # pad=0 only flips: every output is the image or its mirror
    c = training.random_flip_crop(img, tf.constant([3, 4]), pad=0).numpy()
    assert np.array_equal(c, img.numpy()) or np.array_equal(c, img.numpy()[:, ::-1])
    with pytest.raises(ValueError, match="pad"):
        training.random_flip_crop(img, tf.constant([1, 2]), pad=-1)


def test_image_dataset_batches_and_augments():
    x = np.random.default_rng(0).integers(0, 255, (10, 8, 8, 3)).astype("uint8")
    y = np.arange(10)

    def prep(xi, yi):
        return tf.cast(xi, tf.float32), yi

    ds = training.image_dataset(x, y, batch_size=4, map_fn=prep, augment=True, shuffle=True)
    first = [b for b in ds]
    assert [b[0].shape[0] for b in first] == [4, 4, 2]
    assert sorted(np.concatenate([b[1].numpy() for b in first]).tolist()) == list(range(10))
    plain = training.image_dataset(x, y, batch_size=10, map_fn=prep)
    xb, yb = next(iter(plain))
    assert np.array_equal(xb.numpy(), x.astype("float32")) and np.array_equal(yb.numpy(), y)
    with pytest.raises(ValueError, match="batch_size"):
        training.image_dataset(x, y, batch_size=0)
    with pytest.raises(ValueError, match="match"):
        training.image_dataset(x, y[:3], batch_size=2)


def test_fit_and_evaluate_share_one_compiled_evaluation():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(96, 4)).astype("float32"), rng.integers(0, 2, (96, 1)).astype("float32")
    val = tf.data.Dataset.from_tensor_slices((x[:64], y[:64])).batch(32)
    test = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)  # same element spec, more batches
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])

    def metrics():
        return {"accuracy": keras.metrics.BinaryAccuracy()}

    hist = training.fit(
        model,
        test,
        loss=keras.losses.BinaryCrossentropy(),
        optimizer="sgd",
        epochs=2,
        validation_data=val,
        metrics=metrics(),
        verbose=0,
    )
    # a fresh loss/metric object with the same configuration reuses the graph traced for validation
    again = training.evaluate(model, val, loss=keras.losses.BinaryCrossentropy(), metrics=metrics())
    full = training.evaluate(model, test, loss=keras.losses.BinaryCrossentropy(), metrics=metrics())
    (evaluator,) = model._book_evaluators.values()
    assert evaluator.run.known.experimental_get_tracing_count() == 1  # datasets of known length share one graph
    assert again == {"loss": hist["val_loss"][-1], "accuracy": hist["val_accuracy"][-1]}
    pred = model(x).numpy()
    assert np.isclose(full["accuracy"], np.mean((pred > 0.5) == (y > 0.5)))
    # a different loss gets its own evaluator
    training.evaluate(model, val, loss="mse")
    assert len(model._book_evaluators) == 2
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        training.evaluate(model, [(x, y)], loss="mse")


def test_live_progress_reads_an_epoch_in_chunks_with_the_same_result(monkeypatch):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(160, 4)).astype("float32"), rng.integers(0, 2, (160, 1)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)

    def train(live):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
        monkeypatch.setattr(training, "live", lambda: live)
        monkeypatch.setattr(training, "CHUNK_SECONDS", 0.0)  # one batch per compiled call
        calls = []
        monkeypatch.setattr(training.Progress, "update", lambda self, done, **m: calls.append((done, m["loss"])))
        hist = training.fit(model, data, loss="mse", optimizer="sgd", epochs=2, verbose=0)
        return hist, [w.numpy() for w in model.weights], calls

    hist_batch, weights_batch, calls_batch = train(False)
    hist_live, weights_live, calls_live = train(True)
    assert calls_batch == [] and [done for done, _ in calls_live] == list(range(1, 21))
    assert np.isclose(calls_live[9][1], hist_live["loss"][0]) and np.isclose(calls_live[-1][1], hist_live["loss"][1])
    assert hist_live["loss"] == hist_batch["loss"]
    assert all(np.array_equal(a, b) for a, b in zip(weights_live, weights_batch))
