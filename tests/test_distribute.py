"""book_utils.distribute: strategy picker, correct loss reduction across replicas, multi-worker demo."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from book_utils import distribute as dist


def test_parse_tf_config_accepts_a_local_cluster():
    cfg = dist.parse_tf_config(dist.local_tf_config([1234, 1235], 1))
    assert cfg["cluster"]["worker"] == ["127.0.0.1:1234", "127.0.0.1:1235"] and cfg["task"]["index"] == 1


@pytest.mark.parametrize(
    "raw, message",
    [
        ("cluster=worker", "not valid JSON"),
        ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "non-empty list"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}', "task must be"),
        (
            '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
            "out of range for 2 workers",
        ),
        ("[1, 2]", "cluster.worker"),
    ],
)
def test_bad_tf_config_is_named(raw, message):
    with pytest.raises(ValueError, match=message):
        dist.parse_tf_config(raw)


def test_unset_tf_config_means_single_device(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert dist.parse_tf_config() is None
    strategy = dist.pick_strategy()
    assert strategy.num_replicas_in_sync == 1 and strategy is tf.distribute.get_strategy()


def test_global_batch_must_split_evenly():
    strategy = tf.distribute.get_strategy()
    assert dist.per_replica_batch(64, strategy) == 64
    with pytest.raises(ValueError, match="positive|>= 1|at least"):
        dist.per_replica_batch(0, strategy)


def test_linear_scaling_rule():
    assert dist.scaled_learning_rate(0.1, 256, 1024) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="base_lr"):
        dist.scaled_learning_rate(0.0, 256, 1024)


def test_free_ports_are_distinct_and_bindable():
    ports = dist.free_ports(3)
    assert len(set(ports)) == 3 and all(1024 <= p < 65536 for p in ports)


TWO_DEVICES = textwrap.dedent("""
    import json
    from book_utils import distribute as dist
    dist.split_cpu(2)
    import tensorflow as tf
    strategy = dist.pick_strategy()
    try:
        dist.per_replica_batch(63, strategy)
        odd = "accepted"
    except ValueError as e:
        odd = str(e)
    two = dist.train_demo(strategy, steps=5)
    one = dist.train_demo(tf.distribute.OneDeviceStrategy("/cpu:0"), steps=5)
    print(json.dumps({"kind": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync,
                      "odd": odd, "two": two, "one": one}))
""")


def _python(code):
    """Run ``code`` in a fresh interpreter (its own logical-device split); the finished process."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)


def test_two_logical_devices_give_the_single_device_loss():
    """A step on 2 replicas equals the step on one device for the same global batch."""
    out = _python(TWO_DEVICES)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["kind"] == "MirroredStrategy" and r["replicas"] == 2
    assert "not divisible by the 2 replicas" in r["odd"]
    assert r["two"][-1] < r["two"][0]
    assert max(abs(a - b) for a, b in zip(r["two"], r["one"])) < 1e-4


FIT = textwrap.dedent("""
    import json
    from book_utils import distribute as dist
    dist.split_cpu(2)
    import keras, tensorflow as tf
    from book_utils import training
    x, y = dist.demo_data(512)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    out = {}
    for name, strat in (("two", dist.pick_strategy()), ("one", tf.distribute.get_strategy())):
        with strat.scope():
            keras.utils.set_random_seed(0)
            model = dist.demo_model()
            model(x[:1])
            opt = keras.optimizers.SGD(0.05)
        h = training.fit(model, ds, loss=keras.losses.MeanSquaredError(), optimizer=opt, epochs=2,
                         validation_data=ds, verbose=0, strategy=strat)
        out[name] = [h["loss"], h["val_loss"]]
    keras.utils.set_random_seed(0)
    outside = dist.demo_model()
    outside(x[:1])
    try:
        training.fit(outside, ds, loss=keras.losses.MeanSquaredError(), optimizer=keras.optimizers.SGD(0.05),
                     epochs=1, strategy=dist.pick_strategy(), verbose=0)
        out["outside"] = "accepted"
    except ValueError as e:
        out["outside"] = str(e)
    print(json.dumps(out))
""")


def test_fit_with_a_strategy_matches_single_device_fit():
    """training.fit(strategy=Mirrored over 2 devices) follows the single-device history."""
    out = _python(FIT)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    for two, one in zip(r["two"], r["one"]):
        assert max(abs(a - b) for a, b in zip(two, one)) < 1e-4
    assert r["two"][0][-1] < r["two"][0][0]
    assert "strategy.scope()" in r["outside"]


def _leftover_workers() -> list[str]:
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if "book_utils.distribute worker" in line]


def test_two_process_multi_worker_matches_single_process():
    results = dist.run_local_cluster(2, timeout=240)
    assert [r["replicas"] for r in results] == [2, 2]
    single = dist.train_demo(tf.distribute.get_strategy())
    for r in results:
        assert max(abs(a - b) for a, b in zip(r["losses"], single)) < 1e-3
    assert not _leftover_workers()


def test_multi_worker_timeout_kills_every_worker():
    with pytest.raises(RuntimeError, match="did not finish within"):
        dist.run_local_cluster(2, timeout=0.5)
    assert not _leftover_workers()


def test_worker_cli_without_arguments_explains_usage():
    out = subprocess.run([sys.executable, "-m", "book_utils.distribute"], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "usage: python -m book_utils.distribute worker" in out.stderr
