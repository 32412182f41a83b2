"""Worked example examples/committee_bayes.py: Bayes-optimal committee machine, K = 1 and K = 2."""
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special as sc
import sympy as sp

from phasekit import find_transition, solve
from phasekit._registry import get_model
from phasekit.cli import main as cli_main
from phasekit.theory import compile_expr

FILE = Path(__file__).resolve().parents[2] / "examples" / "committee_bayes.py"


def _model(cls):
    return get_model(f"{FILE}:{cls}")


@pytest.fixture(scope="module")
def cb():
    return sys.modules[type(_model("BinaryCommitteeK1")).__module__]


# ---------------------------------------------------------------- K = 1: the hard requirement
@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_K1_binary_is_ising_teacher(alpha):
    ours = solve(_model("BinaryCommitteeK1"), {"alpha": alpha}, branch="poor")
    ref = solve("perceptron.ising_teacher", {"alpha": alpha}, branch="poor")
    assert ours.converged and ref.converged
    for k in ("q", "qhat"):
        np.testing.assert_allclose(ours.order_parameters[k], ref.order_parameters[k], rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.observables["entropy"], ref.observables["entropy"], rtol=0, atol=1e-8)
    if alpha == 0.5:  # spec section 5 [V]: q = 0.293089, s = 0.372133, qhat = 0.393670
        np.testing.assert_allclose([ours.order_parameters["q"], ours.free_entropy, ours.order_parameters["qhat"]],
                                   [0.293089, 0.372133, 0.393670], rtol=0, atol=1e-6)


def test_K1_binary_first_order_transition():
    ours = find_transition(_model("BinaryCommitteeK1"), "first_order")
    ref = find_transition("perceptron.ising_teacher", "first_order")
    assert ours.converged and ref.converged
    np.testing.assert_allclose(ours.value, ref.value, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.value, 1.24468, rtol=0, atol=5e-6)  # spec section 5 [V]


@pytest.mark.parametrize("alpha,R", [(0.5, 0.280326), (1.0, 0.486264), (2.0, 0.728298)])
def test_K1_gaussian_is_spherical_teacher(alpha, R):
    ours = solve(_model("GaussianCommitteeK1"), {"alpha": alpha})
    ref = solve("perceptron.spherical_teacher", {"alpha": alpha})
    assert ours.converged and ref.converged
    np.testing.assert_allclose(ours.order_parameters["q"], ref.order_parameters["q"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.free_entropy, ref.free_entropy, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.order_parameters["q"], R, rtol=0, atol=1e-6)  # spec section 4 table


def test_cli_user_file(capsys):
    assert cli_main(["solve", f"{FILE}:BinaryCommitteeK1", "--set", "alpha=0.5", "--branch", "poor"]) == 0
    out = capsys.readouterr().out
    assert "q            = 0.29308903005" in out


# ---------------------------------------------------------------- K = 2: fast checks
def test_K2_alpha_zero_limits(cb):
    tiny = 1e-14  # q = qhat = 0 (the lower ends of qd, qdhat are open)
    b = _model("BinaryCommittee").phi_numeric(0.0, tiny, 0.0, tiny, 0.0)
    g = _model("GaussianCommittee").phi_numeric(0.0, tiny, 0.0, tiny, 0.0)
    np.testing.assert_allclose(b, 2 * np.log(2), rtol=0, atol=1e-10)  # 2 weights per input, ln 2 each
    np.testing.assert_allclose(g, 0.0, rtol=0, atol=1e-10)


def _orthant_numpy(s1, s2, w1, w2, qd, qa, n=80):
    """Independent numpy version of the 1-D formula (Gauss-Hermite in u)."""
    t, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    c, v = np.sqrt(qa / 2), np.sqrt(1 - qd - qa)
    a = sc.ndtr(s1 * (w1[..., None] + c * t) / v) * sc.ndtr(s2 * (w2[..., None] - c * t) / v)
    return a @ w


def test_K2_orthant_probability_monte_carlo(cb):
    """P(h1 > 0, h2 < 0) for h ~ N(omega, I - q): the 1-D formula vs 2e6 samples (3 sigma)."""
    qd_, qa_, w = 0.3, 0.4, (0.2, -0.5)
    f = compile_expr(cb.orthant(1, -1, *sp.symbols("w1 w2", real=True)),
                     (cb.qd, cb.qa) + sp.symbols("w1 w2", real=True))
    p = float(f(qd_, qa_, *w))
    np.testing.assert_allclose(p, _orthant_numpy(1, -1, np.array(w[0]), np.array(w[1]), qd_, qa_), atol=1e-12)
    V = np.eye(2) - (qd_ * np.eye(2) + qa_ / 2 * np.ones((2, 2)))
    h = np.random.default_rng(3).multivariate_normal(w, V, size=2_000_000)
    hit = (h[:, 0] > 0) & (h[:, 1] < 0)
    err = np.sqrt(p * (1 - p) / hit.size)
    assert abs(hit.mean() - p) < 3 * err


def test_K2_psi_out_monte_carlo(cb):
    """Psi_out(qd=0.3, qa=0.4): nested quadrature vs Monte Carlo over xi (2e5 samples, 3 sigma)."""
    qd_, qa_ = 0.3, 0.4
    quad = float(compile_expr(cb.psi_out(2), (cb.qd, cb.qa), nodes={1: 21, 2: 0.25})(qd_, qa_))
    xs, xa = np.random.default_rng(11).standard_normal((2, 200_000))
    w1 = (np.sqrt(qd_ + qa_) * xs + np.sqrt(qd_) * xa) / np.sqrt(2)
    w2 = (np.sqrt(qd_ + qa_) * xs - np.sqrt(qd_) * xa) / np.sqrt(2)
    zp, zm = _orthant_numpy(1, 1, w1, w2, qd_, qa_), _orthant_numpy(-1, -1, w1, w2, qd_, qa_)
    z0 = _orthant_numpy(1, -1, w1, w2, qd_, qa_) + _orthant_numpy(-1, 1, w1, w2, qd_, qa_)
    np.testing.assert_allclose(zp + zm + z0, 1.0, atol=1e-12)  # the three outputs exhaust the cases
    x = sc.xlogy(zp, zp) + sc.xlogy(zm, zm) + sc.xlogy(z0, z0)
    err = x.std(ddof=1) / np.sqrt(x.size)
    assert abs(quad - x.mean()) < 3 * err, (quad, x.mean(), err)


# ---------------------------------------------------------------- K = 2: saddle points (slow)
@pytest.mark.slow
@pytest.mark.parametrize("cls", ["BinaryCommittee", "GaussianCommittee"])
@pytest.mark.parametrize("alpha", [0.5, 1.5])
def test_K2_unspecialised_solution(cls, alpha):
    r = solve(_model(cls), {"alpha": alpha}, branch="unspecialised")
    assert r.converged and r.residual < 1e-9
    assert r.order_parameters["qd"] < 1e-4 < r.order_parameters["qa"] < 1
