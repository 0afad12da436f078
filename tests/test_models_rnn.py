"""Unit tests for book_utils.models.rnn (sentiment RNNs and GloVe helpers)."""

import numpy as np
import pytest
import tensorflow as tf

from book_utils.models import rnn


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_cell_model_shapes_and_any_batch(kind):
    model = rnn.CellSentimentRNN(kind, 8, total_words=50, embedding_len=6)
    x = np.random.default_rng(0).integers(0, 50, (3, 7)).astype("int32")
    p = model(x, training=True)
    assert p.shape == (3, 1)
    assert bool(tf.reduce_all((p > 0) & (p < 1)))
    assert model(x[:1], training=False).shape == (1, 1)  # zero states follow the batch size
    n_states = 2 if kind == "lstm" else 1
    assert all(len(s) == n_states for s in model.zero_states(2))


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_layer_model_shapes(kind):
    model = rnn.layer_sentiment_rnn(kind, 8, total_words=50, embedding_len=6, maxlen=7)
    x = np.zeros((2, 7), dtype="int32")
    assert model(x).shape == (2, 1)


def test_cell_model_trains_in_compiled_step():
    model = rnn.CellSentimentRNN("simple", 4, total_words=20, embedding_len=3)
    import keras

    opt = keras.optimizers.Adam(1e-2)
    x = tf.constant(np.random.default_rng(1).integers(0, 20, (4, 5)), tf.int32)
    y = tf.ones([4, 1])
    model(x)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = keras.losses.binary_crossentropy(y, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return tf.reduce_mean(loss)

    first = float(step())
    for _ in range(10):
        last = float(step())
    assert last < first


def test_frozen_glove_embedding():
    matrix = np.arange(20 * 3, dtype="float32").reshape(20, 3)
    model = rnn.layer_sentiment_rnn(
        "lstm", 4, total_words=20, embedding_len=3, embedding_matrix=matrix, train_embedding=False, maxlen=5
    )
    emb = model.get_layer("embedding")
    assert not emb.trainable
    np.testing.assert_array_equal(emb.embeddings.numpy(), matrix)


def test_bad_inputs():
    with pytest.raises(ValueError, match="kind"):
        rnn.CellSentimentRNN("transformer")
    with pytest.raises(ValueError, match="units"):
        rnn.layer_sentiment_rnn("lstm", 0)
    with pytest.raises(ValueError, match="embedding_matrix"):
        rnn.layer_sentiment_rnn("lstm", 4, total_words=20, embedding_len=3, embedding_matrix=np.zeros((10, 3)))
    with pytest.raises(ValueError, match="dropout"):
        rnn.CellSentimentRNN("gru", dropout=1.5)


def test_glove_matrix_offset_and_coverage():
    word_index = {"the": 1, "movie": 2, "zzz": 3, "rare": 100}
    glove = {"the": np.ones(4, "float32"), "movie": np.full(4, 2.0, "float32"), "rare": np.zeros(4, "float32")}
    matrix, found = rnn.glove_embedding_matrix(word_index, glove, num_words=10)
    assert matrix.shape == (10, 4) and found == 2
    np.testing.assert_array_equal(matrix[4], 1.0)  # rank 1 + offset 3
    np.testing.assert_array_equal(matrix[5], 2.0)
    assert not matrix[:4].any() and not matrix[6].any()
    with pytest.raises(TypeError):
        rnn.glove_embedding_matrix([], glove)


def test_decode_encode_roundtrip():
    word_index = {"good": 1, "movie": 2}
    assert rnn.decode_review([1, 4, 5, 2], word_index) == "<START> good movie <UNK>"
    ids = rnn.encode_review("Good movie, unknownword!", word_index, num_words=100, maxlen=6)
    assert ids.tolist() == [[0, 0, 1, 4, 5, 2]]
    with pytest.raises(TypeError):
        rnn.encode_review(123, word_index)


def test_cosine_and_neighbours():
    assert rnn.cosine_similarity([1, 0], [0, 1]) == 0.0
    assert rnn.cosine_similarity([1, 1], [2, 2]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        rnn.cosine_similarity([0, 0], [1, 1])
    glove = {"a": np.array([1.0, 0.0]), "b": np.array([0.9, 0.1]), "c": np.array([-1.0, 0.0])}
    assert rnn.nearest_words(glove, "a", 1)[0][0] == "b"
    with pytest.raises(KeyError):
        rnn.nearest_words(glove, "zzz")


def test_bidirectional_masked_classifier():
    model = rnn.layer_sentiment_rnn(
        "lstm", 4, num_layers=1, total_words=30, embedding_len=5, maxlen=None, mask_zero=True, bidirectional=True
    )
    x = np.array([[0, 0, 0, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9]], dtype="int32")
    out = model(x).numpy()
    assert out.shape == (2, 1) and np.all((out > 0) & (out < 1))
    assert type(model.layers[1]).__name__ == "Bidirectional"
    # masking: leading padding does not change the prediction of the unpadded tail
    short = model(np.array([[4, 5, 6, 7, 8, 9]], dtype="int32")).numpy()
    np.testing.assert_allclose(out[0], short[0], atol=1e-5)
