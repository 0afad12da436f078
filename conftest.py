"""Root pytest configuration: notebooks under test run in the small ``ci`` profile.

nbval starts the notebook kernels from this process, so the environment set here reaches them.
Set BOOK_TEST_PROFILE=book to re-run the notebooks at book size.
"""
import os

os.environ["BOOK_PROFILE"] = os.environ.get("BOOK_TEST_PROFILE", "ci")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
