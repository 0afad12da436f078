"""``import book_utils`` stays light: the optional modules load on first use of ``bu.<name>``."""

import subprocess
import sys

HEAVY = (
    "fastapi",
    "uvicorn",
    "starlette",
    "book_utils.serving",
    "book_utils.tensorboard",
    "book_utils.zoo",
    "book_utils.distribute",
)


def _run(code: str) -> str:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip()


def test_import_book_utils_does_not_load_optional_modules():
    out = _run(f"import sys, book_utils; print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert out == "[]", f"import book_utils loaded {out}"


def test_optional_modules_load_on_attribute_access():
    out = _run(
        "import sys, book_utils as bu; bu.zoo.set_trainable; bu.tensorboard.read_events; "
        "bu.distribute.pick_strategy; "
        "print(bu.serving.create_app.__module__, 'book_utils.zoo' in sys.modules, 'zoo' in dir(bu))"
    )
    assert out == "book_utils.serving True True"


def test_unknown_attribute_is_an_attribute_error():
    out = _run("import book_utils as bu\ntry:\n    bu.no_such_module\nexcept AttributeError as e:\n    print(e)")
    assert "no_such_module" in out
