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
1-D formula (:func:`rs_cost`)

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

import itertools
import math
from functools import reduce

import sympy as sp

from phasekit import InvalidParameterError
from phasekit.theory import E, H, EquilibriumModel, Param, Branch, Transition, log2cosh, logH
from phasekit.theory.perceptron import spherical_capacity_expr

__all__ = ["BinaryTreeCommittee", "SphericalTreeCommittee", "energetic_term", "rs_cost",
           "allowed_representations"]

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


def rs_cost(K):
    r"""The q → 1 cost :math:`C(\kappa)` of the energetic term (sympy, 1-D integrals; see module doc)."""
    K = _check_K(K)
    m = (K - 1) // 2
    p, u, v = sp.symbols("p u v", real=True)
    f = sum(sp.binomial(K, i) * p**i * (1 - p)**(K - i) for j in range(1, m + 1) for i in range(j, K + 1))
    Hf = lambda x: sp.erfc(x / sp.sqrt(2)) / 2  # noqa: E731  (the Gaussian tail H, in erfc form for sp.N)
    c = K / spherical_capacity_expr()
    if m:
        c = c - 4 * kappa * sp.Integral(f.subs(p, Hf(v)), (v, 0, kappa)) \
              - sp.Integral(2 * (kappa + u) * f.subs(p, Hf(u)), (u, kappa, sp.oo))
    return c


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

    def observables(self):
        return {"entropy": self.phi_symbol, "bits": self.phi_symbol / sp.log(2)}

    @property
    def transitions(self):
        return (
            Transition("capacity", "zero", along="alpha", branch="rs", observable="entropy",
                       search=(0.3, 1.6) if self.K > 1 else (0.3, 1.2),
                       doc="zero entropy of the RS solution (RS capacity)"),
            Transition("q_to_one", "closed_form", along="alpha", expr=2 / (sp.pi * rs_cost(self.K)),
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

    def observables(self):
        return {"entropy": self.phi_symbol}

    @property
    def transitions(self):
        return (Transition("capacity", "closed_form", along="alpha", expr=1 / rs_cost(self.K),
                           doc="RS q -> 1 point 1/C(kappa) (RS capacity; not exact for K > 1)"),)
