"""``show_source``: syntax-highlighted source of a book_utils object for the reader."""
from __future__ import annotations

import inspect
import textwrap


class Source:
    """Rich display object: HTML with Pygments highlighting, plain text for nbval and terminals."""

    def __init__(self, code: str, name: str):
        self.code = code
        self.name = name

    def __repr__(self) -> str:
        return self.code.rstrip("\n")

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        style = HtmlFormatter().get_style_defs(".bu-source")
        body = highlight(self.code, PythonLexer(), HtmlFormatter(cssclass="bu-source"))
        return f"<style>{style}</style><div title='{self.name}'>{body}</div>"


def show_source(obj) -> Source:
    """Return the source of a function, class or module, highlighted in notebooks.

    The displayed text is exactly what Python imports, so nbval checks that the code the
    reader sees is the code that runs.
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj) or inspect.ismethod(obj)):
        raise TypeError(
            f"show_source expects a function, class, method or module, got {type(obj).__name__}; "
            "pass the object itself, e.g. bu.show_source(bu.training.fit)"
        )
    try:
        code = inspect.getsource(obj)
    except (OSError, TypeError) as err:
        raise TypeError(f"no Python source is available for {obj!r} ({err})") from None
    return Source(textwrap.dedent(code), getattr(obj, "__qualname__", getattr(obj, "__name__", "source")))
