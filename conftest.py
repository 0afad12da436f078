"""Root pytest configuration: notebooks under test run in the small ``ci`` profile.

nbval starts the notebook kernels from this process, so the environment set here reaches them.
Set BOOK_TEST_PROFILE=book to re-run the notebooks at book size.
"""
import os

from pathlib import Path

_shared = Path(__file__).resolve().parent.parent / "shared" / "datasets"
if not os.environ.get("BOOK_DATA_DIR") and _shared.is_dir():
    os.environ["BOOK_DATA_DIR"] = str(_shared)  # the offline mirror beside the checkout, as .ci/run does
os.environ["BOOK_PROFILE"] = os.environ.get("BOOK_TEST_PROFILE", "ci")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
