"""phasekit._constraints: one parameter check, one message template (scikit-learn's)."""
import re

import numpy as np
import pytest

from phasekit._constraints import (Integral, Interval, Real, StrOptions, check_array, check_option, check_scalar,
                                   invalid_parameter, validate_params)
from phasekit._errors import InvalidParameterError


def message(fn, *args, **kwargs):
    with pytest.raises(InvalidParameterError) as e:
        fn(*args, **kwargs)
    assert isinstance(e.value, ValueError)
    assert "\n" not in str(e.value)
    return str(e.value)


def test_the_template_verbatim():
    assert message(check_scalar, -1.0, "alpha", "solve", float, 0) == \
        "The 'alpha' parameter of solve must be a float in the range [0, inf). Got -1.0 instead."
    assert str(invalid_parameter("X", "fit", "a 2-d array", "shape (3,)")) == \
        "The 'X' parameter of fit must be a 2-d array. Got 'shape (3,)' instead."


@pytest.mark.parametrize("kind, low, high, closed, bad, rng", [
    (int, 1, None, "both", 0, "an int in the range [1, inf)"),
    (int, 2, 24, "both", 25, "an int in the range [2, 24]"),
    (int, None, 5, "both", 6, "an int in the range (-inf, 5]"),
    (float, 0, 1, "neither", 1.0, "a float in the range (0, 1)"),
    (float, 0, 1, "left", 1.0, "a float in the range [0, 1)"),
    (float, 0, 1, "right", 0.0, "a float in the range (0, 1]"),
    (float, 0, 1, "both", 1.5, "a float in the range [0, 1]"),
    (float, 0.0, np.inf, "both", -0.5, "a float in the range [0, inf)"),        # an infinite end is open
    (float, -np.inf, np.inf, "both", np.nan, "a float in the range (-inf, inf)"),
    (float, 0.001, 1e3, "right", 2e3, "a float in the range (0.001, 1000]"),
])
def test_intervals(kind, low, high, closed, bad, rng):
    msg = message(check_scalar, bad, "x", "f", kind, low, high, closed)
    assert msg == f"The 'x' parameter of f must be {rng}. Got {bad!r} instead."


def test_conversion_and_types():
    assert check_scalar(np.int64(3), "n", "f", int, 1) == 3 and type(check_scalar(np.int64(3), "n", "f", int, 1)) is int
    assert check_scalar(2, "a", "f", float, 0) == 2.0 and type(check_scalar(2, "a", "f", float, 0)) is float
    assert check_scalar(np.float32(0.5), "a", "f", float, 0, 1) == 0.5
    for bad in (True, False, np.bool_(True)):                      # bool is not an int nor a float
        assert "Got" in message(check_scalar, bad, "n", "f", int, 0)
        assert "Got" in message(check_scalar, bad, "a", "f", float)
    assert "an int in the range [1, inf). Got 2.0 instead." in message(check_scalar, 2.0, "n", "f", int, 1)
    assert "Got '3' instead." in message(check_scalar, "3", "a", "f", float)
    assert "Got inf instead." in message(check_scalar, float("inf"), "a", "f", float)


def test_hint_goes_after_the_range():
    msg = message(check_scalar, 0.9, "alpha", "ld", float, 0, 0.5, "left", hint="(below capacity)")
    assert msg == "The 'alpha' parameter of ld must be a float in the range [0, 0.5) (below capacity). Got 0.9 instead."


def test_options():
    assert check_option("mdl", "score", "f", ("support", "mdl")) == "mdl"
    assert message(check_option, "x", "score", "f", ("support", "mdl")) == \
        "The 'score' parameter of f must be a str among {'support', 'mdl'}. Got 'x' instead."
    assert message(check_option, 4, "mode", "f", (1, 2, 3)) == \
        "The 'mode' parameter of f must be a value among {1, 2, 3}. Got 4 instead."
    assert not StrOptions(["a"]).is_satisfied_by(["a"])            # unhashable: rejected, no TypeError


def test_arrays():
    np.testing.assert_array_equal(check_array([0, 1.5], "P", "f", 0), [0, 1.5])
    assert message(check_array, [1, -1], "P", "f", 0) == \
        "The 'P' parameter of f must be a finite float (or array) in the range [0, inf). Got [1, -1] instead."
    assert "(0, 0.5)" in message(check_array, [0.1, np.nan], "d", "f", 0, 0.5, "neither")
    assert "must be positive and finite" in message(check_array, 0, "b", "f", 0, closed="neither",
                                                    what="positive and finite")


def test_validate_params():
    cons = {"n": [Interval(Integral, 1, None, closed="left"), None],
            "tol": [Interval(Real, 0, None, closed="neither")],
            "method": [StrOptions({"exact"})]}
    out = validate_params("fit", {"n": np.int32(4), "tol": 1, "method": "exact", "other": [1]}, cons)
    assert out == {"n": 4, "tol": 1.0, "method": "exact", "other": [1]} and type(out["tol"]) is float
    assert validate_params("fit", {"n": None}, cons) == {"n": None}
    assert message(validate_params, "fit", {"n": 0}, cons) == \
        "The 'n' parameter of fit must be an int in the range [1, inf) or None. Got 0 instead."
    assert message(validate_params, "fit", {"tol": 0.0}, cons) == \
        "The 'tol' parameter of fit must be a float in the range (0, inf). Got 0.0 instead."
    assert re.search(r"must be a str among \{'exact'\}\. Got 'x' instead\.$",
                     message(validate_params, "fit", {"method": "x"}, cons))


def test_family_checks_use_the_template():
    from phasekit.validation._common import check_float, check_int
    assert message(check_int, 4, "n", "f", 1, None, odd=True) == \
        "The 'n' parameter of f must be an odd int in the range [1, inf). Got 4 instead."
    assert message(check_float, -1, "alpha", "solve") == \
        "The 'alpha' parameter of solve must be a float in the range [0, inf). Got -1 instead."
