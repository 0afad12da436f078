"""Profiles (ci / book / full), ``setup()``, seeding and determinism, result records."""
from __future__ import annotations

import json
import numbers
import os
import random

import keras
import numpy as np
import tensorflow as tf

from .checks import check_int  # also re-exported: ``from book_utils.config import check_int`` keeps working

PROFILES = ("ci", "book", "full")
DEFAULT_PROFILE = "book"
RESULT_MIME = "application/vnd.tfbook.result+json"
ENV_MIME = "application/vnd.tfbook.environment+json"  # what setup() saw in the kernel, for execute's stamp
CONFIG_PREFIX = "⚙ 配置"
SMOKE_ENV = "BOOK_SMOKE"  # 1: the full profile's models and code paths on a few batches (execute --smoke)

#: what smoke mode does to a configuration, by key: loop lengths are capped (a key ending in ``_epochs``
#: or ``_steps`` counts as ``epochs``/``steps``), dataset sizes become two batches, thresholds named
#: ``min_…``/``max_…`` become -inf/+inf and the claims below take the value that asserts nothing a few
#: steps cannot show
SMOKE_LOOPS = {"epochs": 1, "steps": 4, "episodes": 2, "warmup": 16, "patience": 1, "eval_every": 2, "seeds": 1,
               "number": 1, "repeat": 1}
SMOKE_SIZES = ("train_size", "val_size", "test_size", "n", "cifar_train", "train_limit")
SMOKE_CLAIMS = {"factor": 0, "beats_mse": False, "w_falls": False, "fully_trained": False, "judge_on_train": True}


def get_profile() -> str:
    """Return the active profile from ``$BOOK_PROFILE`` (default ``book``)."""
    profile = os.environ.get("BOOK_PROFILE", DEFAULT_PROFILE).strip().lower() or DEFAULT_PROFILE
    if profile not in PROFILES:
        raise ValueError(
            f"BOOK_PROFILE={profile!r} is not a known profile; expected one of {', '.join(PROFILES)}"
        )
    return profile


def is_smoke() -> bool:
    """True when ``$BOOK_SMOKE`` asks for a smoke run of the ``full`` profile."""
    return os.environ.get(SMOKE_ENV, "").strip() not in ("", "0")


def smoke_config(cfg: dict) -> dict:
    """The smoke version of a configuration: same models and code paths, a few batches (see ``SMOKE_LOOPS``)."""
    batch = cfg.get("batch_size") or cfg.get("batch") or 128
    smoke = dict(cfg)
    for key, value in cfg.items():
        loop = "epochs" if key.endswith("_epochs") else "steps" if key.endswith("_steps") else key
        if loop in SMOKE_LOOPS and isinstance(value, int):
            smoke[key] = min(value, SMOKE_LOOPS[loop])
        elif key in SMOKE_SIZES:
            smoke[key] = 2 * batch if value is None else min(value, 2 * batch)
        elif key.startswith(("min_", "max_")):
            smoke[key] = float("-inf") if key.startswith("min_") else float("inf")
        elif key in SMOKE_CLAIMS:
            smoke[key] = SMOKE_CLAIMS[key]
    return smoke


def set_seed(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras in one call."""
    # an int also for NumPy integers: random.seed accepts only Python ints
    seed = check_int("seed", seed, 0, 2**32 - 1, accepted="a non-negative integer below 2**32 (NumPy's seed range)")
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    keras.utils.set_random_seed(int(seed))


ENVIRONMENT: dict = {}
RESULTS: list[dict] = []


DEFAULT_SEED = 42


def resolve_seed(seed: int | None = None) -> int:
    """``seed`` itself, or the seed given to ``setup`` when it is None (``DEFAULT_SEED`` before any setup).

    Every helper with a ``seed`` argument defaults to None and calls this, so ``bu.setup(seed=…)``
    decides shuffle orders, augmentations, NumPy draws and initial weights unless a call passes its own.
    """
    return ENVIRONMENT.get("seed", DEFAULT_SEED) if seed is None else seed


def setup(seed: int = DEFAULT_SEED, *, precision: int = 4, quiet: bool = False) -> None:
    """Prepare a chapter: seeds, deterministic ops, print precision, plot style, banner.

    The environment facts that the banner prints are kept in ``book_utils.config.ENVIRONMENT``.
    """
    check_int("precision", precision, 0, 16)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from . import device, plotting

    profile = get_profile()
    device_name = device.configure()  # memory growth must happen before any op runs
    set_seed(seed)
    tf.config.experimental.enable_op_determinism()
    np.set_printoptions(precision=precision, suppress=True, linewidth=100)
    plotting.use_book_style()
    ENVIRONMENT.clear()
    info = ENVIRONMENT
    info.update({
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "device": device_name,
        "profile": profile,
        "seed": int(seed),
    })
    if not quiet:
        print(
            f"TensorFlow {info['tensorflow']} · Keras {info['keras']} · 设备 {device_name}"
            f" · profile={profile}{' · smoke' if is_smoke() else ''} · seed={seed}"
        )
    _display({ENV_MIME: json.dumps(info)})


def _display(bundle: dict, **kwargs) -> bool:
    """Show a raw MIME bundle when running under IPython; return False outside it."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    if get_ipython() is None:
        return False
    display(bundle, raw=True, **kwargs)
    return True


def profile_config(*, ci: dict, book: dict, full: dict | None = None, show: bool = True) -> dict:
    """Pick the experiment sizes for the active profile.

    ``full`` defaults to ``book``; keys missing from a profile are inherited from ``book``
    so an experiment declares only what differs. The chosen sizes are printed on one line
    starting with ``⚙ 配置`` (the nbval sanitizer normalises exactly this line). In smoke mode
    (:func:`is_smoke`) the ``full`` sizes go through :func:`smoke_config`.
    """
    for name, value in (("ci", ci), ("book", book), ("full", full)):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"profile_config({name}=...) must be a dict of sizes, got {type(value).__name__}")
    full = {} if full is None else full
    profile = get_profile()
    chosen = dict(book)
    chosen.update({"ci": ci, "book": {}, "full": full}[profile])
    unknown = (set(ci) | set(full)) - set(book)
    if unknown:
        raise ValueError(
            f"profile_config: keys {sorted(unknown)} are not in book=...; "
            "declare every size in the book profile first"
        )
    smoke = is_smoke()
    if smoke:
        chosen = smoke_config(chosen)
    if show:
        body = ", ".join(f"{k}={v!r}" for k, v in chosen.items())
        print(f"{CONFIG_PREFIX}（profile={profile}{' · smoke' if smoke else ''}）: {body}")
    return Config(chosen)


class Config(dict):
    """A dict whose keys are also attributes: ``cfg.epochs``."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no size {key!r} in this configuration; have {sorted(self)}") from None


def record_result(name: str, value, *, textbook=None, unit: str = "", higher_is_better: bool = True) -> None:
    """Record an experiment's headline number.

    Displays one line for the reader and a machine-readable record that
    ``python -m book_utils.execute`` collects into the notebook metadata
    (``metadata.book.results``) for the results page; also appended to ``config.RESULTS``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("record_result needs a non-empty name, e.g. 'ch03_mnist_test_accuracy'")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"record_result value must be a number, got {type(value).__name__}") from None
    if not np.isfinite(number):
        raise ValueError(f"record_result value for {name!r} is not finite: {number}")
    if textbook is not None:
        textbook = float(textbook)
    record = {
        "name": name,
        "value": number,
        "textbook": textbook,
        "unit": unit,
        "profile": get_profile(),
        "higher_is_better": bool(higher_is_better),
    }
    RESULTS.append(record)
    text = f"📌 {name} = {number:.4g}{unit}"
    if textbook is not None:
        text += f"（教材报告: {textbook:.4g}{unit}）"
    if not _display({"text/plain": text, RESULT_MIME: json.dumps(record)}):
        print(text)


GLUE_MIME_PREFIX = "application/papermill.record/"  # the prefix myst-nb's {glue} roles read


def glue(name: str, value) -> None:
    """Store a computed number (or short text) for the chapter's prose, without showing it.

    A markdown cell then writes ``{glue:text}`name:.2f``` (or ``{glue:text}`name:.1%```) and the
    site prints the value this cell computed, so re-executing the chapter updates the sentence.
    NumPy/TensorFlow scalars are converted to Python numbers first (myst-nb formats their repr).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue name must be an identifier such as 'ch02_w', got {name!r}")
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise TypeError(f"glue value for {name!r} must be a number or a string, got {type(value).__name__}")
    if isinstance(value, numbers.Real) and not np.isfinite(value):
        raise ValueError(f"glue value for {name!r} is not finite: {value}")
    _display({GLUE_MIME_PREFIX + "text/plain": repr(value)},
             metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_MIME_PREFIX}})
