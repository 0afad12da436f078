"""plotting, source, tensors display, training loop, device and execute."""

import json

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf

import book_utils as bu

matplotlib.use("Agg")


def test_cjk_font_registered():
    from matplotlib import font_manager

    name = bu.plotting.cjk_font_name()
    assert "CJK" in name
    bu.plotting.use_book_style()
    path = font_manager.findfont(font_manager.FontProperties(family=matplotlib.rcParams["font.sans-serif"][0]))
    assert "NotoSansCJK" in path


def test_legible_enlarges_text_that_the_column_would_shrink():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13.76, 3))  # shown at half size in the 688 px column
    axes[0].set_title("小", fontsize=8)
    axes[1].set_title("大", fontsize=30)
    assert bu.plotting.smallest_text_px(fig, 1376) < bu.plotting.MIN_TEXT_PX
    assert bu.plotting.legible(fig) > 0
    assert bu.plotting.smallest_text_px(fig, 1376) >= bu.plotting.MIN_TEXT_PX - 0.05
    assert axes[1].title.get_fontsize() == 30, "text that is large enough keeps its size"
    narrow, _ = plt.subplots(figsize=(4, 3))
    assert bu.plotting.legible(narrow) == 0, "10 pt defaults are legible in a figure that fits the column"
    plt.close("all")


def test_show_images_and_errors():
    fig = bu.show_images(np.zeros((5, 8, 8), np.uint8), labels=list("abcde"), ncols=3, title="测试")
    assert len(fig.axes) == 6
    with pytest.raises(ValueError, match="shaped"):
        bu.show_images(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="labels"):
        bu.show_images(np.zeros((2, 8, 8)), labels=["x"])


def test_plot_history_groups_and_errors():
    fig = bu.plot_history({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]})
    assert len(fig.axes) == 2
    with pytest.raises(KeyError, match="available"):
        bu.plot_history({"loss": [1]}, keys=["acc"])
    with pytest.raises(TypeError):
        bu.plot_history([])


def test_decision_boundary_and_surface():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    ax = bu.plotting.plot_decision_boundary(lambda p: p[:, 0] > 0, X, y, resolution=20)
    assert ax is not None
    bu.plotting.plot_decision_boundary(lambda p: np.c_[-p[:, 0], p[:, 0]], X, y, resolution=20)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        bu.plotting.plot_decision_boundary(lambda p: p, X[:, :1], y)
    fig = bu.plotting.plot_surface(lambda a, b: a**2 + b**2, resolution=10)
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="low < high"):
        bu.plotting.plot_surface(lambda a, b: a, x_range=(1, 0))


def test_show_source():
    src = bu.show_source(bu.training.fit)
    assert repr(src).startswith("def fit(") and "bu-source" in src._repr_html_()
    with pytest.raises(TypeError, match="function, class"):
        bu.show_source(42)


def test_tensor_describe():
    text = bu.tensors.describe(tf.constant([[1, 2], [3, 4]]), "a")
    assert text.startswith("a: shape=(2, 2) dtype=int32")


def _toy_data(n=512):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    return bu.data.make_dataset(x, y, batch_size=64, shuffle=True)


def test_fit_learns_and_records_history(capsys):
    bu.set_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    ds = _toy_data()
    hist = bu.training.fit(
        model,
        ds,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(0.01),
        epochs=5,
        validation_data=ds,
        metrics={"accuracy": keras.metrics.SparseCategoricalAccuracy()},
    )
    assert set(hist) == {"loss", "accuracy", "val_loss", "val_accuracy", "time"}
    assert hist["loss"][-1] < hist["loss"][0] and hist["val_accuracy"][-1] > 0.9
    assert capsys.readouterr().out.count("epoch ") == 5
    res = bu.training.evaluate(
        model, ds, loss="sparse_categorical_crossentropy", metrics={"acc": keras.metrics.SparseCategoricalAccuracy()}
    )
    assert res["acc"] > 0.9


def test_fit_bad_input():
    model = keras.Sequential([keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="epochs"):
        bu.training.fit(model, _toy_data(), loss="mse", optimizer="sgd", epochs=0)
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        bu.training.fit(model, np.zeros((4, 4)), loss="mse", optimizer="sgd", epochs=1)
    with pytest.raises(TypeError, match="loss"):
        bu.training.make_train_step(model, 3, keras.optimizers.SGD())


def test_timer():
    with bu.Timer() as t:
        sum(range(1000))
    assert t.seconds > 0


def test_device_helpers():
    assert bu.device.configure() in ("CPU",) or bu.device.configure().startswith("GPU")
    info = bu.device.describe()
    assert info["tensorflow"] == tf.__version__ and isinstance(info["gpus"], list)
    assert bu.device.time_matmul(8, shape="square", number=2, repeat=1) > 0
    with pytest.raises(ValueError, match="shape"):
        bu.device.time_matmul(8, shape="cube")
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        bu.device.time_matmul(0)
    with pytest.raises(ValueError, match="dtype"):
        bu.device.time_matmul(8, dtype="int8")
    assert bu.device.time_matmul(8, shape="square", number=1, repeat=1, dtype="bfloat16") > 0
    if not bu.device.has_gpu():
        with pytest.raises(ValueError, match="no GPU"):
            bu.device.time_matmul(8, "/GPU:0")


def test_lazy_packages():
    assert "intro" in bu.widgets.__all__
    with pytest.raises(AttributeError, match="available"):
        bu.widgets.nonexistent


def test_execute_stamps_metadata(tmp_path, monkeypatch):
    import nbformat

    from book_utils import execute

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import book_utils as bu\nbu.record_result('t_value', 0.5, textbook=0.4)")]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    assert execute.main([str(path), "--profile", "ci", "--timeout", "120"]) == 0
    stamped = json.loads(path.read_text())
    meta = stamped["metadata"]["book"]
    assert meta["profile"] == "ci" and meta["results"][0]["name"] == "t_value" and meta["wall_time_s"] > 0
    with pytest.raises(ValueError, match="profile"):
        execute.execute_notebook(path, profile="huge")
    with pytest.raises(FileNotFoundError):
        execute.execute_notebook(tmp_path / "missing.ipynb")


def test_strip_native_logs_only_drops_runtime_notices():
    import nbformat

    from book_utils import execute

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import book_utils")
    native = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796161475.613769   14181 port.cc:153] oneDNN custom operations are on.\n"
    )
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=native),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: a real warning\n"),
        nbformat.v4.new_output("stream", name="stdout", text=native),
    ]
    nb.cells.append(cell)
    assert execute.strip_native_logs(nb) == 1
    assert [o.name for o in cell.outputs] == ["stderr", "stdout"]
    assert "real warning" in cell.outputs[0].text


def test_import_leaves_native_stderr_working():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import book_utils, os; os.write(2, b'native-ok')"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0 and out.stderr.endswith("native-ok")
    assert "InitializeLog" not in out.stderr and "oneDNN" not in out.stderr


def test_dtype_policy_scope_and_bf16_probe():
    before = keras.config.dtype_policy().name
    with bu.device.dtype_policy("mixed_bfloat16"):
        model = bu.models.cnn.resnet18(width=0.125)
    assert keras.config.dtype_policy().name == before
    out = model(tf.zeros((1, 32, 32, 3)), training=False)
    assert out.shape == (1, 10) and model.trainable_variables[0].dtype == "float32"
    with pytest.raises(ValueError):
        bu.device.dtype_policy("float13")
    assert isinstance(bu.device.bfloat16_is_fast(), bool)
