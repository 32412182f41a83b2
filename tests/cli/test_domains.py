"""Property tests: values drawn outside each declared parameter domain are rejected with a
ValueError naming the parameter, by the API and by the CLI (exit code 2)."""
import math

import pytest
from hypothesis import given, settings, strategies as st

import phasekit as pk
from phasekit.cli import main

MODELS = ["perceptron.spherical_storage", "perceptron.binary_storage", "perceptron.spherical_teacher",
          "perceptron.ising_teacher"]


def outside(p):
    """A strategy of floats outside the declared domain of parameter p (plus nan/inf)."""
    opts = [st.just(math.nan), st.just(math.inf), st.just(-math.inf)]
    if math.isfinite(p.low):
        lo_excl = p.closed in ("both", "left")
        opts.append(st.floats(max_value=p.low, exclude_max=lo_excl, allow_nan=False, allow_infinity=False,
                              min_value=p.low - 1e6))
    if math.isfinite(p.high):
        hi_excl = p.closed in ("both", "right")
        opts.append(st.floats(min_value=p.high, exclude_min=hi_excl, allow_nan=False, allow_infinity=False,
                              max_value=p.high + 1e6))
    return st.one_of(*opts)


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_out_of_domain_control_parameters_rejected(name, data):
    m = pk.get_model(name)
    p = data.draw(st.sampled_from(m.control))
    bad = data.draw(outside(p))
    params = {q.name: (q.default if q.default is not None else 0.5) for q in m.control}
    params[p.name] = bad
    with pytest.raises(ValueError, match=f"'{p.name}' parameter"):
        pk.solve(m, params)


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_out_of_domain_order_parameters_rejected(name, data):
    m = pk.get_model(name)
    p = data.draw(st.sampled_from(m.order))
    bad = data.draw(outside(p))
    with pytest.raises(ValueError, match=f"'{p.name}' parameter"):
        pk.solve(m, {"alpha": 0.5}, x0={p.name: bad})


@settings(max_examples=10, deadline=None)
@given(bad=st.floats(max_value=0, exclude_max=True, allow_nan=False, min_value=-1e9))
def test_cli_rejects_negative_alpha(bad):
    import contextlib
    import io
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["solve", "perceptron.binary_storage", "--set", f"alpha={bad!r}"])
    assert code == 2
    assert "'alpha' parameter" in err.getvalue()


def test_in_domain_values_accepted():
    m = pk.get_model("perceptron.binary_storage")
    assert m.validate_params({"alpha": 0.0}) == {"alpha": 0.0, "kappa": 0.0}
