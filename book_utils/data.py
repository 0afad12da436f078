"""Dataset loaders with offline resolution, SHA-256 checks and ``tf.data`` pipelines.

Resolution order for every file: ``$BOOK_DATA_DIR`` (a local mirror laid out like
``shared/datasets``) → the Keras cache (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``) →
download from the official source (skipped when ``BOOK_OFFLINE=1``). Every file is verified
by SHA-256 before use. When nothing works, the ``ci`` profile falls back to a learnable
synthetic stand-in (announced loudly); ``book`` and ``full`` raise :class:`DatasetUnavailable`.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import tarfile
import urllib.request
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .checks import check_choice, check_int, check_range, check_shape
from .config import get_profile, resolve_seed

_TFDS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


class DatasetUnavailable(RuntimeError):
    """A dataset file could not be found, verified or downloaded."""


class CacheDirError(OSError):
    """``$BOOK_CACHE_DIR`` (or the default cache folder) cannot be created or written."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset and the places it may come from."""

    name: str
    mirror_path: str | None = None  # relative to $BOOK_DATA_DIR
    mirror_sha256: str | None = None
    keras_path: str | None = None  # relative to the Keras cache's datasets/ folder
    keras_sha256: str | None = None
    url: str | None = None  # downloaded into keras_path, checked against keras_sha256


_FASHION_SHA = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

FILES: dict[str, DataFile] = {
    "mnist": DataFile(
        "mnist", "compat/mnist.npz", "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
        "mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", _TFDS + "mnist.npz"),
    **{
        f"fashion_mnist/{f}": DataFile(
            f"fashion_mnist/{f}", f"keras/fashion-mnist/{f}", sha, f"fashion-mnist/{f}", sha,
            _TFDS + "fashion-mnist/" + f)
        for f, sha in _FASHION_SHA.items()
    },
    "imdb": DataFile(
        "imdb", "raw/imdb_keras_like.npz", "026e9e704f4e8166d0ab2ffe3cf7746c102612361e53c4f83c81a872628913dd"),
    "imdb_word_index": DataFile(
        "imdb_word_index", "keras/imdb_word_index.json",
        "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
        "imdb_word_index.json", "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
        _TFDS + "imdb_word_index.json"),
    "auto_mpg": DataFile(
        "auto_mpg", "raw/auto-mpg.data", "48b830e11feee5572525f8f1691ddb9d38d3d7b7063edcd8fca672c2a5e17d8d",
        "auto-mpg.data", "48b830e11feee5572525f8f1691ddb9d38d3d7b7063edcd8fca672c2a5e17d8d",
        "http://archive.ics.uci.edu/ml/machine-learning-databases/auto-mpg/auto-mpg.data"),
    "glove50": DataFile(
        "glove50", "raw/glove.6B.50d.top50000.txt",
        "b961b7b88bb09d21275c5ca3b1b686eeb629631c74e2e5c64e22ea30f255fd4e"),
    "cifar10_jpeg": DataFile(
        "cifar10_jpeg", "raw/cifar10_jpeg75.tar.gz",
        "4193b819f1c9351be6ddb37baef5fe78ada90d1bb594983a09e7031e277a6dfe"),
    "cifar10": DataFile(
        "cifar10", None, None, "cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
    "pokemon": DataFile(
        "pokemon", "raw/pokemon_256.tar.gz", "72796563e6ed4e2af095039c48a5731a7fdb701cdc40bd6a4e63ae326b43640c"),
}

# --------------------------------------------------------------------------- resolution

_HASH_CACHE: dict[tuple, str] = {}


def sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file (memoised per path, size and mtime)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def data_dir() -> Path | None:
    value = os.environ.get("BOOK_DATA_DIR", "").strip()
    return Path(value).expanduser() if value else None


def keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "datasets"


def cache_dir() -> Path:
    """Where extracted archives and decoded arrays are kept (``$BOOK_CACHE_DIR``).

    Raises :class:`CacheDirError` naming the folder when it cannot be created or written.
    """
    default = Path.home() / ".cache" / "tfbook"
    path = Path(os.environ.get("BOOK_CACHE_DIR") or default).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CacheDirError(
            f"cache folder {path} ($BOOK_CACHE_DIR) cannot be created: {err.strerror or err}; "
            "set BOOK_CACHE_DIR to a writable folder") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CacheDirError(f"cache folder {path} ($BOOK_CACHE_DIR) is not writable; "
                            "set BOOK_CACHE_DIR to a writable folder")
    return path


# --------------------------------------------------------------------------- crash-safe cache writes
#: seconds to wait for another process that prepares the same cache entry
LOCK_TIMEOUT = 1800.0


def _temp_name(dest: Path) -> Path:
    """A unique hidden name beside ``dest`` (same folder, so ``os.replace`` is atomic)."""
    return dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _remove_stale_temps(dest: Path) -> None:
    """Delete temporaries left beside ``dest`` by a killed process (call while holding its lock)."""
    for stale in dest.parent.glob(f".{dest.name}.tmp-*"):
        _remove(stale)


@contextlib.contextmanager
def atomic_file(dest, mode: str = "wb"):
    """Yield an open file (``mode`` "wb", or "w" for UTF-8 text); on success it is synced and moved
    onto ``dest`` in one step. An exception (or Ctrl-C, or a kill) leaves ``dest`` as it was: either
    absent or complete. Used for every file the book writes that a later run reads."""
    dest = Path(dest)
    check_choice("mode", mode, ("wb", "w"))
    tmp = _temp_name(dest)
    try:
        with open(tmp, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    finally:
        _remove(tmp)


@contextlib.contextmanager
def _locked(folder: Path, name: str):
    """Hold an inter-process lock for preparing the cache entry ``name`` in ``folder``."""
    locks = folder / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    path = locks / f"{name}.lock"
    try:
        from filelock import FileLock, Timeout
    except ImportError:  # pragma: no cover - filelock is in requirements.txt; POSIX fallback
        import fcntl

        with open(path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=LOCK_TIMEOUT)
    except Timeout:
        raise TimeoutError(f"another process has been preparing {folder / name} for over {LOCK_TIMEOUT:.0f} s "
                           f"(lock file {path}); wait for it or delete the lock file if no such process runs"
                           ) from None
    try:
        yield
    finally:
        lock.release()


def _damaged(path: Path, reason: str) -> None:
    """Report a damaged cache entry, then delete it (the caller rebuilds it)."""
    warnings.warn(f"damaged cache entry {path} ({reason}); deleted, rebuilding it", stacklevel=3)
    _remove(path)


def _load_npz(path: Path):
    """Every array of a cached ``.npz`` (CRC-checked by zipfile), or ``None`` when absent or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    except Exception as err:  # EOFError, BadZipFile, OSError, ValueError: all mean a damaged file
        return err


def _cached_arrays(path: Path, build) -> dict:
    """Arrays from the cache file ``path``; built by ``build()`` under a lock when absent or damaged."""
    arrays = _load_npz(path)
    if isinstance(arrays, dict):
        return arrays
    with _locked(path.parent, path.name):
        arrays = _load_npz(path)  # another process may have built it meanwhile
        if isinstance(arrays, dict):
            return arrays
        if arrays is not None:
            _damaged(path, f"{type(arrays).__name__}: {arrays}")
        _remove_stale_temps(path)
        arrays = build()
        with atomic_file(path) as f:
            np.savez(f, **arrays)
        return arrays


def _download(url: str, dest: Path, timeout: float = 20.0) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(dest) as out, urllib.request.urlopen(url, timeout=timeout) as response:
        while block := response.read(1 << 20):
            out.write(block)


def resolve(key: str) -> Path:
    """Return a verified local path for the dataset file ``key`` or raise DatasetUnavailable."""
    if key not in FILES:
        raise KeyError(f"unknown dataset file {key!r}; known: {', '.join(sorted(FILES))}")
    spec = FILES[key]
    tried: list[str] = []
    candidates = []
    root = data_dir()
    if spec.mirror_path:
        if root is None:
            tried.append("$BOOK_DATA_DIR is not set")
        else:
            candidates.append((root / spec.mirror_path, spec.mirror_sha256))
    if spec.keras_path:
        candidates.append((keras_cache_dir() / spec.keras_path, spec.keras_sha256))
    for path, expected in candidates:
        if not path.is_file():
            tried.append(f"{path}: not found")
            continue
        actual = sha256(path)
        if actual == expected:
            return path
        tried.append(f"{path}: SHA-256 mismatch (expected {expected[:12]}…, got {actual[:12]}…) — file is corrupt")
        warnings.warn(f"{path} failed its SHA-256 check and was not used", stacklevel=2)
    if spec.url and os.environ.get("BOOK_OFFLINE", "0") != "1":
        dest = keras_cache_dir() / spec.keras_path
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with _locked(dest.parent, dest.name):
                if not (dest.is_file() and sha256(dest) == spec.keras_sha256):  # another process may have it
                    _remove_stale_temps(dest)
                    _download(spec.url, dest)
                if sha256(dest) == spec.keras_sha256:
                    return dest
                dest.unlink()
            tried.append(f"download from {spec.url}: checksum mismatch, discarded")
        except Exception as err:  # network errors come in many types; report, never leak
            tried.append(f"download from {spec.url}: {type(err).__name__}: {err}")
    elif spec.url:
        tried.append("download skipped (BOOK_OFFLINE=1)")
    how = (
        f"Put the file at $BOOK_DATA_DIR/{spec.mirror_path} (see README, 'Datasets')"
        if spec.mirror_path else f"Put the file at {keras_cache_dir() / spec.keras_path}"
    )
    raise DatasetUnavailable(
        f"dataset file '{key}' is unavailable.\n  looked in:\n    - " + "\n    - ".join(tried) + f"\n  fix: {how}"
        + (f", or download it from {spec.url}" if spec.url else "") + "."
    )


#: the files each dataset needs: alternatives (any one suffices), each a list of FILES keys
NEEDS: dict[str, list[list[str]]] = {
    "mnist": [["mnist"]],
    "fashion_mnist": [[k for k in FILES if k.startswith("fashion_mnist/")]],
    "cifar10": [["cifar10_jpeg"], ["cifar10"]],
    "imdb": [["imdb"]],
    "imdb_word_index": [["imdb_word_index"]],
    "auto_mpg": [["auto_mpg"]],
    "glove": [["glove50"]],
    "pokemon": [["pokemon"]],
}


def _local(key: str) -> Path | None:
    """The verified local copy of ``key`` (mirror or Keras cache), without downloading or warning."""
    spec = FILES[key]
    root = data_dir()
    for base, rel, expected in ((root, spec.mirror_path, spec.mirror_sha256),
                                (keras_cache_dir(), spec.keras_path, spec.keras_sha256)):
        if base is not None and rel and (base / rel).is_file() and sha256(base / rel) == expected:
            return base / rel
    return None


def _network_ok(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except Exception:  # no route, DNS failure, timeout, HTTP error: treat as offline
        return False


def availability(*, download: bool | None = None) -> dict[str, str | None]:
    """For every dataset in :data:`NEEDS`: ``None`` when its real files are at hand, else what is missing.

    Looks in ``$BOOK_DATA_DIR`` and the Keras cache. With ``download=True`` (default: unless
    ``BOOK_OFFLINE=1``) files that are missing locally are downloaded when the network answers (one
    quick probe; no waiting for a network that is not there). Nothing is decoded.
    """
    if download is None:
        download = os.environ.get("BOOK_OFFLINE", "0") != "1"
    online: bool | None = None if download else False
    result = {}
    for name, alternatives in NEEDS.items():
        missing_by_alternative = []
        for keys in alternatives:
            missing = [k for k in keys if _local(k) is None]
            if missing and online is not False and all(FILES[k].url for k in missing):
                if online is None:
                    online = _network_ok(FILES[missing[0]].url)
                if online:
                    try:
                        for k in missing:
                            resolve(k)
                        missing = []
                    except DatasetUnavailable:
                        pass
            if not missing:
                break
            missing_by_alternative.append(missing)
        else:
            where = " or ".join(
                ", ".join(f"$BOOK_DATA_DIR/{FILES[k].mirror_path}" if FILES[k].mirror_path
                          else f"{keras_cache_dir() / FILES[k].keras_path}" for k in keys)
                for keys in missing_by_alternative)
            result[name] = where
            continue
        result[name] = None
    return result


def _real_or_standin(name: str, real, standin):
    try:
        return real()
    except DatasetUnavailable as err:
        if get_profile() != "ci":
            raise
        message = (f"⚠ 数据集 {name} 不可用，ci 模式改用形状相同、可学习的合成替身数据（结果不可与教材比较）。\n{err}")
        warnings.warn(message, stacklevel=3)
        print(f"⚠ 使用 {name} 的合成替身数据（synthetic stand-in）")
        return standin()


_MARKER = ".complete"
_VERIFIED: set[str] = set()  # extracted folders checked against their manifest in this process


def _manifest(folder: Path) -> dict:
    """Number of files and their total size under ``folder`` (the completion marker excluded)."""
    files = size = 0
    for dirpath, _, names in os.walk(folder):
        for n in names:
            if dirpath == str(folder) and n == _MARKER:
                continue
            files += 1
            size += os.path.getsize(os.path.join(dirpath, n))
    return {"files": files, "bytes": size}


def _extracted_ok(target: Path) -> str | None:
    """``None`` when ``target`` is a complete extraction, else why not (``""``: absent)."""
    marker = target / _MARKER
    if not marker.is_file():
        return "" if not target.exists() else "no completion marker (interrupted extraction)"
    if str(target) in _VERIFIED:
        return None
    text = marker.read_text(encoding="utf-8").strip()
    found = _manifest(target)
    if not text:  # written by an older book_utils after a completed extraction: record what is there
        with atomic_file(marker) as f:
            f.write(json.dumps(found).encode())
    else:
        try:
            expected = json.loads(text)
        except ValueError:
            return "unreadable completion marker"
        if expected != found:
            return (f"expected {expected['files']} files / {expected['bytes']} bytes, "
                    f"found {found['files']} / {found['bytes']}")
    _VERIFIED.add(str(target))
    return None


def _extract(archive: Path, name: str) -> Path:
    """Extract a verified tarball once into the cache; return the folder.

    Extraction goes to a temporary folder that is renamed into place when complete, under a lock,
    so an interrupted or concurrent run never leaves a half-extracted folder behind.
    """
    target = cache_dir() / f"{name}-{sha256(archive)[:12]}"
    if _extracted_ok(target) is None:
        return target
    with _locked(target.parent, target.name):
        problem = _extracted_ok(target)
        if problem is None:
            return target
        if problem:
            _damaged(target, problem)
        _remove_stale_temps(target)
        tmp = _temp_name(target)
        try:
            tmp.mkdir()
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            (tmp / _MARKER).write_text(json.dumps(_manifest(tmp)), encoding="utf-8")
            os.replace(tmp, target)
        finally:
            _remove(tmp)
        _VERIFIED.add(str(target))
    return target


def _discard_extraction(target: Path, reason: str) -> None:
    """Delete an extracted folder whose files turned out unreadable (the next ``_extract`` rebuilds it)."""
    with _locked(target.parent, target.name):
        _VERIFIED.discard(str(target))
        if target.exists():
            _damaged(target, reason)


# --------------------------------------------------------------------------- stand-ins

def _standin_images(n_train, n_test, shape, classes=10, seed=0):
    """Class-dependent smooth templates plus noise: same shapes/dtypes as the real set, learnable."""
    rng = np.random.default_rng(seed)
    templates = rng.uniform(0, 1, (classes, *shape))
    for _ in range(2):  # cheap smoothing along the spatial axes
        templates = (templates + np.roll(templates, 1, 1) + np.roll(templates, 1, 2)) / 3

    def make(n):
        y = np.arange(n) % classes
        rng.shuffle(y)
        x = templates[y].astype(np.float32) + 0.15 * rng.standard_normal((n, *shape), dtype=np.float32)
        return (np.clip(x, 0, 1) * 255).astype(np.uint8), y.astype(np.uint8)

    return make(n_train), make(n_test)


def _standin_sequences(n, num_words, seed):
    rng = np.random.default_rng(seed)
    num_words = num_words or 10000
    y = rng.integers(0, 2, n)
    x = np.empty(n, dtype=object)
    for i in range(n):
        length = int(rng.integers(40, 240))
        seq = rng.integers(4, num_words, length)
        marker = 10 + y[i]  # token 10 marks negative, 11 positive
        seq[rng.random(length) < 0.08] = marker
        x[i] = [1] + seq.tolist()
    return x, y.astype(np.int64)


# --------------------------------------------------------------------------- loaders

def _check_positive_int(name, value, allow_none=True):
    if value is None and allow_none:
        return
    check_int(name, value, accepted=f"a positive integer{' or None' if allow_none else ''}")


def load_mnist():
    """MNIST as Keras returns it: ``(x_train, y_train), (x_test, y_test)``, uint8 28×28 images."""
    def real():
        with np.load(resolve("mnist")) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])

    return _real_or_standin("MNIST", real, lambda: _standin_images(60000, 10000, (28, 28), seed=1))


def _read_idx_gz(path: Path, offset: int, shape=None) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = np.frombuffer(f.read(), np.uint8, offset=offset)
    return data.reshape(shape) if shape else data


def load_fashion_mnist():
    """Fashion-MNIST, same layout as :func:`load_mnist`."""
    def real():
        p = {k.split("/")[1]: resolve(k) for k in FILES if k.startswith("fashion_mnist/")}
        y_train = _read_idx_gz(p["train-labels-idx1-ubyte.gz"], 8)
        x_train = _read_idx_gz(p["train-images-idx3-ubyte.gz"], 16, (len(y_train), 28, 28))
        y_test = _read_idx_gz(p["t10k-labels-idx1-ubyte.gz"], 8)
        x_test = _read_idx_gz(p["t10k-images-idx3-ubyte.gz"], 16, (len(y_test), 28, 28))
        return (x_train, y_train), (x_test, y_test)

    return _real_or_standin("Fashion-MNIST", real, lambda: _standin_images(60000, 10000, (28, 28), seed=2))


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _cifar_from_jpeg(archive: Path):
    from PIL import Image

    cached = cache_dir() / f"cifar10_jpeg-{sha256(archive)[:12]}.npz"

    def decode():
        root = _extract(archive, "cifar10_jpeg") / "cifar10_jpeg"
        arrays = {}
        for split in ("train", "test"):
            xs, ys = [], []
            for label, cls in enumerate(CIFAR10_CLASSES):
                for file in sorted((root / split / cls).glob("*.jpg")):
                    with Image.open(file) as im:
                        xs.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
                    ys.append(label)
            order = np.random.default_rng(0).permutation(len(xs))  # class-sorted on disk; shuffle once
            arrays[f"x_{split}"] = np.stack(xs)[order]
            arrays[f"y_{split}"] = np.asarray(ys, np.uint8)[order, None]
        return arrays

    arrays = _cached_arrays(cached, decode)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _cifar_from_python(archive: Path):
    import pickle

    def read(root, name):
        with open(root / name, "rb") as f:  # archive verified by SHA-256 above
            d = pickle.load(f, encoding="bytes")
        return d[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(d[b"labels"], np.uint8)[:, None]

    for attempt in range(2):
        folder = _extract(archive, "cifar10")
        root = folder / "cifar-10-batches-py"
        try:
            parts = [read(root, f"data_batch_{i}") for i in range(1, 6)]
            x_test, y_test = read(root, "test_batch")
            break
        except Exception as err:  # truncated or altered pickle: EOFError, UnpicklingError, KeyError, ValueError
            if attempt:
                raise DatasetUnavailable(f"cache entry {folder} is unreadable even after a fresh extraction "
                                         f"({type(err).__name__}: {err}); delete it and check the disk") from None
            _discard_extraction(folder, f"{type(err).__name__}: {err}")
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])), (x_test, y_test)


def load_cifar10():
    """CIFAR-10 as Keras returns it (uint8 32×32×3, labels shaped (N, 1)).

    Prefers the JPEG copy in ``$BOOK_DATA_DIR`` (announced: its pixels differ slightly from the
    lossless original), then the original python tarball from the Keras cache or the web.
    """
    def real():
        try:
            archive = resolve("cifar10_jpeg")
        except DatasetUnavailable as jpeg_err:
            try:
                return _cifar_from_python(resolve("cifar10"))
            except DatasetUnavailable as err:
                raise DatasetUnavailable(f"{jpeg_err}\n{err}") from None
        print("注意: 使用 CIFAR-10 的 JPEG（质量≈75）副本，像素与原始无损数据略有差异。")
        return _cifar_from_jpeg(archive)

    # the stand-in is smaller than the real set (10,000 / 2,000 images) to stay cheap in ci
    return _real_or_standin("CIFAR-10", real, lambda: _standin_images(10000, 2000, (32, 32, 3), seed=3))


def load_imdb(num_words: int | None = None, maxlen: int | None = None):
    """IMDB reviews as integer sequences, like ``keras.datasets.imdb.load_data``.

    Index 1 marks the start, 2 is out-of-vocabulary, word rank r is encoded as r + 3.
    ``num_words`` keeps the most frequent words (others become 2); ``maxlen`` drops longer reviews.
    """
    _check_positive_int("num_words", num_words)
    _check_positive_int("maxlen", maxlen)

    def limit(x, y):
        if num_words is not None:
            x = np.array([[w if w < num_words else 2 for w in seq] for seq in x], dtype=object)
        if maxlen is not None:
            keep = np.array([len(s) <= maxlen for s in x])
            x, y = x[keep], y[keep]
        return x, y

    def real():
        with np.load(resolve("imdb"), allow_pickle=True) as f:  # checksum verified by resolve()
            return limit(f["x_train"], f["y_train"]), limit(f["x_test"], f["y_test"])

    return _real_or_standin(
        "IMDB", real,
        lambda: (limit(*_standin_sequences(25000, num_words, 4)), limit(*_standin_sequences(25000, num_words, 5))))


def load_imdb_word_index() -> dict:
    """Word → rank (1 = most frequent) as published with Keras's IMDB set."""
    def real():
        with open(resolve("imdb_word_index"), encoding="utf-8") as f:
            return json.load(f)

    return _real_or_standin("IMDB word index", real, lambda: {f"word{i}": i for i in range(1, 20001)})


AUTO_MPG_COLUMNS = ["MPG", "Cylinders", "Displacement", "Horsepower", "Weight", "Acceleration", "Model Year",
                    "Origin"]


def load_auto_mpg():
    """The raw UCI Auto MPG table as a pandas DataFrame: 398 rows, 8 columns, '?' read as NaN."""
    import pandas as pd

    def real():
        return pd.read_csv(resolve("auto_mpg"), names=AUTO_MPG_COLUMNS, na_values="?", comment="\t",
                           sep=" ", skipinitialspace=True)

    def standin():
        rng = np.random.default_rng(6)
        n = 398
        weight = rng.uniform(1600, 5100, n)
        hp = weight / 30 + rng.normal(0, 10, n)
        df = pd.DataFrame({
            "MPG": 50 - weight / 150 - hp / 20 + rng.normal(0, 2, n), "Cylinders": rng.choice([4, 6, 8], n),
            "Displacement": weight / 12, "Horsepower": hp, "Weight": weight,
            "Acceleration": rng.uniform(8, 25, n), "Model Year": rng.integers(70, 83, n),
            "Origin": rng.integers(1, 4, n)})
        df.loc[rng.choice(n, 6, replace=False), "Horsepower"] = np.nan
        return df

    return _real_or_standin("Auto MPG", real, standin)


def load_glove(max_words: int | None = None) -> dict:
    """GloVe 6B 50-d vectors (the 50,000 most frequent words) as ``{word: float32 vector}``."""
    _check_positive_int("max_words", max_words)

    def real():
        vectors = {}
        with open(resolve("glove50"), encoding="utf-8") as f:
            for i, line in enumerate(f):
                if max_words is not None and i >= max_words:
                    break
                word, *values = line.rstrip().split(" ")
                vectors[word] = np.asarray(values, dtype=np.float32)
        return vectors

    def standin():
        rng = np.random.default_rng(7)
        return {f"word{i}": rng.normal(0, 0.5, 50).astype(np.float32) for i in range(max_words or 5000)}

    return _real_or_standin("GloVe", real, standin)


def pokemon_dir() -> Path:
    """Folder ``pokemon`` with one sub-folder of JPEGs per class (5 classes)."""
    return _extract(resolve("pokemon"), "pokemon") / "pokemon"


def load_image_folder(path, *, image_size=(64, 64), batch_size: int = 32, color_mode: str = "rgb",
                      validation_split: float | None = None, subset: str | None = None, seed: int | None = None,
                      shuffle: bool = True):
    """A class-per-folder image set as a batched ``tf.data.Dataset`` of (images uint8→float32, labels).

    Thin, validated wrapper of ``keras.utils.image_dataset_from_directory``; the class names are
    in ``dataset.class_names``.
    """
    path = Path(path)
    if not path.is_dir():
        raise DatasetUnavailable(f"image folder {path} does not exist; expected one sub-folder per class")
    classes = sorted(p.name for p in path.iterdir() if p.is_dir())
    if not classes:
        raise DatasetUnavailable(f"image folder {path} has no class sub-folders; expected e.g. {path}/cat/*.jpg")
    image_size = check_shape("image_size", image_size, 2, accepted="(height, width) with positive sizes")
    _check_positive_int("batch_size", batch_size, allow_none=False)
    check_choice("color_mode", color_mode, ("rgb", "grayscale", "rgba"))
    return keras.utils.image_dataset_from_directory(
        path, image_size=tuple(image_size), batch_size=batch_size, color_mode=color_mode,
        validation_split=validation_split, subset=subset, seed=resolve_seed(seed), shuffle=shuffle, verbose=False)


# --------------------------------------------------------------------------- pipelines

def make_dataset(x, y=None, *, batch_size: int = 128, shuffle: bool = False, seed: int | None = None, map_fn=None,
                 repeat: bool = False, drop_remainder: bool = False):
    """``tf.data`` pipeline from in-memory arrays: (shuffle) → map → batch → cache → prefetch."""
    _check_positive_int("batch_size", batch_size, allow_none=False)
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(f"x must be an array of samples (e.g. a NumPy array), got {type(x).__name__}")
    n = len(x)
    if n == 0:
        raise ValueError("x is empty (0 samples); make_dataset needs at least one sample")
    if y is not None and (isinstance(y, (str, bytes)) or not hasattr(y, "__len__")):
        raise TypeError(f"y must be an array of labels (one per sample) or None, got {type(y).__name__}")
    if y is not None and len(y) != n:
        raise ValueError(f"x has {n} samples but y has {len(y)}; they must match")
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(n, 60000), seed=resolve_seed(seed), reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def preprocess_images(x, *, flatten: bool = False, dtype="float32"):
    """uint8 images → floats in [0, 1] (optionally flattened to vectors)."""
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"preprocess_images expects uint8 pixels (0–255), got {x.dtype}")
    x = x.astype(dtype) / 255.0
    return x.reshape(len(x), -1) if flatten else x


def mnist_datasets(*, batch_size: int = 128, train_size: int | None = None, test_size: int | None = None,
                   value_range=(-1.0, 1.0), flatten: bool = True, one_hot: bool = False, seed: int | None = None,
                   eval_batch_size: int | None = None):
    """MNIST as ready-to-train ``(train_ds, test_ds)`` ``tf.data`` pipelines.

    Pixels are cast to float32 *before* scaling (uint8 arithmetic would overflow) and mapped linearly
    from 0–255 to ``value_range`` (the textbook's chapter 3 uses [-1, 1]); ``flatten`` turns each
    28×28 image into a 784-vector; ``one_hot`` turns labels into float32 10-vectors, otherwise they
    stay int32 class indices. ``train_size``/``test_size`` keep the first N samples (profile slices).
    The training set is shuffled every epoch (seeded); the test set keeps its order.
    """
    _check_positive_int("train_size", train_size)
    _check_positive_int("test_size", test_size)
    _check_positive_int("batch_size", batch_size, allow_none=False)
    _check_positive_int("eval_batch_size", eval_batch_size)
    low, high = check_range("value_range", value_range)
    (x_train, y_train), (x_test, y_test) = load_mnist()

    def prepare(x, y, n):
        x, y = x[:n], y[:n]
        x = (low + (high - low) * preprocess_images(x, flatten=flatten)).astype(np.float32)
        y = np.eye(10, dtype=np.float32)[y] if one_hot else y.astype(np.int32)
        return x, y

    train = make_dataset(*prepare(x_train, y_train, train_size), batch_size=batch_size, shuffle=True, seed=seed)
    test = make_dataset(*prepare(x_test, y_test, test_size), batch_size=eval_batch_size or max(batch_size, 1000))
    return train, test


# --------------------------------------------------------------------------- cache warm-up
#: loaders whose first call decodes or extracts into ``cache_dir()`` (the rest only verify a file)
WARMUP = {"cifar10": load_cifar10, "pokemon": pokemon_dir, "mnist": load_mnist,
          "fashion_mnist": load_fashion_mnist, "imdb": load_imdb, "glove": load_glove}


def prepare(names=None) -> dict:
    """Verify and decode the datasets once, so later loads read the cache.

    ``names`` is one name (``"mnist"``), a list of names, or ``None`` for all of :data:`WARMUP`.
    Returns ``{name: seconds}``. A dataset that is not available raises :class:`DatasetUnavailable`,
    as the loaders do; CI runs this before the notebooks so that their time excludes one-off decoding.
    Safe to interrupt and to run in several processes at once: cache entries are written atomically
    under a lock per entry, and a damaged entry is reported, deleted and rebuilt.
    """
    import time

    if isinstance(names, str):
        names = [names]
    elif names is not None and (not hasattr(names, "__iter__") or any(not isinstance(n, str) for n in names)):
        raise TypeError(f"names must be a dataset name, a list of names or None, got {names!r}")
    names = list(WARMUP) if names is None else list(names)
    unknown = [n for n in names if n not in WARMUP]
    if unknown:
        raise ValueError(f"unknown dataset(s) {unknown}; choose from {sorted(WARMUP)}")
    times = {}
    for name in names:
        t0 = time.perf_counter()
        WARMUP[name]()
        times[name] = round(time.perf_counter() - t0, 1)
    return times
