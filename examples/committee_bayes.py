r"""Worked example: the Bayes-optimal committee machine (teacher–student, replica symmetric).

A user's own model, written with phasekit's public API only::

    phasekit solve examples/committee_bayes.py:BinaryCommitteeK1 --set alpha=0.5 --branch poor
    phasekit solve examples/committee_bayes.py:BinaryCommittee --set alpha=1.0
    phasekit transition examples/committee_bayes.py:BinaryCommitteeK1 first_order

The machine
-----------
A fully connected two-layer network with K hidden sign units and a sign output,
:math:`y = \mathrm{sign}\big(\sum_k \mathrm{sign}(W^*_k\cdot x/\sqrt N)\big)`, x ~ N(0, I_N),
P = αN examples; the teacher W* (K×N) has i.i.d. entries from the prior, Gaussian N(0,1) or
Rademacher ±1, and the student knows the prior and the architecture (Bayes-optimal). For K = 2 the
sum of two signs can vanish: the output is then **three-valued**, y ∈ {−1, 0, +1} (y = 0 when the
two hidden units disagree). We keep the tie as its own label (no tie-breaking rule), so that
the channel is :math:`P(y|h) = \mathbb 1[y = \tfrac12(\mathrm{sign}\,h_1 + \mathrm{sign}\,h_2)]`.

RS free entropy (Aubin, Maillard, Barbier, Krzakala, Macris, Zdeborová, NeurIPS 2018,
arXiv:1806.05451; ``shared/specs/replica.md`` §6a), on the Nishimori line (m = q, Q = ρ = I):

.. math::
    \Phi = \operatorname{extr}_{q,\hat q}\Big\{-\tfrac12\mathrm{Tr}(q\hat q) + \Psi_w(\hat q)
           + \alpha\,\Psi_{out}(q)\Big\},

.. math::
    \Psi_w(\hat q) = \mathbb E_{w^*,\xi}\ln Z_w(\hat q w^* + \hat q^{1/2}\xi, \hat q),\qquad
    Z_w(\gamma,\Lambda) = \sum_w P_w(w)\, e^{\gamma^\top w - \frac12 w^\top\Lambda w},

.. math::
    \Psi_{out}(q) = \sum_y \mathbb E_\xi\, Z_{out}(y; q^{1/2}\xi, I-q)\ln Z_{out}(y; q^{1/2}\xi, I-q),\qquad
    Z_{out}(y;\omega,V) = P_{h\sim N(\omega,V)}(y\,|\,h).

Committee-symmetric ansatz :math:`q = q_d I + (q_a/K)\mathbf 1\mathbf 1^\top` (same for
:math:`\hat q`): ``qd`` measures specialisation (student unit k aligned with teacher unit k),
``qa`` the common part. Observables ``q11 = qd + qa/2`` (overlap of matched units) and
``q12 = qa/2`` (of unmatched units).

How the integrals are written
-----------------------------
* Gaussian prior: :math:`\Psi_w = \tfrac12\mathrm{Tr}\,\hat q - \tfrac12\ln\det(I+\hat q)` (closed
  form). Binary prior, counted with the counting measure on {±1}^K (so the free entropy is the
  entropy of the version space per input, ln 2 per weight at α = 0, and the K = 1 model *is*
  ``perceptron.ising_teacher``): with :math:`A = \gamma_1+\gamma_2`, :math:`B = \gamma_1-\gamma_2`,
  :math:`Z_w = e^{-\mathrm{Tr}\hat q/2}\,[e^{-\hat q_{12}} 2\cosh A + e^{\hat q_{12}} 2\cosh B]`,
  averaged over the two teacher rows w* = (1, 1) and (1, −1) (the others follow by the ±
  symmetry); in the eigenbasis of :math:`\hat q` (eigenvalues :math:`\hat q_d + \hat q_a` and
  :math:`\hat q_d`) A and B are independent Gaussians.
* Output: with :math:`h = \omega + \sqrt{q_a/2}\,(u, -u) + \sqrt{1-q_d-q_a}\,(z_1, z_2)` (this
  has covariance I − q for q_a ≥ 0), the orthant probabilities are 1-D Gaussian expectations of
  products of H: :math:`P(h_1>0,h_2>0|\omega) = \mathbb E_u H(-\frac{\omega_1+cu}{\sqrt v})
  H(-\frac{\omega_2-cu}{\sqrt v})`, :math:`c = \sqrt{q_a/2}`, :math:`v = 1-q_d-q_a`.
  :math:`\Psi_{out}` is then a 2-D expectation (over ξ) of :math:`\sum_y Z\ln Z` with Z a 1-D
  expectation (over u): a nested :func:`~phasekit.theory.E`.
* Logs of sums are written as ``lse(a, b) = (a+b)/2 + ln 2cosh((a-b)/2)`` (no overflow).

K = 1 is the spherical (Gaussian prior) and Ising (binary prior) teacher–student perceptron
(``perceptron.spherical_teacher`` and ``perceptron.ising_teacher``); the tests check the
reduction to 1e-8. The free entropy is in nats per input dimension N (i.e. per row of K weights).
"""
from __future__ import annotations

import functools
import math

import sympy as sp

from phasekit.theory import E, H, Branch, EquilibriumModel, Param, Transition, log2cosh, logH

__all__ = ["GaussianCommittee", "BinaryCommittee", "GaussianCommitteeK1", "BinaryCommitteeK1",
           "psi_w", "psi_out", "orthant"]

alpha = sp.Symbol("alpha", real=True)
q, qhat = sp.symbols("q qhat", real=True)
qd, qa, qdhat, qahat = sp.symbols("qd qa qdhat qahat", real=True)
xi, xs, xa, u = sp.symbols("xi xi_s xi_a u", real=True)

ALPHA = Param("alpha", 0.0, math.inf, "left", 1.0, doc="samples per input dimension alpha = P/N")


def _lse(a, b):
    return (a + b) / 2 + log2cosh((a - b) / 2)


_TINY = sp.Float("1e-300")


def _xlogx(zz):
    # Z ln Z; the 1e-300 only matters where Z underflows to 0 on far quadrature nodes (0 * ln 0 = nan),
    # elsewhere it changes nothing at double precision
    return zz * sp.log(zz + _TINY)


def orthant(s1, s2, w1, w2):
    r""":math:`P(s_1 h_1 > 0, s_2 h_2 > 0)` for h with mean (w1, w2) and covariance I − q (K = 2),
    as the 1-D expectation over u of a product of two H (see the module docstring)."""
    c, v = sp.sqrt(qa / 2), sp.sqrt(1 - qd - qa)
    return E(H(-s1 * (w1 + c * u) / v) * H(-s2 * (w2 - c * u) / v), u)


def psi_out(K):
    """Output term Ψ_out (sign hidden units, sign output; 3-valued output for K = 2)."""
    if K == 1:
        theta = sp.sqrt(q / (1 - q))
        # sum over y = +1, -1 of E_xi Z ln Z with Z = H(-y sqrt(q) xi / sqrt(1-q))
        return sum(E(H(-y * theta * xi) * logH(-y * theta * xi), xi, scale=theta) for y in (1, -1))
    # omega = q^{1/2} xi in the eigenbasis of q: eigenvalues qd + qa (along (1,1)) and qd
    w1 = (sp.sqrt(qd + qa) * xs + sp.sqrt(qd) * xa) / sp.sqrt(2)
    w2 = (sp.sqrt(qd + qa) * xs - sp.sqrt(qd) * xa) / sp.sqrt(2)
    z_plus = orthant(1, 1, w1, w2)
    z_minus = orthant(-1, -1, w1, w2)
    z_tie = orthant(1, -1, w1, w2) + orthant(-1, 1, w1, w2)
    return E(_xlogx(z_plus) + _xlogx(z_minus) + _xlogx(z_tie), xs, xa)


def psi_w(K, prior):
    """Prior term Ψ_w(q̂) (``prior`` in {"gaussian", "binary"})."""
    if K == 1:
        if prior == "gaussian":
            return qhat / 2 - sp.log(1 + qhat) / 2
        # w* = +1 and -1 averaged explicitly; Z_w = 2 cosh(gamma) exp(-qhat/2) (counting measure)
        return sum(E(log2cosh(s * qhat + sp.sqrt(qhat) * xi), xi) for s in (1, -1)) / 2 - qhat / 2
    ls, la = qdhat + qahat, qdhat           # eigenvalues of qhat (K = 2)
    if prior == "gaussian":
        return (2 * qdhat + qahat) / 2 - (sp.log(1 + ls) + sp.log(1 + la)) / 2
    tr, off = 2 * qdhat + qahat, qahat / 2  # Tr qhat and its off-diagonal entry
    out = 0
    for A, B in ((2 * ls + sp.sqrt(2 * ls) * xs, sp.sqrt(2 * la) * xa),      # w* = (1, 1)
                 (sp.sqrt(2 * ls) * xs, 2 * la + sp.sqrt(2 * la) * xa)):     # w* = (1, -1)
        out += E(_lse(-off + log2cosh(A), off + log2cosh(B)), xs, xa) / 2
    return out - tr / 2


def _linear_fixed_point(grads, targets):
    """Solve grad = J x + b = 0 for the targets x (J constant): the fixed-point form."""
    J = sp.Matrix([[sp.diff(g, t) for t in targets] for g in grads])
    if any(t in J.free_symbols for t in targets):
        raise RuntimeError("stationarity conditions are not linear in the updated variables")
    b = sp.Matrix([g.subs({t: 0 for t in targets}) for g in grads])
    return list(-J.inv() * b)


class _Committee(EquilibriumModel):
    K = 2
    prior = "binary"
    control = (ALPHA,)
    references = ("B. Aubin et al., NeurIPS 2018, arXiv:1806.05451",
                  "H. Schwarze, J. Hertz, Europhys. Lett. 21, 785 (1993)")
    damping = 0.3

    def free_entropy(self):
        if self.K == 1:
            tr = q * qhat
        else:  # Tr(q qhat), q = qd I + qa/2 11^T, qhat likewise, K = 2
            tr = 2 * qd * qdhat + qd * qahat + qa * qdhat + qa * qahat
        return -tr / 2 + psi_w(self.K, self.prior) + alpha * psi_out(self.K)

    @functools.cached_property
    def fixed_point(self):
        # (q from d phi/d qhat = 0, qhat from d phi/d q = 0): both linear in the updated block.
        g = dict(zip(self.order_names, self.stationarity))
        x, xh = ((q,), (qhat,)) if self.K == 1 else ((qd, qa), (qdhat, qahat))
        names = [str(s) for s in x], [str(s) for s in xh]
        new_x = _linear_fixed_point([g[n] for n in names[1]], x)
        new_xh = _linear_fixed_point([g[n] for n in names[0]], xh)
        return dict(zip(x + xh, new_x + new_xh))

    def observables(self):
        phi = self.phi_symbol
        if self.K == 1:
            return {"entropy": phi, "R": q, "eps_gibbs": sp.acos(q) / sp.pi}
        return {"entropy": phi, "q11": qd + qa / 2, "q12": qa / 2}


_Q1 = Param("q", 0.0, 1.0, "left", 0.1, doc="overlap with the teacher (= student-student, Nishimori)")
_QH1 = Param("qhat", 0.0, math.inf, "left", 1.0, doc="conjugate of q")
_QD = Param("qd", 0.0, 1.0, "left", 0.01, doc="specialisation: q = qd I + qa/2 11^T")
_QA = Param("qa", 0.0, 1.0, "left", 0.1, doc="common part of the overlap matrix")
_QDH = Param("qdhat", 0.0, math.inf, "left", 0.01, doc="conjugate of qd")
_QAH = Param("qahat", 0.0, math.inf, "left", 0.1, doc="conjugate of qa")


# K = 2 quadrature: inner u-expectations (orthant probabilities) Gauss-Hermite 21 nodes; the 2-D
# expectations trapezoidal with step 0.25 (ln 2cosh of the binary prior term is analytic in a strip,
# where the trapezoidal rule converges exponentially and Gauss-Hermite does not).
_NODES_K2 = {1: 21, 2: 0.25}


class BinaryCommittee(_Committee):
    r"""Bayes-optimal committee machine, K = 2, Rademacher weights, sign units, 3-valued output.

    Branches: ``unspecialised`` (start qd ≈ 0: both student units learn the sum of the teacher
    units), ``specialised`` (start qd = 0.5), ``perfect`` (q = I, entropy 0 exactly).
    """

    name = "example.committee_bayes_binary"
    nodes = _NODES_K2
    description = "Bayes-optimal committee machine K=2 (sign units, 3-valued output), binary weights, RS"
    order = (_QD, _QA, _QDH, _QAH)
    conjugates = (("qd", "qdhat"), ("qa", "qahat"))
    branches = (
        Branch("unspecialised", {"qd": 1e-6, "qa": 1e-3, "qdhat": 1e-6, "qahat": 1e-3},
               "from the uninformative state"),
        Branch("specialised", {"qd": 0.5, "qa": 0.1, "qdhat": 1.0, "qahat": 0.1}, "from a specialised start"),
        Branch("perfect", {}, "q = I: the student equals the teacher up to a permutation",
               fixed={"qd": 1.0, "qa": 0.0, "qdhat": math.inf, "qahat": 0.0}, free_entropy=0.0),
    )

    def fixed_observables(self, branch, params):
        return {"entropy": 0.0, "q11": 1.0, "q12": 0.0}

    @property
    def transitions(self):
        return (Transition("first_order", "zero", along="alpha", branch="unspecialised",
                           observable="entropy", search=(1.4, 1.7),
                           doc="entropy of the unspecialised branch = 0 = entropy of q = I (about 1.55; "
                               "slow: ~24 K = 2 saddle points)"),)


class GaussianCommittee(_Committee):
    """Bayes-optimal committee machine, K = 2, Gaussian weights, sign units, 3-valued output."""

    name = "example.committee_bayes_gaussian"
    nodes = _NODES_K2
    description = "Bayes-optimal committee machine K=2 (sign units, 3-valued output), Gaussian weights, RS"
    prior = "gaussian"
    order = (_QD, _QA, _QDH, _QAH)
    conjugates = (("qd", "qdhat"), ("qa", "qahat"))
    branches = (
        Branch("unspecialised", {"qd": 1e-6, "qa": 1e-3, "qdhat": 1e-6, "qahat": 1e-3},
               "from the uninformative state"),
        Branch("specialised", {"qd": 0.5, "qa": 0.1, "qdhat": 1.0, "qahat": 0.1}, "from a specialised start"),
    )


class BinaryCommitteeK1(_Committee):
    """K = 1 reduction with Rademacher weights: the Ising teacher–student perceptron."""

    name = "example.committee_bayes_binary_K1"
    description = "Bayes-optimal committee formula at K=1, binary weights (= perceptron.ising_teacher)"
    K = 1
    order = (_Q1, _QH1)
    conjugates = (("q", "qhat"),)
    branches = (
        Branch("poor", {"q": 1e-3, "qhat": 1e-3}, "poorly generalising RS branch"),
        Branch("perfect", {}, "perfect generalisation R = 1", fixed={"q": 1.0, "qhat": math.inf},
               free_entropy=0.0),
    )

    def fixed_observables(self, branch, params):
        return {"entropy": 0.0, "R": 1.0, "eps_gibbs": 0.0}

    @property
    def transitions(self):
        return (Transition("first_order", "zero", along="alpha", branch="poor", observable="entropy",
                           search=(0.8, 1.45), doc="entropy of the poor branch = 0 = entropy of R = 1"),)


class GaussianCommitteeK1(_Committee):
    """K = 1 reduction with Gaussian weights: the spherical teacher–student perceptron."""

    name = "example.committee_bayes_gaussian_K1"
    description = "Bayes-optimal committee formula at K=1, Gaussian weights (= perceptron.spherical_teacher)"
    K = 1
    prior = "gaussian"
    order = (_Q1, _QH1)
    conjugates = (("q", "qhat"),)
    branches = (Branch("rs", {"q": 0.1, "qhat": 0.1}, "replica-symmetric solution"),)
