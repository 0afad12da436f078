"""Re-execute chapter notebooks in place and stamp their metadata.

    python -m book_utils.execute [--profile book] chapters/ch01_intro.ipynb ...

The stored outputs of the book come from this command in the ``book`` profile. It records the
profile, versions, device and wall time in ``metadata.book`` and collects every
``bu.record_result`` into ``metadata.book.results``.

Execution cannot hang: each cell gets a timeout derived from the profile's time budget
(:func:`cell_timeout`), and a kernel that has finished a cell (reported idle) without sending its
reply is detected after ``reply_grace`` seconds; either failure names the cell and leaves the file
unwritten. Machine paths in stored outputs, tracebacks included, are shortened to library-relative
paths (:func:`shorten_paths`).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

from .checks import check_choice, check_number
from .config import ENV_MIME, PROFILES, RESULT_MIME, SMOKE_ENV
from .progress import BATCH_ENV
from .widgets._fallback import FRAMES_ENV

#: per-cell timeout in seconds for each profile: the ``ci`` budget is 90 s per notebook (a cell gets
#: 300 s on a loaded machine), ``book`` 15 min per chapter, ``full`` runs the textbook's sizes on a GPU
CELL_TIMEOUT = {"ci": 300, "book": 900, "full": 4 * 3600}
#: chapters whose budget is a multiple of the profile's (chapter 10 trains three CNNs on CIFAR-10: 30 min)
BUDGET_FACTOR = {"ch10_cnn": 2}
#: seconds to wait for a cell's reply after the kernel reported it idle (the reply normally follows at once)
REPLY_GRACE = 60.0


class ExecutionFailed(RuntimeError):
    """A notebook could not be executed; the message names the notebook and the cell."""


def cell_timeout(profile: str, notebook=None, last_wall_time: float | None = None) -> int:
    """Per-cell timeout (seconds) for ``profile``, from the chapter's time budget.

    ``CELL_TIMEOUT[profile]`` times the chapter's ``BUDGET_FACTOR``; when the notebook's previous run
    in this profile (``last_wall_time``, seconds) took more than half of that, twice that run's time,
    capped at twice the budget, so a chapter close to its budget is not cut off on a busy machine.
    """
    check_choice("profile", profile, PROFILES)
    stem = Path(notebook).stem if notebook is not None else ""
    budget = CELL_TIMEOUT[profile] * BUDGET_FACTOR.get(stem, 1)
    if isinstance(last_wall_time, (int, float)) and last_wall_time > budget / 2:
        return int(min(2 * last_wall_time, 2 * budget))
    return int(budget)


_BOOTSTRAP = re.compile(r"\A(?:try:[^\n]*\n(?:(?:    |except)[^\n]*\n)+|import book_utils as bu\n)")


def bootstrap_source(source: str, url: str) -> str:
    """The first cell with its ``import book_utils`` replaced by the hosted-notebook bootstrap for ``url``.

    With the repository's URL (``repository.url`` in ``_config.yml``) a notebook opened on a hosted
    service without ``book_utils`` installs it with one ``%pip`` line; without one it says how to install.
    """
    if url:
        missing = f'    %pip install -q "book_utils[hosted] @ git+{url}"\n    import book_utils as bu\n'
    else:
        missing = ('    raise ModuleNotFoundError("没有找到 book_utils：请在本书仓库的根目录运行 "\n'
                   '                              "pip install -r requirements.txt（见 README「运行环境」）")'
                   ' from None\n')
    head = ("try:  # Colab 等托管笔记本服务上没有 book_utils：见 README「在线运行」\n    import book_utils as bu\n"
            "except ModuleNotFoundError:\n" + missing)
    return head + _BOOTSTRAP.sub("", source, count=1)


def repository_url(start) -> str | None:
    """``repository.url`` from the book's ``_config.yml`` above ``start``; None outside a book."""
    import yaml

    for folder in Path(start).resolve().parents:
        config = folder / "_config.yml"
        if config.is_file():
            return str((yaml.safe_load(config.read_text(encoding="utf-8")).get("repository") or {}).get("url") or "")
    return None


def kernel_environment(nb) -> dict:
    """What ``bu.setup()`` saw inside the kernel (versions, device, profile, seed); {} if it did not run."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            raw = out.get("data", {}).get(ENV_MIME)
            if raw is not None:
                return json.loads(raw) if isinstance(raw, str) else dict(raw)
    return {}


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


# --------------------------------------------------------------------------- machine paths in outputs
_REPO = Path(__file__).resolve().parents[1]
# .../site-packages/keras/src/x.py -> keras/src/x.py ; /usr/lib/python3.11/json/x.py -> json/x.py
_LIBRARY_PREFIX = re.compile(
    r"(?:[A-Za-z]:)?(?:[/\\][^\s/\\'\"\x1b:;,()\[\]]+)*?[/\\](?:site|dist)-packages[/\\]"
    r"|(?:[A-Za-z]:)?(?:[/\\][^\s/\\'\"\x1b:;,()\[\]]+)*?[/\\]lib[/\\]python3(?:\.\d+)?[/\\]")


def _roots(extra=()) -> list[tuple[str, str]]:
    """(folder, what it becomes) pairs, longest first: the notebook folder, the repository, home."""
    roots = [*extra, (str(_REPO), "."), (str(Path.home()), "~")]
    return sorted({r for r in roots if len(r[0]) > 1}, key=lambda r: -len(r[0]))


def shorten_text(text: str, extra_roots=()) -> str:
    """``text`` with absolute library paths made library-relative and the repository/home folders dropped.

    ``extra_roots`` adds ``(folder, replacement)`` pairs, e.g. the notebook's folder → ``"."``.
    """
    text = _LIBRARY_PREFIX.sub("", text)
    for root, repl in _roots(extra_roots):
        if root in text:
            text = re.sub(re.escape(root) + r"[/\\]", "" if repl == "." else repl + "/", text)
            text = re.sub(re.escape(root) + r"(?![\w.\-])", repl, text)
    return text


def shorten_paths(nb, notebook_dir=None) -> int:
    """Shorten machine paths in every text output, error value and traceback; return how many changed.

    ``keras/src/...`` instead of ``/home/me/venv/lib/python3.11/site-packages/keras/src/...``,
    ``book_utils/data.py`` instead of the checkout's absolute path, ``~/`` for the home folder.
    """
    extra = [(str(Path(notebook_dir).resolve()), ".")] if notebook_dir is not None else []
    changed = 0

    def fix(value):
        nonlocal changed
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, str):
            new = shorten_text(value, extra)
            changed += new != value
            return new
        return value

    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if "text" in out:
                out["text"] = fix(out["text"])
            if out.get("output_type") == "error":
                out["evalue"] = fix(out.get("evalue", ""))
                out["traceback"] = fix(out.get("traceback", []))
            for key in list(out.get("data", {})):
                if key.startswith("text/"):
                    out["data"][key] = fix(out["data"][key])
    return changed


# --------------------------------------------------------------------------- a client that cannot hang
def _client_class():
    from queue import Empty

    from jupyter_core.utils import ensure_async
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    class GuardedClient(NotebookClient):
        """nbclient's client with a reply wait that cannot hang (cf. jupyter/nbclient#312).

        nbclient waits for a cell's ``execute_reply`` with one blocking poll of the shell socket for the
        whole cell timeout; a missed socket wake-up then stalls it although the reply has arrived (seen
        after widget cells: the kernel idle, the client waiting). Here the socket is polled again every
        ``poll_interval`` seconds, and a reply that still has not come ``reply_grace`` seconds after the
        kernel reported the cell finished (idle) fails the run, naming the cell.
        """

        reply_grace = REPLY_GRACE
        poll_interval = 1.0
        current_cell_index = None

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            self.current_cell_index = cell_index
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

        async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
            deadline = time.monotonic() + timeout if timeout is not None else None
            idle_since = None
            timeout_reply = None
            while True:
                if timeout_reply is not None:
                    msg = timeout_reply
                    msg["parent_header"] = {"msg_id": msg_id}
                else:
                    wait = self.poll_interval
                    if deadline is not None:
                        wait = max(0.0, min(wait, deadline - time.monotonic()))
                    try:
                        msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=wait))
                    except Empty:
                        if deadline is not None and time.monotonic() >= deadline:
                            task_poll_kernel_alive.cancel()
                            await self._async_check_alive()
                            timeout_reply = await self._async_handle_timeout(timeout, cell)
                        elif task_poll_output_msg.done():  # kernel idle for this cell, reply missing
                            idle_since = idle_since or time.monotonic()
                            if time.monotonic() - idle_since > self.reply_grace:
                                task_poll_kernel_alive.cancel()
                                raise ExecutionFailed(
                                    f"cell {self.current_cell_index}: the kernel went idle but its execute_reply "
                                    f"never arrived within {self.reply_grace:g} s (a lost message, cf. "
                                    "nbclient#312); nothing was written, run the notebook again") from None
                        continue
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                try:
                    await asyncio.wait_for(task_poll_output_msg, self.iopub_timeout)
                except (asyncio.TimeoutError, Empty):
                    if self.raise_on_iopub_timeout:
                        task_poll_kernel_alive.cancel()
                        raise CellTimeoutError.error_from_timeout_and_cell(
                            "Timeout waiting for IOPub output", self.iopub_timeout, cell) from None
                    self.log.warning("Timeout waiting for IOPub output")
                task_poll_kernel_alive.cancel()
                return msg

    return GuardedClient


@contextlib.contextmanager
def _environment(**values):
    """Set environment variables for the kernel about to start; restore them afterwards."""
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run(nb, path: Path, profile: str, timeout: int, reply_grace: float, client_class=None) -> float:
    """Execute ``nb`` (read from ``path``) in a fresh kernel; return the wall time, or raise ExecutionFailed."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    client = (client_class or _client_class())(
        nb, timeout=timeout, kernel_name="python3", record_timing=False, store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}})
    client.reply_grace = float(reply_grace)
    start = time.perf_counter()
    try:
        client.execute()
    except CellTimeoutError:
        raise ExecutionFailed(f"{path}: cell {client.current_cell_index} did not finish within {timeout} s "
                              f"(the per-cell limit of the {profile!r} profile; --timeout changes it)") from None
    except DeadKernelError as err:
        raise ExecutionFailed(f"{path}: the kernel died in cell {client.current_cell_index} ({err})") from None
    except CellExecutionError as err:
        raise ExecutionFailed(f"{path}: cell {client.current_cell_index} raised an error:\n"
                              f"{shorten_text(str(err))}") from None
    except ExecutionFailed as err:
        raise ExecutionFailed(f"{path}: {err}") from None
    return time.perf_counter() - start


def _read(path, timeout):
    import nbformat

    path = Path(path)
    if path.suffix != ".ipynb" or not path.is_file():
        raise FileNotFoundError(f"{path} is not a notebook file")
    if timeout is not None:
        check_number("timeout", timeout, 1, accepted="a positive number of seconds (at least 1) or None")
    return path, nbformat.read(path, as_version=4)


def execute_notebook(path, profile: str = "book", timeout: int | None = None, *, reply_grace: float = REPLY_GRACE,
                     client_class=None) -> dict:
    """Execute one notebook in place with ``BOOK_PROFILE=profile``; return its ``metadata.book``.

    ``timeout`` is the per-cell limit in seconds (``None``: :func:`cell_timeout` of the profile and
    chapter). A cell that times out, raises, or whose reply is lost raises :class:`ExecutionFailed`
    naming the cell; the notebook file is then left as it was.
    """
    check_choice("profile", profile, PROFILES)
    path, nb = _read(path, timeout)
    url = repository_url(path)
    first = next((c for c in nb.cells if c.cell_type == "code"), None)
    if url is not None and first is not None:
        first.source = bootstrap_source(first.source, url)
    if timeout is None:
        last = nb.metadata.get("book", {})
        timeout = cell_timeout(profile, path, last.get("wall_time_s") if last.get("profile") == profile else None)
    # no live progress lines in stored outputs (book_utils.progress)
    with _environment(BOOK_PROFILE=profile, **{BATCH_ENV: "1", SMOKE_ENV: "0"}):
        wall = _run(nb, path, profile, timeout, reply_grace, client_class)
    strip_native_logs(nb)
    shorten_paths(nb, path.parent)
    env = kernel_environment(nb)  # the kernel's versions and device, not this process's
    if env.get("profile", profile) != profile:
        raise ExecutionFailed(f"{path}: the kernel ran profile {env['profile']!r}, not {profile!r}")
    stamp = {
        "profile": profile,
        "tensorflow": env.get("tensorflow"),
        "keras": env.get("keras"),
        "python": platform.python_version(),
        "device": env.get("device"),
        "wall_time_s": round(wall, 1),
        "results": collect_results(nb),
    }
    nb.metadata["book"] = stamp
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    _write_atomically(nb, path)
    return stamp


# --------------------------------------------------------------------------- smoke run of the full profile
#: appended to a notebook in smoke mode: the kernel's peak resident memory and its Keras models' sizes
SMOKE_PROBE = """\
import json as _json, resource as _resource, sys as _sys
import keras as _keras

def _built(obj):
    return isinstance(obj, _keras.Model) and obj.built

def _models(names):  # a model, or one held in a dict, list, tuple or an object's attributes
    for name, obj in names:
        if _built(obj):
            yield name, obj
            continue
        if isinstance(obj, dict):
            children = ((f"{name}[{k!r}]", v) for k, v in obj.items())
        elif isinstance(obj, (list, tuple)):
            children = ((f"{name}[{i}]", v) for i, v in enumerate(obj))
        elif not name.startswith("_") and hasattr(obj, "__dict__") and not isinstance(obj, type):
            children = ((f"{name}.{k}", v) for k, v in vars(obj).items())
        else:
            continue
        yield from ((child, v) for child, v in children if _built(v))

_params = {}
for _name, _model in _models(list(globals().items())):
    _params.setdefault(id(_model), (_name, _model.count_params()))
_peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / (2**20 if _sys.platform == "darwin" else 2**10)
print(_json.dumps({"peak_mb": round(_peak), "params": dict(sorted(_params.values(), key=lambda kv: -kv[1]))}))
"""


def smoke_notebook(path, timeout: int | None = None, *, reply_grace: float = REPLY_GRACE) -> dict:
    """Run a notebook's ``full`` configuration on a few batches (``BOOK_SMOKE=1``); never write the file.

    Returns the wall time, the kernel's peak resident memory (MB) and the parameter count of every
    built Keras model the notebook leaves in its namespace, largest first.
    """
    import nbformat

    path, nb = _read(path, timeout)
    nb.cells.append(nbformat.v4.new_code_cell(SMOKE_PROBE))
    with _environment(BOOK_PROFILE="full", **{BATCH_ENV: "1", SMOKE_ENV: "1", FRAMES_ENV: "2"}):
        wall = _run(nb, path, "full", timeout or CELL_TIMEOUT["ci"], reply_grace)
    probe = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    return {"notebook": path.stem, "seconds": round(wall, 1), **json.loads(probe.strip().splitlines()[-1])}


def smoke_table(rows: list[dict]) -> str:
    """The smoke report as a text table: notebook, seconds, peak MB, largest model and its parameters."""
    lines = [f"{'notebook':28} {'seconds':>8} {'peak MB':>8}  largest model (parameters)"]
    for row in rows:
        name, count = next(iter(row["params"].items()), ("-", 0))
        lines.append(f"{row['notebook']:28} {row['seconds']:8.1f} {row['peak_mb']:8d}  {name} ({count:,})")
    return "\n".join(lines)


def _previous_smoke_seconds() -> dict:
    """{notebook stem: seconds} from the committed ``smoke_full.json`` ({} when it is missing or unreadable)."""
    try:
        rows = json.loads((Path(__file__).resolve().parent.parent / "smoke_full.json").read_text())
        return {Path(r["notebook"]).stem: float(r["seconds"]) for r in rows}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _smoke_all(notebooks, jobs: int, timeout, reply_grace) -> list[dict]:
    """Smoke-run notebooks, ``jobs`` at a time, each in its own process (its own peak memory).

    The notebooks start longest first (by the last committed measurement), so no long one runs alone at
    the end. Every notebook runs even when one fails; the failures are raised together at the end.
    """
    import subprocess
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    def one(nb):
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            cmd = [sys.executable, "-m", "book_utils.execute", "--smoke", "--jobs", "1", "--report", report.name,
                   "--reply-grace", str(reply_grace), *(["--timeout", str(timeout)] if timeout else []), nb]
            done = subprocess.run(cmd, capture_output=True, text=True)
            print(done.stdout.strip() or done.stderr.strip(), flush=True)
            return json.loads(Path(report.name).read_text())[0] if done.returncode == 0 else done.stderr.strip()

    previous = _previous_smoke_seconds()
    order = sorted(notebooks, key=lambda nb: -previous.get(Path(nb).stem, float("inf")))  # longest first
    with ThreadPoolExecutor(jobs) as pool:
        done = dict(zip(order, pool.map(one, order)))
    outcomes = [done[nb] for nb in notebooks]
    failed = [o for o in outcomes if isinstance(o, str)]
    if failed:
        raise ExecutionFailed(f"{len(failed)} of {len(outcomes)} notebooks failed:\n" + "\n".join(failed))
    return outcomes


def _write_atomically(nb, path: Path) -> None:
    import nbformat

    from .data import atomic_file

    with atomic_file(path, "w") as f:
        nbformat.write(nb, f)


def rewrite_paths(path) -> int:
    """Shorten the machine paths in a stored notebook's outputs without executing it; return how many."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    changed = shorten_paths(nb, path.parent)
    if changed:
        _write_atomically(nb, path)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book_utils.execute", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="notebook files to execute in place")
    parser.add_argument("--profile", default="book", choices=PROFILES)
    parser.add_argument("--timeout", type=int, default=None,
                        help="per-cell timeout in seconds (default: from the profile's budget: "
                             + ", ".join(f"{k} {v} s" for k, v in CELL_TIMEOUT.items())
                             + "; chapter 10 twice that; up to twice more for a chapter whose last run "
                               "took over half its budget)")
    parser.add_argument("--reply-grace", type=float, default=REPLY_GRACE,
                        help="seconds to wait for a cell's reply once the kernel is idle before failing")
    parser.add_argument("--smoke", action="store_true",
                        help="run the full profile on a few batches (BOOK_SMOKE=1) without writing the notebooks; "
                             "print seconds, peak memory and model sizes per notebook")
    parser.add_argument("--jobs", type=int, default=2, help="with --smoke: notebooks run at the same time")
    parser.add_argument("--report", help="with --smoke: also write the table as JSON to this file")
    parser.add_argument("--shorten-paths-only", action="store_true",
                        help="do not execute: only shorten machine paths in the stored outputs (tracebacks included)")
    args = parser.parse_args(argv)
    if args.shorten_paths_only:
        for nb in args.notebooks:
            print(f"{nb}: {rewrite_paths(nb)} outputs shortened", flush=True)
        return 0
    if args.smoke:
        return _smoke_main(args)
    for nb in args.notebooks:
        try:
            stamp = execute_notebook(nb, args.profile, args.timeout, reply_grace=args.reply_grace)
        except ExecutionFailed as err:
            print(f"error: {err}", file=sys.stderr, flush=True)
            return 1
        print(f"{nb}: {stamp['wall_time_s']:.1f}s (profile={args.profile}, {len(stamp['results'])} results)",
              flush=True)
    return 0


def _smoke_main(args) -> int:
    try:
        if args.jobs > 1 and len(args.notebooks) > 1:
            rows = _smoke_all(args.notebooks, args.jobs, args.timeout, args.reply_grace)
        else:
            rows = []
            for nb in args.notebooks:
                rows.append(smoke_notebook(nb, args.timeout, reply_grace=args.reply_grace))
                print(f"{nb}: {rows[-1]['seconds']:.1f}s, peak {rows[-1]['peak_mb']} MB (smoke, profile=full)",
                      flush=True)
    except ExecutionFailed as err:
        print(f"error (smoke, full profile): {err}", file=sys.stderr, flush=True)
        return 1
    if args.report:
        Path(args.report).write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if len(rows) > 1:
        print(smoke_table(rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
