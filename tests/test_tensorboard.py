"""Tests for book_utils.tensorboard (reading event files back into arrays)."""

import matplotlib

matplotlib.use("Agg")

from book_utils.plotting import use_book_style  # noqa: E402  (CJK font for the Chinese labels)

use_book_style()

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from book_utils import tensorboard as tb  # noqa: E402


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("logs") / "run"
    writer = tf.summary.create_file_writer(str(path))
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1)
    with writer.as_default():
        for step in (3, 1, 2):  # out of order on purpose
            tf.summary.scalar("loss", 1.0 / step, step=step)
            tf.summary.histogram("h", tf.constant([0.0, 1.0, 1.0, 2.0]) * step, step=step, buckets=4)
            tf.summary.text("note", f"step {step}", step=step)
        tf.summary.image("imgs", images, max_outputs=9, step=5)
    writer.close()
    return path, images


def test_read_events_all_kinds(logdir):
    path, images = logdir
    ev = tb.read_events(path)
    steps, values = ev["scalars"]["loss"]
    assert steps.tolist() == [1, 2, 3]
    np.testing.assert_allclose(values, [1.0, 0.5, 1 / 3], rtol=1e-6)
    ((step, imgs),) = ev["images"]["imgs"]
    assert step == 5 and np.array_equal(imgs, images)
    hists = ev["histograms"]["h"]
    assert [s for s, _ in hists] == [1, 2, 3]
    assert hists[0][1].shape == (4, 3) and hists[0][1][:, 2].sum() == 4
    assert ev["text"]["note"] == [(1, "step 1"), (2, "step 2"), (3, "step 3")]
    assert tb.event_files(path) and tb.event_files(path.parent) == tb.event_files(path)


def test_plots(logdir):
    import matplotlib.pyplot as plt

    ev = tb.read_events(logdir[0])
    fig = tb.plot_scalars(ev, "loss", ylabels=["损失"], title="t")
    plt.close(fig)
    fig, ax = plt.subplots()
    tb.plot_histograms(ev, "h", ax=ax)
    assert len(ax.get_legend().get_texts()) == 3
    plt.close(fig)
    with pytest.raises(KeyError, match="available"):
        tb.plot_scalars(ev, ["nope"])
    with pytest.raises(ValueError, match="no steps"):
        tb.plot_histograms(ev, "h", [99])
    with pytest.raises(ValueError, match="y-labels"):
        tb.plot_scalars(ev, ["loss"], ylabels=["a", "b"])
    with pytest.raises(TypeError, match="read_events"):
        tb.plot_scalars({"x": 1}, ["loss"])


def test_bad_logdir(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        tb.read_events(tmp_path / "missing")
    with pytest.raises(ValueError, match="no TensorBoard event files"):
        tb.read_events(tmp_path)
    with pytest.raises(TypeError, match="path"):
        tb.read_events(42)
