"""Read TensorBoard event files back into NumPy arrays, and draw them with matplotlib.

The static book cannot embed a live TensorBoard, so chapters write summaries with ``tf.summary``
as usual and then redraw them from the event files::

    events = bu.tensorboard.read_events(logdir)
    events["scalars"]["train-loss"]      # (steps, values), two 1-D arrays
    events["images"]["val-images"]       # [(step, uint8 array (n, h, w, c)), ...]
    events["histograms"]["y-hist"]       # [(step, float array (buckets, 3): left, right, count), ...]
    events["text"]["loss-text"]          # [(step, str), ...]
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

KINDS = ("scalars", "images", "histograms", "text")


def event_files(logdir) -> list[Path]:
    """All ``events.out.tfevents.*`` files under ``logdir`` (recursively), sorted by name."""
    if not isinstance(logdir, (str, os.PathLike)):
        raise TypeError(f"logdir must be a path (str or os.PathLike), got {type(logdir).__name__}")
    root = Path(logdir)
    if not root.is_dir():
        raise ValueError(f"logdir {str(root)!r} is not a directory; pass the folder given to create_file_writer")
    return sorted(root.rglob("events.out.tfevents.*"))


def _decode(kind: str, tensor: np.ndarray):
    if kind == "scalars":
        return float(tensor)
    if kind == "images":  # string vector: [width, height, png_0, png_1, ...]
        return np.stack([tf.io.decode_image(png).numpy() for png in tensor[2:]]) if len(tensor) > 2 else None
    if kind == "histograms":  # (buckets, 3): left edge, right edge, count
        return np.asarray(tensor, dtype=np.float64).reshape(-1, 3)
    value = tensor.reshape(-1)[0] if tensor.size else b""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_events(logdir) -> dict:
    """Parse every event file under ``logdir`` into ``{kind: {tag: data}}`` (see the module docstring).

    ``kind`` is one of ``scalars``, ``images``, ``histograms``, ``text``, chosen by the summary's
    plugin (TensorBoard stores the plugin name only with a tag's first event, so it is remembered
    per tag). Scalars come back as two arrays ``(steps, values)`` sorted by step; the others as lists
    of ``(step, value)`` in step order. Tags of other plugins are skipped.
    """
    from tensorflow.core.util import event_pb2

    files = event_files(logdir)
    if not files:
        raise ValueError(f"no TensorBoard event files under {str(logdir)!r}; did the writer flush/close?")
    plugin_of: dict[str, str] = {}
    kind_of_plugin = {"scalars": "scalars", "images": "images", "histograms": "histograms", "text": "text"}
    raw: dict[str, dict[str, list]] = {k: {} for k in KINDS}
    for path in files:
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                name = value.metadata.plugin_data.plugin_name
                if name:
                    plugin_of.setdefault(value.tag, name)
                kind = kind_of_plugin.get(plugin_of.get(value.tag, ""))
                if kind is None or not value.HasField("tensor"):
                    continue
                data = _decode(kind, tf.make_ndarray(value.tensor))
                raw[kind].setdefault(value.tag, []).append((int(event.step), data))
    out: dict[str, dict] = {k: {} for k in KINDS}
    for kind, tags in raw.items():
        for tag, items in tags.items():
            items.sort(key=lambda item: item[0])
            if kind == "scalars":
                out[kind][tag] = (np.array([s for s, _ in items], dtype=np.int64),
                                  np.array([v for _, v in items], dtype=np.float64))
            else:
                out[kind][tag] = items
    return out


def _need(events, kind, tag):
    if not isinstance(events, dict) or kind not in events:
        raise TypeError("events must be the dict returned by read_events(logdir)")
    if tag not in events[kind]:
        raise KeyError(f"no {kind} tag {tag!r} in the event files; available: {sorted(events[kind])}")
    return events[kind][tag]


def plot_scalars(events: dict, tags, *, xlabel: str = "训练步数", ylabels=None, title: str | None = None):
    """One panel per scalar tag, drawn from :func:`read_events` output; return the figure."""
    import matplotlib.pyplot as plt

    tags = [tags] if isinstance(tags, str) else list(tags)
    ylabels = list(ylabels) if ylabels is not None else tags
    if len(ylabels) != len(tags):
        raise ValueError(f"got {len(tags)} tags but {len(ylabels)} y-labels")
    fig, axes = plt.subplots(1, len(tags), figsize=(4.6 * len(tags), 3.3), squeeze=False)
    for ax, tag, ylabel in zip(axes.flat, tags, ylabels):
        steps, values = _need(events, "scalars", tag)
        ax.plot(steps, values, marker="o" if len(steps) <= 30 else None, markersize=3)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(tag, fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_histograms(events: dict, tag: str, steps=None, *, ax=None, title: str | None = None):
    """Overlay the logged histogram of ``tag`` at the given steps (default: first, middle, last)."""
    import matplotlib.pyplot as plt

    items = dict(_need(events, "histograms", tag))
    available = sorted(items)
    if steps is None:
        steps = sorted({available[0], available[len(available) // 2], available[-1]})
    missing = [s for s in steps if s not in items]
    if missing:
        raise ValueError(f"histogram {tag!r} has no steps {missing}; logged steps: {available}")
    ax = ax or plt.gca()
    for step in steps:
        buckets = items[step]
        width = np.maximum(buckets[:, 1] - buckets[:, 0], 1e-12)
        ax.stairs(buckets[:, 2] / width, np.r_[buckets[:, 0], buckets[-1, 1]], label=f"第 {step} 步",
                  fill=False, linewidth=1.5)
    ax.set_xlabel(tag)
    ax.set_ylabel("密度（计数/区间宽度）")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
