import numpy as np
import pytest

from book_utils import tensors as T


def test_describe():
    assert T.describe(np.arange(3), "v").startswith("v: shape=(3,) dtype=int64")
    with pytest.raises(TypeError):
        T.describe(object())


@pytest.mark.parametrize(
    "a,b,expected",
    [
        ("2,32,32,3", "32,1", (2, 32, 32, 3)),
        ([2, 3], [3], (2, 3)),
        ((4, 1), (1, 5), (4, 5)),
        ("", "3", (3,)),
    ],
)
def test_broadcast_shape_matches_numpy(a, b, expected):
    assert T.broadcast_shape(a, b) == expected
    assert expected == np.broadcast_shapes(T._parse_shape(a), T._parse_shape(b))


def test_broadcast_conflict_names_axis():
    with pytest.raises(ValueError, match="axis -1 has sizes 2 and 4"):
        T.broadcast_shape([32, 2], [2, 32, 32, 4])
    rows = T.align_shapes([32, 2], [2, 32, 32, 4])
    assert [r[3] for r in rows] == ["insert-a", "insert-a", "equal", "conflict"]
    assert "无法广播" in T.broadcast_text([32, 2], [2, 32, 32, 4])


def test_parse_shape_bad_input():
    with pytest.raises(ValueError, match="comma-separated"):
        T.broadcast_shape("2,x", "3")
    with pytest.raises(TypeError):
        T.broadcast_shape(5, [3])
    with pytest.raises(ValueError, match="negative"):
        T.broadcast_shape([-1], [3])


def test_parse_and_format_index():
    key = T.parse_index("x[1:3, ::2, ..., 0]")
    assert key == (slice(1, 3), slice(None, None, 2), Ellipsis, 0)
    assert T.format_index(key) == "1:3, ::2, ..., 0"
    assert T.parse_index("::-1") == (slice(None, None, -1),)
    for bad in ["", "1:2:3:4", "a", "...,...", "::0"]:
        with pytest.raises(ValueError):
            T.parse_index(bad)
    with pytest.raises(TypeError):
        T.parse_index(3)


def test_selection_and_slice_shape():
    assert T.slice_shape((4, 32, 32, 3), "1:3, ::2, ..., 0") == (2, 16, 32)
    mask = T.selection_mask((3, 4), "::2, 1:")
    assert mask.sum() == 6 and not mask[1].any() and not mask[:, 0].any()
    with pytest.raises(ValueError, match="does not fit"):
        T.slice_shape((2, 2), "5")


def test_slice_table_and_plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.zeros((4, 32, 32, 3))
    df = T.slice_table(x, [("0", "first image"), ("..., 1", "G channel")])
    assert df["结果 shape"].tolist() == [[32, 32, 3], [4, 32, 32]]
    with pytest.raises(TypeError):
        T.slice_table([1, 2], [("0", "")])
    T.plot_broadcast([2, 3], [3])
    T.plot_selection((3, 4), "1:, ::2")
    with pytest.raises(ValueError):
        T.plot_selection((2, 2, 2), "0")
    plt.close("all")
