r"""Issue "Trustworthy numbers": every number the solver calls converged is right to its declared
tolerance, and every point where it is not gets an honest status.

The solver's contract (``solvers/_results.py``): ``status`` is one of ``converged``,
``not_converged``, ``no_solution``, ``under_resolved``, ``unstable``, ``outside_domain``;
``converged == (status == "converged")``; ``error_estimate`` estimates the error of the order
parameters (relative to max(1, |x|)) from a refined quadrature; default tolerance 1e-8 on the
order parameters. A converged result must therefore agree with an independent high-precision
reference (``tests/_problems_trust.py``: scipy quad with tight tolerances + brentq/root on the
equations derived by hand, no phasekit code) within

    ORDER_TOL = 1e-7  (the declared 1e-8, plus a margin for the reference, < 1e-12)

Cases (the failures reported in the issue):

* binary storage, kappa = 0: alpha = 0.5 converged with q = 0.3223854, s = 0.3143901;
  1.01465 < alpha < 4/pi unstable (AT function > 1); alpha = 2 and 1e6 past the RS q -> 1 line
  (no RS solution: status ``no_solution``, message about q -> 1);
* a user's RS Hopfield model at beta = 30 (sharp tanh integrands): spin-glass and retrieval
  order parameters and the retrieval/spin-glass free-entropy crossing along alpha;
* a user's Bayes-optimal spherical teacher-student with label noise eps = 0.1 at alpha = 1, 5,
  20, 100 (from the default start);
* the registered ``perceptron.spherical_teacher`` at alpha = 1e3, 1e4.

``status`` / ``error_estimate`` are read with getattr so that against a solver without them the
failures are about the numbers, not about missing attributes.
"""
import math
import re

import numpy as np
import pytest
import sympy as sp

import phasekit as pk
from phasekit.theory import Branch, E, H, Transition, define_model, log2cosh

from .. import _problems_trust as ref

ORDER_TOL = 1e-7      # declared 1e-8 on the order parameters + reference error (< 1e-12)
CROSSING_TOL = 1e-5   # on the crossing alpha (slope of the free-entropy difference ~ 0.5)


# ------------------------------------------------------------------------------- user models
def make_hopfield():
    r"""RS Hopfield model (AGS), written as a user would: free entropy per spin

    f = -m^2/2 - alpha/(2 beta)[ln(1 - beta(1-q)) - beta q/(1 - beta(1-q))] - alpha beta r (1-q)/2
        + (1/beta) E_z ln 2cosh(beta(m + sqrt(alpha r) z)),

    no conjugate pairs (m has none), so the solver works on grad f = 0 directly. Branches:
    retrieval (m = 1, q close to 1) and spin glass (m = 0, beta(1-q) = 0.75)."""
    alpha, beta, m, q, r, z = sp.symbols("alpha beta m q r z", real=True)
    D = 1 - beta * (1 - q)
    phi = (-m**2 / 2 - alpha / (2 * beta) * (sp.log(D) - beta * q / D) - alpha * beta * r * (1 - q) / 2
           + E(log2cosh(beta * (m + sp.sqrt(alpha * r) * z)), z) / beta)

    def start(C, mm):
        def s(p):
            qq = 1 - C / p["beta"]
            return {"m": mm, "q": qq, "r": qq / (1 - C) ** 2}
        return s
    return define_model(
        "user.hopfield_rs", phi,
        control={"alpha": dict(low=0, high=1, closed="both", default=0.05),
                 "beta": dict(low=1, high=50, closed="neither", default=30.0)},
        order={"m": (-1, 1, 1.0), "q": dict(low=0, high=1, closed="left", default=0.99),
               "r": dict(low=0, high=math.inf, closed="left", default=1.0)},
        branches=(Branch("retrieval", start(1e-3, 1.0), "condensed pattern, m > 0"),
                  Branch("spin_glass", start(0.75, 0.0), "m = 0, q > 0")),
        transitions=(Transition("retrieval_sg", "crossing", along="alpha", branch="retrieval",
                                other="spin_glass", search=(0.03, 0.08),
                                doc="free entropies of the retrieval and spin-glass states cross"),),
        observables={"entropy": sp.Symbol("phi", real=True)},
    )


def make_noisy_teacher():
    r"""Bayes-optimal spherical teacher-student perceptron with label-flip noise eps, written as a
    user would (no scale hint on the expectation):

    phi(q) = ln(1-q)/2 + q/2 + 2 alpha E_xi[Z ln Z], Z = eps + (1-2eps) H(-sqrt(q/(1-q)) xi);

    derivation in ``tests/_problems_trust.py`` (module docstring)."""
    alpha, eps, q, xi = sp.symbols("alpha eps q xi", real=True)
    Z = eps + (1 - 2 * eps) * H(-sp.sqrt(q / (1 - q)) * xi)
    phi = sp.log(1 - q) / 2 + q / 2 + 2 * alpha * E(Z * sp.log(Z), xi)
    return define_model(
        "user.noisy_teacher", phi,
        control={"alpha": dict(low=0, high=math.inf, closed="left", default=1.0),
                 "eps": dict(low=0, high=0.5, closed="neither", default=0.1)},
        order={"q": dict(low=0, high=1, closed="left", default=0.5)},
        observables={"entropy": sp.Symbol("phi", real=True)},
    )


HOPFIELD = make_hopfield()
NOISY = make_noisy_teacher()


# ------------------------------------------------------------------------------- helpers
def status_of(res):
    """The result's status; a solver without the field is read through ``converged`` (so that a
    failure against it is about the numbers, not about a missing attribute)."""
    st = getattr(res, "status", None)
    if st is None:
        return "converged" if res.converged else "not_converged"
    return st


def describe(res):
    return (f"status={status_of(res)!r} converged={res.converged} x={res.order_parameters} "
            f"residual={res.residual:.3g} error_estimate={getattr(res, 'error_estimate', None)} "
            f"message={res.message!r}")


def assert_trusted(res, expected: dict, tol=ORDER_TOL):
    """status converged and every order parameter within tol * max(1, |x|) of the reference."""
    assert status_of(res) == "converged" and res.converged, describe(res)
    for k, v in expected.items():
        got = res.order_parameters[k]
        assert abs(got - v) <= tol * max(1.0, abs(v)), (
            f"{k} = {got!r}, reference {v!r}: off by {got - v:.3g} ({describe(res)})")
    if hasattr(res, "error_estimate"):  # converged promises an error estimate below tolerance
        est = res.error_estimate
        assert np.isfinite(est) and est <= tol, f"error estimate not below tolerance: {describe(res)}"


# ------------------------------------------------------------------------------- references
def test_references_agree_with_literature():
    b = ref.binary_storage_rs(0.5)
    assert b["q"] == pytest.approx(0.3223854, abs=5e-8) and b["entropy"] == pytest.approx(0.3143901, abs=5e-8)
    assert ref.binary_at_line() == pytest.approx(1.01465, abs=1e-5)
    assert ref.binary_q_to_one(0.0) == pytest.approx(4 / math.pi, rel=1e-12)
    # Gibbs R(alpha = 1) = 0.486264 (Gyorgyi-Tishby), and 1 - q ~ c/alpha^2 at large alpha
    assert ref.spherical_teacher_q(1.0) == pytest.approx(0.486264, abs=1e-6)
    for a in (1e3, 1e4):
        assert ref.noisy_teacher_gap(a, 0.0) == pytest.approx(ref.noisy_teacher_asymptotic_gap(a, 0.0), rel=5e-5)
    assert ref.noisy_teacher_gap(1e4, 0.1) == pytest.approx(ref.noisy_teacher_asymptotic_gap(1e4, 0.1), rel=1e-5)
    # the Hopfield references are stationary points of the free entropy (independent gradient)
    for sol in (ref.hopfield_spin_glass(0.05, 30.0), ref.hopfield_retrieval(0.05, 30.0)):
        g = ref.hopfield_gradient(0.05, 30.0, sol["m"], sol["q"], sol["r"])
        assert np.max(np.abs(g)) < 1e-11
    # low-temperature limit: the crossing tends to alpha = 0.051 as T -> 0 (AGS)
    assert 0.050 < ref.hopfield_crossing(30.0) < 0.055


# ------------------------------------------------------------------------------- binary storage
def test_binary_storage_below_at_line_is_converged_and_right():
    res = pk.solve("perceptron.binary_storage", {"alpha": 0.5, "kappa": 0.0})
    b = ref.binary_storage_rs(0.5)
    assert_trusted(res, {"q": b["q"], "qhat": b["qhat"]})
    assert res.free_entropy == pytest.approx(b["entropy"], abs=1e-7)


@pytest.mark.parametrize("a", [2.0, 1e6])
def test_binary_storage_past_q_to_one_line_has_no_solution(a):
    assert a > ref.binary_q_to_one(0.0)
    res = pk.solve("perceptron.binary_storage", {"alpha": a, "kappa": 0.0})
    assert not res.converged, describe(res)
    assert status_of(res) == "no_solution", describe(res)
    assert re.search(r"q\s*(->|→)\s*1", res.message), describe(res)


def test_binary_storage_past_q_to_one_line_with_margin():
    k = 0.5
    a = 1.05 * ref.binary_q_to_one(k)
    res = pk.solve("perceptron.binary_storage", {"alpha": a, "kappa": k})
    assert status_of(res) == "no_solution" and not res.converged, describe(res)


@pytest.mark.parametrize("a", [1.1, 1.2])
def test_binary_storage_between_at_and_q_to_one_is_unstable(a):
    assert ref.binary_at_line() < a < ref.binary_q_to_one(0.0)
    b = ref.binary_storage_rs(a)
    assert b["at_function"] > 1
    res = pk.solve("perceptron.binary_storage", {"alpha": a, "kappa": 0.0})
    assert not res.converged, describe(res)
    assert status_of(res) == "unstable", describe(res)
    assert res.message, describe(res)
    # the values of an unstable stationary point are kept (the AT line is evaluated on them)
    assert res.order_parameters["q"] == pytest.approx(b["q"], abs=ORDER_TOL), describe(res)


# ------------------------------------------------------------------------------- Hopfield, beta = 30
@pytest.mark.parametrize("a", [0.04, 0.05, 0.0527, 0.06])
def test_hopfield_spin_glass_beta30(a):
    s = ref.hopfield_spin_glass(a, 30.0)
    res = pk.solve(HOPFIELD, {"alpha": a, "beta": 30.0}, branch="spin_glass")
    assert_trusted(res, {"m": 0.0, "q": s["q"], "r": s["r"]})
    assert res.free_entropy == pytest.approx(s["f"], abs=1e-8)


@pytest.mark.parametrize("a", [0.04, 0.05, 0.0527, 0.06])
def test_hopfield_retrieval_beta30(a):
    s = ref.hopfield_retrieval(a, 30.0)
    res = pk.solve(HOPFIELD, {"alpha": a, "beta": 30.0}, branch="retrieval")
    assert_trusted(res, {"m": s["m"], "q": s["q"], "r": s["r"]})
    assert res.free_entropy == pytest.approx(s["f"], abs=1e-8)


def test_hopfield_crossing_beta30_find_transition():
    a_ref = ref.hopfield_crossing(30.0)
    tr = pk.find_transition(HOPFIELD, "retrieval_sg", {"beta": 30.0})
    assert tr.converged and status_of(tr) == "converged", tr
    assert abs(tr.value - a_ref) <= CROSSING_TOL, f"crossing at {tr.value!r}, reference {a_ref!r}"


def test_hopfield_crossing_beta30_brentq_over_solve():
    import scipy.optimize as so
    a_ref = ref.hopfield_crossing(30.0)

    def d(a):
        r1 = pk.solve(HOPFIELD, {"alpha": a, "beta": 30.0}, branch="retrieval")
        r2 = pk.solve(HOPFIELD, {"alpha": a, "beta": 30.0}, branch="spin_glass")
        assert r1.converged and r2.converged, (describe(r1), describe(r2))
        return r1.free_entropy - r2.free_entropy
    a = so.brentq(d, 0.045, 0.06, xtol=1e-9)
    assert abs(a - a_ref) <= CROSSING_TOL, f"crossing at {a!r}, reference {a_ref!r}"


# ------------------------------------------------------------------------------- noisy teacher
@pytest.mark.parametrize("a", [1.0, 5.0, 20.0, 100.0])
def test_noisy_bayes_teacher_from_default_start(a):
    q_ref = ref.noisy_teacher_q(a, 0.1)
    res = pk.solve(NOISY, {"alpha": a, "eps": 0.1})
    assert_trusted(res, {"q": q_ref})


# ------------------------------------------------------------------------------- spherical teacher
@pytest.mark.parametrize("a", [1e3, 1e4])
def test_spherical_teacher_large_alpha(a):
    q_ref = ref.spherical_teacher_q(a)
    res = pk.solve("perceptron.spherical_teacher", {"alpha": a})
    assert_trusted(res, {"q": q_ref})
