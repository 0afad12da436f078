"""Compiled training/evaluation steps, a small fit loop with history, and a timer."""
from __future__ import annotations

import sys
import time


class Timer:
    """Context manager measuring wall time: ``with Timer() as t: ...; t.seconds``."""

    def __init__(self):
        self.seconds = 0.0
        self._start = None

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False


def _get_loss(loss):
    import keras

    fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    if not callable(fn):
        raise TypeError(f"loss must be a Keras loss name, a Loss object or a callable, got {loss!r}")
    return fn


def _clone_metric(metric):
    return metric.__class__.from_config(metric.get_config())


def make_train_step(model, loss, optimizer, metrics=None, *, jit_compile: bool = False):
    """Return a compiled ``step(x, y) -> loss`` that updates ``model`` and the given metrics.

    ``metrics`` is a dict ``{name: keras.metrics.Metric}`` updated with (y, prediction).
    Regularisation losses registered by layers (``model.losses``) are added to the loss.
    """
    import tensorflow as tf

    loss_fn = _get_loss(loss)
    metrics = dict(metrics or {})

    @tf.function(jit_compile=jit_compile)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss_value = tf.reduce_mean(loss_fn(y, pred))
            if model.losses:
                loss_value += tf.add_n(model.losses)
        grads = tape.gradient(loss_value, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        for metric in metrics.values():
            metric.update_state(y, pred)
        return loss_value

    return train_step


def make_eval_step(model, loss, metrics=None):
    """Return a compiled ``step(x, y) -> loss`` that updates the metrics in inference mode."""
    import tensorflow as tf

    loss_fn = _get_loss(loss)
    metrics = dict(metrics or {})

    @tf.function
    def eval_step(x, y):
        pred = model(x, training=False)
        for metric in metrics.values():
            metric.update_state(y, pred)
        return tf.reduce_mean(loss_fn(y, pred))

    return eval_step


def fit(model, train_data, *, loss, optimizer, epochs: int, validation_data=None, metrics=None,
        verbose: int = 1, jit_compile: bool = False) -> dict:
    """Train ``model`` on a batched ``tf.data.Dataset`` of (x, y) with compiled steps.

    Returns a history dict: ``loss``, each metric, their ``val_`` twins when validation data is
    given, and ``time`` (seconds per epoch). ``verbose=1`` prints one line per epoch; ``0`` is silent.
    """
    import keras

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not hasattr(train_data, "element_spec"):
        raise TypeError("train_data must be a batched tf.data.Dataset of (x, y); see bu.data.make_dataset")
    optimizer = keras.optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer
    metrics = dict(metrics or {})
    x0, _ = next(iter(train_data))
    if not model.built:
        model(x0[:1])
    optimizer.build(model.trainable_variables)
    val_metrics = {k: _clone_metric(m) for k, m in metrics.items()}
    train_step = make_train_step(model, loss, optimizer, metrics, jit_compile=jit_compile)
    eval_step = make_eval_step(model, loss, val_metrics)
    mean_loss, mean_val_loss = keras.metrics.Mean(), keras.metrics.Mean()
    history: dict[str, list[float]] = {"loss": [], **{k: [] for k in metrics}}
    if validation_data is not None:
        history.update({"val_loss": [], **{f"val_{k}": [] for k in metrics}})
    history["time"] = []
    for epoch in range(1, epochs + 1):
        for m in (mean_loss, mean_val_loss, *metrics.values(), *val_metrics.values()):
            m.reset_state()
        with Timer() as t:
            for x, y in train_data:
                mean_loss.update_state(train_step(x, y))
        history["loss"].append(float(mean_loss.result()))
        for k, m in metrics.items():
            history[k].append(float(m.result()))
        if validation_data is not None:
            for x, y in validation_data:
                mean_val_loss.update_state(eval_step(x, y))
            history["val_loss"].append(float(mean_val_loss.result()))
            for k, m in val_metrics.items():
                history[f"val_{k}"].append(float(m.result()))
        history["time"].append(t.seconds)
        if verbose:
            parts = [f"{k}={v[-1]:.4f}" for k, v in history.items() if k != "time"]
            print(f"epoch {epoch}/{epochs}  " + "  ".join(parts) + f"  ({t.seconds:.1f}s)", file=sys.stdout)
    return history


def evaluate(model, data, *, loss, metrics=None) -> dict:
    """Mean loss and metrics of ``model`` over a batched dataset, with a compiled step."""
    import keras

    metrics = {k: _clone_metric(m) for k, m in dict(metrics or {}).items()}
    step = make_eval_step(model, loss, metrics)
    mean = keras.metrics.Mean()
    for x, y in data:
        mean.update_state(step(x, y))
    return {"loss": float(mean.result()), **{k: float(m.result()) for k, m in metrics.items()}}
