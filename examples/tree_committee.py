r"""Worked example: storage capacity of the tree committee machine (replica symmetric).

A user's own model, written with phasekit's public API only. Run it from the command line::

    phasekit solve examples/tree_committee.py:BinaryTreeCommittee --set alpha=0.5
    phasekit transition examples/tree_committee.py:BinaryTreeCommittee capacity
    phasekit transition examples/tree_committee.py:SphericalTreeCommittee capacity

or from Python::

    from phasekit import solve
    from phasekit._registry import get_model
    m = get_model("examples/tree_committee.py:BinaryTreeCommittee")
    solve(m, {"alpha": 0.5})

The machine
-----------
K (odd) hidden sign units, each seeing its own block of N/K inputs (a *tree*: the receptive
fields do not overlap): :math:`\tau_k = \mathrm{sign}(W_k\cdot\xi_k/\sqrt{N/K})`, output
:math:`\sigma = \mathrm{sign}(\sum_k \tau_k)`. Storage: P = αN random patterns with random
labels (by symmetry all labels +1). A *margin* κ ≥ 0 asks every hidden unit for a stability
:math:`\tau_k h_k > \kappa` (κ = 0 is the usual problem; with K = 1 this is the Gardner margin).

Replica-symmetric free entropy (Barkai, Hansel & Kanter, PRL 65, 2312 (1990); Engel et al.,
PRA 45, 7590 (1992); ``shared/specs/replica.md`` §6b), all branches equivalent:

.. math::
    s = G_S(q,\hat q) + \alpha \int\prod_k Dz_k\,\ln\!\!\sum_{\tau\in\{\pm1\}^K,\ \sum_k\tau_k>0}
        \prod_k H\Big(\frac{\kappa-\tau_k\sqrt q\,z_k}{\sqrt{1-q}}\Big)

with :math:`G_S = -\hat q(1-q)/2 + \int Dz\ln 2\cosh(\sqrt{\hat q} z)` (binary weights,
conjugates q, q̂) or :math:`G_S = \tfrac12\ln(1-q) + q/(2(1-q))` (spherical weights). Entropies
are in nats per weight (binary: (1/N) ln #solutions, ln 2 at α = 0; spherical: log of the
fraction of the product of spheres, 0 at α = 0). q is the overlap of one branch between two
solutions.

Numerics: the log of the sum over the :math:`2^{K-1}` allowed internal representations is
written as a log-sum-exp of sums of ``logH`` (pairwise ``lse(a, b) = (a+b)/2 + ln 2cosh((a-b)/2)``),
so nothing underflows as q → 1. The K-dimensional expectation uses a tensor Gauss–Hermite rule
(``nodes``: 41 per dimension for K = 3; checked against 61 nodes and Monte Carlo in the tests).

Transitions
-----------
``capacity`` (binary): the zero-entropy point of the RS solution. ``q_to_one`` (binary) and
``capacity`` (spherical): the RS point where q → 1, in closed form. As q → 1 (ε = 1−q)
:math:`\ln\sum_\tau\prod_k H \to -C/(2\epsilon)` with :math:`C = \mathbb E_z\min_{\tau}\sum_k
\max(0,\kappa-\tau_k z_k)^2` (the cheapest allowed internal representation), so the spherical
RS capacity is :math:`\alpha_c = 1/C` and the binary q → 1 point :math:`2/(\pi C)` (as for the
perceptron). With :math:`m = (K-1)/2` units allowed to disagree, ordering the costs gives the
1-D formula (:func:`rs_cost_integrals`, :func:`rs_cost`)

.. math::
    C(\kappa) = \frac{K}{\alpha_c^{\rm perc}(\kappa)} - 4\kappa\int_0^\kappa f(H(v))\,dv
              - \int_\kappa^\infty 2(\kappa+u)\, f(H(u))\,du,\qquad
    f(p) = \mathbb E\min(m, \mathrm{Bin}(K,p)),

with :math:`1/\alpha_c^{\rm perc}(\kappa) = \int_{-\infty}^{\kappa} Dz(\kappa-z)^2`.

These are *replica-symmetric* numbers. For the tree committee RS is known not to be exact
(replica symmetry breaking; Barkai–Hansel–Kanter 1990; Engel et al. 1992; the RS capacity grows
like √K, above the Mitchison–Durbin bound ~ ln K/ln 2): treat them as the RS prediction only.
"""
from __future__ import annotations

import functools
import itertools
import math

import mpmath
import sympy as sp

from phasekit import InvalidParameterError
from phasekit.theory import (E, Branch, EquilibriumModel, Param, Transition, expand_expectations,
                              gaussian_ibp, log2cosh, logH)
from phasekit.theory.replica.perceptron import spherical_capacity_expr

__all__ = ["BinaryTreeCommittee", "SphericalTreeCommittee", "energetic_term", "rs_cost",
           "rs_cost_integrals", "RSCost", "allowed_representations"]

alpha, kappa = sp.symbols("alpha kappa", real=True)
q, qhat = sp.symbols("q qhat", real=True)
z = sp.Symbol("z", real=True)

ALPHA = Param("alpha", 0.0, math.inf, "left", 0.5, doc="load alpha = P/N")
KAPPA = Param("kappa", 0.0, math.inf, "left", 0.0, doc="margin of every hidden unit, tau_k h_k > kappa")
Q = Param("q", 0.0, 1.0, "left", 0.3, doc="overlap of one branch between two solutions")
QHAT = Param("qhat", 0.0, math.inf, "left", 0.5, doc="conjugate of q")


def _check_K(K):
    if not (isinstance(K, int) and K >= 1 and K % 2 == 1):
        raise InvalidParameterError(f"The 'K' parameter of the tree committee must be an odd int >= 1. "
                                    f"Got {K!r} instead.")
    return K


def allowed_representations(K):
    """Internal representations τ ∈ {±1}^K with a positive majority (output +1)."""
    return [t for t in itertools.product((1, -1), repeat=_check_K(K)) if sum(t) > 0]


def _lse2(a, b):
    # ln(e^a + e^b) without overflow or underflow; d/da = (1 + tanh((a-b)/2))/2
    return (a + b) / 2 + log2cosh((a - b) / 2)


def _logsumexp(terms):
    while len(terms) > 1:  # balanced pairwise reduction keeps the expression shallow
        terms = [_lse2(*terms[i:i + 2]) if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def energetic_term(K):
    r"""The energetic term :math:`\int\prod_k Dz_k\ln\sum_{\tau:\sum\tau>0}\prod_k
    H((\kappa-\tau_k\sqrt q z_k)/\sqrt{1-q})` as a sympy expression (without the factor α)."""
    zs = sp.symbols(f"z1:{K + 1}", real=True) if K > 1 else (z,)
    logs = [sum(logH((kappa - t * sp.sqrt(q) * zk) / sp.sqrt(1 - q)) for t, zk in zip(tau, zs))
            for tau in allowed_representations(K)]
    return E(_logsumexp(logs), *zs)


def rs_cost_integrals(K):
    r"""The q → 1 cost :math:`C(\kappa)` as a sympy expression with 1-D integrals (the derivation in
    the module docstring, written out; ``sp.N`` of it is slow, :class:`RSCost` evaluates it fast)."""
    K = _check_K(K)
    m = (K - 1) // 2
    p, u, v = sp.symbols("p u v", real=True)
    f = sum(sp.binomial(K, i) * p**i * (1 - p)**(K - i) for j in range(1, m + 1) for i in range(j, K + 1))
    Hf = lambda x: sp.erfc(x / sp.sqrt(2)) / 2  # noqa: E731  (the Gaussian tail H in erfc form)
    c = K / spherical_capacity_expr()
    if m:
        c = c - 4 * kappa * sp.Integral(f.subs(p, Hf(v)), (v, 0, kappa)) \
              - sp.Integral(2 * (kappa + u) * f.subs(p, Hf(u)), (u, kappa, sp.oo))
    return c


def rs_cost(K, kappa_value=0.0, dps=20):
    r"""Numeric :math:`C(\kappa)` (mpmath quadrature of :func:`rs_cost_integrals`)."""
    K = _check_K(K)
    m = (K - 1) // 2
    with mpmath.workdps(dps):
        k = mpmath.mpf(kappa_value)
        Hm = lambda x: mpmath.erfc(x / mpmath.sqrt(2)) / 2  # noqa: E731
        f = lambda p: sum(mpmath.binomial(K, i) * p**i * (1 - p)**(K - i)  # noqa: E731
                          for j in range(1, m + 1) for i in range(j, K + 1))
        # 1/alpha_c^perc(kappa) = int_{-oo}^{kappa} Dz (kappa - z)^2 = (1 + kappa^2) H(-kappa) + kappa G(kappa)
        c = K * ((1 + k**2) * Hm(-k) + k * mpmath.npdf(k))
        if m:
            c -= 4 * k * mpmath.quad(lambda x: f(Hm(x)), [0, k]) if k else 0
            c -= mpmath.quad(lambda x: 2 * (k + x) * f(Hm(x)), [k, k + 4, mpmath.inf])
        return c


class RSCost(sp.Function):
    r"""``RSCost(K, kappa)``: :math:`C(\kappa)` as a sympy function that ``sp.N`` evaluates fast."""

    nargs = 2

    def _eval_evalf(self, prec):
        K, k = self.args
        if K.is_Integer and k.is_number:  # kappa enters as a float: 15-16 digits
            return sp.Float(rs_cost(int(K), float(k), dps=int(prec * 0.30103) + 5), precision=prec)
        return None


def _solve_linear(g, x):
    a = sp.diff(g, x)
    if x in a.free_symbols:
        raise RuntimeError(f"stationarity condition is not linear in {x}")
    return sp.expand(-g.subs(x, 0) / a) if a.is_number else -g.subs(x, 0) / a


class _TreeCommittee(EquilibriumModel):
    control = (ALPHA, KAPPA)
    references = ("E. Barkai, D. Hansel, I. Kanter, PRL 65, 2312 (1990)",
                  "A. Engel, H. M. Koehler, F. Tschepke, H. Vollmayr, A. Zippelius, PRA 45, 7590 (1992)")
    nodes = {3: 41}

    def __init__(self, K: int = 3, nodes: dict | None = None):
        self.K = _check_K(K)
        if nodes is not None:
            self.nodes = dict(nodes)
        if self.K != 3:
            self.name = f"{self.name}_K{self.K}"

    def energetic(self):
        return energetic_term(self.K)


class BinaryTreeCommittee(_TreeCommittee):
    r"""Tree committee machine with binary weights W ∈ {±1}^N, storage, RS.

    .. math:: s = \operatorname{extr}_{q,\hat q}\Big[-\frac{\hat q(1-q)}{2}
        + \int Dz\ln2\cosh(\sqrt{\hat q}z) + \alpha\,\mathcal E_K(q,\kappa)\Big]

    ``BinaryTreeCommittee(K=1)`` is the binary perceptron (``perceptron.binary_storage``).
    """

    name = "example.tree_committee_binary"
    description = "Tree committee machine (K odd, sign units), binary weights, storage (RS)"
    order = (Q, QHAT)
    conjugates = (("q", "qhat"),)
    branches = (Branch("rs", {"q": 0.3, "qhat": 0.5}, "replica-symmetric solution"),)
    damping = 0.5

    def free_entropy(self):
        return -qhat * (1 - q) / 2 + E(log2cosh(sp.sqrt(qhat) * z), z) + alpha * self.energetic()

    @functools.cached_property
    def fixed_point(self):
        # Both stationarity conditions are linear in the variable they update, so the fixed-point
        # form is read off the derived gradient: x = -b/a for g = a x + b (sympy's general
        # ``solve`` is slow on the K-dimensional integrand).
        g = dict(zip(self.order_names, self.stationarity))
        return {q: _solve_linear(g["qhat"], q), qhat: _solve_linear(g["q"], qhat)}

    def observables(self):
        return {"entropy": self.phi_symbol, "bits": self.phi_symbol / sp.log(2)}

    @property
    def transitions(self):
        return (
            Transition("capacity", "zero", along="alpha", branch="rs", observable="entropy",
                       search=(0.3, 1.6) if self.K > 1 else (0.3, 1.2),
                       doc="zero entropy of the RS solution (RS capacity)"),
            Transition("q_to_one", "closed_form", along="alpha", expr=2 / (sp.pi * RSCost(self.K, kappa)),
                       doc="RS q -> 1 point 2/(pi C(kappa)) (beyond the capacity: entropy < 0 there)"),
        )


class SphericalTreeCommittee(_TreeCommittee):
    r"""Tree committee machine with spherical weights (|W_k|² = N/K), storage (Gardner volume), RS.

    .. math:: s = \operatorname{extr}_q\Big[\tfrac12\ln(1-q) + \frac{q}{2(1-q)} + \alpha\,\mathcal E_K(q,\kappa)\Big]

    ``SphericalTreeCommittee(K=1)`` is the Gardner volume (``perceptron.spherical_storage``).
    """

    name = "example.tree_committee_spherical"
    description = "Tree committee machine (K odd, sign units), spherical weights, storage (RS)"
    order = (Q,)
    branches = (Branch("rs", {"q": 0.3}, "replica-symmetric solution"),)

    def free_entropy(self):
        return sp.log(1 - q) / 2 + q / (2 * (1 - q)) + alpha * self.energetic()

    @functools.cached_property
    def fixed_point(self):
        # d phi/dq = q/(2(1-q)^2) + alpha dE/dq = 0  <=>  q = a/(1+a), a = -2 alpha (1-q) dE/dq
        # (the perceptron's q/(1-q) = alpha E r(u)^2 when K = 1)
        dE = expand_expectations(gaussian_ibp(sp.diff(alpha * self.energetic(), q)))
        a = -2 * (1 - q) * dE
        return {q: a / (1 + a)}

    def observables(self):
        return {"entropy": self.phi_symbol}

    @property
    def transitions(self):
        return (Transition("capacity", "closed_form", along="alpha", expr=1 / RSCost(self.K, kappa),
                           doc="RS q -> 1 point 1/C(kappa) (RS capacity; not exact for K > 1)"),)
