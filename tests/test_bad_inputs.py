"""Bad inputs across the public API get a clear error (or an explicit, documented result).

One test per case; the ids say what is wrong. The first block holds the 26 cases found by the
reliability probe (issue 21); the rest are more cases of the same kinds.
"""

import base64
import struct
import zlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import book_utils as bu
from book_utils import config, data, plotting, serving, training
from book_utils.models import autoencoder, cnn, gan, rnn
from book_utils.widgets import tensors as wt


def _ds(x, y=None, batch=4):
    return tf.data.Dataset.from_tensor_slices(x if y is None else (x, y)).batch(batch)


def _dense():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])


def _fit(ds, **kw):
    return training.fit(_dense(), ds, loss="mse", optimizer="sgd", epochs=1, verbose=0, **kw)


X = np.ones((8, 3), np.float32)
Y = np.ones((8, 1), np.float32)


# --------------------------------------------------------------------------- raw or misleading errors before
def test_01_make_dataset_empty():
    with pytest.raises(ValueError, match=r"x is empty \(0 samples\)"):
        data.make_dataset(np.zeros((0, 3)))


def test_02_prepare_one_name_is_not_split_into_letters(no_data, profile):
    profile("book")
    with pytest.raises(bu.DatasetUnavailable, match="compat/mnist.npz"):
        data.prepare("mnist")


def test_03_unwritable_cache_dir_is_named(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "file" / "cache"))
    with pytest.raises(data.CacheDirError, match=r"file/cache \(\$BOOK_CACHE_DIR\) cannot be created.*writable"):
        data.cache_dir()


def test_04_fit_without_labels():
    with pytest.raises(TypeError, match=r"must yield \(x, y\) pairs"):
        _fit(_ds(X))


def test_05_forward_flops_input_too_small():
    with pytest.raises(ValueError, match=r"input_shape \(1, 4, 4, 1\) does not fit this model"):
        cnn.forward_flops(cnn.lenet5(), (1, 4, 4, 1))


def test_06_predict_json_too_few_class_names():
    with pytest.raises(serving.ServerConfigError, match="2 class names but the model returns 3 logits"):
        serving.predict_json(lambda x: np.zeros((len(x), 3)), [[1.0]], input_shape=(1,), class_names=["a", "b"])


def test_07_set_seed_beyond_numpy_range():
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer below 2\*\*32"):
        config.set_seed(2**40)


def test_08_slicing_update_huge_shape_does_not_overflow_the_guard():
    out = wt.slicing_update("0", "4294967296,4294967296,16")  # the product overflows int64
    assert out["values"] is None and "too large for the explorer" in out["error"]


def test_09_numpy_int_ncols_is_accepted():
    fig = plotting.show_images(np.zeros((4, 5, 5), np.uint8), ncols=np.int64(2))
    assert len(fig.axes) == 4


def test_10_fit_validation_without_labels():
    with pytest.raises(TypeError, match=r"validation_data must yield \(x, y\) pairs"):
        _fit(_ds(X, Y), validation_data=_ds(X))


def test_11_make_dataset_string_instead_of_array():
    with pytest.raises(TypeError, match="x must be an array of samples"):
        data.make_dataset("not an array")


def test_12_prepare_wrong_type():
    with pytest.raises(TypeError, match="names must be a dataset name, a list of names or None"):
        data.prepare(5)


def test_13_encode_review_word_index_not_a_dict():
    with pytest.raises(TypeError, match="word_index must be a dict"):
        rnn.encode_review("a good film", ["good"])


def test_14_modes_covered_wrong_point_shape():
    with pytest.raises(ValueError, match=r"points must be a non-empty array of 2-D points \[n, 2\]"):
        gan.modes_covered(np.zeros((5, 3)))


def test_15_tile_images_zero_columns():
    with pytest.raises(ValueError, match="ncols must be an integer >= 1"):
        autoencoder.tile_images(np.zeros((4, 4)), image_shape=(2, 2), ncols=0)


# --------------------------------------------------------------------------- silently wrong results before
def test_16_fit_on_an_empty_dataset():
    with pytest.raises(ValueError, match="train_data yielded no batches"):
        _fit(_ds(X[:0], Y[:0]))


def test_17_fit_on_nan_inputs_names_the_batch():
    x = X.copy()
    x[5] = np.nan  # second batch of 4
    with pytest.raises(FloatingPointError, match=r"epoch 1: batch 1 has NaN or infinite inputs/labels \(of 2\)"):
        _fit(_ds(x, Y))


def test_18_fit_divergence_stops_unless_asked_to_watch(capsys):
    x = np.full((8, 3), 1e3, np.float32)

    def run(**extra):
        return training.fit(
            _dense(), _ds(x, Y), loss="mse", optimizer=keras.optimizers.SGD(1e3), epochs=3, verbose=0, **extra
        )

    with pytest.raises(FloatingPointError, match=r"the loss became non-finite at batch \d+.*on_nonfinite='warn'"):
        run()
    history = run(on_nonfinite="warn")  # what a chapter that shows a divergence passes
    assert len(history["loss"]) == 3 and not np.isfinite(history["loss"][-1])
    assert capsys.readouterr().out.count("non-finite") == 1  # warned once
    assert len(run(on_nonfinite="ignore")["loss"]) == 3 and "non-finite" not in capsys.readouterr().out
    with pytest.raises(ValueError, match="on_nonfinite must be one of"):
        run(on_nonfinite="maybe")


def test_19_evaluate_on_an_empty_dataset():
    with pytest.raises(ValueError, match="evaluation dataset yielded no batches"):
        training.evaluate(_dense(), _ds(X[:0], Y[:0]), loss="mse")


def test_20_autoencoder_train_nan_images():
    x = np.full((8, 4, 4), 0.5, np.float32)
    x[3, 1, 1] = np.nan
    with pytest.raises(ValueError, match="images contain NaN or infinite values"):
        autoencoder.train(autoencoder.AE(2, input_dim=16), x, epochs=1)


def test_21_encode_review_negative_num_words():
    with pytest.raises(ValueError, match="num_words must be an integer >= 4"):
        rnn.encode_review("a good film", {"good": 1}, num_words=-1)


def test_22_modes_covered_no_points():
    with pytest.raises(ValueError, match="non-empty"):
        gan.modes_covered(np.zeros((0, 2)))


def test_23_plot_history_empty_lists():
    with pytest.raises(ValueError, match=r"no values to plot for \['loss'\]"):
        plotting.plot_history({"loss": []})


def test_24_served_model_returning_nan():
    with pytest.raises(serving.ModelOutputError, match="NaN or infinite logits"):
        serving.predict_json(lambda x: np.full((len(x), 2), np.nan), [[1.0]], input_shape=(1,))


def test_25_modes_covered_nan_points():
    with pytest.raises(ValueError, match="NaN or infinite"):
        gan.modes_covered(np.array([[0.0, np.nan]]))


def test_26_decompression_bomb_refused_before_decoding():
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)  # declares 400 Mpx; no pixel data needed
    png = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    )
    with pytest.raises(serving.ImageTooLarge, match="image declaring 400,000,000 pixels exceeds"):
        serving.decode_image_b64(base64.b64encode(png).decode())


# --------------------------------------------------------------------------- more of the same kinds
@pytest.mark.parametrize(
    "call",
    [
        lambda: config.set_seed(np.int64(3)),
        lambda: data.make_dataset(X, Y, batch_size=np.int64(4)),
        lambda: data.load_imdb.__wrapped__ if False else data._check_positive_int("num_words", np.int32(5)),
        lambda: training.fit(_dense(), _ds(X, Y), loss="mse", optimizer="sgd", epochs=np.int64(1), verbose=0),
        lambda: autoencoder.tile_images(np.zeros((4, 4)), image_shape=(2, 2), ncols=np.int64(2)),
        lambda: serving.ModelServer(serving.create_app(lambda x: x, input_shape=(1,)), max_concurrent=np.int16(2)),
    ],
    ids=["set_seed", "make_dataset", "load_imdb_num_words", "fit_epochs", "tile_images", "ModelServer"],
)
def test_numpy_integers_are_accepted_wherever_ints_are(call):
    call()


@pytest.mark.parametrize("bad, err", [(True, ValueError), (-1, ValueError), (2.5, ValueError), ("3", ValueError)])
def test_set_seed_rejects_non_integers(bad, err):
    with pytest.raises(err, match="seed must be a non-negative integer"):
        config.set_seed(bad)


def test_preprocess_images_string():
    with pytest.raises(TypeError, match="uint8"):
        data.preprocess_images("abc")


def test_predict_json_class_names_as_one_string():
    with pytest.raises(TypeError, match="class_names must be a list"):
        serving.predict_json(lambda x: np.zeros((len(x), 3)), [[1.0]], input_shape=(1,), class_names="abc")


def test_fit_with_nan_labels():
    y = Y.copy()
    y[0] = np.inf
    with pytest.raises(FloatingPointError, match="batch 0 has NaN or infinite inputs/labels"):
        _fit(_ds(X, y))


def test_execute_rejects_bad_timeout(tmp_path):
    from book_utils import execute

    nb = tmp_path / "x.ipynb"
    nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        execute.execute_notebook(nb, "ci", timeout=0)
    with pytest.raises(FileNotFoundError, match="is not a notebook file"):
        execute.execute_notebook(tmp_path / "missing.ipynb", "ci")


def test_make_dataset_labels_as_a_string():
    with pytest.raises(TypeError, match="y must be an array of labels"):
        data.make_dataset(np.zeros((3, 2)), "abc")


def test_load_image_folder_size_as_a_string(tmp_path):
    (tmp_path / "cat").mkdir()
    with pytest.raises(ValueError, match="image_size must be"):
        data.load_image_folder(tmp_path, image_size="64")


def test_encode_image_b64_empty_image():
    with pytest.raises(ValueError, match="non-empty uint8 array"):
        serving.encode_image_b64(np.zeros((0, 0, 3), np.uint8))


def test_predict_json_input_shape_as_a_string():
    with pytest.raises(TypeError, match="input_shape must be a tuple"):
        serving.predict_json(lambda x: x, [[1.0]], input_shape="1")


@pytest.mark.parametrize("points, match", [(np.zeros((0, 2)), "non-empty"), (np.array([[np.nan, 0.0]]), "NaN")])
def test_plot_decision_boundary_empty_or_nan(points, match):
    with pytest.raises(ValueError, match=match):
        plotting.plot_decision_boundary(lambda p: p[:, 0] > 0, points, np.zeros(len(points)))
