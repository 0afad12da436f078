"""The one validation policy (book_utils.checks): wrong type → TypeError, bad value → ValueError,
and the message names the argument, the value and what is accepted."""

import numpy as np
import pytest

from book_utils import checks
from book_utils.checks import ArgumentTypeError, check_choice, check_int, check_number, check_type


def test_check_int_returns_python_ints():
    assert check_int("n", np.int64(3)) == 3 and type(check_int("n", np.int64(3))) is int
    assert check_int("k", 0, 0, 4) == 0 and check_int("k", -5, None) == -5


@pytest.mark.parametrize("bad", [True, 2.5, "3", None, np.float32(1)])
def test_wrong_type_is_a_type_error_naming_argument_value_and_range(bad):
    with pytest.raises(
        TypeError, match=rf"n must be an integer in \[1, 9\], got {bad!r}".replace("(", r"\(").replace(")", r"\)")
    ):
        check_int("n", bad, 1, 9)


def test_wrong_type_stays_catchable_as_value_error():
    """Callers written before the policy caught ValueError for every bad integer."""
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentTypeError, ValueError)
    with pytest.raises(ValueError):
        check_int("n", "3")


@pytest.mark.parametrize("bad, accepted", [(0, ">= 1"), (10, r"in \[1, 9\]")])
def test_out_of_range_is_a_value_error_not_a_type_error(bad, accepted):
    high = 9 if bad == 10 else None
    with pytest.raises(ValueError, match=rf"n must be an integer {accepted}, got {bad}") as info:
        check_int("n", bad, 1, high)
    assert not isinstance(info.value, TypeError)


def test_accepted_text_can_be_given():
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer, got -1"):
        check_int("seed", -1, 0, accepted="a non-negative integer")


def test_check_number():
    assert check_number("lr", np.float32(0.5), 0) == 0.5 and check_number("x", 3) == 3.0
    assert check_number("n", 3, 1, integer=True) == 3
    with pytest.raises(TypeError, match=r"lr must be a finite number >= 0, got 'fast'"):
        check_number("lr", "fast", 0)
    with pytest.raises(TypeError):
        check_number("lr", True)
    for bad in (float("nan"), float("inf"), -0.1):
        with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
            check_number("lr", bad, 0)
    with pytest.raises(ValueError, match=r"frac must be a finite number in \[0.0, 1.0\], got 1.5"):
        check_number("frac", 1.5, 0.0, 1.0)


def test_check_choice_and_check_type():
    assert check_choice("mode", "rgb", ("rgb", "grayscale")) == "rgb"
    with pytest.raises(ValueError, match=r"mode must be one of 'rgb', 'grayscale', got 'rgba'"):
        check_choice("mode", "rgba", ("rgb", "grayscale"))
    assert check_type("name", "x", str, "a string") == "x"
    with pytest.raises(TypeError, match=r"name must be a string, got 3 \(int\)"):
        check_type("name", 3, str, "a string")


def test_config_still_exports_check_int():
    from book_utils.config import check_int as from_config

    assert from_config is checks.check_int


def test_check_shape():
    from book_utils.checks import ArgumentTypeError, check_shape

    assert check_shape("s", [64, 64, 3]) == (64, 64, 3)
    assert check_shape("s", (2, 3), 2) == (2, 3)
    for bad, exc in [
        ((64, 0, 3), ValueError),
        ((), ValueError),
        ((2, 3), ValueError),
        ((2, True, 3), TypeError),
        ("64", TypeError),
        (7, TypeError),
        ((2.0, 3, 3), TypeError),
    ]:
        with pytest.raises(exc, match="s must be"):
            check_shape("s", bad, 3)
    with pytest.raises(ArgumentTypeError):
        check_shape("s", None)


def test_check_range_returns_a_float_pair_and_names_the_argument():
    from book_utils.checks import ArgumentTypeError, check_range

    assert check_range("x_range", (-3, 3)) == (-3.0, 3.0)
    with pytest.raises(ArgumentTypeError, match="x_range must be a pair of numbers"):
        check_range("x_range", 5)
    with pytest.raises(ValueError, match=r"value_range must satisfy low < high, got \(1, 1\)"):
        check_range("value_range", (1, 1))
