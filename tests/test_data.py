import hashlib
import warnings

import numpy as np
import pytest

import book_utils as bu
from book_utils import data

NEEDS_MIRROR = pytest.mark.skipif(
    data.data_dir() is None or not data.data_dir().is_dir(), reason="BOOK_DATA_DIR mirror not available"
)


def test_unknown_key():
    with pytest.raises(KeyError, match="unknown dataset file"):
        data.resolve("imagenet")


def test_missing_dataset_raises_helpful_error(no_data, profile):
    profile("book")
    with pytest.raises(bu.DatasetUnavailable) as info:
        bu.data.load_mnist()
    msg = str(info.value)
    assert "BOOK_DATA_DIR is not set" in msg and "compat/mnist.npz" in msg and "BOOK_OFFLINE=1" in msg


def test_corrupt_file_is_reported_not_used(no_data, profile, monkeypatch):
    profile("full")
    mirror = no_data / "mirror"
    (mirror / "raw").mkdir(parents=True)
    (mirror / "raw" / "auto-mpg.data").write_text('18.0 8 307.0 130.0 3504. 12.0 70 1\t"chevrolet"\n')
    monkeypatch.setenv("BOOK_DATA_DIR", str(mirror))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(bu.DatasetUnavailable, match="SHA-256 mismatch"):
            bu.data.load_auto_mpg()
    assert any("failed its SHA-256 check" in str(w.message) for w in caught)


def test_ci_profile_uses_announced_standin(no_data, profile, capsys):
    profile("ci")
    with pytest.warns(UserWarning, match="合成替身"):
        (x, y), (xt, yt) = bu.data.load_mnist()
    assert "synthetic stand-in" in capsys.readouterr().out
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and xt.shape == (10000, 28, 28)
    assert set(np.unique(y)) == set(range(10))
    # learnable: nearest class mean on the stand-in beats chance by far
    means = np.stack([x[y == k][:500].reshape(-1, 784).mean(0) for k in range(10)])
    pred = np.argmin(((xt[:500].reshape(-1, 1, 784) - means[None]) ** 2).sum(-1), 1)
    assert (pred == yt[:500]).mean() > 0.5


def test_standins_for_every_loader(no_data, profile):
    profile("ci")
    with pytest.warns(UserWarning):
        (x, y), _ = bu.data.load_imdb(num_words=1000, maxlen=100)
    assert all(max(s) < 1000 and len(s) <= 100 for s in x) and set(np.unique(y)) <= {0, 1}
    with pytest.warns(UserWarning):
        df = bu.data.load_auto_mpg()
    assert list(df.columns) == data.AUTO_MPG_COLUMNS and df["Horsepower"].isna().sum() == 6
    with pytest.warns(UserWarning):
        assert len(bu.data.load_glove(max_words=100)) == 100
    with pytest.warns(UserWarning):
        (xc, yc), _ = bu.data.load_cifar10()
    assert xc.shape[1:] == (32, 32, 3)


def test_checksum_and_keras_cache(no_data, profile, monkeypatch):
    """A correct file in the Keras cache is found and verified."""
    payload = b"hello"
    spec = data.DataFile("tiny", keras_path="tiny.bin", keras_sha256=hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(data.FILES, "tiny", spec)
    target = data.keras_cache_dir() / "tiny.bin"
    target.parent.mkdir(parents=True)
    target.write_bytes(payload)
    assert data.resolve("tiny") == target
    assert data.sha256(target) == spec.keras_sha256


@pytest.mark.parametrize(
    "kwargs, match", [(dict(num_words=0), "num_words"), (dict(maxlen=-5), "maxlen"), (dict(num_words=2.5), "num_words")]
)
def test_imdb_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bu.data.load_imdb(**kwargs)


def test_make_dataset_and_preprocess():
    x = np.arange(10 * 4, dtype=np.uint8).reshape(10, 2, 2)
    xf = bu.data.preprocess_images(x, flatten=True)
    assert xf.shape == (10, 4) and xf.dtype == np.float32 and xf.max() <= 1
    ds = bu.data.make_dataset(xf, np.arange(10), batch_size=4, shuffle=True)
    sizes = [int(b[0].shape[0]) for b in ds]
    assert sizes == [4, 4, 2]
    with pytest.raises(ValueError, match="must match"):
        bu.data.make_dataset(xf, np.arange(9))
    with pytest.raises(ValueError, match="batch_size"):
        bu.data.make_dataset(xf, batch_size=0)
    with pytest.raises(TypeError, match="uint8"):
        bu.data.preprocess_images(xf)


def test_image_folder_errors(tmp_path):
    with pytest.raises(bu.DatasetUnavailable, match="does not exist"):
        bu.data.load_image_folder(tmp_path / "nope")
    with pytest.raises(bu.DatasetUnavailable, match="no class sub-folders"):
        bu.data.load_image_folder(tmp_path)
    (tmp_path / "cat").mkdir()
    with pytest.raises(ValueError, match="image_size"):
        bu.data.load_image_folder(tmp_path, image_size=(0, 5))
    with pytest.raises(ValueError, match="color_mode"):
        bu.data.load_image_folder(tmp_path, color_mode="cmyk")


def test_image_folder_loads(tmp_path):
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("RGB", (10, 8), (i * 40, 0, 0)).save(tmp_path / cls / f"{i}.png")
    ds = bu.data.load_image_folder(tmp_path, image_size=(8, 8), batch_size=4)
    assert ds.class_names == ["a", "b"]
    assert sum(int(x.shape[0]) for x, _ in ds) == 6


@NEEDS_MIRROR
def test_real_mnist_and_fashion(profile):
    profile("book")
    (x, y), (xt, yt) = bu.data.load_mnist()
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and y.dtype == np.uint8
    (x, y), _ = bu.data.load_fashion_mnist()
    assert x.shape == (60000, 28, 28) and y.max() == 9


@NEEDS_MIRROR
def test_real_auto_mpg_imdb_glove(profile):
    profile("book")
    df = bu.data.load_auto_mpg()
    assert df.shape == (398, 8) and df["Horsepower"].isna().sum() == 6
    (x, y), (xt, yt) = bu.data.load_imdb(num_words=10000)
    assert len(x) == 25000 and len(xt) == 25000 and max(max(s) for s in x[:200]) < 10000 and x[0][0] == 1
    word_index = bu.data.load_imdb_word_index()
    assert len(word_index) == 88584
    glove = bu.data.load_glove(max_words=1000)
    assert len(glove) == 1000 and glove["the"].shape == (50,)


def test_prepare_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown dataset.*imagenet"):
        data.prepare(["imagenet"])


def test_prepare_without_data_raises_dataset_unavailable(no_data, profile):
    profile("book")
    with pytest.raises(bu.DatasetUnavailable):
        data.prepare(["mnist"])


@NEEDS_MIRROR
def test_prepare_warms_the_cache(profile, monkeypatch, tmp_path):
    profile("book")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    times = data.prepare(["pokemon", "mnist"])
    assert set(times) == {"pokemon", "mnist"} and all(t >= 0 for t in times.values())
    assert any(p.name.startswith("pokemon-") for p in (tmp_path / "cache").iterdir())  # extracted once


# --------------------------------------------------------------------------- crash- and concurrency-safe cache
import dataclasses  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# A real ``data.prepare(["cifar10"])`` in a subprocess, on a small synthetic archive laid out like the
# mirror's CIFAR-10 JPEG copy. Fault modes pause it half-way through writing the decoded .npz or
# half-way through extracting the archive, so the test can kill it exactly there.
_DRIVER = r"""
import dataclasses, os, sys, time
import numpy as np
from book_utils import data
data.FILES["cifar10_jpeg"] = dataclasses.replace(data.FILES["cifar10_jpeg"], mirror_sha256=os.environ["SYN_SHA"])
mode = sys.argv[1]
if mode == "pause-npz":
    real_savez = np.savez
    def savez(f, **arrays):
        import io
        buf = io.BytesIO(); real_savez(buf, **arrays); raw = buf.getvalue()
        f.write(raw[: len(raw) // 2]); f.flush()
        print("PAUSED", flush=True); time.sleep(120)
        f.write(raw[len(raw) // 2:])
    np.savez = savez
elif mode == "pause-extract":
    import tarfile
    real_extractall = tarfile.TarFile.extractall
    def extractall(self, path, members=None, **kw):
        ms = self.getmembers()
        real_extractall(self, path, members=ms[: len(ms) // 2], **kw)
        print("PAUSED", flush=True); time.sleep(120)
        real_extractall(self, path, members=ms[len(ms) // 2:], **kw)
    tarfile.TarFile.extractall = extractall
print("DONE", data.prepare(["cifar10"]), flush=True)
"""


@pytest.fixture
def synthetic_cifar(tmp_path, monkeypatch, profile):
    """A 40-image archive in the layout of raw/cifar10_jpeg75.tar.gz, registered as the mirror's file."""
    from PIL import Image

    profile("book")
    src = tmp_path / "src" / "cifar10_jpeg"
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for cls in data.CIFAR10_CLASSES:
            (src / split / cls).mkdir(parents=True)
            for i in range(2):
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
                    src / split / cls / f"{i}.jpg", quality=75
                )
    mirror = tmp_path / "mirror"
    (mirror / "raw").mkdir(parents=True)
    archive = mirror / "raw" / "cifar10_jpeg75.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="cifar10_jpeg")
    sha = data.sha256(archive)
    monkeypatch.setitem(data.FILES, "cifar10_jpeg", dataclasses.replace(data.FILES["cifar10_jpeg"], mirror_sha256=sha))
    monkeypatch.setenv("BOOK_DATA_DIR", str(mirror))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("BOOK_OFFLINE", "1")
    monkeypatch.setenv("SYN_SHA", sha)
    # the reference: decoded once in this process into a separate cache
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "reference"))
    reference = data.load_cifar10()
    cache = tmp_path / "cache"
    monkeypatch.setenv("BOOK_CACHE_DIR", str(cache))
    return reference, cache


def _start(mode):
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen(
        [sys.executable, "-c", _DRIVER, mode], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(proc, word, timeout=120):
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        if word in line:
            return
        assert time.monotonic() < deadline, f"driver never printed {word}"
    raise AssertionError(f"driver exited before {word}: {proc.wait()} {proc.stderr.read()[-2000:]}")


def _assert_same(a, b):
    (xa, ya), (xta, yta) = a
    (xb, yb), (xtb, ytb) = b
    for u, v in ((xa, xb), (ya, yb), (xta, xtb), (yta, ytb)):
        assert u.dtype == v.dtype and np.array_equal(u, v)


def _leftovers(cache: Path):
    return sorted(p.name for p in cache.rglob(".*.tmp-*"))


@pytest.mark.parametrize("mode", ["pause-npz", "pause-extract"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_interrupted_prepare_never_poisons_the_cache(synthetic_cifar, mode, sig):
    reference, cache = synthetic_cifar
    proc = _start(mode)
    try:
        _wait_for(proc, "PAUSED")
        proc.send_signal(sig)
        assert proc.wait(timeout=60) != 0
    finally:
        proc.kill()
        proc.wait()
    # nothing half-written sits under a final name
    assert not list(cache.glob("cifar10_jpeg-*.npz"))
    if mode == "pause-extract":
        assert not [p for p in cache.glob("cifar10_jpeg-*") if p.is_dir()]
    if sig == signal.SIGINT:  # Ctrl-C / Jupyter's interrupt: the process cleans up after itself
        assert _leftovers(cache) == []
    _assert_same(data.load_cifar10(), reference)
    assert _leftovers(cache) == []  # a killed process's temporaries are removed by the next preparation
    _assert_same(data.load_cifar10(), reference)  # and now read from the cache


def test_concurrent_prepare_on_a_fresh_cache(synthetic_cifar):
    reference, cache = synthetic_cifar
    procs = [_start("plain") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "DONE" in out, err[-2000:]
    assert _leftovers(cache) == []
    _assert_same(data.load_cifar10(), reference)


def test_damaged_cache_entries_are_named_deleted_and_rebuilt(synthetic_cifar):
    reference, cache = synthetic_cifar
    data.load_cifar10()
    (npz,) = cache.glob("cifar10_jpeg-*.npz")
    npz.write_bytes(npz.read_bytes()[:268])  # what an interrupted np.savez left behind before
    with pytest.warns(UserWarning, match=r"damaged cache entry .*cifar10_jpeg-.*\.npz"):
        _assert_same(data.load_cifar10(), reference)
    # an extracted folder that lost a file is detected by its manifest
    (folder,) = [p for p in cache.glob("cifar10_jpeg-*") if p.is_dir()]
    next(folder.rglob("*.jpg")).unlink()
    npz.unlink()
    data._VERIFIED.clear()
    with pytest.warns(UserWarning, match=r"damaged cache entry .*expected 40 files"):
        _assert_same(data.load_cifar10(), reference)
    # a folder without its completion marker (an interrupted extraction by an older version)
    (folder / ".complete").unlink()
    npz.unlink()
    data._VERIFIED.clear()
    with pytest.warns(UserWarning, match="no completion marker"):
        _assert_same(data.load_cifar10(), reference)


def test_unwritable_cache_dir_is_named(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(data.CacheDirError, match=r"cache folder .*a-file/cache \(\$BOOK_CACHE_DIR\) cannot be created"):
        data.cache_dir()


def test_prepare_accepts_one_name_and_rejects_other_types(no_data, profile):
    profile("book")
    with pytest.raises(bu.DatasetUnavailable):
        data.prepare("mnist")  # one name, not its letters
    with pytest.raises(TypeError, match="names must be"):
        data.prepare(5)


# --------------------------------------------------------------------------- missing real data in a test session
def test_availability_reports_missing_files(no_data):
    missing = data.availability(download=False)
    assert set(missing) == set(data.NEEDS) and missing["mnist"] == "$BOOK_DATA_DIR/compat/mnist.npz"
    assert " or " in missing["cifar10"]  # either copy would do


def test_session_without_data_skips_notebooks_and_says_why(tmp_path):
    """README's test command on a clone without datasets or network: one block, skips, no mismatches."""
    root = Path(__file__).resolve().parents[1]
    (tmp_path / "empty").mkdir()
    env = dict(
        os.environ,
        BOOK_DATA_DIR=str(tmp_path / "empty"),
        KERAS_HOME=str(tmp_path / "keras"),
        BOOK_OFFLINE="1",
        BOOK_CACHE_DIR=str(tmp_path / "cache"),
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "chapters/ch03_classification.ipynb", "chapters/ch06_neural_networks.ipynb"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = run.stdout
    assert run.returncode == 0, out[-3000:]
    head = out[: out.index("collected")]
    assert "datasets: 8 real dataset(s) MISSING" in head and "compat/mnist.npz" in head and "BOOK_DATA_DIR" in head
    assert "failed" not in out.lower().split("short test summary")[-1]
    assert re.search(r"SKIPPED \[\d+\] chapters/ch03_classification.ipynb: real data missing \(mnist\)", out)
    assert re.search(r"SKIPPED \[\d+\] chapters/ch06_neural_networks.ipynb: real data missing \(auto_mpg\)", out)
