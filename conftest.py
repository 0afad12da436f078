"""Root pytest configuration: notebooks under test run in the small ``ci`` profile.

nbval starts the notebook kernels from this process, so the environment set here reaches them.
Set BOOK_TEST_PROFILE=book to re-run the notebooks at book size.

Before the notebooks run, the session resolves the real datasets (``$BOOK_DATA_DIR``, the Keras
cache, a download when the network answers) and prints one block at the top saying what is missing
and how to provide it. A notebook that needs a missing dataset is skipped with that reason: its
stored outputs come from the real data, so a run on the synthetic stand-ins could only report
spurious output mismatches. Unit tests and the other notebooks still run.
"""

import os
import re
from pathlib import Path

import pytest

_shared = Path(__file__).resolve().parent.parent / "shared" / "datasets"
if not os.environ.get("BOOK_DATA_DIR") and _shared.is_dir():
    os.environ["BOOK_DATA_DIR"] = str(_shared)  # the offline mirror beside the checkout, as .ci/run does
os.environ["BOOK_PROFILE"] = os.environ.get("BOOK_TEST_PROFILE", "ci")
os.environ["BOOK_BATCH"] = "1"  # no live progress lines (book_utils.progress): outputs stay comparable
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

# what a notebook's code calls -> the dataset (book_utils.data.NEEDS) it needs
_USES = {
    "mnist": r"\bload_mnist\(|\bmnist_datasets\(",
    "fashion_mnist": r"\bload_fashion_mnist\(",
    "cifar10": r"\bload_cifar10\(",
    "imdb": r"\bload_imdb\(",
    "imdb_word_index": r"\bload_imdb_word_index\(",
    "auto_mpg": r"\bload_auto_mpg\(",
    "glove": r"\bload_glove\(",
    "pokemon": r"\bpokemon_dir\(",
}
_MISSING: dict | None = None


def notebook_datasets(path) -> list[str]:
    """The datasets a notebook loads, from the loader calls in its code cells."""
    import json

    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return [name for name, pattern in _USES.items() if re.search(pattern, code)]


def _runs_notebooks(config) -> bool:
    args = [str(a) for a in config.args] or list(config.getini("testpaths"))
    return any(a.endswith(".ipynb") or "chapters" in a for a in args) or not config.args


def missing_datasets(config) -> dict:
    """``{dataset: where it was expected}`` for the datasets that are not available (computed once)."""
    global _MISSING
    if _MISSING is None:
        _MISSING = {}
        if _runs_notebooks(config):
            from book_utils import data

            _MISSING = {name: where for name, where in data.availability().items() if where}
    return _MISSING


def _data_block(config) -> list[str]:
    missing = missing_datasets(config)
    if not _runs_notebooks(config):
        return []
    if not missing:
        return [f"datasets: all real datasets available (BOOK_DATA_DIR={os.environ.get('BOOK_DATA_DIR', '<unset>')})"]
    offline = os.environ.get("BOOK_OFFLINE") == "1"
    return [
        f"datasets: {len(missing)} real dataset(s) MISSING -- notebooks that load them are SKIPPED",
        *(f"  - {name}: expected at {where}" for name, where in missing.items()),
        "  how to provide them:",
        "    * point BOOK_DATA_DIR at a mirror laid out like ../shared/datasets (README, 'Datasets'), or",
        "    * allow network access"
        + (" and unset BOOK_OFFLINE" if offline else "")
        + " (files are downloaded into the Keras cache and checked by SHA-256),",
        "    * then warm the cache once: python -c 'from book_utils import data; data.prepare()'",
    ]


def pytest_report_header(config):
    return _data_block(config)


def pytest_collection_modifyitems(config, items):
    missing = missing_datasets(config)
    if not missing:
        return
    needs: dict[Path, list[str]] = {}
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix != ".ipynb":
            continue
        if path not in needs:
            needs[path] = [n for n in notebook_datasets(path) if n in missing]
        if needs[path]:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"real data missing ({', '.join(needs[path])}); stored outputs come from the real "
                    "datasets -- see the 'datasets' block at the top of the run"
                )
            )


def pytest_terminal_summary(terminalreporter, config):
    if missing_datasets(config):
        terminalreporter.write_sep("-", "datasets")
        for line in _data_block(config):
            terminalreporter.write_line(line)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Notebook kernels (started at a notebook's first cell) render 2 frames per widget preview: nbval
    compares a preview only as a placeholder (tests/nbval_sanitize.cfg); unit tests build full previews."""
    if Path(str(item.fspath)).suffix == ".ipynb":
        os.environ["BOOK_PREVIEW_FRAMES"] = "2"
    else:
        os.environ.pop("BOOK_PREVIEW_FRAMES", None)
