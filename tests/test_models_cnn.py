"""Unit tests for book_utils.models.cnn and book_utils.widgets.cnn_demo."""

import numpy as np
import pytest
import tensorflow as tf

from book_utils import zoo
from book_utils.models import cnn
from book_utils.widgets import cnn_demo


def test_lenet5_shapes_and_params():
    m = cnn.lenet5()
    m.build((4, 28, 28, 1))
    assert m.count_params() == 60_074
    assert m(tf.zeros((2, 28, 28, 1))).shape == (2, 10)
    bn = cnn.lenet5(batch_norm=True, bn_dense=True)
    bn.build((4, 28, 28, 1))
    assert zoo.count_params(bn)["trainable"] == 60_074 + 2 * (6 + 16 + 120 + 84)


def test_vgg13_textbook_sizes():
    conv, fc = cnn.vgg13_conv(), cnn.vgg13_fc()
    conv.build((4, 32, 32, 3))
    fc.build((4, 512))
    assert zoo.count_params(conv)["trainable"] == 9_404_992
    assert zoo.count_params(fc)["trainable"] == 165_514
    narrow = cnn.vgg13(width=0.125)
    assert narrow(tf.zeros((2, 32, 32, 3))).shape == (2, 10)


def test_resnet_blocks_and_params():
    blk = cnn.BasicBlock(8, stride=2)
    assert blk(tf.zeros((1, 16, 16, 4))).shape == (1, 8, 8, 8)
    r = cnn.resnet18(width=0.125)
    assert r(tf.zeros((2, 32, 32, 3)), training=False).shape == (2, 10)
    half = cnn.resnet18(width=0.5)
    half(tf.zeros((1, 32, 32, 3)))
    assert zoo.count_params(half)["trainable"] == 2_799_114


def test_dense_block_channels():
    block = cnn.dense_block((8, 8, 16), num_layers=3, growth_rate=12)
    assert block.output_shape == (None, 8, 8, 52)


def test_bad_inputs():
    with pytest.raises(ValueError, match="layer_dims"):
        cnn.ResNet([2, 2, 2])
    with pytest.raises(ValueError, match="width"):
        cnn.vgg13(width=0)
    with pytest.raises(TypeError, match="width"):
        cnn.lenet5(width="wide")
    with pytest.raises(ValueError, match="stride"):
        cnn.BasicBlock(8, stride=3)
    with pytest.raises(ValueError, match="bn_dense"):
        cnn.lenet5(bn_dense=True)
    with pytest.raises(ValueError, match="not built"):
        zoo.count_params(cnn.lenet5())


def test_flops_positive():
    m = cnn.lenet5()
    m.build((1, 28, 28, 1))
    assert cnn.forward_flops(m, (1, 28, 28, 1)) > 2 * 60_000


def test_conv_output_size():
    assert cnn is not None
    assert cnn_demo.conv_output_size(5, 3)["output"] == 3
    assert cnn_demo.conv_output_size(7, 3, 2, 1)["output"] == 4
    assert cnn_demo.conv_output_size(7, 3, d=2)["output"] == 3
    assert cnn_demo.conv_output_size(2, 3, transposed=True)["output"] == 4
    with pytest.raises(ValueError):
        cnn_demo.conv_output_size(2, 5)
    with pytest.raises(ValueError):
        cnn_demo.conv_output_size(5, 3, s=0)


def test_apply_kernel_and_feature_maps():
    img = np.random.default_rng(0).uniform(size=(10, 12, 3)).astype("float32")
    assert np.allclose(cnn_demo.apply_kernel(img, cnn_demo.KERNEL_PRESETS["identity"]), img)
    with pytest.raises(ValueError, match="3×3"):
        cnn_demo.apply_kernel(img, np.ones((2, 2)))
    m = cnn.lenet5()
    m.build((1, 28, 28, 1))
    assert cnn_demo.feature_maps(m, np.zeros((28, 28)), 0).shape == (26, 26, 6)
    with pytest.raises(ValueError, match="layer_index"):
        cnn_demo.feature_maps(m, np.zeros((28, 28)), 99)


def test_bn_demo():
    d = cnn_demo.bn_demo(batch_size=16, momentum=0.5, steps=20)
    assert abs(d["running_mean"][-1] - 3) < 1.5
    with pytest.raises(ValueError, match="momentum"):
        cnn_demo.bn_demo(momentum=1.5)


def test_vgg13_batch_norm_variant():
    plain, bn = cnn.vgg13(width=0.125), cnn.vgg13(width=0.125, batch_norm=True)
    for m in (plain, bn):
        assert m(tf.zeros((2, 32, 32, 3)), training=False).shape == (2, 10)
    channels = [cnn.scaled(f, 0.125) for f in cnn.VGG13_FILTERS for _ in range(2)]
    # each of the 10 convolutions gets a BN layer with gamma and beta per channel
    assert zoo.count_params(bn)["trainable"] - zoo.count_params(plain)["trainable"] == 2 * sum(channels)
    conv = cnn.vgg13_conv(batch_norm=True)
    conv.build((4, 32, 32, 3))
    assert zoo.count_params(conv)["trainable"] == 9_404_992 + 2 * sum(cnn.scaled(f, 1) * 2 for f in cnn.VGG13_FILTERS)


def test_matmul_peak_dtypes():
    assert cnn.matmul_peak_gflops(n=128, repeats=2) > 0
    assert cnn.matmul_peak_gflops(n=128, repeats=2, dtype="bfloat16") > 0
    with pytest.raises(ValueError, match="dtype"):
        cnn.matmul_peak_gflops(dtype="float16")


@pytest.mark.parametrize("i,k,s,p", [(3, 3, 2, 1), (4, 4, 2, 1), (7, 3, 2, 0), (7, 3, 2, 3), (5, 3, 1, 0)])
def test_transposed_grid_is_what_conv2d_transpose_slides_over(i, k, s, p):
    """A k×k window sliding with stride 1 over the grid (input pixels in place, zeros elsewhere, kernel
    flipped) gives exactly tf.nn.conv2d_transpose's o×o output."""
    o = cnn_demo.conv_output_size(i, k, s, p, transposed=True)["output"]
    kinds = cnn_demo.transposed_grid(i, k, s, p)
    assert kinds.shape == (o + k - 1,) * 2
    assert ((kinds == cnn_demo.ZERO).any() == (s > 1)) and ((kinds == cnn_demo.PAD).any() == (p < k - 1))
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(i, i)).astype("float32"), rng.normal(size=(k, k)).astype("float32")
    ref = tf.nn.conv2d_transpose(
        x[None, :, :, None],
        w[:, :, None, None],
        output_shape=[1, o, o, 1],
        strides=s,
        padding=[[0, 0], [p, p], [p, p], [0, 0]],
    )[0, :, :, 0].numpy()
    rows = np.unique(np.nonzero(kinds == cnn_demo.INPUT)[0])
    crop = (i - len(rows)) // 2  # p > k−1 crops the outermost input pixels
    grid = np.zeros(kinds.shape, "float32")
    grid[np.ix_(rows, rows)] = x[crop : crop + len(rows), crop : crop + len(rows)]
    out = [[np.sum(grid[r : r + k, c : c + k] * w[::-1, ::-1]) for c in range(o)] for r in range(o)]
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_conv_and_transposed_window_pictures():
    import matplotlib.pyplot as plt

    assert (cnn_demo.conv_grid(7, 3, 2, 1) == cnn_demo.INPUT).sum() == 49
    fig, (a, b) = plt.subplots(1, 2)
    assert cnn_demo.draw_conv_window(a, 7, 3, 2, 1, 1, step=5) == (1, 1)
    assert cnn_demo.draw_transposed_window(b, 3, 3, 2, 1, 2, step=9) == (1, 2)  # d=2: k'=5, o=(3−1)·2+5−2=7
    assert len(b.patches) == 9 and "输出 7×7" in b.get_title()
    np.testing.assert_array_equal(b.images[0].get_array(), cnn_demo.transposed_grid(3, 3, 2, 1, 2))
    plt.close(fig)
    with pytest.raises(ValueError, match="empty output"):
        cnn_demo.transposed_grid(1, 1, 1, 1)
