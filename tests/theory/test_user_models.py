"""A user's own model: define_model, a model in the user's own file, and the generic machinery on it."""
import json
import math
import textwrap

import numpy as np
import pytest
import sympy as sp

import phasekit as pk
from phasekit.cli import main
from phasekit.theory import E, define_model, log2cosh

from .._problems import Dz

USER_FILE = textwrap.dedent('''
    import sympy as sp
    from phasekit.theory import E, define_model, log2cosh

    beta, h, m, z = sp.symbols("beta h m z", real=True)
    # random-field Ising model, mean field: phi = -beta m^2/2 + E ln 2cosh(beta m + h + sigma z)
    RFIM = define_model(
        "user.rfim", lambda beta, h, sigma, m: -beta * m**2 / 2 + E(log2cosh(beta * m + h + sigma * z), z),
        control={"beta": (0, 50, 2.0), "h": (-5, 5, 0.0), "sigma": (0, 10, 1.0)},
        order={"m": dict(low=-1, high=1, closed="neither", default=0.5)},
        observables={"entropy": sp.Symbol("phi", real=True), "m": sp.Symbol("m", real=True)},
    )
''')


@pytest.fixture
def user_file(tmp_path):
    p = tmp_path / "mymodel.py"
    p.write_text(USER_FILE)
    return str(p)


def rfim_m(beta, h, sigma):
    """Independent: the largest root of m = E tanh(beta m + h + sigma z) by quad + brentq."""
    import scipy.optimize as so
    f = lambda m: m - Dz(lambda t: math.tanh(beta * m + h + sigma * t))  # noqa: E731
    return so.brentq(f, 1e-9, 1 - 1e-12) if f(1e-9) < 0 else 0.0


def test_define_model_in_a_few_lines():
    b, h, m, z = sp.symbols("beta h m z", real=True)
    model = define_model("t.rfim", -b * m**2 / 2 + E(log2cosh(b * m + h + z), z),
                         control={"beta": (0, 50, 2.0), "h": (-5, 5, 0.1)}, order={"m": (-1, 1, 0.5)})
    r = pk.solve(model, {"beta": 2.0, "h": 0.1})
    assert r.converged
    assert r.order_parameters["m"] == pytest.approx(rfim_m(2.0, 0.1, 1.0), abs=1e-9)
    with pytest.raises(ValueError, match="'beta' parameter"):
        pk.solve(model, {"beta": -1})


def test_user_file_through_the_cli(user_file, capsys):
    assert main(["solve", f"{user_file}:RFIM", "--set", "beta=2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["model"] == "user.rfim"
    assert d["order_parameters"]["m"] == pytest.approx(rfim_m(2.0, 0.0, 1.0), abs=1e-9)
    assert main(["derive", f"{user_file}:RFIM"]) == 0
    assert "log2cosh" in capsys.readouterr().out


def test_user_model_continuous_transition(user_file):
    # m vanishes continuously at beta_c = 1 / E sech^2(sigma z) (sigma = 1): closed form of the
    # linearised fixed point m = beta m E sech^2(z); independent value by quad
    model = pk.get_model(f"{user_file}:RFIM")
    beta_c = 1.0 / Dz(lambda t: 1.0 / math.cosh(min(abs(t), 300.0)) ** 2)
    br = pk.continue_branch(model, {"h": 0.0}, along="beta", values=np.linspace(beta_c + 0.05, 3.0, 12))
    assert br.converged.all() and np.all(br["m"] > 0)
    beta_near = beta_c + 0.01
    r = pk.solve(model, {"beta": beta_near})
    assert r.order_parameters["m"] == pytest.approx(rfim_m(beta_near, 0.0, 1.0), abs=1e-8)


def test_user_model_sweeps_in_worker_processes(user_file):
    grid = {"beta": np.linspace(1.5, 3.0, 4), "sigma": np.array([0.5, 1.0])}
    seq = pk.sweep(f"{user_file}:RFIM", grid, workers=1, progress=False)
    par = pk.sweep(f"{user_file}:RFIM", grid, workers=2, progress=False)
    np.testing.assert_array_equal(seq.values["m"], par.values["m"])
    assert seq.values["m"][0, 0] == pytest.approx(rfim_m(1.5, 0.0, 0.5), abs=1e-9)


def test_unknown_file_or_class(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "nope.py") + ":X"]) == 2
    p = tmp_path / "m.py"
    p.write_text("x = 1\n")
    assert main(["solve", f"{p}:Missing"]) == 2
