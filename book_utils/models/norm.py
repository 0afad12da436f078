"""``FusedBatchNorm``: Keras's BatchNormalization run through TensorFlow's fused kernel on image tensors."""
from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="book_utils")
class FusedBatchNorm(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` with the same arguments, weights and results (up to rounding),
    computed by one fused TensorFlow op forward and one backward on 4-D NHWC inputs.

    Keras 3 normalises with about ten separate element-wise ops (moments, casts, scale, shift) and as
    many in the backward pass; on a CPU those, not the convolutions, bound a CNN's training step
    (``benchmarks/README.md``). Other inputs (not 4-D, masks, renorm) take the Keras path unchanged.
    """

    def call(self, inputs, training=None, mask=None):
        if len(inputs.shape) != 4 or self.axis not in (-1, 3) or mask is not None or self.renorm \
                or not (self.scale and self.center):
            return super().call(inputs, training=training, mask=mask)
        # oneDNN's bfloat16 kernel is slow below 16 channels: those layers normalise in float32
        x = inputs if inputs.shape[-1] % 16 == 0 else tf.cast(inputs, "float32")
        train = bool(training) and self.trainable          # a frozen layer normalises like at inference
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, self.gamma, self.beta, mean=self.moving_mean, variance=self.moving_variance, epsilon=self.epsilon,
            is_training=train, exponential_avg_factor=1.0 - self.momentum)[:3]
        if train:                                          # the kernel returns the updated moving averages
            self.moving_mean.assign(mean)
            self.moving_variance.assign(variance)
        return tf.cast(y, self.compute_dtype)
