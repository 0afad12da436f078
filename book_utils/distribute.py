"""Multi-device training with ``tf.distribute``: one place picks the strategy, one loop uses it.

Single-device behaviour is the default: with one CPU or one GPU and no ``TF_CONFIG`` the picker
returns TensorFlow's default strategy and everything runs exactly as without this module.

``python -m book_utils.distribute worker OUT.json`` runs the small multi-worker demo of appendix B
in one process of a cluster described by ``$TF_CONFIG``.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .checks import check_int
from .config import resolve_seed
from .data import atomic_file

tf.get_logger().setLevel("WARNING")   # tf.distribute announces every strategy and all-reduce at INFO level


def parse_tf_config(raw: str | None = None) -> dict | None:
    """``TF_CONFIG`` (default: the environment variable) as a dict, checked; None when unset."""
    raw = os.environ.get("TF_CONFIG") if raw is None else raw
    if not raw:
        return None
    try:
        cfg = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"TF_CONFIG is not valid JSON ({e.msg} at position {e.pos}): {raw[:80]!r}") from None
    workers = cfg.get("cluster", {}).get("worker") if isinstance(cfg, dict) else None
    if not isinstance(workers, list) or not workers:
        raise ValueError(f"TF_CONFIG needs cluster.worker, a non-empty list of 'host:port', got {raw[:80]!r}")
    task = cfg.get("task", {})
    if task.get("type") != "worker" or not isinstance(task.get("index"), int):
        raise ValueError(f"TF_CONFIG task must be {{'type': 'worker', 'index': int}}, got {task!r}")
    if not 0 <= task["index"] < len(workers):
        raise ValueError(f"TF_CONFIG task.index {task['index']} is out of range for {len(workers)} workers")
    return cfg


def split_cpu(n: int = 2) -> list:
    """Split the CPU into ``n`` logical devices (call before TensorFlow runs any op)."""
    n = check_int("n", n, 1, 64)
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    return tf.config.list_logical_devices("CPU")


def pick_strategy(tf_config: str | None = None) -> tf.distribute.Strategy:
    """Several workers in TF_CONFIG → MultiWorkerMirrored; several GPUs, or several logical CPUs
    made by ``split_cpu`` → Mirrored over them; otherwise the default (single-device) strategy."""
    cfg = parse_tf_config(tf_config)
    if cfg and len(cfg["cluster"]["worker"]) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([d.name for d in gpus])
    cpus = tf.config.list_logical_devices("CPU")
    if not gpus and len(cpus) > 1:
        return tf.distribute.MirroredStrategy([d.name for d in cpus])
    return tf.distribute.get_strategy()


def per_replica_batch(global_batch: int, strategy: tf.distribute.Strategy) -> int:
    """The batch each replica sees; the global batch must split evenly."""
    global_batch = check_int("global_batch", global_batch)
    n = strategy.num_replicas_in_sync
    if global_batch % n:
        raise ValueError(f"global_batch {global_batch} is not divisible by the {n} replicas; use a multiple of {n}")
    return global_batch // n


def scaled_learning_rate(base_lr: float, base_batch: int, global_batch: int) -> float:
    """Linear scaling rule (Goyal et al., 2017): the learning rate grows with the global batch."""
    if not base_lr > 0:
        raise ValueError(f"base_lr must be positive, got {base_lr!r}")
    return base_lr * check_int("global_batch", global_batch) / check_int("base_batch", base_batch)


def make_distributed_train_step(model, loss_fn, optimizer, strategy, global_batch: int | None = None):
    """Compiled step(dist_batch): each replica computes its per-example losses, averages them
    over the GLOBAL batch (``compute_average_loss``; ``global_batch=None``: per-replica batch × replicas);
    gradients are all-reduced (summed) by ``apply_gradients``; the returned loss is the sum over replicas."""
    def replica_step(x, y):
        with tf.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def step(dist_batch):
        per_replica = strategy.run(replica_step, args=dist_batch)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return step


def distributed_dataset(x, y, strategy, global_batch: int, *, shuffle_seed: int | None = None):
    """Arrays → an endless dataset of global batches, split across the replicas by the strategy."""
    per_replica_batch(global_batch, strategy)                 # checks divisibility
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.repeat().batch(global_batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return strategy.experimental_distribute_dataset(ds)


def free_ports(n: int) -> list[int]:
    """``n`` TCP ports on 127.0.0.1 that are free right now (for a local TF_CONFIG)."""
    socks = [socket.socket() for _ in range(check_int("n", n))]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def local_tf_config(ports: list[int], index: int) -> str:
    """The TF_CONFIG of worker ``index`` in a cluster of workers on 127.0.0.1 at ``ports``."""
    raw = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                      "task": {"type": "worker", "index": index}})
    parse_tf_config(raw)                                       # same checks as a real cluster's
    return raw


def demo_data(n: int = 2048, seed: int | None = None):
    """A fixed, learnable regression problem shared by every process of the multi-worker demo."""
    rng = np.random.default_rng(resolve_seed(seed))
    x = rng.normal(size=(n, 16)).astype("float32")
    w = rng.normal(size=(16, 1)).astype("float32")
    return x, (x @ w + 0.1 * rng.normal(size=(n, 1))).astype("float32")


def demo_model():
    return keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])


def train(strategy, build_model, x, y, loss_fn, *, steps: int, global_batch: int = 64, lr: float = 0.05,
          seed: int | None = None):
    """Build the model under ``strategy`` (same seed → same initial weights on every device count),
    train ``steps`` global batches with SGD; return (model, loss per step)."""
    seed = resolve_seed(seed)
    with strategy.scope():
        keras.utils.set_random_seed(seed)
        model = build_model()
        model(x[:1])                                          # create the (mirrored) variables here
        optimizer = keras.optimizers.SGD(lr)
    step = make_distributed_train_step(model, loss_fn, optimizer, strategy, global_batch)
    it = iter(distributed_dataset(x, y, strategy, global_batch, shuffle_seed=seed))
    return model, [float(step(next(it))) for _ in range(check_int("steps", steps))]


def train_demo(strategy, steps: int = 40, seed: int | None = None) -> list[float]:
    """The multi-worker demo: ``demo_model`` on ``demo_data``; the loss of every step."""
    seed = resolve_seed(seed)
    mse = keras.losses.MeanSquaredError(reduction="none")
    return train(strategy, demo_model, *demo_data(seed=seed), mse, steps=steps, seed=seed)[1]


def run_local_cluster(n_workers: int = 2, *, timeout: float = 300, seed: int | None = None) -> list[dict]:
    """Start ``n_workers`` demo workers on 127.0.0.1 (own processes, own TF_CONFIG, this process's seed),
    wait for all, return their results; on failure or timeout every worker is killed and RuntimeError says why."""
    n_workers = check_int("n_workers", n_workers, 2, 16)
    ports = free_ports(n_workers)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "result.json")
        worker = [sys.executable, "-m", "book_utils.distribute", "worker", out, str(resolve_seed(seed))]
        procs = [subprocess.Popen(worker, env={**os.environ, "TF_CONFIG": local_tf_config(ports, i)},
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for i in range(n_workers)]
        try:
            logs = [p.communicate(timeout=timeout)[0] for p in procs]
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"multi-worker demo did not finish within {timeout} s; all workers killed") from None
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        for i, (p, log) in enumerate(zip(procs, logs)):
            if p.returncode != 0:
                raise RuntimeError(f"worker {i} exited with code {p.returncode}:\n{log[-2000:]}")
        return [json.loads(Path(f"{out}.{i}").read_text()) for i in range(n_workers)]


def _worker_main(out_path: str, seed: int) -> None:
    strategy = pick_strategy()
    losses = train_demo(strategy, seed=seed)
    index = parse_tf_config()["task"]["index"]
    with atomic_file(f"{out_path}.{index}", "w") as f:
        json.dump({"replicas": strategy.num_replicas_in_sync, "losses": losses}, f)


if __name__ == "__main__":  # python -m book_utils.distribute worker OUT.json SEED
    if len(sys.argv) != 4 or sys.argv[1] != "worker" or not sys.argv[3].isdigit():
        sys.exit("usage: python -m book_utils.distribute worker OUT.json SEED   (with $TF_CONFIG set)")
    _worker_main(sys.argv[2], int(sys.argv[3]))
