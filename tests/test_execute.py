"""book_utils.execute: per-cell timeouts from the profile budget, lost kernel replies, path shortening."""

import json
import time

import nbformat
import pytest

from book_utils import execute


def test_cell_timeout_follows_the_profile_budget():
    assert execute.cell_timeout("book", "chapters/ch03_classification.ipynb") == 900
    assert execute.cell_timeout("book", "chapters/ch10_cnn.ipynb") == 1800
    assert execute.cell_timeout("ci") == 300
    # a chapter whose last run used most of its budget gets room for a busy machine, at most 2x the budget
    assert execute.cell_timeout("book", "ch09_overfitting.ipynb", last_wall_time=837.1) == 1674
    assert execute.cell_timeout("book", "ch10_cnn.ipynb", last_wall_time=2500) == 3600
    assert execute.cell_timeout("book", "ch02_regression.ipynb", last_wall_time=7.9) == 900
    with pytest.raises(ValueError, match="profile"):
        execute.cell_timeout("huge")


@pytest.mark.parametrize(
    "raw, short",
    [
        (
            "\x1b[32m/work/venv/lib/python3.11/site-packages/keras/src/layers/core.py:181\x1b[39m, in f",
            "\x1b[32mkeras/src/layers/core.py:181\x1b[39m, in f",
        ),
        (
            'File "/root/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py", line 3',
            'File "json/decoder.py", line 3',
        ),
        (r"C:\Users\me\venv\Lib\site-packages\numpy\core.py", r"numpy\core.py"),
        (str(execute._REPO / "book_utils" / "data.py") + ":12", "book_utils/data.py:12"),
        ("no path here: 3/4 and a/b", "no path here: 3/4 and a/b"),
    ],
)
def test_shorten_text(raw, short):
    assert execute.shorten_text(raw) == short


def _notebook(tmp_path, *sources, tags=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for i, t in (tags or {}).items():
        nb.cells[i].metadata["tags"] = t
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def _dropping_client(drop_index):
    """A client whose transport loses the execute_reply of cell ``drop_index`` (the kernel still goes idle)."""
    from jupyter_core.utils import ensure_async

    class Dropping(execute._client_class()):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            real = kc.shell_channel.get_msg

            async def get_msg(*args, **kwargs):
                while True:
                    msg = await ensure_async(real(*args, **kwargs))
                    if not (msg["msg_type"] == "execute_reply" and self.current_cell_index == drop_index):
                        return msg

            kc.shell_channel.get_msg = get_msg
            return kc

    return Dropping


def test_a_lost_reply_fails_loudly_with_the_cell_index(tmp_path):
    path = _notebook(tmp_path, "x = 1", "print(x + 1)", "x")
    before = path.read_bytes()
    t0 = time.monotonic()
    with pytest.raises(execute.ExecutionFailed, match=r"cell 1: the kernel went idle but its execute_reply never"):
        execute.execute_notebook(path, "ci", timeout=120, reply_grace=1, client_class=_dropping_client(1))
    assert time.monotonic() - t0 < 60  # not the 120 s cell timeout, let alone nbclient's hour
    assert path.read_bytes() == before  # nothing written


def test_cell_timeout_names_the_cell(tmp_path):
    path = _notebook(tmp_path, "x = 1", "import time; time.sleep(60)")
    with pytest.raises(execute.ExecutionFailed, match=r"cell 1 did not finish within 2 s"):
        execute.execute_notebook(path, "ci", timeout=2)


def test_written_outputs_have_no_machine_paths(tmp_path):
    path = _notebook(
        tmp_path, "import json\njson.loads('{')", "import os; print(os.getcwd())", tags={0: ["raises-exception"]}
    )
    stamp = execute.execute_notebook(path, "ci", timeout=60)
    assert stamp["profile"] == "ci"
    nb = json.loads(path.read_text(encoding="utf-8"))
    error = nb["cells"][0]["outputs"][0]
    assert error["output_type"] == "error" and any("json/decoder.py" in line for line in error["traceback"])
    text = json.dumps(nb["cells"])
    for machine in ("/work/", "/root/", "/home/", "site-packages", str(tmp_path)):
        assert machine not in text
    assert not list(tmp_path.glob(".*.tmp-*"))


def test_cli_reports_failure_with_exit_code(tmp_path, capsys):
    path = _notebook(tmp_path, "raise ValueError('boom')")
    assert execute.main(["--profile", "ci", str(path)]) == 1
    assert "cell 0 raised an error" in capsys.readouterr().err


def test_shorten_paths_only_rewrites_stored_tracebacks(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1/0")
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="ZeroDivisionError",
            evalue="x",
            traceback=["\x1b[32m/home/me/venv/lib/python3.11/site-packages/keras/src/ops.py:3\x1b[39m"],
        )
    ]
    nb.cells = [cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert execute.main(["--shorten-paths-only", str(path)]) == 0
    assert json.loads(path.read_text())["cells"][0]["outputs"][0]["traceback"] == ["\x1b[32mkeras/src/ops.py:3\x1b[39m"]
    assert execute.rewrite_paths(path) == 0


def test_stamp_is_the_kernels_environment(tmp_path):
    path = _notebook(tmp_path, "import book_utils as bu\nbu.setup(seed=3, quiet=True)", "x = 1")
    stamp = execute.execute_notebook(path, "ci", timeout=120)
    assert stamp["device"] and stamp["tensorflow"] and stamp["keras"]  # reported by the kernel's setup()
    env = execute.kernel_environment(json.loads(path.read_text(encoding="utf-8"), object_hook=nbformat.NotebookNode))
    assert env["profile"] == "ci" and env["seed"] == 3 and env["device"] == stamp["device"]


def test_smoke_runs_the_full_profile_without_writing(tmp_path, capsys):
    path = _notebook(
        tmp_path,
        "import book_utils as bu, keras\n"
        "cfg = bu.profile_config(ci={}, book=dict(epochs=9, train_size=5000, min_acc=0.9))",
        "assert bu.get_profile() == 'full' and cfg.epochs == 1 and cfg.train_size == 256",
        "net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])\n"
        "nets = {'small': keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])}",
    )
    before = path.read_bytes()
    assert execute.main(["--smoke", "--jobs", "1", "--report", str(tmp_path / "r.json"), str(path)]) == 0
    assert path.read_bytes() == before
    [row] = json.loads((tmp_path / "r.json").read_text())
    assert row["params"] == {"net": 16, "nets['small']": 3} and row["peak_mb"] > 50 and row["seconds"] > 0
    assert "peak" in capsys.readouterr().out
    assert "net (16)" in execute.smoke_table([row, row])


def test_smoke_reports_every_failing_notebook(tmp_path):
    for name, source in (("a", "raise ValueError('first')"), ("b", "x = 1"), ("c", "raise KeyError('third')")):
        (tmp_path / name).mkdir()
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nbformat.write(nb, tmp_path / name / "nb.ipynb")
    with pytest.raises(execute.ExecutionFailed, match=r"(?s)2 of 3 notebooks failed.*first.*third"):
        execute._smoke_all([str(tmp_path / n / "nb.ipynb") for n in "abc"], 2, 60, 30)


@pytest.mark.parametrize("url", ["", "https://example.org/owner/tfbook"])
def test_bootstrap_first_cell(url):
    src = "import book_utils as bu\nbu.setup(seed=1)\nimport numpy as np"
    once = execute.bootstrap_source(src, url)
    assert execute.bootstrap_source(once, url) == once, "idempotent"
    assert once.endswith("bu.setup(seed=1)\nimport numpy as np") and once.startswith("try:")
    assert ("%pip install" in once and url in once) == bool(url)
    other = execute.bootstrap_source(once, "https://example.org/x/y")
    assert "https://example.org/x/y" in other and (not url or url not in other)


def test_smoke_starts_the_longest_notebook_first(tmp_path, monkeypatch):
    assert execute._previous_smoke_seconds()["ch15_custom_dataset"] > 0  # the committed measurement is read
    log = tmp_path / "started.txt"
    for name in "ab":
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"open({str(log)!r}, 'a').write({name!r})")])
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    monkeypatch.setattr(execute, "_previous_smoke_seconds", lambda: {"a": 1.0, "b": 90.0})
    rows = execute._smoke_all([str(tmp_path / f"{n}.ipynb") for n in "ab"], 1, 60, 30)
    assert log.read_text() == "ba"  # by the last measurement, longest first …
    assert [r["notebook"] for r in rows] == ["a", "b"]  # … reported in the order given
