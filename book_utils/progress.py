"""Live progress for long loops: one line, refreshed in place, only when a learner is watching.

In an interactive notebook ``Progress`` shows a line such as
``DCGAN ▕██████░░░░▏ 1200/4000 · 35 s · 约 82 s 后完成 · d_loss=0.612`` and refreshes it at most every
``every`` seconds. ``python -m book_utils.execute`` and the test suite set ``BOOK_BATCH=1``: then it
shows nothing, so stored outputs keep their compact reports and nbval re-runs stay deterministic.
"""
from __future__ import annotations

import os
import time

import keras

from .checks import check_int, check_number

BATCH_ENV = "BOOK_BATCH"
BAR = 20


def live() -> bool:
    """True in an interactive IPython kernel that is not a batch run (``BOOK_BATCH=1``)."""
    if os.environ.get(BATCH_ENV) == "1":
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def progress_line(desc: str, done: int, total: int, elapsed: float, metrics: dict | None = None) -> str:
    """The text of one progress line (a pure function, tested without a notebook)."""
    filled = BAR * min(done, total) // total
    line = f"{desc} ▕{'█' * filled}{'░' * (BAR - filled)}▏ {done}/{total} · {elapsed:.0f} s"
    if 0 < done < total:
        line += f" · 约 {elapsed / done * (total - done):.0f} s 后完成"
    return line + "".join(f" · {k}={v:.4g}" for k, v in (metrics or {}).items())


class Progress:
    """``with Progress(steps, "DCGAN") as p: ... p.update(step, d_loss=d)``; silent in batch runs."""

    def __init__(self, total: int, desc: str = "", every: float = 2.0):
        self.total = check_int("total", total)
        self.every = check_number("every", every, 0)
        self.desc = desc
        self.start = self.shown = time.perf_counter()
        self.handle = None
        if live():
            from IPython.display import display

            self.handle = display({"text/plain": self._line(0, {})}, raw=True, display_id=True)

    def _line(self, done, metrics):
        return progress_line(self.desc, done, self.total, time.perf_counter() - self.start, metrics)

    def update(self, done: int, **metrics) -> None:
        """Refresh the line if ``every`` seconds have passed (and always at the end)."""
        now = time.perf_counter()
        if self.handle is not None and (now - self.shown >= self.every or done >= self.total):
            self.shown = now
            self.handle.update({"text/plain": self._line(done, metrics)}, raw=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class KerasProgress(keras.callbacks.Callback):
    """``model.fit(..., verbose=0, callbacks=[KerasProgress("训练")])``: the same live line for Keras's own loop."""

    def __init__(self, desc: str = "训练", every: float = 2.0):
        super().__init__()
        self.desc, self.every = desc, every

    def on_train_begin(self, logs=None):
        self.bar = self.first = self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        steps = self.params.get("steps")
        if self.first is None and steps and live():   # the first epoch this fit runs (after initial_epoch)
            self.first, self.bar = epoch, Progress((self.params["epochs"] - epoch) * steps, self.desc, self.every)
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:   # only when a learner watches: reading the logs waits for the batch
            done = (self.epoch - self.first) * self.params["steps"] + batch + 1
            self.bar.update(done, **{k: float(v) for k, v in (logs or {}).items()})
