r"""Property campaign of the issue "Trustworthy numbers": a converged result is never wrong.

For every registered :class:`~phasekit.theory.EquilibriumModel` whose numerics are compiled from
its sympy free entropy (hand-kernel models, with ``phi_numeric`` overridden, are skipped), and for
the two user models of ``test_trust_cases`` (RS Hopfield, noisy Bayes teacher), hypothesis draws
points in bounded boxes inside the declared control domains (and a branch), solves, and requires
each result to be

* not converged — any other status, ``converged == (status == "converged")`` and a non-empty
  message; or
* converged and right: the order parameters agree with an independent high-precision evaluation
  to ``ERR_TOL`` (relative to max(1, |x|)).

Independent evaluation. Registered models: the model's sympy stationarity conditions
(``model.stationarity``, d phi/dx derived by sympy from the free entropy) evaluated with
``tests/_problems_trust.QuadExpr`` — adaptive ``scipy.integrate.quad`` with error estimates per
expectation, special functions mapped by name to scipy, no phasekit numerics — at the returned
point, and their Jacobian by central differences of the same; the implied error of the order parameters is
the Newton step :math:`\delta = (\nabla^2\phi)^{-1}\nabla\phi` (first order in the distance to
the true stationary point; :math:`\le |\nabla\phi| / \min|\mathrm{eig}|`). A point is *wrong* when
:math:`\max_i |\delta_i| / \max(1,|x_i|) >` ``ERR_TOL`` while the quadrature error bound of the
reference implies less than ``ERR_TOL``/10; when the reference itself cannot certify (singular
Hessian, quadrature error bound too large) the point is counted as *unverified* (printed, not a
failure). ``test_quad_reference_matches_evaluate_mpmath`` ties QuadExpr to
``phasekit.theory.evaluate_mpmath`` (mpmath tanh-sinh, 20 digits) at a few points.
User models: the hand-derived equations of ``tests/_problems_trust.py`` (Hopfield: independent
gradient + finite-difference Hessian; noisy teacher: the reference solution itself).

Fast version: ``FAST_EXAMPLES`` points per model; full campaign (``--runslow``): ``SLOW_EXAMPLES``.
The draws are reproducible: hypothesis is seeded with ``PHASEKIT_TEST_SEED`` (default 0), no
example database, no shrinking (every point is checked and counted, failures are collected and
reported together). Run with ``-s`` to see the counts per model.
"""
from __future__ import annotations

import collections
import dataclasses
import math
import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import phasekit as pk
from phasekit.theory import EquilibriumModel

from .. import _problems_trust as ref
from .test_trust_cases import HOPFIELD, NOISY

SEED = int(os.environ.get("PHASEKIT_TEST_SEED", "0"))
FAST_EXAMPLES = 10
SLOW_EXAMPLES = 100
#: fewer fast examples for a model where one solve takes seconds (none at present)
FAST_EXAMPLES_OF: dict = {}
ERR_TOL = 1e-7
STATUSES = ("converged", "not_converged", "no_solution", "under_resolved", "unstable", "outside_domain")


# ------------------------------------------------------------------------------- draws
def uniform(lo, hi, *, open_lo=False, open_hi=False):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     exclude_min=open_lo, exclude_max=open_hi)


def log_uniform(lo, hi):
    return st.floats(math.log(lo), math.log(hi), allow_nan=False).map(math.exp)


#: Bounded boxes inside the declared domains; teachers also get large loads (log-uniform).
SPECS = {
    # storage: half the draws below alpha = 0.9, where the RS solution exists for small kappa
    "perceptron.binary_storage": {"alpha": st.one_of(uniform(0, 0.9), uniform(0, 3)), "kappa": uniform(0, 1.5)},
    "perceptron.spherical_storage": {"alpha": st.one_of(uniform(0, 0.9), uniform(0, 3)), "kappa": uniform(0, 1.5)},
    "perceptron.spherical_teacher": {"alpha": st.one_of(uniform(0, 3), log_uniform(3, 1e4))},
    "perceptron.ising_teacher": {"alpha": uniform(0, 3)},
    "perceptron.ising_teacher_margin": {"alpha": uniform(0, 3), "kappa": uniform(0, 1.5)},
    "perceptron.random_features": {"alpha": uniform(0, 3), "gamma": log_uniform(0.1, 10),
                                   "mu1": uniform(0, 1, open_lo=True)},
    "user.hopfield_rs": {"alpha": uniform(0, 0.3), "beta": uniform(1.2, 40)},
    "user.noisy_teacher": {"alpha": st.one_of(uniform(0, 3), log_uniform(3, 1e3)),
                           "eps": uniform(0.01, 0.45)},
}

#: Models left out of the fast run because their reference is expensive (seconds per point);
#: none at present (QuadExpr costs < 0.3 s per point for the five-parameter random-features model).
EXPENSIVE: set = set()


def generic_spec(model):
    """A bounded box for a model without an entry in SPECS: finite intervals as declared (open
    ends excluded), alpha/kappa-like half lines [low, low + 3], otherwise default * [1/2, 2]."""
    out = {}
    for p in model.control:
        lo_open = p.closed in ("right", "neither")
        hi_open = p.closed in ("left", "neither")
        if math.isfinite(p.low) and math.isfinite(p.high):
            out[p.name] = uniform(p.low, p.high, open_lo=lo_open, open_hi=hi_open)
        elif p.default not in (None, 0.0) and math.isfinite(p.default):
            d = float(p.default)
            s = st.floats(math.log(0.5), math.log(2.0), allow_nan=False).map(lambda u, d=d: d * math.exp(u))
            out[p.name] = s.filter(p.contains)
        elif math.isfinite(p.low):
            out[p.name] = uniform(p.low, p.low + 3, open_lo=lo_open)
        else:
            out[p.name] = uniform(-3, 3)
    return out


def campaign_models():
    """Registered models compiled from their sympy free entropy (phi_numeric not overridden)."""
    names = []
    for name in pk.list_models():
        m = pk.get_model(name)
        if not isinstance(m, EquilibriumModel):
            continue
        if type(m).phi_numeric is not EquilibriumModel.phi_numeric:
            continue  # hand kernel
        names.append(name)
    return names


# ------------------------------------------------------------------------------- references
_QUAD = {}


def _quad_grad(model):
    if model.name not in _QUAD:
        syms = model.control_symbols + model.order_symbols
        _QUAD[model.name] = [ref.QuadExpr(e, syms) for e in model.stationarity]
    return _QUAD[model.name]


def _values(model, res):
    v = dict(res.params)
    v.update(res.order_parameters)
    # the model's sympy symbols may be named differently from the parameters (Param.latex)
    return {p.symbol.name: v[p.name] for p in model.control + model.order}


def fd_jacobian(grad, x, g0):
    """Central differences of ``grad`` (one-sided where a step leaves the domain: non-finite)."""
    n = x.size
    J = np.empty((n, n))
    for j in range(n):
        h = 1e-6 * max(1.0, abs(x[j]))
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        gp, gm = grad(xp), grad(xm)
        if not np.all(np.isfinite(gp)):
            gp, xp = g0, x
        if not np.all(np.isfinite(gm)):
            gm, xm = g0, x
        J[:, j] = (gp - gm) / max(xp[j] - xm[j], 1e-300)
    return J


def implied_error_registered(model, res):
    """(error, certified_bound): Newton step of the sympy stationarity conditions evaluated by
    QuadExpr; the Jacobian by central differences of the same (it only scales the step, so its
    O(1e-8) relative error does not matter — and it avoids lambdifying large symbolic Hessians)."""
    grad = _quad_grad(model)
    vals = _values(model, res)
    names = [p.symbol.name for p in model.order]
    x = np.array([res.order_parameters[p.name] for p in model.order])

    def g_at(y):
        v = dict(vals, **dict(zip(names, map(float, y))))
        with np.errstate(all="ignore"):
            return np.array([q(v)[0] for q in grad])
    g, gb = np.array([q(vals) for q in grad]).T
    if not np.all(np.isfinite(g)):
        return math.inf, math.inf
    return _newton_error(g, gb, fd_jacobian(g_at, x, g), x)


def _newton_error(g, gb, H, x):
    scale = np.maximum(1.0, np.abs(x))
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return math.inf, math.inf
    try:
        Hinv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        Hinv = None
    if Hinv is None or not np.all(np.isfinite(Hinv)) or np.linalg.cond(H) > 1e14:
        # singular Jacobian: certify only an exactly stationary point
        err = 0.0 if np.max(np.abs(g)) <= 1e-13 else math.inf
        return err, (0.0 if err == 0.0 else math.inf)
    delta = Hinv @ g
    bound = np.abs(Hinv) @ gb
    return float(np.max(np.abs(delta) / scale)), float(np.max(bound / scale))


def implied_error_hopfield(res):
    """Independent gradient of tests/_problems_trust (hand-derived, quad) and its differences."""
    a, b = res.params["alpha"], res.params["beta"]
    x = np.array([res.order_parameters[k] for k in ("m", "q", "r")])

    def grad(y):
        with np.errstate(all="ignore"):
            try:
                return ref.hopfield_gradient(a, b, *y)
            except (ValueError, ZeroDivisionError):
                return np.full(3, np.nan)
    g = grad(x)
    if not np.all(np.isfinite(g)):
        return math.inf, math.inf
    return _newton_error(g, np.full(3, 1e-14), fd_jacobian(grad, x, g), x)


def implied_error_noisy(res):
    q_ref = ref.noisy_teacher_q(res.params["alpha"], res.params["eps"])
    return abs(res.order_parameters["q"] - q_ref), 1e-13


# ------------------------------------------------------------------------------- tally
@dataclasses.dataclass
class Tally:
    model: str
    tried: int = 0
    statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    wrong: list = dataclasses.field(default_factory=list)          # converged but wrong
    unverified: list = dataclasses.field(default_factory=list)     # reference cannot certify
    broken: list = dataclasses.field(default_factory=list)         # contract violations, exceptions
    max_err: float = 0.0
    seconds: float = 0.0
    slowest: tuple = (0.0, None)                                    # (seconds, params) of the slowest solve
    seen: set = dataclasses.field(default_factory=set)

    def line(self):
        st_ = ", ".join(f"{k}={v}" for k, v in sorted(self.statuses.items()))
        return (f"[campaign] {self.model}: tried {self.tried}; {st_}; silent wrong {len(self.wrong)}; "
                f"unverified {len(self.unverified)}; contract violations {len(self.broken)}; "
                f"max implied error of converged points {self.max_err:.2g}; {self.seconds:.1f} s "
                f"(slowest solve {self.slowest[0]:.1f} s at {self.slowest[1]})")


TALLIES: dict[str, Tally] = {}


def check_point(model, params, branch, tally, implied_error):
    key = (tuple(sorted(params.items())), branch)
    if key in tally.seen:  # hypothesis repeats boundary points; count each point once
        return
    tally.seen.add(key)
    tally.tried += 1
    t0 = time.perf_counter()
    try:
        res = pk.solve(model, params, branch=branch)
    except Exception as e:  # a solver must answer with a status, not raise, inside the domain
        tally.broken.append((params, branch, f"raised {type(e).__name__}: {e}"))
        return
    finally:
        dt = time.perf_counter() - t0
        if dt > tally.slowest[0]:
            tally.slowest = (dt, dict(params, branch=branch))
    st_ = getattr(res, "status", None)
    if st_ is None:  # a solver without statuses: read converged
        st_ = "converged" if res.converged else "not_converged"
    tally.statuses[st_] += 1
    if st_ not in STATUSES or bool(res.converged) != (st_ == "converged"):
        tally.broken.append((params, branch, f"status {st_!r} with converged={res.converged}"))
        return
    if st_ != "converged":
        if not str(res.message).strip():
            tally.broken.append((params, branch, f"status {st_!r} without a message"))
        return
    err, cert = implied_error(res)
    if err <= ERR_TOL:
        tally.max_err = max(tally.max_err, err)
    elif cert <= ERR_TOL / 10:
        tally.max_err = max(tally.max_err, err)
        tally.wrong.append((params, branch, dict(res.order_parameters), err,
                            getattr(res, "error_estimate", None), res.message))
    else:
        tally.unverified.append((params, branch, dict(res.order_parameters), err, cert))


def run_campaign(model, spec, implied_error, n_examples):
    branches = [b.name for b in model.branches if b.fixed is None] or [None]
    tally = Tally(model.name)
    t0 = time.perf_counter()

    @seed(SEED)
    @settings(max_examples=n_examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(point=st.fixed_dictionaries(spec), branch=st.sampled_from(branches))
    def campaign(point, branch):
        check_point(model, point, branch, tally, implied_error)

    campaign()
    tally.seconds = time.perf_counter() - t0
    TALLIES[f"{model.name}/{n_examples}"] = tally
    print("\n" + tally.line())
    for kind in ("wrong", "unverified", "broken"):
        for item in getattr(tally, kind)[:10]:
            print(f"    {kind}: {item}")
    return tally


def assert_clean(tally):
    assert not tally.broken, f"{tally.model}: contract violations {tally.broken[:5]}"
    assert not tally.wrong, (f"{tally.model}: {len(tally.wrong)} converged but wrong of {tally.tried} "
                             f"(params, branch, x, implied error, error_estimate, message): {tally.wrong[:5]}")


def _registered_case(name, n):
    model = pk.get_model(name)
    spec = SPECS.get(name) or generic_spec(model)
    return run_campaign(model, spec, lambda r: implied_error_registered(model, r), n)


REGISTERED = campaign_models()
FAST_REGISTERED = [n for n in REGISTERED if n not in EXPENSIVE]


def test_campaign_covers_the_compiled_models():
    assert {"perceptron.binary_storage", "perceptron.spherical_storage", "perceptron.spherical_teacher",
            "perceptron.ising_teacher"} <= set(REGISTERED)
    assert "perceptron.local_entropy" not in REGISTERED  # hand kernel


# ------------------------------------------------------------------------------- fast campaign
@pytest.mark.parametrize("name", FAST_REGISTERED)
def test_campaign_registered(name):
    assert_clean(_registered_case(name, FAST_EXAMPLES_OF.get(name, FAST_EXAMPLES)))


def test_campaign_user_hopfield():
    assert_clean(run_campaign(HOPFIELD, SPECS["user.hopfield_rs"], implied_error_hopfield, FAST_EXAMPLES))


def test_campaign_user_noisy_teacher():
    assert_clean(run_campaign(NOISY, SPECS["user.noisy_teacher"], implied_error_noisy, FAST_EXAMPLES))


def test_quad_reference_matches_evaluate_mpmath():
    """QuadExpr (scipy quad) against phasekit.theory.evaluate_mpmath (mpmath, 20 digits) on the
    stationarity conditions, off the stationary point so that the values are O(1e-2)."""
    from phasekit.theory import evaluate_mpmath
    for name, point in (("perceptron.binary_storage", {"alpha": 0.4, "kappa": 0.3, "q": 0.45, "qhat": 1.3}),
                        ("perceptron.spherical_teacher", {"alpha": 50.0, "q": 0.99})):
        model = pk.get_model(name)
        grad = _quad_grad(model)
        sym = {p.symbol: point[p.name] for p in model.control + model.order}
        vals = {p.symbol.name: point[p.name] for p in model.control + model.order}
        for e, q in zip(model.stationarity, grad):
            v, bound = q(vals)
            mp = float(evaluate_mpmath(e, sym, dps=20))
            assert abs(v - mp) <= 1e-12 * max(1.0, abs(mp)) + bound, (name, v, mp, bound)


# ------------------------------------------------------------------------------- full campaign
@pytest.mark.slow
@pytest.mark.parametrize("name", REGISTERED)
def test_campaign_registered_full(name):
    assert_clean(_registered_case(name, SLOW_EXAMPLES))


@pytest.mark.slow
def test_campaign_user_models_full():
    t1 = run_campaign(HOPFIELD, SPECS["user.hopfield_rs"], implied_error_hopfield, SLOW_EXAMPLES)
    t2 = run_campaign(NOISY, SPECS["user.noisy_teacher"], implied_error_noisy, SLOW_EXAMPLES)
    assert_clean(t1)
    assert_clean(t2)
