"""Recurrent sentiment classifiers of chapter 11 (SimpleRNN, LSTM, GRU) and GloVe helpers.

Two flavours of the same network, as the textbook builds them:

* :class:`CellSentimentRNN` — an ``Embedding`` followed by two stacked recurrent *cells* that are
  stepped through time by hand (``tf.unstack(x, axis=1)``), then ``Dense(1)`` and a sigmoid.
* :func:`layer_sentiment_rnn` — the same network from ``SimpleRNN``/``LSTM``/``GRU`` *layers*.

Both output the probability that a review is positive (shape ``[batch, 1]``).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from book_utils.checks import check_int as _check_int

CELL_TYPES = {"simple": layers.SimpleRNNCell, "lstm": layers.LSTMCell, "gru": layers.GRUCell}
LAYER_TYPES = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
INDEX_FROM = 3  # Keras IMDB: 0 = <PAD>, 1 = <START>, 2 = <UNK>, 3 = <UNUSED>, word rank r → r + 3


def _check_kind(kind) -> str:
    if not isinstance(kind, str) or kind.lower() not in CELL_TYPES:
        raise ValueError(f"kind must be one of {sorted(CELL_TYPES)}, got {kind!r}")
    return kind.lower()


def _embedding(total_words, embedding_len, embedding_matrix, trainable, mask_zero=False):
    total_words = _check_int("total_words", total_words, 2)
    embedding_len = _check_int("embedding_len", embedding_len)
    if embedding_matrix is None:
        return layers.Embedding(total_words, embedding_len, trainable=trainable, name="embedding",
                                mask_zero=mask_zero)
    matrix = np.asarray(embedding_matrix, dtype="float32")
    if matrix.shape != (total_words, embedding_len):
        raise ValueError(
            f"embedding_matrix must have shape (total_words, embedding_len) = {(total_words, embedding_len)}, "
            f"got {matrix.shape}")
    return layers.Embedding(total_words, embedding_len, trainable=trainable, name="embedding", mask_zero=mask_zero,
                            embeddings_initializer=keras.initializers.Constant(matrix))


class CellSentimentRNN(keras.Model):
    """Embedding → stacked recurrent cells unrolled over time by hand → Dense(1) → sigmoid.

    ``kind`` is ``'simple'``, ``'lstm'`` or ``'gru'``. The zero initial states are built from the
    batch size of the input (``tf.shape(x)[0]``), so any batch size works, not only 128.
    """

    def __init__(self, kind: str = "simple", units: int = 64, *, num_layers: int = 2, total_words: int = 10000,
                 embedding_len: int = 100, dropout: float = 0.5, embedding_matrix=None,
                 train_embedding: bool = True, **kwargs):
        kind = _check_kind(kind)
        super().__init__(name=kwargs.pop("name", f"cell_{kind}_rnn"), **kwargs)
        self.kind = kind
        self.units = _check_int("units", units)
        num_layers = _check_int("num_layers", num_layers)
        if not 0 <= float(dropout) < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.embedding = _embedding(total_words, embedding_len, embedding_matrix, train_embedding)
        self.cells = [CELL_TYPES[kind](self.units, dropout=dropout) for _ in range(num_layers)]
        self.fc = layers.Dense(1)

    def zero_states(self, batch):
        """One list of zero states per cell: ``[h]`` for SimpleRNN/GRU, ``[h, c]`` for LSTM."""
        n = 2 if self.kind == "lstm" else 1
        return [[tf.zeros([batch, self.units]) for _ in range(n)] for _ in self.cells]

    def call(self, inputs, training=None):
        x = self.embedding(inputs)                       # [b, T] → [b, T, embedding_len]
        states = self.zero_states(tf.shape(inputs)[0])
        for cell in self.cells:                          # Keras 3 caches dropout masks: reset per call
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        out = None
        for xt in tf.unstack(x, axis=1):                 # time loop: xt is [b, embedding_len]
            out = xt
            for i, cell in enumerate(self.cells):        # layer loop inside each time step
                out, states[i] = cell(out, states[i], training=training)
        return tf.sigmoid(self.fc(out))                  # last output of the top layer → P(positive)


def layer_sentiment_rnn(kind: str = "simple", units: int = 64, *, num_layers: int = 2, total_words: int = 10000,
                        embedding_len: int = 100, dropout: float = 0.5, embedding_matrix=None,
                        train_embedding: bool = True, maxlen: int | None = 80, mask_zero: bool = False,
                        bidirectional: bool = False) -> keras.Sequential:
    """The same classifier from ``SimpleRNN``/``LSTM``/``GRU`` layers (cuDNN-compatible defaults).

    Beyond the textbook: ``mask_zero=True`` lets the recurrent layers skip the padding id 0, and
    ``bidirectional=True`` wraps every recurrent layer in ``layers.Bidirectional`` (the review is
    read in both directions; the final states are concatenated).
    """
    kind = _check_kind(kind)
    units = _check_int("units", units)
    num_layers = _check_int("num_layers", num_layers)
    stack = [layers.Input((maxlen,), dtype="int32"),
             _embedding(total_words, embedding_len, embedding_matrix, train_embedding, mask_zero)]
    for i in range(num_layers):
        rnn = LAYER_TYPES[kind](units, dropout=dropout, return_sequences=i < num_layers - 1)
        stack.append(layers.Bidirectional(rnn) if bidirectional else rnn)
    stack += [layers.Dense(1, activation="sigmoid")]
    prefix = "bi" if bidirectional else "layer"
    return keras.Sequential(stack, name=f"{prefix}_{kind}_rnn")


# --------------------------------------------------------------------------- vocabulary and GloVe
def reverse_word_index(word_index: dict, index_from: int = INDEX_FROM) -> dict:
    """id → word for decoding Keras IMDB sequences, with the four reserved ids."""
    if not isinstance(word_index, dict):
        raise TypeError(f"word_index must be a dict word → rank, got {type(word_index).__name__}")
    rev = {rank + index_from: word for word, rank in word_index.items()}
    rev.update({0: "<PAD>", 1: "<START>", 2: "<UNK>", 3: "<UNUSED>"})
    return rev


def decode_review(ids, word_index: dict, index_from: int = INDEX_FROM) -> str:
    """Integer ids → text (``?`` for ids outside the index)."""
    rev = reverse_word_index(word_index, index_from)
    return " ".join(rev.get(int(i), "?") for i in ids)


def encode_review(text: str, word_index: dict, *, num_words: int = 10000, maxlen: int = 80,
                  index_from: int = INDEX_FROM) -> np.ndarray:
    """English text → padded id row ``[1, maxlen]`` the way the IMDB set is encoded (unknown → 2)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if not isinstance(word_index, dict):
        raise TypeError(f"word_index must be a dict word → rank, got {type(word_index).__name__}")
    num_words = _check_int("num_words", num_words, index_from + 1)
    maxlen = _check_int("maxlen", maxlen)
    import re

    words = re.findall(r"[a-z0-9']+", text.lower())
    ids = [1]
    for w in words:
        r = word_index.get(w)
        ids.append(r + index_from if r is not None and r + index_from < num_words else 2)
    return keras.utils.pad_sequences([ids], maxlen=maxlen)


def glove_embedding_matrix(word_index: dict, glove: dict, *, num_words: int = 10000,
                           index_from: int = INDEX_FROM):
    """Embedding matrix ``[num_words, dim]`` whose row ``rank + index_from`` is the GloVe vector.

    Rows of reserved ids and of words without a vector stay zero. Returns ``(matrix, found)`` where
    ``found`` counts the vocabulary words that got a vector.
    """
    if not isinstance(word_index, dict) or not isinstance(glove, dict) or not glove:
        raise TypeError("word_index and glove must be non-empty dicts (word → rank, word → vector)")
    num_words = _check_int("num_words", num_words, index_from + 1)
    dim = len(next(iter(glove.values())))
    matrix = np.zeros((num_words, dim), dtype="float32")
    found = 0
    for word, rank in word_index.items():
        i = rank + index_from
        if i >= num_words:
            continue
        vec = glove.get(word)
        if vec is not None:
            matrix[i] = vec
            found += 1
    return matrix, found


def cosine_similarity(a, b) -> float:
    """Cosine of the angle between two vectors."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"cosine_similarity needs two 1-D vectors of equal length, got {a.shape} and {b.shape}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("cosine similarity is undefined for a zero vector")
    return float(a @ b / (na * nb))


def nearest_words(glove: dict, query, k: int = 5, exclude=()) -> list[tuple[str, float]]:
    """The ``k`` words whose GloVe vectors have the highest cosine with ``query`` (a word or a vector)."""
    k = _check_int("k", k)
    if isinstance(query, str):
        if query not in glove:
            raise KeyError(f"{query!r} is not in the GloVe vocabulary")
        exclude = set(exclude) | {query}
        query = glove[query]
    words = list(glove)
    mat = np.stack([glove[w] for w in words]).astype("float64")
    q = np.asarray(query, dtype="float64")
    sims = mat @ q / (np.linalg.norm(mat, axis=1) * np.linalg.norm(q) + 1e-12)
    out = []
    for i in np.argsort(-sims):
        if words[i] not in exclude:
            out.append((words[i], float(sims[i])))
            if len(out) == k:
                break
    return out
