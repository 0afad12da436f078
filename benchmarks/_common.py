"""Shared helpers of the benchmarks: matmul peaks, best-of timing, and an op-level profile summary.

Run every benchmark under the notebooks' lock so that neither disturbs the other:

    flock /tmp/book_exec.lock .venv/bin/python benchmarks/cnn_step.py
"""

from __future__ import annotations

import collections
import glob
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
if not os.environ.get("BOOK_DATA_DIR") and os.path.isdir(os.path.join(ROOT, "..", "shared", "datasets")):
    os.environ["BOOK_DATA_DIR"] = os.path.realpath(os.path.join(ROOT, "..", "shared", "datasets"))  # as .ci/run


def peaks(repeats: int = 10) -> dict:
    """fp32 and bf16 matmul peaks (GFLOP/s, [1024,1024]@[1024,1024], best of ``repeats``)."""
    from book_utils.models import cnn

    return {
        "fp32": cnn.matmul_peak_gflops(repeats=repeats),
        "bf16": cnn.matmul_peak_gflops(repeats=repeats, dtype="bfloat16"),
    }


def best_rate(fn, work: float, *, repeats: int = 3, warmup: int = 1) -> float:
    """``work`` / seconds of the fastest of ``repeats`` calls of ``fn`` (after ``warmup`` calls)."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return work / best


def op_profile(fn, *, top: int = 12) -> list[tuple[str, float, float]]:
    """Run ``fn`` under the TF profiler; return [(op type, ms, share)] of the TF ops on the host.

    Reads the XPlane the profiler writes and sums the events' self time (duration minus that of the
    events nested in them, per thread) by op type (the part after the last ':' of an event name,
    e.g. ``Conv2DBackpropFilter``; runtime events keep their whole name). Summed over threads, so
    with 2 threads the total can exceed the wall time.
    """
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    logdir = tempfile.mkdtemp(prefix="bench_prof_")
    tf.profiler.experimental.start(logdir)
    try:
        fn()
    finally:
        tf.profiler.experimental.stop()
    path = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))[-1]
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    totals: dict[str, float] = collections.defaultdict(float)
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        meta = plane.event_metadata
        for line in plane.lines:
            # exclusive ("self") time of every event: its duration minus that of its direct children
            events = sorted(line.events, key=lambda e: (e.offset_ps, -e.duration_ps))
            stack: list[list] = []  # [end_ps, name, self_ps]
            for ev in events:
                while stack and stack[-1][0] <= ev.offset_ps:
                    end_ps, nm, self_ps = stack.pop()
                    totals[nm] += self_ps / 1e9
                if stack:
                    stack[-1][2] -= ev.duration_ps
                name = meta[ev.metadata_id].name
                op = name.rsplit(":", 1)[-1].strip() if ":" in name else name
                stack.append([ev.offset_ps + ev.duration_ps, op[:48], ev.duration_ps])
            for end_ps, nm, self_ps in stack:
                totals[nm] += self_ps / 1e9
    total = sum(totals.values()) or 1.0
    rows = sorted(totals.items(), key=lambda kv: -kv[1])
    return [(op, ms, ms / total) for op, ms in rows[:top]] + [("(all events, all threads)", total, 1.0)]


def print_profile(rows, label: str, steps: int):
    print(f"  op-level profile of {label} ({steps} steps; ms per step, share of op time):")
    for op, ms, share in rows:
        print(f"    {op:34s} {ms / steps:8.2f} ms  {share:6.1%}")
