"""Compiled training/evaluation steps, a small fit loop with history, and a timer."""
from __future__ import annotations

import sys
import time

import keras
import numpy as np
import tensorflow as tf

from book_utils.checks import check_choice, check_int
from book_utils.config import resolve_seed
from book_utils.progress import Progress, live


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
    fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    if not callable(fn):
        raise TypeError(f"loss must be a Keras loss name, a Loss object or a callable, got {loss!r}")
    return fn


def _clone_metric(metric):
    return metric.__class__.from_config(metric.get_config())


def _check_dataset(name, data):
    if not hasattr(data, "element_spec"):
        raise TypeError(f"{name} must be a batched tf.data.Dataset of (x, y); see bu.data.make_dataset")
    spec = data.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise TypeError(f"{name} must yield (x, y) pairs (inputs and labels), but its elements are {spec!r}; "
                        "build it with bu.data.make_dataset(x, y) or Dataset.from_tensor_slices((x, y))")


_NONFINITE = ("raise", "warn", "ignore")
CHUNK_SECONDS = 2.0  # with live progress, a compiled epoch returns to Python about this often


def _nonfinite_flags(x, y, loss_value):
    """Scalar bools: the batch's float inputs/labels are all finite; the loss is finite."""
    checks = [tf.reduce_all(tf.math.is_finite(t)) for t in tf.nest.flatten((x, y)) if t.dtype.is_floating]
    inputs_ok = tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)
    return inputs_ok, tf.reduce_all(tf.math.is_finite(loss_value))


def _graph_loop(body, start: tuple):
    """One compiled pass over a dataset: ``state = body(x, y, state)`` for every batch, from the int64
    ``start`` values; returns the final state. Datasets of known length are read with ``next()`` in a
    ``tf.range`` loop (1.2-2x faster than ``for x, y in dataset``, which TF turns into a tf.data scan
    that runs the step as a dataset function; benchmarks/README.md); others use the dataset loop.
    ``.known`` is the compiled known-length pass (one graph for every length).

    ``run(dataset, on_chunk)`` with a callback reads a known-length dataset in chunks of about
    ``CHUNK_SECONDS`` each and calls ``on_chunk(batches_done, batches)`` after every chunk (live progress);
    the state is carried from chunk to chunk, so the result is the same as one pass."""
    def initial():
        return tuple(tf.constant(v, tf.int64) for v in start)

    @tf.function
    def known(iterator, n, state):
        for _ in tf.range(n):
            x, y = next(iterator)
            state = body(x, y, state)
        return state

    @tf.function
    def any_length(dataset):
        state = initial()
        for x, y in dataset:
            state = body(x, y, state)
        return state

    def run(dataset, on_chunk=None):
        n = int(dataset.cardinality())
        if n <= 0:
            return any_length(dataset)
        iterator, state, done, chunk = iter(dataset), initial(), 0, n if on_chunk is None else 1
        while done < n:
            k = min(chunk, n - done)
            with Timer() as t:
                state = known(iterator, tf.constant(k, tf.int64), state)
            done += k
            if on_chunk is not None:
                on_chunk(done, n)
                chunk = max(1, round(chunk * CHUNK_SECONDS / max(t.seconds, 1e-3)))
        return state

    run.known, run.any_length = known, any_length
    return run


def _checked_batch(train_step):
    """``fit``'s per-batch body for ``_graph_loop``: one step, and the index of the first batch with
    non-finite inputs/labels or loss (state ``(batches, first_bad_input, first_bad_loss)``, -1 = none)."""
    def body(x, y, state):
        batches, first_bad_input, first_bad_loss = state
        loss_value = train_step(x, y)
        inputs_ok, loss_ok = _nonfinite_flags(x, y, loss_value)
        first_bad_input = tf.where((first_bad_input < 0) & ~inputs_ok, batches, first_bad_input)
        first_bad_loss = tf.where((first_bad_loss < 0) & ~loss_ok, batches, first_bad_loss)
        return batches + 1, first_bad_input, first_bad_loss

    return body


def make_train_step(model, loss, optimizer, metrics=None, *, loss_tracker=None, jit_compile: bool = False):
    """Return a compiled ``step(x, y) -> loss`` that updates ``model`` and the given metrics.

    ``metrics`` is a dict ``{name: keras.metrics.Metric}`` updated with (y, prediction);
    ``loss_tracker`` (e.g. ``keras.metrics.Mean()``) accumulates the loss inside the graph.
    Regularisation losses registered by layers (``model.losses``) are added to the loss.
    """
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
        if loss_tracker is not None:
            loss_tracker.update_state(loss_value)
        return loss_value

    return train_step


def make_eval_step(model, loss, metrics=None, *, loss_tracker=None):
    """Return a compiled ``step(x, y) -> loss`` that updates the metrics in inference mode."""
    loss_fn = _get_loss(loss)
    metrics = dict(metrics or {})

    @tf.function
    def eval_step(x, y):
        pred = model(x, training=False)
        for metric in metrics.values():
            metric.update_state(y, pred)
        loss_value = tf.reduce_mean(loss_fn(y, pred))
        if loss_tracker is not None:
            loss_tracker.update_state(loss_value)
        return loss_value

    return eval_step


def fit(model, train_data, *, loss, optimizer, epochs: int, validation_data=None, metrics=None,
        verbose: int = 1, jit_compile: bool = False, on_nonfinite: str = "raise", strategy=None) -> dict:
    """Train ``model`` on a batched ``tf.data.Dataset`` of (x, y) with compiled steps.

    Returns a history dict: ``loss``, each metric, their ``val_`` twins when validation data is
    given, and ``time`` (seconds per epoch). ``verbose=1`` prints one line per epoch; ``0`` is silent.
    In an interactive notebook a live progress line (``progress.Progress``) also shows the batches done
    and the running loss every ~2 s; batch runs (``BOOK_BATCH=1``) keep the one compiled call per epoch.

    Every batch is checked inside the compiled epoch: NaN/inf in its float inputs or labels, or a
    non-finite loss, stops training after that epoch with a ``FloatingPointError`` naming the epoch
    and the first such batch (``on_nonfinite="raise"``). To watch a divergence on purpose pass
    ``on_nonfinite="warn"`` (print it once and go on) or ``"ignore"``. An empty dataset raises
    ``ValueError``.

    ``strategy`` (e.g. ``distribute.pick_strategy()``) with several replicas trains data-parallel
    (training loss and validation results, see ``_fit_replicated``); with one replica, or None,
    this single-device loop runs unchanged.
    """
    check_int("epochs", epochs)
    _check_dataset("train_data", train_data)
    if validation_data is not None:
        _check_dataset("validation_data", validation_data)
    check_choice("on_nonfinite", on_nonfinite, _NONFINITE)
    if strategy is not None and strategy.num_replicas_in_sync > 1:
        return _fit_replicated(model, train_data, loss=loss, optimizer=optimizer, epochs=epochs, strategy=strategy,
                               validation_data=validation_data, metrics=metrics, verbose=verbose)
    optimizer = keras.optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer
    metrics = dict(metrics or {})
    if not model.built:  # build from the dataset's spec without pulling a batch through the pipeline
        x_spec = train_data.element_spec[0]
        model(tf.zeros([1, *x_spec.shape[1:]], dtype=x_spec.dtype))
    optimizer.build(model.trainable_variables)
    mean_loss = keras.metrics.Mean()
    train_step = make_train_step(model, loss, optimizer, metrics, loss_tracker=mean_loss, jit_compile=jit_compile)
    evaluator = _evaluator(model, loss, metrics) if validation_data is not None else None

    train_epoch = _graph_loop(_checked_batch(train_step), (0, -1, -1))
    n_batches = int(train_data.cardinality())  # -1/-2: unknown length, read in one pass without progress
    progress = Progress(epochs * n_batches, "训练") if live() and n_batches > 0 else None

    history: dict[str, list[float]] = {"loss": [], **{k: [] for k in metrics}}
    if validation_data is not None:
        history.update({"val_loss": [], **{f"val_{k}": [] for k in metrics}})
    history["time"] = []
    for epoch in range(1, epochs + 1):
        for m in (mean_loss, *metrics.values()):
            m.reset_state()
        on_chunk = None if progress is None else (  # the running mean loss of this epoch, every ~2 s
            lambda done, n, epoch=epoch: progress.update((epoch - 1) * n + done, loss=float(mean_loss.result())))
        with Timer() as t:
            batches, bad_input, bad_loss = (int(v) for v in train_epoch(train_data, on_chunk))
        if batches == 0:
            raise ValueError("train_data yielded no batches (an empty dataset); nothing to train on")
        if (bad_input >= 0 or bad_loss >= 0) and on_nonfinite != "ignore":
            input_first = bad_input >= 0 and (bad_loss < 0 or bad_input <= bad_loss)
            what = (f"batch {bad_input} has NaN or infinite inputs/labels" if input_first
                    else f"the loss became non-finite at batch {bad_loss}")
            message = (f"epoch {epoch}: {what} (of {batches}); check the data for NaN/inf or lower the learning rate. "
                       "To watch a divergence on purpose, pass on_nonfinite='warn' or 'ignore'")
            if on_nonfinite == "raise":
                raise FloatingPointError(message)
            print(f"⚠ {message}", file=sys.stdout)
            on_nonfinite = "ignore"  # warn once
        history["loss"].append(float(mean_loss.result()))
        for k, m in metrics.items():
            history[k].append(float(m.result()))
        if evaluator is not None:
            for k, v in evaluator(validation_data).items():
                history[f"val_{k}"].append(v)
        history["time"].append(t.seconds)
        if verbose:
            _print_epoch(epoch, epochs, history)
    return history


def _print_epoch(epoch: int, epochs: int, history: dict) -> None:
    parts = [f"{k}={v[-1]:.4f}" for k, v in history.items() if k != "time"]
    print(f"epoch {epoch}/{epochs}  " + "  ".join(parts) + f"  ({history['time'][-1]:.1f}s)", file=sys.stdout)


def _fit_replicated(model, train_data, *, loss, optimizer, epochs: int, strategy, validation_data=None,
                    metrics=None, verbose: int = 1) -> dict:
    """``fit`` on several replicas: ``train_data`` yields GLOBAL batches, the strategy splits them; the
    model and optimizer must have been created under ``strategy.scope()``. The history holds the
    training loss per epoch and, with ``validation_data``, ``val_loss`` and the metrics evaluated on the
    (mirrored) model as in ``evaluate``; ``time`` is seconds per epoch. Arguments are checked by ``fit``."""
    from .distribute import make_distributed_train_step

    first = model.trainable_variables[0]
    if not strategy.extended.variable_created_in_scope(getattr(first, "value", first)):
        raise ValueError("build the model (and optimizer) under strategy.scope() before fit(strategy=...)")
    per_example = loss.call if isinstance(loss, keras.losses.Loss) else loss   # unreduced, one value per example
    step = make_distributed_train_step(model, per_example, optimizer, strategy)
    history = {"loss": [], "time": []}
    for epoch in range(1, epochs + 1):
        with Timer() as t:
            losses = [float(step(batch)) for batch in strategy.experimental_distribute_dataset(train_data)]
        if not losses:
            raise ValueError("train_data yielded no batches (an empty dataset); nothing to train on")
        history["loss"].append(float(np.mean(losses)))
        if validation_data is not None:
            for k, v in evaluate(model, validation_data, loss=loss, metrics=metrics).items():
                history.setdefault(f"val_{k}", []).append(v)
        history["time"].append(t.seconds)
        if verbose:
            _print_epoch(epoch, epochs, history)
    return history


class _Evaluator:
    """One compiled evaluation pass (the whole dataset loop is one graph) with its own metric objects."""

    def __init__(self, model, loss, metrics):
        self.metrics = {k: _clone_metric(m) for k, m in metrics.items()}
        self.mean = keras.metrics.Mean()
        step = make_eval_step(model, loss, self.metrics, loss_tracker=self.mean)

        def one_batch(x, y, state):
            step(x, y)
            return (state[0] + 1,)

        self.run = _graph_loop(one_batch, (0,))

    def __call__(self, data) -> dict:
        for m in (self.mean, *self.metrics.values()):
            m.reset_state()
        (batches,) = self.run(data)
        if int(batches) == 0:
            raise ValueError("the evaluation dataset yielded no batches (an empty dataset); nothing to evaluate")
        return {"loss": float(self.mean.result()), **{k: float(m.result()) for k, m in self.metrics.items()}}


def _spec_key(obj):
    """Losses/metrics with the same class and configuration compute the same thing (else: identity)."""
    try:
        return type(obj).__qualname__, repr(sorted(obj.get_config().items()))
    except (AttributeError, NotImplementedError, TypeError):
        return "id", id(obj)


def _evaluator(model, loss, metrics) -> _Evaluator:
    """The model's evaluator for this loss and these metrics, built once and kept on the model.

    ``fit`` (its per-epoch validation) and ``evaluate`` share it, so a model's evaluation graph is
    traced once per dataset signature instead of once per call: on a CPU every trace of a deep or
    unrolled model costs seconds.
    """
    cache = model.__dict__.get("_book_evaluators")
    if cache is None:
        cache = {}
        object.__setattr__(model, "_book_evaluators", cache)   # bypass Keras attribute tracking
    key = (_spec_key(_get_loss(loss)), tuple((k, _spec_key(m)) for k, m in sorted(metrics.items())))
    if key not in cache:
        cache[key] = _Evaluator(model, loss, metrics)
    return cache[key]


def evaluate(model, data, *, loss, metrics=None) -> dict:
    """Mean loss and metrics of ``model`` over a batched ``tf.data.Dataset``, compiled.

    The compiled pass is shared with ``fit``'s validation for the same model, loss and metrics.
    """
    _check_dataset("data", data)
    return _evaluator(model, loss, dict(metrics or {}))(data)


# --------------------------------------------------------------------------- recipes for CPU training
def warmup_cosine(peak_lr: float, total_steps: int, *, warmup_fraction: float = 0.15,
                  start_fraction: float = 0.1):
    """One-cycle style learning rate: linear warm-up to ``peak_lr``, then cosine decay to 0.

    The warm-up takes ``warmup_fraction`` of ``total_steps`` and starts at
    ``start_fraction * peak_lr``. Returns a ``keras.optimizers.schedules.CosineDecay``.
    """
    check_int("total_steps", total_steps)
    if not peak_lr > 0:
        raise ValueError(f"peak_lr must be positive, got {peak_lr!r}")
    if not 0 <= warmup_fraction < 1:
        raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction!r}")
    warmup = int(round(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_lr * start_fraction if warmup else peak_lr,
        decay_steps=max(1, total_steps - warmup), alpha=0.0,
        warmup_target=peak_lr if warmup else None, warmup_steps=warmup)


def random_flip_crop(image, seed, pad: int = 4):
    """Random horizontal flip plus a random crop of the image zero-padded by ``pad`` pixels.

    ``image`` is one [h, w, c] image, ``seed`` a shape-[2] integer tensor: the ops are stateless,
    so the same seed gives the same augmentation (reproducible under op determinism).
    """
    check_int("pad", pad, 0)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
    image = tf.image.stateless_random_flip_left_right(image, seed=seeds[0])
    if pad:
        shape = tf.shape(image)
        padded = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]])
        image = tf.image.stateless_random_crop(padded, size=shape, seed=seeds[1])
    return image


def image_dataset(x, y, *, batch_size: int, map_fn=None, augment: bool = False, shuffle: bool = False,
                  seed: int | None = None, pad: int = 4):
    """Image pipeline: map(preprocess) → cache → (shuffle) → (flip + pad-crop) → batch → prefetch.

    Preprocessing runs once (the cache holds the result); the augmentation draws fresh random
    flips and crops every epoch from a seeded stream, so a run is reproducible.
    """
    check_int("batch_size", batch_size)
    seed = resolve_seed(seed)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}; they must match")
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if augment:
        def aug(xy, s):
            return random_flip_crop(xy[0], s, pad), xy[1]

        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(aug, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
