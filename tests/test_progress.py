"""Tests for book_utils.progress: the line's text, and silence in batch runs."""

import pytest

from book_utils import progress as P


def test_progress_line():
    assert P.progress_line("GAN", 0, 4, 0.0) == "GAN ▕" + "░" * P.BAR + "▏ 0/4 · 0 s"
    mid = P.progress_line("GAN", 1, 4, 10.0, {"d_loss": 0.61234})
    assert "█" * (P.BAR // 4) in mid and "1/4 · 10 s · 约 30 s 后完成 · d_loss=0.6123" in mid
    assert "后完成" not in P.progress_line("GAN", 4, 4, 12.0)


def test_silent_in_batch_runs_and_outside_a_kernel(monkeypatch):
    monkeypatch.setenv(P.BATCH_ENV, "1")
    assert not P.live()
    monkeypatch.delenv(P.BATCH_ENV)
    assert not P.live()  # plain Python, no IPython kernel
    with P.Progress(3, "x") as p:
        p.update(1, loss=0.5)
        assert p.handle is None


@pytest.fixture
def shown(monkeypatch):
    """Pretend a learner watches: every text the progress display shows, in order."""
    lines = []

    class Handle:
        def update(self, data, raw):
            lines.append(data["text/plain"])

    monkeypatch.setattr(P, "live", lambda: True)
    monkeypatch.setattr(
        "IPython.display.display", lambda data, raw, display_id: lines.append(data["text/plain"]) or Handle()
    )
    return lines


def test_live_progress_refreshes_one_display(shown):
    p = P.Progress(3, "DQN", every=3600)
    p.update(1, 回报=20.0)  # too soon: not refreshed
    p.update(3, 回报=500.0)  # the end is always shown
    assert len(shown) == 2 and shown[-1].startswith("DQN ▕") and "3/3" in shown[-1] and "回报=500" in shown[-1]


def test_bad_input():
    with pytest.raises(ValueError):
        P.Progress(0)
    with pytest.raises(ValueError):
        P.Progress(3, every=-1)


def test_keras_fit_shows_the_same_line(shown):
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(
        np.zeros((40, 3)),
        np.zeros((40, 1)),
        batch_size=10,
        epochs=2,
        verbose=0,
        callbacks=[P.KerasProgress("拟合", every=3600)],
    )
    assert shown[0].startswith("拟合 ▕") and "0/8" in shown[0]  # 4 batches × 2 epochs
    assert "8/8" in shown[-1] and "loss=0" in shown[-1]
    shown.clear()  # resumed at epoch 1 of 3: 2 epochs run
    model.fit(
        np.zeros((40, 3)),
        np.zeros((40, 1)),
        batch_size=10,
        epochs=3,
        initial_epoch=1,
        verbose=0,
        callbacks=[P.KerasProgress("续训", every=3600)],
    )
    assert "0/8" in shown[0] and "8/8" in shown[-1]
