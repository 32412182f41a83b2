r"""Adaptive-kernel theory of grokking in two-layer networks (Rubin, Seroussi, Ringel, ICLR 2024).

A two-layer network :math:`f(x)=\sum_{i=1}^N a_i\,\phi(w_i\cdot x)` trained to equilibrium by
Langevin dynamics samples the posterior :math:`e^{-E}`,

.. math::
    E = \sum_\mu \frac{(f(x_\mu)-y_\mu)^2}{2\sigma^2} + \frac{N}{2\sigma_a^2}\sum_i a_i^2
        + \frac{d}{2\sigma_w^2}\sum_i |w_i|^2 .

Integrating the readout out and decoupling the neurons (exact as N → ∞, σ_a² → 0, "mean-field
scaling") gives i.i.d. neurons with the action

.. math::
    S[w] = \frac{d|w|^2}{2\sigma_w^2} - \frac{\sigma_a^2}{2N}\sum_{\mu\nu}\bar t_\mu \bar t_\nu
           \phi(w\cdot x_\mu)\phi(w\cdot x_\nu),\qquad
    \bar t = (y-\bar f)/\sigma^2,\quad \bar f = Q(Q+\sigma^2 I)^{-1}y,\quad
    Q_{\mu\nu} = \sigma_a^2\langle\phi(w\cdot x_\mu)\phi(w\cdot x_\nu)\rangle_{S[w]}

(:func:`neuron_action`, :func:`gp_predictor`). In the equivalent-kernel (continuum) limit
:math:`\sum_\mu \to n\int d\mu(x)` (:func:`equivalent_kernel_action`).

Cubic teacher (``ak.cubic``)
----------------------------
:math:`y = H_1(w_*\cdot x) + \epsilon H_3(w_*\cdot x)`, φ = erf, x ~ N(0, I_d). With the ansatz
:math:`\sigma^2\bar t = bH_1 + cH_3` and the order parameter :math:`q = w\cdot w_*` the action
reduces to (:func:`order_parameter_action`, derived here in sympy from Stein's lemma)

.. math::
    S(q) = d\Big[\frac{q^2}{2\sigma_w^2} - \frac{2u}{\pi}\frac{q^2}{D}\Big(b-\frac{2cq^2}{D}\Big)^2\Big],
    \quad D = 1+2(\sigma_w^2+q^2),\quad u = \frac{n^2\sigma_a^2}{\sigma^4 dN},

(the printed form is only a test oracle: every equation of the numerics — S/d, h, ∂h/∂y by
``sympy.diff``, the curvature, M and the self-consistency residuals — is derived once in
:func:`cubic_sym` and compiled; the one hand kernel kept for speed, ``_h``, is tied to it by tests)
and the discrepancy is fixed self-consistently by (:func:`self_consistency`)
:math:`[b,\sqrt6 c] = (\kappa\langle M\rangle + I)^{-1}[1,\sqrt6\epsilon]`,
:math:`\kappa = n\sigma_a^2/\sigma^2`, with the projected kernel
:math:`M_{11} = 4q^2/(\pi D)`, :math:`M_{13} = -8q^4/(\sqrt6\pi D^2)`, :math:`M_{33} = 8q^6/(3\pi D^3)`.

**Two corrections to the printed paper, settled here by derivation and pinned by tests:**
(1) :math:`M_{11}` has the coefficient 4 (Stein: :math:`\mathbb E[H_1\,\mathrm{erf}(w\cdot x)]^2 =
4q^2/(\pi D)`), not 2; (2) the self-consistency carries the factor :math:`\sigma^2/n`
(:math:`\sigma^2\bar t = (\sigma^2/n)(\tilde Q+\sigma^2/n)^{-1}y`), which makes it
dimensionless and gives b → 1 as n → 0.

Phases (d → ∞ at fixed invariants u, κ/d, σ_w², ε; :func:`cubic_saddle`, :func:`cubic_curve`):

* **GFL**: only q = 0; q Gaussian with variance :math:`v_0 = \sigma_w^2/[d(1-4u\sigma_w^2b^2/(\pi(1+2\sigma_w^2)))]`,
  c = ε (cubic not learned).
* **GMFL-I** (mixed phase of the first-order transition): a fraction p of neurons sits at ±q*;
  the Maxwell construction :math:`\min_{q\ne0} S(q) = S(0) = 0` holds. With
  :math:`h(y) = S/(dq^2)` at :math:`y = q^2` this is :math:`\min_y h(y) = 0`. The droplet
  fraction is O(1/d): :math:`\tilde p = \kappa p` is the d-independent quantity.
* **GMFL-II**: p = 1, only the droplet saddles. At the paper's base point this needs
  :math:`\tilde p = \kappa = O(d)` and does **not** occur for σ² > 0.005 (the mixed phase
  saturates at p ≈ 0.025): ``gmfl2_onset`` reports "no sign change" there.

Modular addition (``ak.modular``)
---------------------------------
Per Fourier mode :math:`S_k/P = \tfrac12(x_w+x_v) - g x_w x_v + \tfrac{\gamma}{6}(x_w^3+x_v^3)`,
:math:`g = 2\sigma_a^2a^2P^2/(N\sigma^4)`; symmetric saddles :math:`x_\pm = (g\pm\sqrt{g^2-\gamma})/\gamma`;
droplet weight :math:`w = 4e^{-S(x_+)}/(1+4e^{-S(x_+)})`, eigenvalue :math:`\lambda = \sigma_a^2 x_+^2 w`,
discrepancy :math:`|a| = \sigma^2/(\lambda+\sigma^2)`. As P → ∞: GMFL-I at :math:`g = 2\sqrt{\gamma/3}`
with a = 1, GMFL-II where w reaches 1: :math:`\sigma^2_{II} = \sigma^2_I - 3\sigma_a^2/\gamma`,
:math:`|a|_{II} = \sigma^2_{II}/\sigma^2_I` (:func:`modular_onset_exprs`, derived in sympy).

References
----------
N. Rubin, I. Seroussi, Z. Ringel, ICLR 2024, arXiv:2310.03789.
I. Seroussi, G. Naveh, Z. Ringel, Nat. Commun. 14, 908 (2023), arXiv:2112.15383.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.optimize as so
import scipy.special as sc
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from ..._errors import InvalidParameterError
from ..._registry import register_model
from .._model import Branch, EquilibriumModel, Param, Transition
from .._symbolic import E, expand_expectations, gaussian_ibp

__all__ = [
    # symbolic
    "neuron_action", "equivalent_kernel_action", "gp_predictor", "stein_integrals", "order_parameter_action",
    "projected_kernel", "self_consistency", "cubic_sym", "stein_projections", "gfl_closed_forms", "modular_mode_action", "modular_saddles",
    "modular_onset_exprs",
    # cubic numerics
    "BASE_POINT", "cubic_params", "CubicState", "CubicCurve", "cubic_action", "cubic_gfl", "cubic_onset",
    "cubic_saddle", "cubic_curve", "cubic_gmfl2_onset", "FiniteDState", "cubic_finite_d", "cubic_q_density",
    # modular numerics
    "MODULAR_BASE", "ModularState", "modular_solve", "modular_curve", "modular_onsets",
    # models
    "AdaptiveKernelCubic", "AdaptiveKernelModular",
]

# --------------------------------------------------------------------------- symbols
sigma2, n_s, d_s, N_s = sp.symbols("sigma2 n d N", positive=True)
sigma_a2, sigma_w2 = sp.symbols("sigma_a2 sigma_w2", positive=True)
eps_s = sp.Symbol("eps", real=True)
u_s, kappa_s = sp.symbols("u kappa", positive=True)
q_s, b_s, c_s = sp.symbols("q b c", real=True)
y_s, p_s = sp.Symbol("y", nonnegative=True), sp.Symbol("p", nonnegative=True)
z_s, xi_s, t_s = sp.symbols("z xi t", real=True)
s2_s = sp.Symbol("s2", positive=True)          # |w|^2
wperp2_s = sp.Symbol("w_perp2", positive=True)  # |w_perp|^2 inside D = 1 + 2|w|^2
A11_s, A13_s, A33_s = sp.symbols("A11 A13 A33", real=True)   # kappa <M> (self-consistency)
P_s, gamma_s, a_s, g_s, x_s = sp.symbols("P gamma a g x", positive=True)

_SQRT_PI = math.sqrt(math.pi)


def _he(k, z):
    """Probabilists' Hermite polynomial He_k(z) (H1 = z, H3 = z^3 - 3z)."""
    return sp.expand(sp.hermite_prob(k, z)) if hasattr(sp, "hermite_prob") else sp.expand(
        2 ** sp.Rational(-k, 2) * sp.hermite(k, z / sp.sqrt(2)))


# =========================================================================== general action (sympy)
def neuron_action(activation=sp.erf, n_points=3):
    r"""The adaptive-kernel single-neuron action for ``n_points`` data points, in sympy.

    .. math::
        S[w] = \frac{d|w|^2}{2\sigma_w^2} - \frac{\sigma_a^2}{2N}\sum_{\mu\nu}\bar t_\mu\bar t_\nu
               \phi(h_\mu)\phi(h_\nu),\qquad h_\mu = w\cdot x_\mu

    Parameters
    ----------
    activation : callable
        Sympy function of one argument (``sp.erf``, ``lambda h: h**2``, ``sp.tanh`` ...).
    n_points : int
        Number of (symbolic) data points.

    Returns
    -------
    S : sympy.Expr
        In the symbols ``w2`` (= |w|²), ``h_0..h_{n-1}`` (preactivations) and ``tbar_0..`` (discrepancies).
    """
    if int(n_points) < 1:
        raise InvalidParameterError(f"The 'n_points' parameter of neuron_action must be an int >= 1. Got {n_points!r} instead.")
    h = sp.symbols(f"h_0:{n_points}", real=True)
    tb = sp.symbols(f"tbar_0:{n_points}", real=True)
    w2 = sp.Symbol("w2", nonnegative=True)
    field = sum(tb[m] * activation(h[m]) for m in range(n_points))
    return d_s * w2 / (2 * sigma_w2) - sigma_a2 / (2 * N_s) * sp.expand(field ** 2)


def equivalent_kernel_action(activation=sp.erf):
    r"""Continuum (equivalent-kernel) limit of :func:`neuron_action`: :math:`\sum_\mu \to n\,\mathbb E_x`,

    .. math:: S[w] = \frac{d|w|^2}{2\sigma_w^2} - \frac{\sigma_a^2 n^2}{2N}\,\mathbb E_x[\bar t(x)\phi(w\cdot x)]^2 .

    Returned in the symbol ``T`` standing for :math:`\mathbb E_x[\bar t\phi(w\cdot x)]`; with
    :math:`\sigma^2\bar t = bH_1+cH_3` only ``n/σ²`` enters (:func:`order_parameter_action`).
    """
    T = sp.Symbol("T", real=True)
    w2 = sp.Symbol("w2", nonnegative=True)
    return d_s * w2 / (2 * sigma_w2) - sigma_a2 * n_s ** 2 / (2 * N_s) * T ** 2


def gp_predictor(K, y, sigma2_value):
    r"""GP posterior mean on the training points, :math:`\bar f = K(K+\sigma^2 I)^{-1}y`, and the
    discrepancy :math:`\bar t = (y-\bar f)/\sigma^2 = (K+\sigma^2 I)^{-1}y` (numpy; Cholesky)."""
    K = np.asarray(K, dtype=float)
    y = np.asarray(y, dtype=float)
    if not sigma2_value > 0:
        raise InvalidParameterError(f"The 'sigma2' parameter of gp_predictor must be a float in the range (0, inf). Got {sigma2_value!r} instead.")
    L = np.linalg.cholesky(K + sigma2_value * np.eye(K.shape[0]))
    tbar = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return y - sigma2_value * tbar, tbar


# =========================================================================== cubic teacher (sympy)
@functools.lru_cache(maxsize=None)
def stein_integrals():
    r"""Stein-type integrals :math:`\mathbb E_x[He_k(z)\,\mathrm{erf}(w\cdot x)]`, k = 1, 3, derived in sympy.

    With z = w*·x and w·x = q z + r ξ (ξ ⊥ z, r² = |w|² − q²), Gaussian integration by parts
    (:func:`~phasekit.theory.gaussian_ibp`) moves every power of z onto derivatives:
    :math:`\mathbb E[He_k(z) g(qz+r\xi)] = q^k\,\mathbb E[g^{(k)}(w\cdot x)]`; the remaining 1-D
    Gaussian integral of :math:`\mathrm{erf}^{(k)}` over :math:`w\cdot x\sim N(0,s^2)` is done by
    ``sympy.integrate``.

    Returns
    -------
    dict
        ``"I0"`` (= E[z erf]), ``"E_H3"`` (= E[H3 erf]), ``"I1"`` (= E[z³ erf]) as functions of
        ``q`` and ``D = 1 + 2 s²`` (symbol ``D``), plus ``"ibp"``: the ibp-reduced integrands.
    """
    r = sp.Symbol("r", positive=True)
    D = sp.Symbol("D", positive=True)
    g = sp.Function("g")
    out, ibp = {}, {}
    for name, k, poly in (("I0", 1, z_s), ("E_H3", 3, _he(3, z_s)), ("I1", 3, z_s ** 3)):
        expr = expand_expectations(gaussian_ibp(E(poly * g(q_s * z_s + r * xi_s), z_s, xi_s)))
        ibp[name] = expr
        # every term is q^j * E[g^{(j)}(...)]: evaluate E[erf^{(j)}(s t)] with t ~ N(0,1)
        val = sp.S.Zero
        for term in sp.Add.make_args(expr):
            coeff, node = term.as_independent(sp.Derivative, sp.Subs, g, as_Add=False)
            j = _derivative_order(node, g)
            val += coeff * _erf_derivative_moment(j)
        out[name] = sp.simplify(val.subs(1 + 2 * s2_s, D).subs(s2_s, (D - 1) / 2))
    out["ibp"] = ibp
    return out


def _derivative_order(node, g):
    if isinstance(node, sp.Subs):
        node = node.args[0]
    if isinstance(node, sp.Derivative):
        return sum(c for _, c in node.variable_count)
    if isinstance(node, sp.core.function.AppliedUndef):
        return 0
    if isinstance(node, _gausse_type()):
        return _derivative_order(node.integrand, g)
    raise RuntimeError(f"unexpected term in the Stein reduction: {node}")


def _gausse_type():
    from .._symbolic import GaussE
    return GaussE


@functools.lru_cache(maxsize=None)
def _erf_derivative_moment(j):
    """E_t[erf^{(j)}(s t)], t ~ N(0,1), s² = |w|², as a function of D = 1 + 2 s²."""
    h = sp.Symbol("h", real=True)
    s = sp.sqrt(s2_s)
    f = sp.diff(sp.erf(h), h, j).subs(h, s * t_s)
    val = sp.integrate(f * sp.exp(-t_s ** 2 / 2) / sp.sqrt(2 * sp.pi), (t_s, -sp.oo, sp.oo))
    return sp.simplify(val)


@functools.lru_cache(maxsize=None)
def projected_kernel():
    r"""Projected kernel entries per neuron, :math:`\tilde Q_{ij} = \sigma_a^2\langle M_{ij}(q)\rangle`, in sympy.

    :math:`M_{ij} = \mathbb E[\hat H_i\,\mathrm{erf}]\,\mathbb E[\hat H_j\,\mathrm{erf}]` with the orthonormal
    :math:`\hat H_1 = H_1`, :math:`\hat H_3 = H_3/\sqrt6`. Returns ``{"M11", "M13", "M33", "c11"}``
    with ``D`` the symbol for 1 + 2|w|²; ``c11`` is the coefficient of :math:`q^2/(\pi D)` in M11
    (= 4, the paper prints 2).
    """
    st = stein_integrals()
    D = sp.Symbol("D", positive=True)
    e1, e3 = st["I0"], st["E_H3"] / sp.sqrt(6)
    M = {"M11": sp.simplify(e1 * e1), "M13": sp.simplify(e1 * e3), "M33": sp.simplify(e3 * e3)}
    M["c11"] = sp.simplify(M["M11"] / (q_s ** 2 / (sp.pi * D)))
    return M


@functools.lru_cache(maxsize=None)
def _order_parameter_action_perp():
    r"""S(q) as :func:`order_parameter_action`, with :math:`|w_\perp|^2` inside D kept as its own symbol
    ``w_perp2`` (:data:`wperp2_s`; σ_w² in the d → ∞ limit, σ_w²(d−1)/d as the finite-d mean): the one
    derivation every numeric form of the action is compiled from."""
    st = stein_integrals()
    D = sp.Symbol("D", positive=True)
    T = (b_s * st["I0"] + c_s * st["E_H3"]) / sigma2
    S = equivalent_kernel_action().subs(sp.Symbol("T", real=True), T).subs(sp.Symbol("w2", nonnegative=True), q_s ** 2)
    S = S.subs(D, 1 + 2 * (wperp2_s + q_s ** 2))
    # eliminate sigma_a2 through u = n^2 sigma_a2 / (sigma^4 d N)
    S = S.subs(sigma_a2, u_s * sigma2 ** 2 * d_s * N_s / n_s ** 2)
    return sp.simplify(S)


@functools.lru_cache(maxsize=None)
def order_parameter_action():
    r"""S(q) derived from the equivalent-kernel action under the ansatz and norm concentration.

    :math:`\mathbb E_x[\bar t\,\mathrm{erf}(w\cdot x)] = (b\,I_0 + c\,\mathbb E[H_3\mathrm{erf}])/\sigma^2`
    (:func:`stein_integrals`), :math:`|w|^2 \to q^2 + \sigma_w^2` inside D, and the q-dependent part
    :math:`dq^2/(2\sigma_w^2)` of the prior (the d − 1 perpendicular directions integrate out).
    Returns ``S`` in terms of q, b, c, u, d, σ_w² (with ``n`` eliminated through u).
    """
    return sp.simplify(_order_parameter_action_perp().subs(wperp2_s, sigma_w2))


def _S_spec():
    """The action as printed in the module docstring: a test oracle only (the derivation
    :func:`order_parameter_action` must reproduce it); no numerics use it."""
    D = 1 + 2 * (sigma_w2 + q_s ** 2)
    return d_s * (q_s ** 2 / (2 * sigma_w2) - 2 * u_s / sp.pi * q_s ** 2 / D * (b_s - 2 * c_s * q_s ** 2 / D) ** 2)


@functools.lru_cache(maxsize=None)
def cubic_sym():
    r"""Every equation of the cubic-teacher numerics, derived in sympy from :func:`order_parameter_action`
    and :func:`projected_kernel` (the single source; the numerics below are compiled from these).

    Returns a dict of sympy expressions in q, y (= q²), b, c, u, σ_w² and ``w_perp2`` (|w_⊥|² in D):

    * ``s``: S(q)/d;  ``h``: h(y) = S/(dq²) at q² = y;  ``dh``: ∂h/∂y (``sympy.diff``);
    * ``curv``: 2σ_w²h(0) = 1 − Ub², U = 4uσ_w²/(π(1+2σ_w²)) (``U``; the q² curvature of S relative
      to the prior, v₀ = σ_w²/(d·curv));
    * ``M11, M13, M33``: the projected kernel at q² = y, D = 1 + 2(w_perp2 + y);
    * ``m11_slope``: ∂M11/∂y at y = 0 (= 4/(π(1+2σ_w²))), so that :math:`\langle M_{11}\rangle = v_0\,` m11_slope in GFL;
    * ``sc_residual``: the two residuals of :math:`(A+I)[b,\sqrt6c] = [1,\sqrt6\epsilon]` (the second divided
      by √6) in the symbols ``A11, A13, A33`` (A = κ⟨M⟩, :func:`self_consistency`).
    """
    S = _order_parameter_action_perp()
    s = sp.simplify(S / d_s)
    # termwise (no common denominator: that would cancel catastrophically near h = 0)
    h = sp.Add(*[t / q_s ** 2 for t in sp.Add.make_args(s)]).subs(q_s, sp.sqrt(y_s))
    dh = sp.factor(sp.diff(h, y_s))
    curv = sp.Add(*[sp.cancel(2 * sigma_w2 * t) for t in sp.Add.make_args(h.subs({y_s: 0, wperp2_s: sigma_w2}))])
    U = sp.cancel((1 - curv) / b_s ** 2)
    pk = projected_kernel()
    D = sp.Symbol("D", positive=True)
    M = {k: sp.simplify(pk[k].subs(q_s, sp.sqrt(y_s)).subs(D, 1 + 2 * (wperp2_s + y_s))) for k in ("M11", "M13", "M33")}
    # GFL: q ~ N(0, v0) with v0 -> 0, so <M11> = v0 * dM11/dy(0) (|w_perp|^2 -> sigma_w^2)
    m11_slope = sp.simplify(sp.diff(M["M11"], y_s).subs({y_s: 0, wperp2_s: sigma_w2}))
    # self-consistency (kappa<M> + I)[b, sqrt6 c] = [1, sqrt6 eps] as residuals, A = kappa<M> (+ GFL part)
    A = sp.Matrix([[A11_s, A13_s], [A13_s, A33_s]])
    r = (sp.eye(2) + A) * sp.Matrix([b_s, sp.sqrt(6) * c_s]) - sp.Matrix([1, sp.sqrt(6) * eps_s])
    sc_residual = (sp.expand(r[0]), sp.expand(r[1] / sp.sqrt(6)))
    return dict(s=s, h=h, dh=dh, curv=curv, U=U, m11_slope=m11_slope, sc_residual=sc_residual, **M)


class _FastPrinter(NumPyPrinter):
    """numpy printer writing small integer powers of a symbol as products (numpy's ``x**3`` on arrays
    goes through the slow general ``pow``)."""

    def _print_Pow(self, expr, rational=False):
        e = expr.exp
        if e.is_Integer and 2 <= abs(int(e)) <= 4 and expr.base.is_Symbol:
            prod = "*".join([self._print(expr.base)] * abs(int(e)))
            return f"({prod})" if e > 0 else f"(1/({prod}))"
        return super()._print_Pow(expr, rational)


def _lambdify(args, expr):
    """A scalar closed form compiled once (``sympy.lambdify``, cse=True, constants as 17-digit floats):
    plain arithmetic, so it runs on Python floats at the speed of hand-written code and vectorises
    over numpy arrays."""
    num = lambda x: sp.N(x, 17)  # noqa: E731
    expr = tuple(map(num, expr)) if isinstance(expr, tuple) else num(expr)
    return sp.lambdify(args, expr, modules="numpy", cse=True, printer=_FastPrinter)


@functools.lru_cache(maxsize=None)
def _stein_num():
    D = sp.Symbol("D", positive=True)
    st = stein_integrals()
    return _lambdify((q_s, D), (st["I0"], st["E_H3"]))


def stein_projections(q, D):
    r"""Numeric :math:`(\mathbb E_x[H_1\,\mathrm{erf}(w\cdot x)],\ \mathbb E_x[H_3\,\mathrm{erf}(w\cdot x)])`
    at overlap ``q`` = w·w* and ``D`` = 1 + 2|w|² (vectorised; compiled from :func:`stein_integrals`):
    :math:`2q/\sqrt{\pi D}` and :math:`-4q^3/(\sqrt\pi D^{3/2})`."""
    return _stein_num()(q, D)


@functools.lru_cache(maxsize=None)
def _cubic_num():
    """Numeric functions compiled from :func:`cubic_sym` (built once, on first use; ``*0`` at
    |w_⊥|² = σ_w²)."""
    e = cubic_sym()
    a_y = (y_s, b_s, c_s, u_s, sigma_w2, wperp2_s)
    a_y0 = (y_s, b_s, c_s, u_s, sigma_w2)
    at0 = {wperp2_s: sigma_w2}
    return dict(
        s=_lambdify((q_s, b_s, c_s, u_s, sigma_w2, wperp2_s), e["s"]),
        h=_lambdify(a_y, e["h"]),
        dh=_lambdify(a_y, e["dh"]),
        dh0=_lambdify(a_y0, e["dh"].subs(at0)),
        curv=_lambdify((b_s, u_s, sigma_w2), e["curv"]),
        U=_lambdify((u_s, sigma_w2), e["U"]),
        m11_slope=_lambdify((sigma_w2,), e["m11_slope"]),
        M=_lambdify((y_s, wperp2_s), (e["M11"], e["M13"], e["M33"])),
        sc=_lambdify((b_s, c_s, eps_s, A11_s, A13_s, A33_s), e["sc_residual"]),
    )


class _Compiled:
    """Attribute access to :func:`_cubic_num` (compiled on first use, then plain attributes)."""

    def __getattr__(self, name):
        num = _cubic_num()
        if name not in num:
            raise AttributeError(name)
        self.__dict__.update(num)
        return num[name]


_N = _Compiled()


@functools.lru_cache(maxsize=None)
def self_consistency():
    r"""The discrepancy equation in the equivalent-kernel limit, derived in sympy.

    For a kernel with eigenfunctions :math:`\hat H_i` (orthonormal under the data measure) and
    operator matrix :math:`\tilde Q`, the n × n Gram matrix acts on the sampled eigenfunctions as
    :math:`n\tilde Q`, so :math:`\bar t = (n\tilde Q+\sigma^2)^{-1}y` and

    .. math:: [b, \sqrt6 c] = \sigma^2\bar t = (\kappa\langle M\rangle + I)^{-1}[1,\sqrt6\epsilon],
              \quad \kappa = n\sigma_a^2/\sigma^2 .

    Returns ``{"bc": (b, c) in terms of κ and the averages m11, m13, m33, "printed": the paper's
    form without σ²/n, "n_to_zero": limit of b as n → 0 for both}``.
    """
    m11, m13, m33 = sp.symbols("m11 m13 m33", real=True)
    Mavg = sp.Matrix([[m11, m13], [m13, m33]])
    yv = sp.Matrix([1, sp.sqrt(6) * eps_s])
    Q = sigma_a2 * Mavg
    # sigma^2 tbar = sigma^2 (n Q + sigma^2)^{-1} y
    v = sp.simplify(sigma2 * (n_s * Q + sigma2 * sp.eye(2)).inv() * yv)
    v_k = sp.simplify((kappa_s * Mavg + sp.eye(2)).inv() * yv)
    same = sp.simplify(v - v_k.subs(kappa_s, n_s * sigma_a2 / sigma2))
    printed = sp.simplify((Q + sigma2 / n_s * sp.eye(2)).inv() * yv)
    return {"bc": (v[0], v[1] / sp.sqrt(6)), "kappa_form": (v_k[0], v_k[1] / sp.sqrt(6)),
            "kappa_form_equal": bool(same == sp.zeros(2, 1)),
            "printed": (printed[0], printed[1] / sp.sqrt(6)),
            "n_to_zero": (sp.limit(v[0], n_s, 0), sp.limit(printed[0], n_s, 0))}


@functools.lru_cache(maxsize=None)
def gfl_closed_forms():
    r"""GFL (q = 0 saddle only) closed forms and their symbolic verification.

    Near q = 0, :math:`S(q) = d q^2[1/(2\sigma_w^2) - 2ub^2/(\pi(1+2\sigma_w^2))] + O(q^4)`, so q is
    Gaussian with variance :math:`v_0`; :math:`\langle M_{11}\rangle = 4v_0/(\pi(1+2\sigma_w^2)) + O(d^{-2})`,
    :math:`\langle M_{13}\rangle, \langle M_{33}\rangle = O(d^{-2}), O(d^{-3})`, and κ = O(d), hence c = ε and
    :math:`b = 1/(1+4\kappa v_0/(\pi(1+2\sigma_w^2)))`. The spike ratio var(q)/var(w_⊥) = d v₀/σ_w².

    Returns a dict with ``v0``, ``b_equation`` (= 0 at the GFL b), ``spike_ratio``, and the checks
    ``quadratic_coefficient_ok`` (the q² coefficient of S reproduces v0) and ``m11_leading_ok``.
    """
    S = order_parameter_action()
    a2 = sp.simplify(sp.series(S, q_s, 0, 3).removeO().coeff(q_s, 2))
    v0 = sigma_w2 / (d_s * cubic_sym()["curv"])
    quad_ok = sp.simplify(1 / (2 * a2) - v0) == 0
    # <q^2/D> for q ~ N(0, v0), to leading order in v0 (series in a bookkeeping variable)
    lam = sp.Symbol("lambda", positive=True)
    M11 = projected_kernel()["M11"].subs(sp.Symbol("D", positive=True), 1 + 2 * (sigma_w2 + q_s ** 2))
    m11_series = sp.series(M11.subs(q_s, sp.sqrt(lam) * q_s), lam, 0, 2).removeO()
    # E[q^2] = v0, E[q^4] = 3 v0^2: leading term in lam -> replace q^2 by v0
    m11_lead = sp.simplify(m11_series.coeff(lam, 1) * v0 / q_s ** 2)
    m11_ok = sp.simplify(m11_lead - 4 * v0 / (sp.pi * (1 + 2 * sigma_w2))) == 0
    b_eq = b_s * (1 + kappa_s * 4 * v0 / (sp.pi * (1 + 2 * sigma_w2))) - 1
    spike = sp.simplify(d_s * v0 / sigma_w2)
    return {"v0": v0, "b_equation": b_eq, "spike_ratio": spike, "quadratic_coefficient_ok": bool(quad_ok),
            "m11_leading_ok": bool(m11_ok)}


# =========================================================================== cubic numerics
BASE_POINT = dict(sigma2=0.18, n=3000.0, d=150.0, N=700.0, sigma_a2=8.0 / 700.0, sigma_w2=0.5, eps=-0.3)
"""The paper's base point (σ_a² = 8/N is the value entering the formulas)."""

_CUBIC_KEYS = ("sigma2", "n", "d", "N", "sigma_a2", "sigma_w2", "eps")


def cubic_params(beta=1.0, **overrides):
    r"""Parameters of the paper's scaled family: n = 3000β, d = 150√β, N = 700β, σ_a² = (8/700)/√β,
    σ² and σ_w², ε unchanged (u and κ/d are invariant). ``overrides`` replace entries afterwards."""
    if not beta > 0:
        raise InvalidParameterError(f"The 'beta' parameter of cubic_params must be a float in the range (0, inf). Got {beta!r} instead.")
    p = dict(BASE_POINT)
    p.update(n=3000.0 * beta, d=150.0 * math.sqrt(beta), N=700.0 * beta, sigma_a2=(8.0 / 700.0) / math.sqrt(beta))
    for k, v in overrides.items():
        if k not in _CUBIC_KEYS:
            raise InvalidParameterError(f"unknown parameter {k!r} of cubic_params; its parameters are {', '.join(_CUBIC_KEYS)}")
        p[k] = float(v)
    return p


def _check_cubic(params, where):
    p = dict(BASE_POINT)
    for k, v in dict(params).items():
        if k not in _CUBIC_KEYS:
            raise InvalidParameterError(f"unknown parameter {k!r} of {where}; its parameters are {', '.join(_CUBIC_KEYS)}")
        p[k] = v
    for k in _CUBIC_KEYS:
        v = p[k]
        ok = np.isfinite(v) and (v > 0 if k != "eps" else True)
        if not ok:
            raise InvalidParameterError(f"The {k!r} parameter of {where} must be a float in the range "
                                        f"{'(-inf, inf)' if k == 'eps' else '(0, inf)'}. Got {v!r} instead.")
        p[k] = float(v)
    return p


def _uk(p):
    u = p["n"] ** 2 * p["sigma_a2"] / (p["sigma2"] ** 2 * p["d"] * p["N"])
    kappa = p["n"] * p["sigma_a2"] / p["sigma2"]
    return u, kappa


def cubic_action(q, b, c, params):
    r"""S(q)/d of the cubic model (vectorised in q): :math:`q^2/(2\sigma_w^2) - (2u/\pi)(q^2/D)(b-2cq^2/D)^2`
    (= q²·h(q²), :func:`_h` tied to :func:`cubic_sym`)."""
    p = _check_cubic(params, "cubic_action")
    u, _ = _uk(p)
    q = np.asarray(q, dtype=float)
    return q * q * _h(q * q, b, c, u, p["sigma_w2"])


def _M(y, sw):
    """(M11, M13, M33) at q² = y, D = 1 + 2(sw + y) (compiled from :func:`projected_kernel`)."""
    return _N.M(y, sw)


def _h(y, b, c, u, sw, swp=None):
    """h(y) = S/(dq²) at q² = y, |w_⊥|² = ``swp`` (default σ_w²) inside D.

    The one hand-written kernel of the family, kept for speed: it is evaluated on the 1100-point
    y grid of every Maxwell-gap evaluation and inside the root finders, where the compiled
    :func:`cubic_sym` ``h`` (expanded polynomial in y, cubic power of D) runs about 2x slower
    on arrays. Symbolic form: ``cubic_sym()["h"]``; tied at random points by
    ``tests/theory/adaptive_kernel/test_single_source.py``."""
    D = 1 + 2 * ((sw if swp is None else swp) + y)
    m = b - 2 * c * y / D
    return 1 / (2 * sw) - (2 * u / math.pi) * m * m / D


def _dh(y, b, c, u, sw):
    """∂h/∂y at |w_⊥|² = σ_w² (``sympy.diff`` of :func:`cubic_sym`'s h, compiled)."""
    return _N.dh0(y, b, c, u, sw)


def _curv(b, u, sw):
    """1 − 4uσ_w²b²/(π(1+2σ_w²)) = 2σ_w²h(0) (compiled from :func:`cubic_sym`)."""
    return _N.curv(b, u, sw)


_YGRID = np.concatenate([np.linspace(0, 4, 801)[1:], np.linspace(4, 60, 300)[1:]])


def _min_h(b, c, u, sw):
    """min over y = q² > 0 of h(y) and its location (grid + bounded refinement)."""
    hv = _h(_YGRID, b, c, u, sw)
    i = int(np.argmin(hv))
    lo = _YGRID[max(i - 1, 0)] if i > 0 else 0.0
    hi = _YGRID[min(i + 1, _YGRID.size - 1)]
    if i == 0:
        return float(_h(0.0, b, c, u, sw)), 0.0
    r = so.minimize_scalar(lambda y: _h(y, b, c, u, sw), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    return float(r.fun), float(r.x)


def cubic_gfl(params):
    r"""GFL solution (q = 0 saddle only) at d → ∞: ``dict(b, c, v0_times_d, spike_ratio, curvature)``.

    Solves :math:`b(1+K/(1-Ub^2)) = 1` on the stable side :math:`Ub^2<1`, with
    :math:`K = (\kappa/d)\,4\sigma_w^2/(\pi(1+2\sigma_w^2))`, :math:`U = 4u\sigma_w^2/(\pi(1+2\sigma_w^2))`
    (unique root: the left side increases from 0 to ∞).
    """
    p = _check_cubic(params, "cubic_gfl")
    u, kappa = _uk(p)
    sw = p["sigma_w2"]
    K = (kappa / p["d"]) * sw * _N.m11_slope(sw)   # kappa <M11> curv = (kappa/d) sw dM11/dy(0)
    U = _N.U(u, sw)                                # curvature = 1 - U b^2
    bmax = min(1.0, 1 / math.sqrt(U)) if U > 0 else 1.0
    f = lambda b: b * (1 + K / (1 - U * b * b)) - 1  # noqa: E731
    hi = bmax * (1 - 1e-15) if U * bmax * bmax >= 1 else bmax
    b = so.brentq(f, 0.0, hi, xtol=1e-15, rtol=1e-15) if f(hi) > 0 else hi
    curv = 1 - U * b * b
    return dict(b=b, c=p["eps"], v0_times_d=sw / curv, spike_ratio=1 / curv, curvature=curv)


def cubic_onset(params, *, along="sigma2", bracket=None):
    r"""First-order (GMFL-I) onset: the value of ``along`` where :math:`\min_{q\neq0}S(q)` of the GFL
    solution reaches 0. Returns ``dict(value, u_c, q_star, b)``.

    Parameters
    ----------
    along : {"sigma2", "n", "N"}
    bracket : (low, high), optional
        Search interval (default: σ² in [1e-3, 10], n or N over four decades around the value).
    """
    p = _check_cubic(params, "cubic_onset")
    if along not in ("sigma2", "n", "N"):
        raise InvalidParameterError(f"The 'along' parameter of cubic_onset must be one of sigma2, n, N. Got {along!r} instead.")

    def gap(v):
        pp = dict(p, **{along: v})
        g = cubic_gfl(pp)
        u, _ = _uk(pp)
        return _min_h(g["b"], pp["eps"], u, pp["sigma_w2"])[0]

    if bracket is None:
        v0 = p[along]
        bracket = (1e-3, 10.0) if along == "sigma2" else (v0 / 100, v0 * 100)
    grid = np.geomspace(*bracket, 80)
    vals = np.array([gap(v) for v in grid])
    idx = np.flatnonzero(np.sign(vals[:-1]) != np.sign(vals[1:]))
    if idx.size == 0:
        return dict(value=float("nan"), u_c=float("nan"), q_star=float("nan"), b=float("nan"))
    # the onset seen coming from the GFL side: sigma2 large (or n, N small) is GFL
    i = idx[-1] if along == "sigma2" else idx[0]
    v = so.brentq(gap, grid[i], grid[i + 1], xtol=1e-13, rtol=1e-13)
    pp = dict(p, **{along: v})
    g = cubic_gfl(pp)
    u, _ = _uk(pp)
    _, y = _min_h(g["b"], pp["eps"], u, pp["sigma_w2"])
    return dict(value=float(v), u_c=float(u), q_star=float(math.sqrt(y)), b=float(g["b"]))


@dataclasses.dataclass(frozen=True)
class CubicState:
    """d → ∞ state of the cubic model at one parameter point.

    ``phase`` is "GFL", "GMFL-I" or "GMFL-II"; ``p`` the droplet fraction at the given d,
    ``p_tilde = κ p`` its d-independent form; ``f1 = 1 - b`` and ``f3_over_eps = 1 - c/ε`` the
    projections of the GP predictor on H1 and H3/(6ε).
    """

    params: dict
    phase: str
    b: float
    c: float
    p: float
    p_tilde: float
    q_star: float
    f1: float
    f3_over_eps: float
    u: float
    kappa: float
    spike_ratio: float
    converged: bool
    residual: float
    message: str = ""


def _sc_residual(b, c, p, y, pp, u, kappa):
    sw = pp["sigma_w2"]
    curv = _curv(b, u, sw)
    # d -> inf: the Gaussian part carries weight 1 - p -> 1 (p = O(1/d)); p = 1 is the saturated GMFL-II state
    gauss = kappa * sw * _N.m11_slope(sw) / (pp["d"] * curv) if p < 1 else 0.0
    m11, m13, m33 = _M(y, sw)
    r1, r2 = _N.sc(b, c, pp["eps"], gauss + kappa * p * m11, kappa * p * m13, kappa * p * m33)
    return r1, r2, curv


def _solve_mixed(pp, x0):
    u, kappa = _uk(pp)
    sw = pp["sigma_w2"]
    dh = _N.dh0

    def F(x):
        b, c, pt, y = x
        y = abs(y)
        r1, r2, _ = _sc_residual(b, c, pt / kappa, y, pp, u, kappa)
        return [r1, r2, _h(y, b, c, u, sw), dh(y, b, c, u, sw)]

    sol = so.root(F, x0, method="hybr", options={"xtol": 1e-13})
    x = sol.x.copy()
    x[3] = abs(x[3])
    return x, bool(sol.success), float(np.max(np.abs(F(x))))


def _solve_gmfl2(pp, x0):
    u, kappa = _uk(pp)
    sw = pp["sigma_w2"]
    dh = _N.dh0

    def F(x):
        b, c, y = x
        y = abs(y)
        r1, r2, _ = _sc_residual(b, c, 1.0, y, pp, u, kappa)
        return [r1, r2, dh(y, b, c, u, sw)]

    sol = so.root(F, x0, method="hybr", options={"xtol": 1e-13})
    x = sol.x.copy()
    x[2] = abs(x[2])
    return x, bool(sol.success), float(np.max(np.abs(F(x))))


def _state(pp, phase, b, c, p, y, ok, res, msg=""):
    u, kappa = _uk(pp)
    sw = pp["sigma_w2"]
    curv = _curv(b, u, sw)
    return CubicState(dict(pp), phase, float(b), float(c), float(p), float(kappa * p), float(math.sqrt(max(y, 0.0))),
                      float(1 - b), float(1 - c / pp["eps"]) if pp["eps"] != 0 else float("nan"), float(u),
                      float(kappa), float(1 / curv) if phase != "GMFL-II" else float("nan"), bool(ok),
                      float(res), msg)


def _point(pp, prev=None):
    """One d → ∞ solution; ``prev`` (b, c, p_tilde, y, phase) warm-starts the mixed phase."""
    u, kappa = _uk(pp)
    sw = pp["sigma_w2"]
    g = cubic_gfl(pp)
    hmin, ystar = _min_h(g["b"], pp["eps"], u, sw)
    if hmin >= 0:
        return _state(pp, "GFL", g["b"], pp["eps"], 0.0, ystar, True, 0.0, "q = 0 only")
    if prev is None or prev[4] == "GFL":
        prev = None
    if prev is None:  # march from the onset
        on = cubic_onset(pp, along="sigma2")
        if not np.isfinite(on["value"]):
            return _state(pp, "GMFL-I", np.nan, np.nan, np.nan, np.nan, False, np.inf, "onset not found")
        path = np.linspace(on["value"], pp["sigma2"], max(4, int(abs(on["value"] - pp["sigma2"]) / 0.004) + 2))[1:]
        x = np.array([on["b"], pp["eps"], 0.0, on["q_star"] ** 2])
        for s in path:
            x, ok, res = _solve_mixed(dict(pp, sigma2=s), x)
        phase = "GMFL-I"
    else:
        b, c, pt, y, phase = prev
        if phase == "GMFL-II":
            x = np.array([b, c, min(pt, kappa), y])
        else:
            x = np.array([b, c, pt, y])
        x, ok, res = _solve_mixed(pp, x)
    pfrac = x[2] / kappa
    if pfrac > 1:  # droplets saturate: GMFL-II
        x2, ok, res = _solve_gmfl2(pp, np.array([x[0], x[1], x[3]]))
        hq = _h(x2[2], x2[0], x2[1], u, sw)
        if hq > 1e-9:
            ok = False
        return _state(pp, "GMFL-II", x2[0], x2[1], 1.0, x2[2], ok, res)
    ok = ok and x[2] >= -1e-9
    return _state(pp, "GMFL-I", x[0], x[1], max(pfrac, 0.0), x[3], ok, res)


def cubic_saddle(params=None, **kw) -> CubicState:
    r"""The d → ∞ saddle point of the cubic model at one point (all three phases).

    GFL from :func:`cubic_gfl`; if :math:`\min_{q\ne0}S<0` there, the mixed phase is solved
    (``scipy.optimize.root``, hybr) for (b, c, p̃, q*²) from :math:`[b,\sqrt6c]=(A+I)^{-1}[1,\sqrt6\epsilon]`,
    :math:`h(q^{*2})=0`, :math:`h'(q^{*2})=0` (Maxwell construction), continued in σ² from the onset;
    if p = p̃/κ exceeds 1 the GMFL-II equations (p = 1, h'(q*²) = 0) are solved instead.
    """
    p = _check_cubic(dict(params or {}, **kw), "cubic_saddle")
    return _point(p)


@dataclasses.dataclass(frozen=True)
class CubicCurve:
    """A σ² continuation curve: arrays over ``sigma2`` and the located onsets."""

    params: dict
    sigma2: np.ndarray
    phase: np.ndarray
    b: np.ndarray
    c: np.ndarray
    p: np.ndarray
    p_tilde: np.ndarray
    q_star: np.ndarray
    f1: np.ndarray
    f3_over_eps: np.ndarray
    u: np.ndarray
    converged: np.ndarray
    sigma2_gmfl1: float
    u_gmfl1: float
    sigma2_gmfl2: float


def cubic_curve(sigma2_values, params=None, **kw) -> CubicCurve:
    """Continuation of the d → ∞ solution over a σ² grid (any order; warm starts between points).

    The grid is traversed from large to small σ² (GFL first) so that the mixed phase is entered at
    its onset and followed; results are returned in the caller's order.
    """
    p = _check_cubic(dict(params or {}, **kw), "cubic_curve")
    s = np.asarray(sigma2_values, dtype=float).ravel()
    if s.size == 0 or np.any(~(s > 0)) or np.any(~np.isfinite(s)):
        raise InvalidParameterError("The 'sigma2_values' parameter of cubic_curve must be a non-empty array of floats in the range (0, inf).")
    order = np.argsort(-s)
    on = cubic_onset(p, along="sigma2")
    states = [None] * s.size
    prev = None
    for j in order:
        pp = dict(p, sigma2=float(s[j]))
        if prev is None and np.isfinite(on["value"]) and s[j] < on["value"]:
            prev = (on["b"], p["eps"], 0.0, on["q_star"] ** 2, "GMFL-I")
        st = _point(pp, prev)
        states[j] = st
        if st.converged and st.phase != "GFL":
            prev = (st.b, st.c, st.p_tilde, st.q_star ** 2, st.phase)
    ph = np.array([st.phase for st in states])
    s2 = float("nan")
    ii = np.flatnonzero(ph == "GMFL-II")
    if ii.size:
        s2 = float(np.max(s[ii]))
    arr = lambda k: np.array([getattr(st, k) for st in states], dtype=float)  # noqa: E731
    return CubicCurve(p, s, ph, arr("b"), arr("c"), arr("p"), arr("p_tilde"), arr("q_star"), arr("f1"),
                      arr("f3_over_eps"), arr("u"), np.array([st.converged for st in states]), on["value"],
                      on["u_c"], s2)


# --------------------------------------------------------------------------- finite d
@dataclasses.dataclass(frozen=True)
class FiniteDState:
    """Finite-d adaptive-kernel solution with the exact 1-D average over q.

    ``q`` grid and ``neg_log_p`` = −log p(q) (min 0); ``droplet_fraction`` = P(|q| > q_cut) with
    q_cut the barrier top between the central well and the droplets (or 0.4 if no barrier);
    ``spike_ratio`` = ⟨q²⟩/(σ_w²/d) over the whole p(q) (droplets included, as in the sampler);
    ``branch`` says which start it came from ("gfl" or "aligned").
    """

    params: dict
    b: float
    c: float
    f1: float
    f3_over_eps: float
    droplet_fraction: float
    spike_ratio: float
    q: np.ndarray
    neg_log_p: np.ndarray
    converged: bool
    branch: str


def _q_density(q, p, u, b, c, swp):
    """−log p(q) (min 0) and normalised trapezoid weights of p(q) ∝ e^{−d·s(q)} on the grid ``q``."""
    y = q * q
    S = p["d"] * (y * _h(y, b, c, u, p["sigma_w2"], swp))
    S = S - S.min()
    wq = np.full(q.size, q[1] - q[0])
    wq[0] *= 0.5
    wq[-1] *= 0.5
    w = np.exp(-S) * wq
    return S, w / w.sum()


def cubic_q_density(params, b, c, *, q_max=4.0, n_q=4001, perp_correction=True):
    r"""Finite-d neuron density of the order parameter :math:`q = w\cdot w_*` at a given discrepancy
    :math:`\sigma^2\bar t = bH_1 + cH_3`: :math:`p(q) \propto e^{-S(q)}` with the action of
    :func:`order_parameter_action` (``perp_correction`` as in :func:`cubic_finite_d`).

    Returns ``(q, neg_log_p, weights)``: the grid, −log p(q) shifted to min 0, and normalised
    trapezoid weights (sum 1).
    """
    p = _check_cubic(dict(params or {}), "cubic_q_density")
    u, _ = _uk(p)
    q = np.linspace(-q_max, q_max, int(n_q))
    swp = p["sigma_w2"] * (p["d"] - 1) / p["d"] if perp_correction else p["sigma_w2"]
    S, w = _q_density(q, p, u, float(b), float(c), swp)
    return q, S, w


def cubic_finite_d(params=None, *, start="gfl", q_max=4.0, n_q=4001, perp_correction=True, **kw) -> FiniteDState:
    r"""Self-consistent solution at finite d: :math:`p(q)\propto e^{-S(q)}`, S(q) = d·s(q), the averages
    :math:`\langle M\rangle` as 1-D integrals (trapezoid on [−q_max, q_max]), and (b, c) from
    :math:`[b,\sqrt6c]=(\kappa\langle M\rangle+I)^{-1}[1,\sqrt6\epsilon]` by ``scipy.optimize.root``.

    Parameters
    ----------
    start : {"gfl", "aligned"}
        Start of the root search: the GFL values (b, ε) or a learned state (b, c small): near the
        first-order point the two can land on different solutions (hysteresis).
    perp_correction : bool
        Use :math:`|w_\perp|^2 = \sigma_w^2(d-1)/d` in D (the exact mean at finite d).
    """
    p = _check_cubic(dict(params or {}, **kw), "cubic_finite_d")
    if start not in ("gfl", "aligned"):
        raise InvalidParameterError(f"The 'start' parameter of cubic_finite_d must be one of gfl, aligned. Got {start!r} instead.")
    u, kappa = _uk(p)
    d, sw, eps = p["d"], p["sigma_w2"], p["eps"]
    q = np.linspace(-q_max, q_max, int(n_q))
    swp = sw * (d - 1) / d if perp_correction else sw
    y = q * q
    M11, M13, M33 = _M(y, swp)
    sc = _N.sc

    def dens(b, c):
        return _q_density(q, p, u, b, c, swp)

    def F(x):
        b, c = x
        _, w = dens(b, c)
        r1, r2 = sc(b, c, eps, kappa * (w @ M11), kappa * (w @ M13), kappa * (w @ M33))
        return [r1, r2]

    if start == "gfl":
        g = cubic_gfl(p)
        x0 = [g["b"], eps]
    else:
        x0 = [0.05, 0.3 * eps]
    sol = so.root(F, x0, method="hybr", options={"xtol": 1e-12})
    b, c = sol.x
    S, w = dens(b, c)
    # barrier between the central well and the droplets
    half = q >= 0
    Sh, qh = S[half], q[half]
    loc_max = np.flatnonzero((Sh[1:-1] > Sh[:-2]) & (Sh[1:-1] >= Sh[2:])) + 1
    qcut = float(qh[loc_max[0]]) if loc_max.size else 0.4
    frac = float(w[np.abs(q) > qcut].sum())
    spike = float(w @ y) / (sw / d)
    return FiniteDState(p, float(b), float(c), float(1 - b), float(1 - c / eps) if eps else float("nan"), frac,
                        spike, q, S, bool(sol.success and max(map(abs, F(sol.x))) < 1e-9), start)


# =========================================================================== modular addition
@functools.lru_cache(maxsize=None)
def modular_mode_action():
    r"""Per-mode action :math:`S_k/P` in the symbols xw, xv (= |w_k|², |v_k|²), g, γ."""
    xw, xv = sp.symbols("x_w x_v", nonnegative=True)
    return xw, xv, (xw + xv) / 2 - g_s * xw * xv + gamma_s / 6 * (xw ** 3 + xv ** 3)


@functools.lru_cache(maxsize=None)
def modular_saddles():
    r"""Symmetric saddles of the mode action, derived in sympy: on x_w = x_v = x,
    :math:`\partial_x[S/P] = 1 - 2gx + \gamma x^2 = 0` ⇒ :math:`x_\pm = (g\pm\sqrt{g^2-\gamma})/\gamma`.
    Returns ``{"S_sym": S(x)/P on the diagonal, "x_plus", "x_minus", "stationarity"}``."""
    xw, xv, S = modular_mode_action()
    Sd = sp.expand(S.subs({xw: x_s, xv: x_s}))
    st = sp.expand(sp.diff(Sd, x_s))
    sols = sp.solve(st, x_s)
    xp = max(sols, key=lambda e: float(e.subs({g_s: 1, gamma_s: sp.Rational(1, 4)})))
    xm = min(sols, key=lambda e: float(e.subs({g_s: 1, gamma_s: sp.Rational(1, 4)})))
    return {"S_sym": Sd, "x_plus": sp.simplify(xp), "x_minus": sp.simplify(xm), "stationarity": st}


@functools.lru_cache(maxsize=None)
def modular_onset_exprs():
    r"""GMFL-I / GMFL-II onsets of modular addition as P → ∞, derived in sympy.

    GMFL-I: degeneracy :math:`S(x_+) = S(0) = 0` together with stationarity gives
    :math:`g_c = 2\sqrt{\gamma/3}`, :math:`x_c = \sqrt{3/\gamma}`; with a = 1,
    :math:`\sigma^2_I = \sqrt{2\sigma_a^2P^2/(Ng_c)}`. In the mixed phase g is pinned at g_c, so
    :math:`|a| = \sigma^2/\sigma^2_I`, and :math:`|a| = \sigma^2/(w\lambda_c+\sigma^2)` with
    :math:`\lambda_c = \sigma_a^2x_c^2`: the droplet weight w reaches 1 at
    :math:`\sigma^2_{II} = \sigma^2_I - 3\sigma_a^2/\gamma` (GMFL-II), where :math:`|a| = \sigma^2_{II}/\sigma^2_I`.
    """
    sad = modular_saddles()
    Sd, st = sad["S_sym"], sad["stationarity"]
    sol = sp.solve([Sd / x_s, st], [g_s, x_s], dict=True)
    sol = [s for s in sol if s[g_s].is_positive and s[x_s].is_positive]
    gc, xc = sp.simplify(sol[0][g_s]), sp.simplify(sol[0][x_s])
    s2I = sp.sqrt(2 * sigma_a2 * P_s ** 2 / (N_s * gc))
    lam_c = sp.simplify(sigma_a2 * xc ** 2)
    s2II = sp.simplify(s2I - lam_c)
    return {"g_c": gc, "x_c": xc, "sigma2_I": sp.simplify(s2I), "lambda_c": lam_c, "sigma2_II": s2II,
            "a_II": sp.simplify(s2II / s2I)}


MODULAR_BASE = dict(sigma2=0.2, N=1000.0, P=401.0, sigma_a2=0.002 / 1000.0, gamma=1e-4)
_MOD_KEYS = ("sigma2", "N", "P", "sigma_a2", "gamma")


def _check_mod(params, where):
    p = dict(MODULAR_BASE)
    for k, v in dict(params).items():
        if k not in _MOD_KEYS:
            raise InvalidParameterError(f"unknown parameter {k!r} of {where}; its parameters are {', '.join(_MOD_KEYS)}")
        p[k] = v
    for k in _MOD_KEYS:
        if not (np.isfinite(p[k]) and p[k] > 0):
            raise InvalidParameterError(f"The {k!r} parameter of {where} must be a float in the range (0, inf). Got {p[k]!r} instead.")
        p[k] = float(p[k])
    return p


def _mod_lambda(a, p):
    g = 2 * p["sigma_a2"] * a * a * p["P"] ** 2 / (p["N"] * p["sigma2"] ** 2)
    disc = g * g - p["gamma"]
    if disc < 0:
        return 0.0, float("nan"), 0.0, float("inf")
    x = (g + math.sqrt(disc)) / p["gamma"]
    S = p["P"] * (x - g * x * x + p["gamma"] * x ** 3 / 3)
    w = float(sc.expit(math.log(4.0) - S))
    return p["sigma_a2"] * x * x * w, x, w, S


@dataclasses.dataclass(frozen=True)
class ModularState:
    """Self-consistent modular-addition state: ``a`` (|discrepancy|, 1 = nothing learned), the droplet
    saddle ``x_plus``, its weight ``w``, the target-mode eigenvalue ``lam``, the mode action ``S``
    at x₊, and the phase ("GFL", "GMFL-I", "GMFL-II" by w < 1e-3, between, > 1 − 1e-3)."""

    params: dict
    a: float
    x_plus: float
    w: float
    lam: float
    S: float
    phase: str
    converged: bool


def modular_solve(params=None, **kw) -> ModularState:
    r"""Solve :math:`a(\lambda(a)+\sigma^2) = \sigma^2` for a ∈ (0, 1] (``brentq``; the left side
    increases in a, so the root is unique)."""
    p = _check_mod(dict(params or {}, **kw), "modular_solve")
    F = lambda a: a * (_mod_lambda(a, p)[0] + p["sigma2"]) - p["sigma2"]  # noqa: E731
    if F(1.0) <= 0:
        a = 1.0
    else:
        a = so.brentq(F, 1e-12, 1.0, xtol=1e-15, rtol=1e-14)
    lam, x, w, S = _mod_lambda(a, p)
    phase = "GFL" if w < 1e-3 else ("GMFL-II" if w > 1 - 1e-3 else "GMFL-I")
    return ModularState(p, float(a), float(x), float(w), float(lam), float(S), phase, True)


def modular_curve(sigma2_values, params=None, **kw):
    """:func:`modular_solve` over a σ² grid; returns a dict of arrays (``sigma2, a, w, x_plus, lam, phase``)."""
    s = np.asarray(sigma2_values, dtype=float).ravel()
    sts = [modular_solve(dict(params or {}, **kw), sigma2=v) for v in s]
    return {"sigma2": s, "a": np.array([t.a for t in sts]), "w": np.array([t.w for t in sts]),
            "x_plus": np.array([t.x_plus for t in sts]), "lam": np.array([t.lam for t in sts]),
            "phase": np.array([t.phase for t in sts])}


def modular_onsets(params=None, **kw):
    """Numeric values of :func:`modular_onset_exprs` (P → ∞): ``dict(sigma2_I, sigma2_II, a_II)``."""
    p = _check_mod(dict(params or {}, **kw), "modular_onsets")
    ex = modular_onset_exprs()
    sub = {sigma_a2: p["sigma_a2"], P_s: p["P"], N_s: p["N"], gamma_s: p["gamma"]}
    return {k: float(ex[k].subs(sub)) for k in ("sigma2_I", "sigma2_II", "a_II")}


# =========================================================================== models (generic protocol)
def _P(name, low, high, closed, default, doc, latex=None):
    return Param(name, low, high, closed, default, latex=latex, doc=doc)


_CUBIC_CONTROL = (
    _P("sigma2", 0, math.inf, "neither", 0.2, "noise variance sigma^2 (Langevin temperature)"),
    _P("n", 0, math.inf, "neither", 3000.0, "number of training samples"),
    _P("d", 1, math.inf, "neither", 150.0, "input dimension"),
    _P("N", 0, math.inf, "neither", 700.0, "hidden width"),
    _P("sigma_a2", 0, math.inf, "neither", 8.0 / 700.0, "readout prior variance sigma_a^2 (the value in the formulas, e.g. 8/N)"),
    _P("sigma_w2", 0, math.inf, "neither", 0.5, "hidden-weight prior variance times d"),
    _P("eps", -math.inf, math.inf, "neither", -0.3, "weight of H3 in the target y = H1 + eps H3"),
)


class _SelfConsistentModel(EquilibriumModel):
    """EquilibriumModel whose equations are self-consistency residuals, not a gradient.

    The adaptive-kernel theory is a saddle point of an action over the *distribution* of
    neurons, not of a scalar function of the order parameters; in the reduced (b, c, p, y)
    description the Maxwell construction is a complementarity condition. The protocol's derived
    ``stationarity`` is therefore replaced by the residuals :meth:`residuals` (so the generic
    Newton / hybr solvers, continuation, transitions and sweeps run unchanged, the Jacobian
    taking the role of the Hessian), and ``free_entropy`` is the model's stated scalar.
    """

    def residuals(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _p(self, expr):
        """Replace the module's symbols by the declared parameters' symbols (matched by name)."""
        expr = sp.sympify(expr)
        by_name = {p.symbol.name: p.symbol for p in self.control + self.order}
        return expr.xreplace({s: by_name[s.name] for s in expr.free_symbols if s.name in by_name})

    @functools.cached_property
    def phi(self):
        return self._p(self.free_entropy())

    @functools.cached_property
    def stationarity(self):
        return tuple(self._p(r) for r in self.residuals())

    def _observables_on(self, nodes):
        from .._compile import compile_expr
        args = self._args() + (self.phi_symbol,)
        return {k: compile_expr(self._p(v), args, nodes=nodes) for k, v in self.observables().items()}


def _cubic_exprs():
    """The generic model's equations: :func:`cubic_sym` at |w_⊥|² = σ_w², with u and κ in the controls."""
    u = n_s ** 2 * sigma_a2 / (sigma2 ** 2 * d_s * N_s)
    kappa = n_s * sigma_a2 / sigma2
    e = {k: v.subs({wperp2_s: sigma_w2, u_s: u}) for k, v in cubic_sym().items() if k != "sc_residual"}
    h, dh, curv = e["h"], e["dh"], e["curv"]
    # stable side only: v0 > 0 needs curv > 0; the clip keeps Newton off the unphysical branch
    curv_s = sp.Max(curv, sp.Rational(1, 10 ** 6))
    A11 = kappa * sigma_w2 * e["m11_slope"] / (d_s * curv_s) + kappa * p_s * e["M11"]
    A13, A33 = kappa * p_s * e["M13"], kappa * p_s * e["M33"]
    return dict(u=u, kappa=kappa, h=h, dh=dh, curv=curv, A11=A11, A13=A13, A33=A33)


class _Implicit(sp.Function):
    """A control-parameter function defined implicitly by a numeric solver (evaluated by ``evalf``)."""

    nargs = 6

    def _eval_evalf(self, prec):
        if not all(a.is_number for a in self.args):
            return None
        vals = dict(zip(("n", "d", "N", "sigma_a2", "sigma_w2", "eps"), (float(a) for a in self.args)))
        return sp.Float(self._value(vals), prec)


class CubicGMFL1(_Implicit):
    r"""σ²_c(n, d, N, σ_a², σ_w², ε) of the GMFL-I onset (:func:`cubic_onset`)."""

    @staticmethod
    def _value(p):
        return cubic_onset(dict(p, sigma2=0.1), along="sigma2")["value"]


class CubicGMFL2(_Implicit):
    r"""σ² where the mixed-phase droplet fraction reaches p = 1 (:func:`cubic_gmfl2_onset`); nan if none."""

    @staticmethod
    def _value(p):
        return cubic_gmfl2_onset(dict(p, sigma2=0.1))


def cubic_gmfl2_onset(params, *, sigma2_min=None):
    """σ² below the GMFL-I onset where p = p̃/κ reaches 1 (GMFL-II), or nan if it does not happen above
    ``sigma2_min`` (default onset/200). Continuation on a geometric grid, then ``brentq`` on p − 1."""
    p = _check_cubic(params, "cubic_gmfl2_onset")
    on = cubic_onset(p)["value"]
    if not np.isfinite(on):
        return float("nan")
    lo = on / 200 if sigma2_min is None else float(sigma2_min)
    grid = np.geomspace(on * (1 - 1e-6), lo, 200)
    cur = cubic_curve(grid, p)
    reached = np.flatnonzero((cur.p >= 1) | (cur.phase == "GMFL-II"))
    if reached.size == 0:
        return float("nan")
    j = reached[0]
    if j == 0:
        return float(grid[0])
    # refine on a fine grid between the last unsaturated and the first saturated point
    for _ in range(3):
        fine = np.linspace(grid[j - 1], grid[j], 41)
        cf = cubic_curve(fine, p)
        sat = (cf.p >= 1) | (cf.phase == "GMFL-II")
        k = int(np.argmax(sat))
        if not sat.any() or k == 0:
            break
        grid, j = fine, k
    return float(0.5 * (grid[j - 1] + grid[j]))


@register_model("ak.cubic")
class AdaptiveKernelCubic(_SelfConsistentModel):
    r"""Adaptive-kernel theory of a two-layer erf network on the cubic teacher (d → ∞ saddle point).

    Order parameters: the discrepancy coefficients b, c (σ²t̄ = bH1 + cH3), the droplet multiplier
    ``lam`` and ``mu``. The complementarity conditions of the Maxwell construction
    (p ≥ 0, min h ≥ 0, p·min h = 0) and of the droplet position (y = q*² ≥ 0 minimising h) are
    written with one variable each, p = max(λ, 0), min h = max(−λ, 0), y = max(μ, 0), which keeps the
    Newton iteration well defined across the phase boundary:

    .. math::
        (1+A_{11})b + \sqrt6A_{13}c = 1,\quad A_{13}b/\sqrt6 + (1+A_{33})c = \epsilon,\\
        h(y) = \max(0,-\lambda),\qquad h'(y) = \max(0, -\mu),

    :math:`A = \kappa\,\mathrm{diag}(4v_0/(\pi(1+2\sigma_w^2)),0) + \kappa pM(y)`,
    :math:`h(y) = S/(dq^2)` at :math:`q^2 = y`. GFL: λ = −min h < 0; GMFL-I: λ = p > 0, h(q*²) = 0.
    GMFL-II (p = 1, h < 0) is not part of the generic residuals (:func:`cubic_saddle` solves it
    separately; ``gmfl2_gap`` = 1 − p marks where the GMFL-I solution reaches p = 1).
    ``free_entropy`` is the per-neuron log-weight advantage of the droplets over the q = 0 well,
    :math:`-\min(0, S(q^*))` (0 in GFL and GMFL-I).

    Observables: p, f1 = 1 − b, f3_over_eps = 1 − c/ε, q_star, p_tilde = κp, u, kappa,
    spike_ratio, phase (0 GFL / 1 GMFL-I), maxwell_gap (= −λ: > 0 in GFL, < 0 beyond), gmfl2_gap.
    """

    description = "Adaptive-kernel theory (Rubin-Seroussi-Ringel 2024): 2-layer erf net, cubic teacher, d->inf"
    references = ("N. Rubin, I. Seroussi, Z. Ringel, ICLR 2024, arXiv:2310.03789",)
    control = _CUBIC_CONTROL
    order = (
        _P("b", -math.inf, math.inf, "neither", 0.3, "discrepancy coefficient of H1 (f1 = 1 - b)"),
        _P("c", -math.inf, math.inf, "neither", -0.3, "discrepancy coefficient of H3 (f3/eps = 1 - c/eps)"),
        _P("lam", -math.inf, 1.0, "right", -0.1, "droplet multiplier: p = max(lam, 0), min_q h = max(-lam, 0)"),
        _P("mu", -math.inf, 25.0, "neither", 0.5, "droplet position multiplier: q*^2 = max(mu, 0) (q* < 5)"),
    )
    branches = (Branch("default", lambda prm: AdaptiveKernelCubic._start(prm),
                       "d -> inf solution (GFL / GMFL-I), started from cubic_saddle"),)

    @staticmethod
    def _start(prm):
        pp = _check_cubic(prm, "ak.cubic")
        st = _point(pp)
        if not st.converged or st.phase == "GMFL-II":
            return {"b": 0.3, "c": prm["eps"], "lam": -0.1, "mu": 0.5}
        u, _ = _uk(pp)
        y = st.q_star ** 2
        lam = st.p if st.phase != "GFL" else -float(_h(y, st.b, st.c, u, pp["sigma_w2"]))
        mu = y if y > 0 else -float(_dh(0.0, st.b, st.c, u, pp["sigma_w2"]))
        return {"b": st.b, "c": st.c, "lam": lam, "mu": mu}

    def _sub(self, e):
        lam, mu = sp.Symbol("lam", real=True), sp.Symbol("mu", real=True)
        return {k: v.subs({p_s: sp.Max(lam, 0), y_s: sp.Max(mu, 0)}) for k, v in e.items()}, lam, mu

    def residuals(self):
        e, lam, mu = self._sub(_cubic_exprs())
        A = {A11_s: e["A11"], A13_s: e["A13"], A33_s: e["A33"]}
        r1, r2 = (r.subs(A) for r in cubic_sym()["sc_residual"])
        r3 = e["h"] - sp.Max(0, -lam)
        r4 = e["dh"] - sp.Max(0, -mu)
        return (r1, r2, r3, r4)

    def free_entropy(self):
        e, lam, mu = self._sub(_cubic_exprs())
        return -d_s * sp.Min(0, sp.Max(mu, 0) * e["h"])

    def observables(self):
        e, lam, mu = self._sub(_cubic_exprs())
        p = sp.Max(lam, 0)
        return {"p": p, "f1": 1 - b_s, "f3_over_eps": 1 - c_s / eps_s, "q_star": sp.sqrt(sp.Max(mu, 0)),
                "p_tilde": e["kappa"] * p, "u": e["u"], "kappa": e["kappa"], "spike_ratio": 1 / e["curv"],
                "phase": sp.Piecewise((0, sp.Le(lam, 0)), (1, True)),
                "maxwell_gap": -lam, "gmfl2_gap": 1 - p, "entropy": self.phi_symbol}

    @property
    def transitions(self):
        args = [self.sym(k) for k in ("n", "d", "N", "sigma_a2", "sigma_w2", "eps")]
        return (
            Transition("gmfl1_onset", "closed_form", along="sigma2", expr=CubicGMFL1(*args),
                       doc="first-order onset: min_{q!=0} S(q) = S(0) = 0 on the GFL solution (implicit "
                           "function, cubic_onset); also the zero of the observable maxwell_gap"),
            Transition("gmfl2_onset", "closed_form", along="sigma2", expr=CubicGMFL2(*args),
                       doc="droplets saturate, p = 1 (GMFL-I -> GMFL-II); needs kappa*p ~ d: nan (not "
                           "converged) at the base point, where p <= 0.025"),
        )


@register_model("ak.modular")
class AdaptiveKernelModular(_SelfConsistentModel):
    r"""Adaptive-kernel theory of modular addition (square activation, Fourier-mode action with the
    sextic stabiliser). Order parameter a = |discrepancy| of the target mode; equation
    :math:`a(\lambda(a)+\sigma^2)=\sigma^2` (solved in log form, see :meth:`residuals`) with :math:`\lambda = \sigma_a^2x_+^2w`,
    :math:`w = 4e^{-S}/(1+4e^{-S})`, :math:`S = P(x_+-gx_+^2+\gamma x_+^3/3)`.
    ``free_entropy`` = ln(1 + 4e^{-S(x₊)})/P (per-mode log partition function relative to x = 0).
    Transitions are the P → ∞ closed forms of :func:`modular_onset_exprs`.
    """

    description = "Adaptive-kernel theory (Rubin-Seroussi-Ringel 2024): modular addition, square activation"
    references = ("N. Rubin, I. Seroussi, Z. Ringel, ICLR 2024, arXiv:2310.03789",
                  "A. Gromov, arXiv:2301.02679")
    control = (
        _P("sigma2", 0, math.inf, "neither", 0.2, "noise variance sigma^2"),
        _P("N", 0, math.inf, "neither", 1000.0, "hidden width"),
        _P("P", 1, math.inf, "neither", 401.0, "modulus P (prime)"),
        _P("sigma_a2", 0, math.inf, "neither", 0.002 / 1000.0, "readout prior variance (the value in the formulas)"),
        _P("gamma", 0, math.inf, "neither", 1e-4, "sextic stabiliser gamma"),
    )
    order = (_P("a", 0.0, math.inf, "neither", 1.0, "|discrepancy| of the target mode (1 = nothing learned; <= 1)"),)
    branches = (Branch("default", lambda prm: {"a": modular_solve(_check_mod(prm, "ak.modular")).a},
                       "self-consistent discrepancy"),)

    def _parts(self):
        g = 2 * sigma_a2 * a_s ** 2 * P_s ** 2 / (N_s * sigma2 ** 2)
        xp = (g + sp.sqrt(sp.Max(g ** 2 - gamma_s, 0))) / gamma_s
        S = P_s * (xp - g * xp ** 2 + gamma_s * xp ** 3 / 3)
        w = sp.Piecewise((1 / (1 + sp.exp(S) / 4), g ** 2 >= gamma_s), (0, True))
        return g, xp, S, w

    def residuals(self):
        # a (lam(a) + s2) = s2 in log form, ln a + ln(1 + lam/s2) = 0, with
        # ln(1 + lam/s2) = softplus(ln(sa2 x+^2 / s2) + ln w), ln w = -softplus(S - ln 4):
        # smooth and monotone in a, no overflow for |S| ~ P (w = 0 or 1 to machine precision).
        g, xp, S, w = self._parts()
        sp_ = lambda v: sp.Max(v, 0) + sp.log(1 + sp.exp(-sp.Abs(v)))  # noqa: E731  softplus
        inner = sp.log(sigma_a2 * xp ** 2 / sigma2) - sp_(S - sp.log(4))
        return (sp.Piecewise((sp.log(a_s) + sp_(inner), g ** 2 >= gamma_s), (sp.log(a_s), True)),)

    def free_entropy(self):
        g, xp, S, w = self._parts()
        v = sp.log(4) - S
        return sp.Piecewise(((sp.Max(v, 0) + sp.log(1 + sp.exp(-sp.Abs(v)))) / P_s, g ** 2 >= gamma_s), (0, True))

    def observables(self):
        g, xp, S, w = self._parts()
        return {"a": a_s, "w": w, "x_plus": xp, "lam": sigma_a2 * xp ** 2 * w, "g": g, "S": S,
                "entropy": self.phi_symbol}

    @property
    def transitions(self):
        ex = {k: self._p(v) for k, v in modular_onset_exprs().items()}
        return (
            Transition("gmfl1_onset", "closed_form", along="sigma2", expr=ex["sigma2_I"],
                       doc="P -> inf GMFL-I onset: g = 2 sqrt(gamma/3) at a = 1"),
            Transition("gmfl2_onset", "closed_form", along="sigma2", expr=ex["sigma2_II"],
                       doc="P -> inf GMFL-II onset: droplet weight w = 1, sigma2_I - 3 sigma_a2/gamma"),
        )
