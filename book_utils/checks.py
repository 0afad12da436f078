"""Argument checks: one policy for every public function of ``book_utils``.

* wrong type → :class:`ArgumentTypeError` (a ``TypeError``);
* right type, bad value → ``ValueError``;
* the message names the argument, the value it got and what is accepted, e.g.
  ``epochs must be an integer >= 1, got 0``.

Each check returns the value normalised (``int``/``float``), so a caller spends one line per
argument: ``epochs = check_int("epochs", epochs)``. Booleans are never numbers here (``True`` is
an ``int`` in Python, never a sensible size, count or rate). This module imports nothing from
``book_utils`` so every other module may use it without creating an import cycle.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["ArgumentTypeError", "check_choice", "check_int", "check_number", "check_range", "check_shape", "check_type"]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type.

    A ``TypeError`` by the policy; also a ``ValueError`` because the shared integer check raised
    ``ValueError`` for every bad input before the policy existed, so callers (and notebooks) that
    catch ``ValueError`` keep working.
    """


def _bounds(low, high) -> str:
    if low is not None and high is not None:
        return f"in [{low}, {high}]"
    if low is not None:
        return f">= {low}"
    if high is not None:
        return f"<= {high}"
    return ""


def check_type(name: str, value, types, accepted: str):
    """``value`` unchanged if it is an instance of ``types``; else ArgumentTypeError naming ``accepted``."""
    if not isinstance(value, types):
        raise ArgumentTypeError(f"{name} must be {accepted}, got {value!r} ({type(value).__name__})")
    return value


def check_int(name: str, value, low: int | None = 1, high: int | None = None, *, accepted: str | None = None) -> int:
    """``value`` as an ``int`` within ``[low, high]`` (``None`` = unbounded on that side).

    ``accepted`` replaces the generated description (``an integer >= 1``) where a domain word
    says it better, e.g. ``"a non-negative integer below 2**32 (NumPy's seed range)"``.

    >>> check_int("epochs", 3)
    3
    """
    accepted = accepted or " ".join(filter(None, ("an integer", _bounds(low, high))))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {accepted}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return int(value)


def check_number(name: str, value, low: float | None = None, high: float | None = None, *,
                 integer: bool = False, accepted: str | None = None) -> float | int:
    """A finite real number (an ``int`` when ``integer=True``) within ``[low, high]``."""
    if integer:
        return check_int(name, value, low, high, accepted=accepted)
    accepted = accepted or " ".join(filter(None, ("a finite number", _bounds(low, high))))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be {accepted}, got {value!r}")
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return float(value)


def check_choice(name: str, value, choices):
    """``value`` if it is one of ``choices``; else ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_range(name: str, value) -> tuple[float, float]:
    """``value`` as a pair of floats ``(low, high)`` with ``low < high``, e.g. a plot's x range."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be a pair of numbers (low, high), got {value!r}") from None
    if not low < high:
        raise ValueError(f"{name} must satisfy low < high, got {value!r}")
    return low, high


def check_shape(name: str, value, ndim: int | None = None, *, accepted: str | None = None) -> tuple[int, ...]:
    """``value`` as a tuple of positive ints (exactly ``ndim`` of them when given), e.g. an image shape."""
    accepted = accepted or (f"a tuple of {ndim} positive integers" if ndim
                            else "a non-empty tuple of positive integers")
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ArgumentTypeError(f"{name} must be {accepted}, got {value!r}")
    dims = tuple(value)
    if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) for d in dims):
        raise ArgumentTypeError(f"{name} must be {accepted}, got {value!r}")
    if not dims or (ndim is not None and len(dims) != ndim) or any(d < 1 for d in dims):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return tuple(int(d) for d in dims)
