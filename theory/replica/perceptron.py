r"""Replica-symmetric theory of single-layer perceptrons (storage and teacher–student).

Four models, each a free entropy written with the Gaussian-expectation operator; stationarity
conditions, fixed-point forms and Hessians are derived from it by sympy (see
:class:`~phasekit.theory.EquilibriumModel`).

Conventions
-----------
* :math:`\alpha = P/N`; margin :math:`\kappa \ge 0`; patterns :math:`\xi^\mu` i.i.d. N(0, I_N)
  (±1 inputs give the same N→∞ theory).
* Entropies are in **nats per weight**: the log of the fraction of the sphere (spherical weights)
  or the log of the number of solutions divided by N (binary weights; the empty-data value is ln 2).
* :math:`H(x) = \int_x^\infty Dz` (Gaussian tail), :math:`r = G/H` the inverse Mills ratio.

Models
------
``perceptron.spherical_storage``  Gardner volume with margin κ (Gardner 1988).
``perceptron.binary_storage``     Ising perceptron (Gardner–Derrida 1988; Krauth–Mézard 1989).
``perceptron.spherical_teacher``  Zero-temperature Gibbs learning of a spherical teacher
                                   (Györgyi–Tishby 1990; Opper–Haussler 1991), Bayes = centre of mass.
``perceptron.ising_teacher``      Bayes-optimal Ising teacher–student (Györgyi 1990;
                                   Sompolinsky–Tishby–Seung 1990).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import scipy.optimize as so
import scipy.special as sc
import sympy as sp

from ..._errors import InvalidParameterError
from ..._registry import register_model
from .._model import Branch, EquilibriumModel, Param, Transition, Validity
from .._symbolic import E, G, H, log2cosh, logH, mills

__all__ = [
    "SphericalStorage", "BinaryStorage", "SphericalTeacher", "IsingTeacher",
    "spherical_capacity", "spherical_capacity_expr", "spherical_kappa_max",
    "binary_q_to_one_expr", "teacher_channel", "teacher_channel_conjugate", "annealed_ising_teacher",
    "ising_annealed_transition",
]

alpha, kappa = sp.symbols("alpha kappa", real=True)
q, qhat = sp.Symbol("q", real=True), sp.Symbol("qhat", real=True)
z, xi, t = sp.symbols("z xi t", real=True)

ALPHA = Param("alpha", 0.0, math.inf, "left", None, doc="load alpha = P/N")
KAPPA = Param("kappa", 0.0, math.inf, "left", 0.0, doc="margin (stability) kappa >= 0")
Q = Param("q", 0.0, 1.0, "left", 0.5, doc="overlap between two solutions (teacher models: = R)")
QHAT = Param("qhat", 0.0, math.inf, "left", 1.0, doc="conjugate of q")


def _u(qq=q):
    return (kappa - sp.sqrt(qq) * z) / sp.sqrt(1 - qq)


def teacher_channel_conjugate(qq=q):
    r"""The conjugate :math:`\hat q = 2\alpha\Psi_{out}'(q)` of the sign channel in closed form,

    .. math:: \hat q = \frac{\alpha}{\pi\sqrt{1-q}}\int Dt\, \frac{e^{-q t^2/2}}{H(-\sqrt q\, t)},

    obtained from the derivative of :func:`teacher_channel` by the substitution t = θξ (the change
    of variables of the spec done analytically, so the integrand is smooth for every q < 1). A
    hand-simplified fast form: ``tests/theory/replica/test_perceptron.py`` checks that it equals the
    sympy derivative ``2 alpha d Psi_out/dq`` at random points.
    """
    # exp(-q t^2/2)/H(-sqrt(q) t): H(-sqrt(q) t) >= H(12.5) ~ 4e-36 on the quadrature grid, no underflow
    return alpha / (sp.pi * sp.sqrt(1 - qq)) * E(sp.exp(-qq * t**2 / 2) / H(-sp.sqrt(qq) * t), t)


def teacher_channel(qq=q):
    r"""Energetic term of the sign teacher channel,
    :math:`\Psi_{out}(q) = 2\int D\xi\, H(-\theta\xi)\ln H(-\theta\xi)`, :math:`\theta=\sqrt{q/(1-q)}`.

    The expectation carries the change-of-variables hint ``scale=theta`` (sharp as q → 1).
    """
    theta = sp.sqrt(qq / (1 - qq))
    return 2 * E(H(-theta * xi) * logH(-theta * xi), xi, scale=theta)


# --------------------------------------------------------------------------- symbolic limits
@functools.lru_cache(maxsize=None)
def spherical_capacity_expr():
    r"""Gardner capacity :math:`\alpha_c(\kappa)` derived in sympy from the q → 1 limit.

    The saddle point :math:`q/(1-q) = \alpha\,\mathbb E_z r(u)^2`,
    :math:`u = (\kappa-\sqrt q z)/\sqrt{1-q}`, times :math:`(1-q)`: as q → 1 the inverse Mills ratio
    behaves as :math:`r(u)\sim u` for u → +∞ (``limit(r(u)/u) = 1``) and :math:`r(u)\to 0` for
    u → −∞, so :math:`(1-q)r(u)^2 \to (\kappa - z)^2\,\theta(\kappa - z)` and
    :math:`\alpha_c^{-1} = \int_{-\infty}^{\kappa} Dz\,(\kappa-z)^2 = (1+\kappa^2)H(-\kappa)+\kappa G(\kappa)`.

    Returns the sympy expression of κ (erf form); ``subs(kappa, 0)`` gives exactly 2.
    """
    uu = sp.Symbol("u", real=True)
    lead_pos = sp.limit(mills(uu).rewrite(sp.erfc) / uu, uu, sp.oo)
    lead_neg = sp.limit(mills(uu).rewrite(sp.erfc), uu, -sp.oo)
    if lead_pos != 1 or lead_neg != 0:  # pragma: no cover - sympy regression guard
        raise RuntimeError("unexpected asymptotics of the inverse Mills ratio")
    # (1-q) * u^2 at q = 1 on the side u > 0 (z < kappa):
    eps = sp.Symbol("epsilon", positive=True)
    lim_sq = sp.limit(eps * ((kappa - sp.sqrt(1 - eps) * z) / sp.sqrt(eps)) ** 2, eps, 0)
    inv = sp.simplify(sp.integrate(lim_sq * G(z), (z, -sp.oo, kappa)))
    return 1 / inv


@functools.lru_cache(maxsize=None)
def binary_q_to_one_expr():
    r"""The RS q → 1 point of the binary perceptron, :math:`\alpha = 2\alpha_c(\kappa)/\pi`, in sympy.

    Leading order as q → 1 (with :math:`\epsilon = 1-q`): the entropic equation gives
    :math:`\epsilon = \mathbb E_z \operatorname{sech}^2(\sqrt{\hat q} z) \to G(0)\int \operatorname{sech}^2(x)\,dx/\sqrt{\hat q}`
    and the energetic one :math:`\hat q\,\epsilon^2 \to \alpha/\alpha_c(\kappa)`; eliminating
    :math:`\hat q` gives :math:`\alpha/\alpha_c = 2/\pi`. At κ = 0 this is 4/π (Gardner–Derrida).
    """
    x = sp.Symbol("x", real=True)
    # int sech^2 = [tanh]_{-oo}^{oo} since d tanh/dx = sech^2 (sympy's integrate leaves it unevaluated)
    if sp.simplify(sp.diff(sp.tanh(x), x) - sp.sech(x) ** 2) != 0:  # pragma: no cover
        raise RuntimeError("sympy regression: d tanh/dx != sech^2")
    c = G(0) * (sp.limit(sp.tanh(x), x, sp.oo) - sp.limit(sp.tanh(x), x, -sp.oo))  # eps*sqrt(qhat) -> c
    qh, ep = sp.symbols("qhat_inf epsilon", positive=True)
    sol = sp.solve([sp.Eq(ep * sp.sqrt(qh), c), sp.Eq(qh * ep**2, alpha / spherical_capacity_expr())],
                   [alpha, qh], dict=True)
    return sp.simplify(sol[0][alpha])


@functools.lru_cache(maxsize=None)
def _capacity_numeric():
    return sp.lambdify(kappa, spherical_capacity_expr(), modules=["numpy", "scipy"])


def spherical_capacity(kappa_value):
    r"""Gardner capacity :math:`\alpha_c(\kappa) = [\int_{-\kappa}^\infty Dt\,(t+\kappa)^2]^{-1}`.

    Vectorised numpy evaluation of :func:`spherical_capacity_expr` (derived in sympy).
    ``spherical_capacity(0) == 2``.
    """
    k = np.asarray(kappa_value, dtype=float)
    if np.any(~np.isfinite(k)):
        raise InvalidParameterError(f"The 'kappa' parameter of spherical_capacity must be finite. Got {kappa_value!r} instead.")
    return _capacity_numeric()(k) * np.ones_like(k)


def spherical_kappa_max(alpha_value):
    r"""Maximal margin :math:`\kappa_{max}(\alpha)` of the spherical perceptron: the inverse of
    :math:`\alpha_c(\kappa)` (``brentq``; α_c decreases in κ). Defined for 0 < α; for α ≥ 2 the
    RS value is κ ≤ 0 (where RS is not exact, see the spec) and is returned as well."""
    a = np.asarray(alpha_value, dtype=float)
    if np.any(~(a > 0)) or np.any(~np.isfinite(a)):
        raise InvalidParameterError(
            f"The 'alpha' parameter of spherical_kappa_max must be a float in the range (0, inf). Got {alpha_value!r} instead.")
    f = _capacity_numeric()
    with np.errstate(all="ignore"):
        out = np.array([so.brentq(lambda k: f(k) - ai, -6.0, 40.0, xtol=1e-14, rtol=1e-14) for ai in a.ravel()])
    return out.reshape(a.shape) if a.shape else float(out[0])


# --------------------------------------------------------------------------- models
@register_model("perceptron.spherical_storage")
class SphericalStorage(EquilibriumModel):
    r"""Gardner volume of the spherical perceptron with margin κ (RS, exact for κ ≥ 0).

    .. math::
        \phi(\alpha,\kappa) = \operatorname{extr}_q\Big[\tfrac12\ln(1-q) + \frac{q}{2(1-q)}
        + \alpha\int Dz\,\ln H\Big(\frac{\kappa-\sqrt q z}{\sqrt{1-q}}\Big)\Big]

    φ is the log of the fraction of the sphere |w|² = N satisfying all constraints, per weight
    (nats). Capacity: q → 1 at :math:`\alpha_c(\kappa)` (:func:`spherical_capacity_expr`).
    """

    description = "Spherical perceptron storage with margin (Gardner volume, RS)"
    references = ("E. Gardner, J. Phys. A 21, 257 (1988)",)
    control = (ALPHA, KAPPA)
    order = (Q,)
    branches = (Branch("rs", lambda p: {"q": 0.3}, "replica-symmetric solution"),)
    damping = 0.3

    def free_entropy(self):
        return sp.log(1 - q) / 2 + q / (2 * (1 - q)) + alpha * E(logH(_u()), z)

    @functools.cached_property
    def fixed_point(self):
        # From d phi/dq = q/(2(1-q)^2) - alpha E[r(u)^2]/(2(1-q)) = 0 (derived; see tests):
        a = alpha * E(mills(_u()) ** 2, z)
        return {q: a / (1 + a)}

    def observables(self):
        return {"entropy": self.phi_symbol}

    @property
    def validity(self):
        return (Validity("rs_exists", alpha, spherical_capacity_expr(), "no_solution",
                         "no solution: alpha = {alpha:.6g} >= alpha_c(kappa) = {rhs:.6g} "
                         "(Gardner capacity, q -> 1)"),)

    @property
    def transitions(self):
        return (Transition("capacity", "closed_form", along="alpha", expr=spherical_capacity_expr(),
                           doc="q -> 1: alpha_c(kappa), derived from the q -> 1 limit in sympy"),)


@register_model("perceptron.binary_storage")
class BinaryStorage(EquilibriumModel):
    r"""Binary (Ising) perceptron storage with margin κ, replica-symmetric.

    .. math::
        s(\alpha,\kappa) = \operatorname{extr}_{q,\hat q}\Big[-\frac{\hat q(1-q)}{2}
        + \int Dz\,\ln 2\cosh(\sqrt{\hat q} z) + \alpha\int Dz\,\ln H(u)\Big]

    s is (1/N) E ln #solutions (nats). The capacity is the zero-entropy point (Krauth–Mézard,
    α ≈ 0.833079 at κ = 0); the RS q → 1 point (4/π at κ = 0) is wrong because s < 0 there; the
    de Almeida–Thouless function ``at_function`` reaches 1 only beyond the capacity.
    """

    description = "Binary perceptron storage with margin (Gardner-Derrida RS, Krauth-Mezard capacity)"
    references = ("E. Gardner, B. Derrida, J. Phys. A 21, 271 (1988)",
                  "W. Krauth, M. Mezard, J. Phys. France 50, 3057 (1989)")
    control = (ALPHA, KAPPA)
    order = (Q, QHAT)
    conjugates = (("q", "qhat"),)
    branches = (Branch("rs", lambda p: {"q": 0.3, "qhat": 0.5}, "replica-symmetric solution"),)
    damping = 0.5

    def free_entropy(self):
        return -qhat * (1 - q) / 2 + E(log2cosh(sp.sqrt(qhat) * z), z) + alpha * E(logH(_u()), z)

    def _at_function(self):
        uu = sp.Symbol("u", real=True)
        d2 = sp.diff(logH(uu), uu, 2)          # = r(u)(u - r(u)), the AT kernel
        return (alpha / (1 - q) ** 2 * E(d2.subs(uu, _u()) ** 2, z)
                * E(1 / sp.cosh(sp.sqrt(qhat) * z) ** 4, z))

    def observables(self):
        return {"entropy": self.phi_symbol, "at_function": self._at_function()}

    @property
    def validity(self):
        return (
            Validity("rs_exists", alpha, binary_q_to_one_expr(), "no_solution",
                     "no RS solution: alpha = {alpha:.6g} >= 2 alpha_c(kappa)/pi = {rhs:.6g} (q -> 1)"),
            Validity("replicon", self._at_function(), 1, "unstable",
                     "RS unstable (de Almeida-Thouless): replicon function {lhs:.4g} > 1"),
        )

    @property
    def transitions(self):
        return (
            Transition("capacity", "zero", along="alpha", branch="rs", observable="entropy",
                       search=(0.05, 1.27), doc="zero entropy (Krauth-Mezard capacity)"),
            Transition("kappa_max", "zero", along="kappa", branch="rs", observable="entropy",
                       search=(0.0, 3.0), doc="largest margin with non-negative entropy at fixed alpha"),
            Transition("q_to_one", "closed_form", along="alpha", expr=binary_q_to_one_expr(),
                       doc="RS q -> 1 point, 2 alpha_c(kappa)/pi (4/pi at kappa = 0)"),
            Transition("at_instability", "level", along="alpha", branch="rs", observable="at_function",
                       level=1.0, search=(0.05, 1.25), doc="de Almeida-Thouless line of the RS solution"),
        )


@register_model("perceptron.spherical_teacher")
class SphericalTeacher(EquilibriumModel):
    r"""Spherical teacher–student perceptron, zero-temperature Gibbs learning (version space).

    .. math::
        \phi(\alpha) = \operatorname{extr}_q\Big[\tfrac12\ln(1-q) + \frac q2 + \alpha\,\Psi_{out}(q)\Big],
        \quad \Psi_{out} = 2\int D\xi\,H(-\theta\xi)\ln H(-\theta\xi),\ \theta=\sqrt{q/(1-q)}

    On the Nishimori line the student–student overlap q equals the teacher–student overlap R.
    ``eps_gibbs = arccos(R)/π`` (Gibbs student), ``eps_bayes = arccos(√R)/π`` (centre of mass).
    φ is the log version-space volume per weight (nats).
    """

    description = "Spherical teacher-student perceptron: Gibbs and Bayes learning curves"
    references = ("G. Gyorgyi, N. Tishby (1990)", "M. Opper, D. Haussler, PRL 66, 2677 (1991)")
    control = (ALPHA,)
    order = (Param("q", 0.0, 1.0, "left", 0.5, doc="R = teacher-student overlap"),)
    branches = (Branch("rs", lambda p: {"q": 0.5}, "replica-symmetric solution"),)
    damping = 0.3

    def free_entropy(self):
        return sp.log(1 - q) / 2 + q / 2 + alpha * teacher_channel()

    @functools.cached_property
    def fixed_point(self):
        # d phi/dq = -q/(2(1-q)) + alpha Psi'(q) = 0  <=>  q = qhat/(1+qhat), qhat = 2 alpha Psi'(q)
        # (qhat in the closed form of teacher_channel_conjugate, tied to the derivative by a test)
        qh = teacher_channel_conjugate()
        return {q: qh / (1 + qh)}

    def observables(self):
        return {"entropy": self.phi_symbol, "R": q, "eps_gibbs": sp.acos(q) / sp.pi,
                "eps_bayes": sp.acos(sp.sqrt(q)) / sp.pi}


@register_model("perceptron.ising_teacher")
class IsingTeacher(EquilibriumModel):
    r"""Bayes-optimal Ising teacher–student perceptron (binary teacher and student).

    .. math::
        s(\alpha) = \operatorname{extr}_{q,\hat q}\Big[\int Dz\,\ln 2\cosh(\sqrt{\hat q}z+\hat q)
        - \frac{\hat q}{2} - \frac{q\hat q}{2} + \alpha\,\Psi_{out}(q)\Big]

    s is the entropy of the version space per weight (nats; ``bits = s/ln 2``). Branches: the
    unstable solution between the two stable ones (``unstable``, reached by Newton), the
    poorly generalising RS solution (``poor``) and perfect generalisation q = 1 (``perfect``, s = 0
    exactly). First-order transition where s(poor) = 0 (α ≈ 1.24468); the poor branch ends at a
    spinodal (fold), which is also the AMP algorithmic threshold.
    """

    description = "Ising teacher-student perceptron (Bayes-optimal): first-order transition to perfect learning"
    references = ("G. Gyorgyi, PRA 41, 7097 (1990)", "H. Sompolinsky, N. Tishby, H. S. Seung, PRL 65, 1683 (1990)")
    control = (ALPHA,)
    order = (Param("q", 0.0, 1.0, "left", 0.1, doc="R = teacher-student overlap"), QHAT)
    conjugates = (("q", "qhat"),)
    branches = (
        Branch("poor", lambda p: {"q": 1e-3, "qhat": 1e-3}, "poorly generalising RS branch (from the uninformative state)"),
        Branch("perfect", {"q": 1.0, "qhat": math.inf}, "perfect generalisation R = 1",
               fixed={"q": 1.0, "qhat": math.inf}, free_entropy=0.0),
        Branch("unstable", {"q": 0.97, "qhat": 5.0}, "unstable RS solution between the two stable "
               "ones; it merges with the poor branch at the spinodal", method="newton"),
    )
    damping = 0.3
    # Trapezoidal step 0.1 (251 nodes): the integrands are analytic in |Im z| < pi/(2 sqrt(qhat)),
    # so the error ~ exp(-2 pi d / h) stays below 1e-13 for qhat <= 12, which covers the poor and
    # unstable branches (qhat < 8); the channel is integrated in its smooth t-form.
    nodes = {1: 0.1}

    def free_entropy(self):
        return (E(log2cosh(sp.sqrt(qhat) * z + qhat), z) - qhat / 2 - q * qhat / 2
                + alpha * teacher_channel())

    @functools.cached_property
    def fixed_point(self):
        # q from d phi/d qhat = 0 (derived); qhat from d phi/dq = 0, i.e. qhat = 2 alpha Psi'(q),
        # in the closed form of teacher_channel_conjugate (tied to the derivative by a test)
        derived = EquilibriumModel.fixed_point.func(self)
        return {q: derived[q], qhat: teacher_channel_conjugate()}

    def observables(self):
        return {"entropy": self.phi_symbol, "bits": self.phi_symbol / sp.log(2), "R": q,
                "eps_gibbs": sp.acos(q) / sp.pi, "eps_bayes": sp.acos(sp.sqrt(q)) / sp.pi}

    def fixed_observables(self, branch, params):
        return {"entropy": 0.0, "bits": 0.0, "R": 1.0, "eps_gibbs": 0.0, "eps_bayes": 0.0}

    @property
    def transitions(self):
        return (
            Transition("first_order", "zero", along="alpha", branch="poor", observable="entropy",
                       search=(0.8, 1.45), doc="entropy of the poor branch = 0 = entropy of R = 1"),
            Transition("spinodal", "fold", along="alpha", branch="poor", search=(1.0, 2.0),
                       doc="end of the poor branch (AMP algorithmic threshold)"),
        )


# --------------------------------------------------------------------------- annealed
def annealed_ising_teacher(R, alpha_value):
    r"""Annealed free entropy :math:`f_{ann}(R) = H_2((1+R)/2) + \alpha\ln(1-\arccos(R)/\pi)`
    (H₂ the binary entropy in nats; :math:`f_{ann}(1) = 0`)."""
    R = np.asarray(R, dtype=float)
    p = (1 + R) / 2
    h2 = -sc.xlogy(p, p) - sc.xlogy(1 - p, 1 - p)
    return h2 + alpha_value * np.log1p(-np.arccos(np.clip(R, -1, 1)) / np.pi)


def ising_annealed_transition():
    r"""α where :math:`\max_{R<1} f_{ann}(R) = 0` (annealed perfect-learning transition, ≈ 1.448)."""
    def g(a):
        res = so.minimize_scalar(lambda r: -annealed_ising_teacher(r, a), bounds=(0.0, 0.999),
                                 method="bounded", options={"xatol": 1e-12})
        return -res.fun
    return so.brentq(g, 1.0, 2.0, xtol=1e-12)
