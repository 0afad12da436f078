"""FusedBatchNorm is keras.layers.BatchNormalization computed by one fused op: same weights, same results."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import book_utils as bu
from book_utils.models.norm import FusedBatchNorm


def _pair(policy, channels):
    with bu.device.dtype_policy(policy):
        ref, fused = keras.layers.BatchNormalization(momentum=0.9), FusedBatchNorm(momentum=0.9)
    x = tf.cast(tf.random.stateless_normal([16, 5, 5, channels], seed=[1, 2]) * 3 + 1, ref.compute_dtype)
    ref(x), fused(x)
    fused.set_weights(ref.get_weights())
    return ref, fused, x


@pytest.mark.parametrize(
    "policy, channels, tol",
    [("float32", 8, 1e-5), ("float32", 16, 1e-5), ("mixed_bfloat16", 8, 0.05), ("mixed_bfloat16", 16, 0.05)],
)
def test_matches_keras_batch_normalization(policy, channels, tol):
    ref, fused, x = _pair(policy, channels)
    upstream = tf.random.stateless_normal(x.shape, seed=[3, 4])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = [layer(x, training=True) for layer in (ref, fused)]
        losses = [tf.reduce_sum(tf.cast(y, "float32") * upstream) for y in outs]
    assert outs[1].dtype == outs[0].dtype == ref.compute_dtype
    np.testing.assert_allclose(np.float32(outs[1]), np.float32(outs[0]), atol=tol * 4)
    for a, b in zip(
        tape.gradient(losses[0], [x] + ref.trainable_weights), tape.gradient(losses[1], [x] + fused.trainable_weights)
    ):
        a, b = np.float32(a), np.float32(b)
        assert np.abs(a - b).max() <= tol * (1 + np.abs(a).max())
    # moving averages updated the same way (the fused kernel uses the unbiased variance: 400/399)
    for a, b in zip(ref.get_weights()[2:], fused.get_weights()[2:]):
        np.testing.assert_allclose(b, a, rtol=0.01, atol=1e-4)
    np.testing.assert_allclose(
        np.float32(fused(x, training=False)), np.float32(ref(x, training=False)), rtol=2e-3, atol=tol * 8
    )  # the moving variances differ by that 400/399


def test_frozen_layer_normalises_like_inference_and_other_inputs_take_the_keras_path(tmp_path):
    ref, fused, x = _pair("float32", 16)
    fused.trainable = False
    np.testing.assert_array_equal(fused(x, training=True), fused(x, training=False))
    dense = FusedBatchNorm()
    v = tf.random.stateless_normal([8, 6], seed=[5, 6])
    np.testing.assert_allclose(dense(v, training=True), keras.layers.BatchNormalization()(v, training=True), atol=1e-6)
    model = keras.Sequential([keras.Input((5, 5, 16)), FusedBatchNorm()])
    model.save(tmp_path / "m.keras")
    assert isinstance(keras.models.load_model(tmp_path / "m.keras").layers[0], FusedBatchNorm)
    assert isinstance(fused, keras.layers.BatchNormalization)  # zoo.set_trainable(freeze_batchnorm=…) finds it
