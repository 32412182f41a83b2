"""Conjugate pairs for some order parameters only, and the validation of conjugate declarations.

Two three-order-parameter models, each solved independently in the test (quad + brentq / plain
iteration written from the hand-derived equations, sharing no code with phasekit):

* the mean-field random-field Ising model with an auxiliary field t,
  phi(m, mhat, t) = -beta t^2/2 + beta t m - m mhat + E ln 2cosh(mhat + h + sigma z):
  stationarity gives t = m, mhat = beta t, m = E tanh(mhat + h + sigma z), i.e. the RFIM
  m = E tanh(beta m + h + sigma z); with conjugates (m, mhat) the unpaired t has a condition linear
  in t, so the model has a complete fixed-point form;
* the RS Hopfield model at finite temperature (Amit, Gutfreund & Sompolinsky 1987), per spin,
  phi(m, q, r) = -m^2/2 - alpha/(2 beta) [ln(1 - beta(1-q)) - beta q/(1 - beta(1-q))]
                 - alpha beta r (1-q)/2 + (1/beta) E ln 2cosh(beta (m + sqrt(alpha r) z)),
  stationarity m = E tanh(beta(m + sqrt(alpha r) z)), q = E tanh^2(...), r = q/(1 - beta(1-q))^2;
  with conjugates (q, r) the unpaired m appears inside the expectation: no closed-form update,
  no fixed-point form, Newton on grad phi for the whole model.
"""
import math

import numpy as np
import pytest
import sympy as sp

import phasekit as pk
from phasekit._errors import InvalidParameterError
from phasekit.cli import main
from phasekit.theory import E, EquilibriumModel, Param, define_model, log2cosh

from .._problems import Dz

z = sp.Symbol("z", real=True)


# --------------------------------------------------------------------------- RFIM with an auxiliary field
def rfim_aux_phi(beta, h, sigma, m, mhat, t):
    return -beta * t**2 / 2 + beta * t * m - m * mhat + E(log2cosh(mhat + h + sigma * z), z)


RFIM_CONTROL = {"beta": (0, 50, 2.0), "h": (-5, 5, 0.1), "sigma": (0, 10, 1.0)}
RFIM_ORDER = {"m": dict(low=-1, high=1, closed="neither", default=0.5), "mhat": (-100, 100, 1.0),
              "t": (-1, 1, 0.5)}


def rfim_m(beta, h, sigma):
    """Independent: the root of m = E tanh(beta m + h + sigma z) with m of the sign of h (h > 0)."""
    import scipy.optimize as so
    f = lambda m: m - Dz(lambda s: math.tanh(beta * m + h + sigma * s))  # noqa: E731
    return so.brentq(f, 1e-12, 1 - 1e-12)


@pytest.mark.parametrize("conjugates", [[("m", "mhat")], [("mhat", "m")]])
def test_unpaired_linear_condition_completes_the_fixed_point_form(conjugates):
    model = define_model("t.rfim_aux", rfim_aux_phi, control=RFIM_CONTROL, order=RFIM_ORDER,
                         conjugates=conjugates)
    b, h, s, m, mh, t = (sp.Symbol(n, real=True) for n in ("beta", "h", "sigma", "m", "mhat", "t"))
    fp = model.fixed_point
    assert set(fp) == {m, mh, t}
    assert sp.simplify(fp[t] - m) == 0 and sp.simplify(fp[mh] - b * t) == 0
    # the iteration alone (no Newton) converges, and agrees with the independent root
    ref = rfim_m(2.0, 0.1, 1.0)
    r = pk.solve(model, {"beta": 2.0, "h": 0.1}, method="fixed_point")
    assert r.converged, r.message
    assert r.order_parameters["m"] == pytest.approx(ref, abs=1e-9)
    assert r.order_parameters["t"] == pytest.approx(ref, abs=1e-9)
    assert r.order_parameters["mhat"] == pytest.approx(2.0 * ref, abs=1e-8)
    # the default solver, and the same model without conjugates (Newton on the gradient) agree
    auto = pk.solve(model, {"beta": 2.0, "h": 0.1})
    plain = pk.solve(define_model("t.rfim_aux_plain", rfim_aux_phi, control=RFIM_CONTROL, order=RFIM_ORDER),
                     {"beta": 2.0, "h": 0.1})
    assert auto.converged and plain.converged
    for k in ("m", "mhat", "t"):
        assert auto.order_parameters[k] == pytest.approx(plain.order_parameters[k], abs=1e-10)
    assert auto.free_entropy == pytest.approx(plain.free_entropy, abs=1e-12)


def test_partial_fixed_point_in_batch_and_derivation():
    model = define_model("t.rfim_aux_b", rfim_aux_phi, control=RFIM_CONTROL, order=RFIM_ORDER,
                         conjugates=[("m", "mhat")])
    betas = np.array([1.5, 2.0, 3.0])
    res = pk.solve_batch(model, {"beta": betas, "h": 0.1})
    assert np.all(res["converged"])
    np.testing.assert_allclose(res["values"]["m"], [rfim_m(b, 0.1, 1.0) for b in betas], atol=1e-9)
    from phasekit.derive import derivation
    text = derivation(model)
    assert "fixed-point form:" in text and "  t = m" in text


# --------------------------------------------------------------------------- RS Hopfield, finite temperature
def hopfield_phi(alpha, beta, m, q, r):
    d = 1 - beta * (1 - q)
    return (-m**2 / 2 - alpha / (2 * beta) * (sp.log(d) - beta * q / d) - alpha * beta * r * (1 - q) / 2
            + E(log2cosh(beta * (m + sp.sqrt(alpha * r) * z)), z) / beta)


HOP_CONTROL = {"alpha": (0, 1, 0.05), "beta": dict(low=1.0, high=20.0, closed="neither", default=4.0)}
HOP_ORDER = {"m": (-1, 1, 0.99), "q": dict(low=0, high=1, closed="neither", default=0.99), "r": (0, 50, 1.0)}


def hopfield_ref(alpha, beta, m=0.99, q=0.99, r=1.0):
    """Independent: the retrieval state by plain iteration of the hand-derived AGS equations (quad)."""
    for _ in range(500):
        s = math.sqrt(alpha * r)
        mn = Dz(lambda x: math.tanh(beta * (m + s * x)))
        qn = Dz(lambda x: math.tanh(beta * (m + s * x)) ** 2)
        rn = q / (1 - beta * (1 - q)) ** 2
        step = abs(mn - m) + abs(qn - q) + abs(rn - r)
        m, q, r = mn, qn, rn
        if step < 1e-14:
            return m, q, r
    raise AssertionError("reference iteration did not converge")


def hopfield_phi_quad(alpha, beta, m, q, r):
    d = 1 - beta * (1 - q)
    s = math.sqrt(alpha * r)
    lc = Dz(lambda x: abs(beta * (m + s * x)) + math.log1p(math.exp(-2 * abs(beta * (m + s * x)))))
    return -m * m / 2 - alpha / (2 * beta) * (math.log(d) - beta * q / d) - alpha * beta * r * (1 - q) / 2 + lc / beta


@pytest.mark.parametrize("alpha,beta", [(0.05, 4.0), (0.02, 2.0), (0.1, 10.0)])
def test_hand_derived_hopfield_equations_are_stationary(alpha, beta):
    # the equations used as the reference: central differences of phi (quad) vanish at their solution
    x = np.array(hopfield_ref(alpha, beta))
    for i in range(3):
        e = np.zeros(3)
        e[i] = 1e-5
        g = (hopfield_phi_quad(alpha, beta, *(x + e)) - hopfield_phi_quad(alpha, beta, *(x - e))) / 2e-5
        assert abs(g) < 1e-7


@pytest.mark.parametrize("alpha,beta", [(0.05, 4.0), (0.02, 2.0), (0.1, 10.0)])
def test_unpaired_nonlinear_condition_solves_by_newton(alpha, beta):
    partial = define_model("t.hopfield_qr", hopfield_phi, control=HOP_CONTROL, order=HOP_ORDER,
                           conjugates=[("q", "r")])
    plain = define_model("t.hopfield", hopfield_phi, control=HOP_CONTROL, order=HOP_ORDER)
    assert partial.fixed_point is None and plain.fixed_point is None   # m = E tanh(beta (m + ...))
    ref = hopfield_ref(alpha, beta)
    r1 = pk.solve(partial, {"alpha": alpha, "beta": beta})
    r2 = pk.solve(plain, {"alpha": alpha, "beta": beta})
    assert r1.converged and r2.converged, (r1.message, r2.message)
    for k, v in zip(("m", "q", "r"), ref):
        assert r1.order_parameters[k] == pytest.approx(v, abs=1e-9)
        assert r2.order_parameters[k] == pytest.approx(v, abs=1e-9)
    assert r1.free_entropy == pytest.approx(hopfield_phi_quad(alpha, beta, *ref), abs=1e-9)


from .._user_files import HOPFIELD as HOP_FILE  # noqa: E402


def test_partial_conjugates_through_the_cli(tmp_path, capsys):
    import json
    p = tmp_path / "hop.py"
    p.write_text(HOP_FILE)
    assert main(["solve", f"{p}:HOP_QR", "--set", "alpha=0.05", "--set", "beta=4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for k, v in zip(("m", "q", "r"), hopfield_ref(0.05, 4.0)):
        assert d["order_parameters"][k] == pytest.approx(v, abs=1e-9)
    assert main(["derive", f"{p}:HOP_QR"]) == 0
    assert "fixed-point form: none (d phi/d y = 0 is not linear in y for the unpaired m)" in capsys.readouterr().out


# --------------------------------------------------------------------------- validation
ORDER3 = {"q": (0, 1, 0.5), "qhat": (0, 10, 1.0), "m": (-1, 1, 0.5)}


def _phi3(alpha, q, qhat, m):
    return -qhat * (1 - q) / 2 + E(log2cosh(sp.sqrt(qhat) * z + m), z) - m**2 / 2 + alpha * q


@pytest.mark.parametrize("conjugates,fragment", [
    ([("q", "foo")], "names 'foo', which is not an order parameter of my.model (q, qhat, m)."),
    ([("alpha", "q")], "names 'alpha', which is not an order parameter of my.model (q, qhat, m)."),
    ([("q", "qhat"), ("m", "q")], "names 'q' in two pairs"),
    ([("q", "q")], "pairs 'q' with itself"),
    ([("q", "qhat", "m")], "must be a sequence of (x, xhat) pairs"),
    (("q", "qhat"), "must be a sequence of (x, xhat) pairs"),          # the outer list forgotten
    (3, "must be a sequence of (x, xhat) pairs"),
])
def test_bad_conjugates_raise_one_line_at_definition(conjugates, fragment):
    with pytest.raises(InvalidParameterError) as exc:
        define_model("my.model", _phi3, control={"alpha": (0, 1, 0.5)}, order=ORDER3, conjugates=conjugates)
    msg = str(exc.value)
    assert msg.startswith("The 'conjugates' parameter of define_model ")
    assert fragment in msg and "\n" not in msg


def _class_model(conj):
    alpha, q, qhat, m = (sp.Symbol(n, real=True) for n in ("alpha", "q", "qhat", "m"))

    class Mine(EquilibriumModel):
        name = "my.class_model"
        control = (Param("alpha", 0, 1, "both", 0.5),)
        order = (Param("q", 0, 1, "both", 0.5), Param("qhat", 0, 10, "both", 1.0), Param("m", -1, 1, "both", 0.5))
        conjugates = conj

        def free_entropy(self):
            return _phi3(alpha, q, qhat, m)
    return Mine()


def test_bad_conjugates_of_a_subclass_raise_when_the_form_is_built():
    model = _class_model((("q", "foo"),))
    with pytest.raises(InvalidParameterError, match=r"^The 'conjugates' parameter of Mine names 'foo', which is "
                                                    r"not an order parameter of my\.class_model \(q, qhat, m\)\.$"):
        model.fixed_point
    with pytest.raises(InvalidParameterError, match="names 'foo'"):
        pk.solve(model, {"alpha": 0.5})
    with pytest.raises(InvalidParameterError, match="pairs 'm' with itself"):
        _class_model((("m", "m"),)).fixed_point


def test_a_pair_whose_condition_does_not_contain_its_variable():
    # m from d phi/d q = 0 = qhat/2 + alpha: m does not appear, nothing to solve for
    model = define_model("my.model", _phi3, control={"alpha": (0, 1, 0.5)}, order=ORDER3,
                         conjugates=[("m", "q")])
    with pytest.raises(InvalidParameterError, match=r"pairs \('m', 'q'\), but d phi/d q = 0 gives no update of 'm'"):
        model.fixed_point


def test_bad_conjugates_in_a_user_file_exit_2(tmp_path, capsys):
    p = tmp_path / "bad.py"
    p.write_text(HOP_FILE.replace('conjugates=[("q", "r")]', 'conjugates=[("q", "s")]'))
    assert main(["solve", f"{p}:HOP"]) == 2
    err = capsys.readouterr().err
    assert "names 's', which is not an order parameter of user.hopfield_qr (m, q, r)" in err
    assert len(err.strip().splitlines()) == 1
