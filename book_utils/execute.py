"""Re-execute chapter notebooks in place and stamp their metadata.

    python -m book_utils.execute [--profile book] chapters/ch01_intro.ipynb ...

The stored outputs of the book come from this command in the ``book`` profile. It records the
profile, versions, device and wall time in ``metadata.book`` and collects every
``bu.record_result`` into ``metadata.book.results``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

from .config import PROFILES, RESULT_MIME


def collect_results(nb) -> list[dict]:
    results = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if RESULT_MIME in data:
                raw = data[RESULT_MIME]
                results.append(json.loads(raw) if isinstance(raw, str) else dict(raw))
    return results


# Native TensorFlow runtime notices (absl pre-init warning, C++ log lines such as
# "I0000 00:00:1796… port.cc:153] oneDNN custom operations are on …"): noise, never results.
_NATIVE_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*)$")


def strip_native_logs(nb) -> int:
    """Drop stderr stream outputs made only of native TF runtime log lines; return how many were dropped."""
    dropped = 0
    for cell in nb.cells:
        outputs = cell.get("outputs", [])
        keep = [o for o in outputs if not (
            o.get("output_type") == "stream" and o.get("name") == "stderr"
            and all(_NATIVE_LOG_LINE.match(line) for line in o.get("text", "").splitlines() if line.strip()))]
        dropped += len(outputs) - len(keep)
        if cell.cell_type == "code":
            cell.outputs = keep
    return dropped


def execute_notebook(path, profile: str = "book", timeout: int = 3600) -> dict:
    """Execute one notebook in place with ``BOOK_PROFILE=profile``; return its ``metadata.book``."""
    import keras
    import nbformat
    import tensorflow as tf
    from nbclient import NotebookClient

    from . import device

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    path = Path(path)
    if path.suffix != ".ipynb" or not path.is_file():
        raise FileNotFoundError(f"{path} is not a notebook file")
    nb = nbformat.read(path, as_version=4)
    old_profile = os.environ.get("BOOK_PROFILE")
    os.environ["BOOK_PROFILE"] = profile
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                                store_widget_state=True, resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        wall = time.perf_counter() - start
    finally:
        if old_profile is None:
            os.environ.pop("BOOK_PROFILE", None)
        else:
            os.environ["BOOK_PROFILE"] = old_profile
    strip_native_logs(nb)
    stamp = {
        "profile": profile,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "device": device.configure(),
        "wall_time_s": round(wall, 1),
        "results": collect_results(nb),
    }
    nb.metadata["book"] = stamp
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, path)
    return stamp


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book_utils.execute", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="notebook files to execute in place")
    parser.add_argument("--profile", default="book", choices=PROFILES)
    parser.add_argument("--timeout", type=int, default=3600, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)
    for nb in args.notebooks:
        stamp = execute_notebook(nb, args.profile, args.timeout)
        print(f"{nb}: {stamp['wall_time_s']:.1f}s (profile={args.profile}, {len(stamp['results'])} results)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
