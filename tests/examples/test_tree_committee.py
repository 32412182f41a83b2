"""Worked example examples/tree_committee.py: a user's model loaded from its file."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special as sc
import sympy as sp

from phasekit import solve
from phasekit._registry import get_model
from phasekit.cli import main as cli_main
from phasekit.theory import compile_expr

FILE = Path(__file__).resolve().parents[2] / "examples" / "tree_committee.py"


def _model(cls):
    return get_model(f"{FILE}:{cls}")


@pytest.fixture(scope="module")
def tc():
    return sys.modules[type(_model("BinaryTreeCommittee")).__module__]


@pytest.mark.parametrize("alpha", [0.2, 0.5, 1.0])
def test_K1_is_the_perceptron(tc, alpha):
    for ours, ref in ((tc.BinaryTreeCommittee(K=1), "perceptron.binary_storage"),
                      (tc.SphericalTreeCommittee(K=1), "perceptron.spherical_storage")):
        a, b = solve(ours, {"alpha": alpha}), solve(ref, {"alpha": alpha})
        assert a.converged and b.converged
        np.testing.assert_allclose(a.free_entropy, b.free_entropy, rtol=0, atol=1e-10)
        np.testing.assert_allclose(a.order_parameters["q"], b.order_parameters["q"], rtol=0, atol=1e-10)


def test_alpha_zero(tc):
    b = solve(_model("BinaryTreeCommittee"), {"alpha": 0.0})
    s = solve(_model("SphericalTreeCommittee"), {"alpha": 0.0})
    np.testing.assert_allclose(b.free_entropy, np.log(2), rtol=0, atol=1e-10)
    np.testing.assert_allclose(s.free_entropy, 0.0, rtol=0, atol=1e-10)
    # (at alpha = 0 phi does not depend on q once qhat = 0: q -> 0 only through the damped iteration)
    np.testing.assert_allclose([b.order_parameters["q"], s.order_parameters["q"]], 0.0, atol=1e-4)


def test_K3_binary_solve_and_rs_capacity():
    m = _model("BinaryTreeCommittee")
    r = solve(m, {"alpha": 0.5})
    assert r.converged and r.residual < 1e-9
    # RS capacity (zero entropy) 0.920619401 (find_transition; GH 41 and 61 nodes agree to 1e-12):
    lo, hi = solve(m, {"alpha": 0.9206193}), solve(m, {"alpha": 0.9206195})
    assert lo.converged and hi.converged
    assert lo.free_entropy > 0 > hi.free_entropy


def test_K3_spherical_solve():
    r = solve(_model("SphericalTreeCommittee"), {"alpha": 1.0})
    assert r.converged and r.residual < 1e-9
    assert 0 < r.order_parameters["q"] < 1 and r.free_entropy < 0


def test_energetic_term_monte_carlo(tc):
    """K = 3 energetic term at q = 0.4, kappa = 0.2: quadrature vs 2e6 Monte-Carlo samples (3 sigma)."""
    q, k = 0.4, 0.2
    quad = float(compile_expr(tc.energetic_term(3), (tc.q, tc.kappa), nodes={3: 41})(q, k))
    rng = np.random.default_rng(12345)
    z = rng.standard_normal((3, 2_000_000))
    plus = sc.ndtr((np.sqrt(q) * z - k) / np.sqrt(1 - q))    # H((k - sqrt(q) z)/sqrt(1-q)), tau = +1
    minus = sc.ndtr((-np.sqrt(q) * z - k) / np.sqrt(1 - q))  # tau = -1
    p = plus.prod(0) + minus[0] * plus[1] * plus[2] + plus[0] * minus[1] * plus[2] + plus[0] * plus[1] * minus[2]
    x = np.log(p)
    mean, err = x.mean(), x.std(ddof=1) / np.sqrt(x.size)
    assert abs(quad - mean) < 3 * err, (quad, mean, err)


def test_rs_cost_limits(tc):
    # K = 1: C = 1/alpha_c(kappa) of the Gardner volume, so the spherical capacity is 2 at kappa = 0
    np.testing.assert_allclose(float(tc.rs_cost(1, 0.0)), 0.5, rtol=1e-15)
    from phasekit.theory.replica.perceptron import spherical_capacity
    np.testing.assert_allclose(float(tc.rs_cost(1, 0.7)), 1 / spherical_capacity(0.7), rtol=1e-13)
    # K = 3 against its definition E min_tau sum_k max(0, kappa - tau_k z_k)^2 (Monte Carlo, 3 sigma)
    k = 0.5
    z = np.random.default_rng(7).standard_normal((3, 2_000_000))
    cp, cm = np.maximum(0, k - z) ** 2, np.maximum(0, k + z) ** 2
    cost = cp.sum(0) + np.minimum(0, (cm - cp).min(0))
    err = cost.std(ddof=1) / np.sqrt(cost.size)
    assert abs(float(tc.rs_cost(3, k)) - cost.mean()) < 3 * err
    # the transitions evaluate it through sympy
    assert abs(float(sp.N(tc.RSCost(3, tc.kappa).subs(tc.kappa, 0.0))) - 0.248435361506709) < 1e-14


def test_cli_user_file(capsys):
    assert cli_main(["solve", f"{FILE}:BinaryTreeCommittee", "--set", "alpha=0.5"]) == 0
    out = capsys.readouterr().out
    assert "example.tree_committee_binary" in out and "status=converged" in out
    assert cli_main(["transition", f"{FILE}:SphericalTreeCommittee", "capacity"]) == 0
    assert "alpha = 4.0251918806" in capsys.readouterr().out
    assert cli_main(["solve", f"{FILE}:BinaryTreeCommittee", "--set", "alpha=-1"]) == 2


def test_cli_subprocess():
    out = subprocess.run([sys.executable, "-m", "phasekit", "solve", f"{FILE}:SphericalTreeCommittee",
                          "--set", "alpha=0.5", "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert '"converged": true' in out.stdout


@pytest.mark.slow
def test_binary_capacity_find_transition():
    from phasekit import find_transition
    tr = find_transition(_model("BinaryTreeCommittee"), "capacity", search=(0.85, 1.0), n_scan=4)
    assert tr.converged
    np.testing.assert_allclose(tr.value, 0.9206194010, atol=1e-9)


@pytest.mark.slow
def test_rs_cost_sympy_integrals_match_fast_form(tc):
    c = tc.rs_cost_integrals(3).subs(tc.kappa, 0)
    np.testing.assert_allclose(float(sp.N(c, 15)), float(tc.rs_cost(3, 0.0)), rtol=1e-12)
