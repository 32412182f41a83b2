r"""GenEFT: statics (description length, balls in buckets) and interacting-repon dynamics.

Effective theory of generalization for the knowledge-graph autoencoder of GenEFT (Baek, Liu,
Tegmark, arXiv:2402.05916). Two halves:

**Statics.** A relation :math:`G` on :math:`n` symbols carries :math:`b=\log_2(n!/|\mathrm{Aut}\,G|)`
bits (orbit-stabilizer under :math:`S_n`). If each of the :math:`m=Np` training examples reveals at
most one of the :math:`b` bits, drawn with replacement ("balls in buckets"),

.. math::

    f(m) = 1-(1-1/b)^m,\qquad
    p_c(\alpha) = \frac{\ln(1-\alpha)}{N\ln(1-1/b)},\qquad
    f_{UB}(m) = f(m) + \max(p^*,1-p^*)\,(1-f(m)).

**Dynamics.** With a locally linear decoder :math:`D(x)=Ax+b`, two same-class representations
("repons") :math:`x_{1,2}=m\pm r` under gradient flow (rate :math:`\eta_A` on the decoder,
:math:`\eta_x` on the embeddings) obey, on the invariant set :math:`\{m=0,\ \bar e=0\}`,

.. math::

    \dot A = -2\eta_A A r r^\top,\qquad \dot r = -\eta_x A^\top A r,

which conserves :math:`Q = A^\top A/(2\eta_A) - r r^\top/\eta_x` (any output/embedding dimensions).
In one dimension :math:`C = a^2/(2\eta_A) - c^2/\eta_x`; the repons collide (generalize) iff
:math:`C>0`, and for Gaussian initialisations the collision probability is the arctan law

.. math::

    p_r = \frac{2}{\pi}\arctan\!\Big(\frac{\sigma_a}{\sigma_c}\sqrt{\frac{\eta_x}{2\eta_A}}\Big),

generalised here to :math:`(d_e, d_o)` through the F distribution.

Conventions
-----------
* Bits are base-2 logarithms; ``p_c`` does not depend on the base (it is a ratio of logarithms).
* ``N = n**2`` ordered pairs (the diagonal included), ``m = N p`` training examples.
* Loss of the two-repon system: :math:`\ell=\tfrac12(|Ax_1+b-y|^2+|Ax_2+b-y|^2)` (a *sum*, not a mean).
* ``rho = sqrt(eta_x/(2 eta_A))`` is the separatrix slope, ``|c| = rho |a|``.

Every identity that the spec labels as symbolic is proved here with sympy by a function returning
a :class:`SymbolicCheck`; :func:`all_symbolic_checks` runs them all.

References
----------
* GenEFT: Baek, Liu, Tegmark, arXiv:2402.05916 (v2 2025). Equation numbers are v2 as quoted by a
  third-party reproduction; see ``shared/specs/geneft.md`` for provenance.
* Liu, Kitouni, Nolte, Michaud, Tegmark, Williams, "Towards Understanding Grokking",
  arXiv:2205.10343.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import sympy as sp

from phasekit._constraints import check_array, check_scalar, invalid_parameter

__all__ = [
    # statics
    "RELATIONS", "DescriptionLength", "description_length", "positive_prior",
    "revealed_fraction", "critical_fraction", "accuracy_upper_bound", "StaticsResult", "statics",
    "statics_symbolic", "critical_fraction_series",
    # repon dynamics
    "SymbolicCheck", "ReponPrediction", "MatrixReponPrediction",
    "separatrix_slope", "two_repon_prediction", "matrix_repon_prediction",
    "collision_probability", "collision_probability_matrix", "collision_probability_cluster",
    "quoted_eq13_probability", "two_repon_solution", "two_repon_rhs", "matrix_repon_rhs", "cluster_rhs",
    # symbolic checks
    "check_pc_log_base", "check_pc_series", "check_two_repon_reduction", "check_conserved_C",
    "check_matrix_invariant", "check_closed_r_equation", "check_separatrix_asymptotes",
    "check_gaussian_cone", "check_F_reduction", "check_cluster_invariant", "all_symbolic_checks",
]

RELATIONS = ("equivalence", "total_order", "bipartite", "symmetric", "generic")


# --------------------------------------------------------------------------------------------
# statics
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DescriptionLength:
    """Bits needed to single out a relation of one family among the relabelings of ``n`` symbols.

    Attributes
    ----------
    relation : str
        One of :data:`RELATIONS`.
    n : int
        Number of symbols.
    k, a : int or None
        Number of equivalence classes / size of the bipartite side, where relevant.
    exact : float
        :math:`\\log_2(n!/|\\mathrm{Aut}\\,G|)` for equivalence, order and bipartite relations; for
        ``generic`` (``symmetric``) it is :math:`\\log_2` of the number of all (symmetric)
        relations, :math:`n^2` (:math:`n(n+1)/2`), which equals the approximation.
    approx : float
        The approximation quoted in GenEFT Table II (``n log2 k``, ``n log2(n/e)``, ...).
    aut_order : int or None
        :math:`|\\mathrm{Aut}\\,G|` when defined.
    exact_expr : sympy.Expr
        The exact value as a sympy expression (``log(...)/log(2)``).
    """

    relation: str
    n: int
    k: int | None
    a: int | None
    exact: float
    approx: float
    aut_order: int | None
    exact_expr: sp.Expr

    def value(self, which: str = "approx") -> float:
        """``self.exact`` or ``self.approx``."""
        if which not in ("exact", "approx"):
            raise invalid_parameter("which", "DescriptionLength.value", "one of 'exact', 'approx'", which)
        return self.exact if which == "exact" else self.approx


def description_length(relation: str = "equivalence", n: int = 30, *, k: int = 3,
                       a: int = 10) -> DescriptionLength:
    r"""Description length of a relation family, exact (orbit–stabilizer) and approximate.

    .. math::

        b = \log_2\frac{n!}{|\mathrm{Aut}\,G|}

    ============== ======================================== ====================
    relation       exact                                    GenEFT approximation
    ============== ======================================== ====================
    equivalence    :math:`\log_2 n!/((n/k)!^k k!)`          :math:`n\log_2 k`
    total_order    :math:`\log_2 n!`                        :math:`n\log_2(n/e)`
    bipartite      :math:`\log_2\binom{n}{a}` (/2 if a=n-a) same
    symmetric      :math:`n(n+1)/2`                         same
    generic        :math:`n^2`                              same
    ============== ======================================== ====================

    Examples
    --------
    >>> d = description_length("equivalence", 30, k=3)
    >>> round(d.exact, 2), round(d.approx, 2)
    (39.75, 47.55)
    """
    where = "description_length"
    if relation not in RELATIONS:
        raise invalid_parameter("relation", where, f"one of {RELATIONS}", relation)
    n = check_scalar(n, "n", where, int, 1)
    N = sp.Integer(n)
    kk = aa = None
    aut = None
    if relation == "equivalence":
        kk = check_scalar(k, "k", where, int, 1)
        if n % kk:
            raise invalid_parameter("k", where, f"a divisor of n={n} (equal classes)", k)
        s = n // kk
        aut = math.factorial(s) ** kk * math.factorial(kk)
        expr = sp.log(sp.factorial(N) / (sp.factorial(s) ** kk * sp.factorial(kk)), 2)
        approx = n * math.log2(kk)
    elif relation == "total_order":
        aut = 1
        expr = sp.log(sp.factorial(N), 2)
        approx = n * math.log2(n / math.e)
    elif relation == "bipartite":
        aa = check_scalar(a, "a", where, int, 1)
        if aa >= n:
            raise invalid_parameter("a", where, f"an int in [1, {n - 1}]", a)
        sym = 2 if 2 * aa == n else 1
        aut = math.factorial(aa) * math.factorial(n - aa) * sym
        expr = sp.log(sp.binomial(N, aa) / sym, 2)
        approx = math.log2(math.comb(n, aa) / sym)
    elif relation == "symmetric":
        expr = N * (N + 1) / 2
        approx = n * (n + 1) / 2
    else:  # generic
        expr = N ** 2
        approx = float(n * n)
    exact = float(sp.N(expr, 30))
    return DescriptionLength(relation, n, kk, aa, exact, float(approx), aut, expr)


def positive_prior(relation: str = "equivalence", *, k: int = 3) -> float:
    """Chance ``p*`` that an undetermined pair is positive (GenEFT Eq. 5).

    ``1/k`` for ``k`` equal equivalence classes; ``1/2`` for bipartite and for generic/symmetric
    relations; ``1/3`` for greater-than, the spec's approximation (§2.2: given x < y, three orders
    of {x, y, z} are compatible, xyz, xzy and zxy).
    """
    if relation not in RELATIONS:
        raise invalid_parameter("relation", "positive_prior", f"one of {RELATIONS}", relation)
    if relation == "equivalence":
        return 1.0 / check_scalar(k, "k", "positive_prior", int, 1)
    if relation == "total_order":
        return 1.0 / 3.0
    return 0.5


def revealed_fraction(m, b):
    r"""Balls in buckets, Eq. 3: :math:`f(m) = 1-(1-1/b)^m` (vectorised in ``m`` and ``b``)."""
    b = check_array(b, "b", "revealed_fraction", 0, closed="neither", what="positive and finite")
    if np.any(b <= 1):
        raise invalid_parameter("b", "revealed_fraction", "a float in the range (1, inf)", b)
    m = np.asarray(m, dtype=float)
    out = -np.expm1(m * np.log1p(-1.0 / b))
    return float(out) if out.ndim == 0 else out


def critical_fraction(alpha, b, N):
    r"""Critical training fraction, Eq. 4: the ``p`` with :math:`f(Np)=\alpha`.

    .. math:: p_c = \frac{1}{N}\frac{\ln(1-\alpha)}{\ln(1-1/b)}
              \approx \frac{b}{N}\ln\frac{1}{1-\alpha}

    Values above 1 mean the data cannot fix the relation (balls-in-buckets breakdown).
    """
    alpha = np.asarray(alpha, dtype=float)
    if np.any(~np.isfinite(alpha)) or np.any(alpha <= 0) or np.any(alpha >= 1):
        raise invalid_parameter("alpha", "critical_fraction", "a float in the range (0, 1)", alpha.tolist())
    b = check_array(b, "b", "critical_fraction", 0, closed="neither", what="positive and finite")
    if np.any(b <= 1):
        raise invalid_parameter("b", "critical_fraction", "a float in the range (1, inf)", b.tolist())
    N = check_scalar(N, "N", "critical_fraction", float, 0, closed="neither")
    out = np.log1p(-alpha) / np.log1p(-1.0 / b) / N
    return float(out) if out.ndim == 0 else out


def accuracy_upper_bound(m, b, p_star):
    r"""Accuracy upper bound, Eq. 5: :math:`f_{UB} = f + \max(p^*,1-p^*)(1-f)`."""
    p_star = check_scalar(p_star, "p_star", "accuracy_upper_bound", float, 0, 1)
    f = np.asarray(revealed_fraction(m, b))
    out = f + max(p_star, 1 - p_star) * (1 - f)
    return float(out) if out.ndim == 0 else out


@dataclasses.dataclass(frozen=True)
class StaticsResult:
    """GenEFT statics at one parameter point.

    Attributes
    ----------
    relation, n, k : parameters; ``N = n**2``.
    which : ``'exact'`` or ``'approx'`` — which description length ``b`` is used.
    b : float
    alpha : float
        Target revealed fraction for ``p_c``.
    p_c : float
        Critical training fraction (> 1 means breakdown).
    p_star : float
    fractions : ndarray
        Training fractions at which ``f`` and ``f_ub`` are tabulated.
    f, f_ub : ndarray
    """

    relation: str
    n: int
    k: int | None
    N: int
    which: str
    b: float
    alpha: float
    p_c: float
    p_star: float
    fractions: np.ndarray
    f: np.ndarray
    f_ub: np.ndarray


def statics(relation: str = "equivalence", n: int = 30, *, k: int = 3, a: int = 10,
            alpha: float = 0.9, which: str = "approx",
            fractions=(0.05, 0.1, 0.2, 0.3)) -> StaticsResult:
    """Balls-in-buckets statics of one relation (``b``, ``p_c``, ``f`` and ``f_UB``).

    Examples
    --------
    >>> r = statics("equivalence", 30, k=3, alpha=0.9)
    >>> round(r.p_c, 4)
    0.1204
    """
    if which not in ("exact", "approx"):
        raise invalid_parameter("which", "statics", "one of 'exact', 'approx'", which)
    alpha = check_scalar(alpha, "alpha", "statics", float, 0, 1, closed="neither")
    d = description_length(relation, n, k=k, a=a)
    b = d.value(which)
    N = d.n ** 2
    fr = np.asarray(fractions, dtype=float)
    ps = positive_prior(relation, k=k if relation == "equivalence" else 3)
    return StaticsResult(relation, d.n, d.k, N, which, b, alpha,
                         float(critical_fraction(alpha, b, N)), ps, fr,
                         np.asarray(revealed_fraction(N * fr, b)),
                         np.asarray(accuracy_upper_bound(N * fr, b, ps)))


def statics_symbolic():
    """Sympy forms of Eqs. 3–5: ``dict(f=..., p_c=..., f_ub=..., symbols=(m, b, N, alpha, p_star))``.

    ``p_c`` is obtained by ``sympy.solve(f(N p) - alpha, p)``, so it is derived, not typed in.
    """
    m, b, N, alpha, ps, p = sp.symbols("m b N alpha p_star p", positive=True)
    f = 1 - (1 - 1 / b) ** m
    sol = sp.solve(sp.Eq(f.subs(m, N * p), alpha), p)
    if len(sol) != 1:  # pragma: no cover - sympy behaviour guard
        raise RuntimeError(f"unexpected solutions for p_c: {sol}")
    p_c = sp.simplify(sol[0])
    f_ub = f + sp.Max(ps, 1 - ps) * (1 - f)
    return dict(f=f, p_c=p_c, f_ub=f_ub, symbols=(m, b, N, alpha, ps))


def critical_fraction_series(order: int = 3):
    r"""Large-``b`` expansion of :math:`1/(-\ln(1-1/b))`, the factor of :math:`\ln(1/(1-\alpha))/N`
    in ``p_c``: :math:`b - 1/2 - 1/(12b) - 1/(24b^2) + \dots` (``order`` terms after ``b``).
    """
    b = sp.symbols("b", positive=True)
    eps = sp.symbols("epsilon", positive=True)
    ser = sp.series(1 / (-sp.log(1 - eps)), eps, 0, order).removeO()
    return sp.expand(ser.subs(eps, 1 / b)), b


# --------------------------------------------------------------------------------------------
# symbolic checks
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SymbolicCheck:
    """Outcome of one symbolic identity.

    Attributes
    ----------
    name : str
    holds : bool
        ``True`` when the simplified residual is identically zero (or the stated equivalence was
        derived).
    residual : sympy.Basic
        What should vanish, after simplification (a matrix for matrix identities).
    detail : str
        What was proved, in words.
    """

    name: str
    holds: bool
    residual: object
    detail: str


def _is_zero(expr) -> bool:
    if isinstance(expr, sp.MatrixBase):
        return all(_is_zero(e) for e in expr)
    return sp.simplify(sp.expand(expr)) == 0


def check_pc_log_base() -> SymbolicCheck:
    """``p_c`` is the same with logarithms in any base (a ratio of logarithms)."""
    alpha, b, N, base = sp.symbols("alpha b N base", positive=True)
    pc_e = sp.log(1 - alpha) / sp.log(1 - 1 / b) / N
    pc_base = sp.log(1 - alpha, base) / sp.log(1 - 1 / b, base) / N
    res = sp.simplify(pc_base - pc_e)
    return SymbolicCheck("pc_log_base", res == 0, res, "log_base(1-alpha)/log_base(1-1/b) is "
                         "independent of the base")


def check_pc_series() -> SymbolicCheck:
    """:math:`1/(-\\ln(1-1/b)) = b - 1/2 - 1/(12b) + O(b^{-2})` and the Eq.-4 forms agree."""
    ser, b = critical_fraction_series(2)
    want = b - sp.Rational(1, 2) - 1 / (12 * b)
    res = sp.simplify(ser - want)
    # the remainder is O(b^-2): b^2 (exact - truncation) has a finite limit (-1/24)
    exact = 1 / (-sp.log(1 - 1 / b))
    rem = sp.limit((exact - want) * b ** 2, b, sp.oo)
    if not (rem.is_finite and rem == sp.Rational(-1, 24)):
        res = sp.Tuple(res, rem)
    # also: the solved p_c equals the Eq. 4 form
    s = statics_symbolic()
    m, bb, N, alpha, ps = s["symbols"]
    res2 = sp.simplify(s["p_c"] - sp.log(1 - alpha) / sp.log(1 - 1 / bb) / N)
    return SymbolicCheck("pc_series", res == 0 and res2 == 0, sp.Tuple(res, res2),
                         "series of 1/(-ln(1-1/b)) to O(1/b^2); solve(f(Np)=alpha) gives Eq. 4")


def _mat(name, r, c):
    return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}{i}{j}", real=True))


def _vec(name, r):
    return sp.Matrix(r, 1, lambda i, j: sp.Symbol(f"{name}{i}", real=True))


def check_two_repon_reduction(d_o: int = 2, d_e: int = 2) -> SymbolicCheck:
    r"""Gradients of the two-repon loss and the invariant set (spec §3.1, check 2).

    Verifies, for symbolic ``A`` (d_o×d_e), ``b``, ``y``, ``x_{1,2} = m ± r``:
    :math:`\partial\ell/\partial A = 2\bar e m^\top + 2Arr^\top`, :math:`\partial\ell/\partial b=2\bar e`,
    :math:`\dot m = -\eta_x A^\top\bar e`, :math:`\dot r=-\eta_x A^\top A r`; that
    :math:`\{m=0,\bar e=0\}` is invariant with the flow reducing to Eq. 8; and that for
    :math:`\bar e = 0`, :math:`m\neq0`: :math:`\dot{\bar e} = -2\eta_A (Ar)(r^\top m)`.
    """
    d_o = check_scalar(d_o, "d_o", "check_two_repon_reduction", int, 1)
    d_e = check_scalar(d_e, "d_e", "check_two_repon_reduction", int, 1)
    etaA, etax = sp.symbols("eta_A eta_x", positive=True)
    A, b, y = _mat("A", d_o, d_e), _vec("b", d_o), _vec("y", d_o)
    mm, r = _vec("m", d_e), _vec("r", d_e)
    x1, x2 = mm + r, mm - r
    e1, e2 = A * x1 + b - y, A * x2 + b - y
    loss = ((e1.T * e1)[0] + (e2.T * e2)[0]) / 2
    ebar = A * mm + b - y
    gA = sp.Matrix(d_o, d_e, lambda i, j: sp.diff(loss, A[i, j]))
    gb = sp.Matrix([sp.diff(loss, bi) for bi in b])
    # direct embedding gradients: write loss in x1, x2 explicitly
    X1, X2 = _vec("p", d_e), _vec("q", d_e)
    E1, E2 = A * X1 + b - y, A * X2 + b - y
    L12 = ((E1.T * E1)[0] + (E2.T * E2)[0]) / 2
    g1 = sp.Matrix([sp.diff(L12, s) for s in X1])
    g2 = sp.Matrix([sp.diff(L12, s) for s in X2])
    sub12 = {**{X1[i]: x1[i] for i in range(d_e)}, **{X2[i]: x2[i] for i in range(d_e)}}
    mdot = (-etax * (g1 + g2) / 2).subs(sub12)
    rdot = (-etax * (g1 - g2) / 2).subs(sub12)
    res = [
        gA - (2 * ebar * mm.T + 2 * A * r * r.T),
        gb - 2 * ebar,
        mdot - (-etax * A.T * ebar),
        rdot - (-etax * A.T * A * r),
    ]
    # flows of A, b, ebar
    Adot = -etaA * gA
    bdot = -etaA * gb
    ebar_dot = Adot * mm + A * mdot + bdot
    # on {m=0, ebar=0}: solve ebar=0 for b
    bsol = y - A * mm
    on_set0 = {**{mm[i]: 0 for i in range(d_e)}}
    sub_e0 = {b[i]: bsol[i] for i in range(d_o)}
    res.append((ebar_dot.subs(sub_e0)).subs(on_set0))           # invariance of ebar = 0
    res.append(mdot.subs(sub_e0).subs(on_set0))                  # invariance of m = 0
    res.append((Adot.subs(sub_e0).subs(on_set0)) - (-2 * etaA * A * r * r.T))   # Eq. 8
    res.append(ebar_dot.subs(sub_e0) - (-2 * etaA * (A * r) * (r.T * mm)[0]))   # ebar=0, m!=0
    holds = all(_is_zero(R) for R in res)
    return SymbolicCheck(f"two_repon_reduction[{d_o},{d_e}]", holds,
                         sp.Tuple(*[sp.simplify(R) for R in res]),
                         "gradients of the two-repon loss; {m=0, ebar=0} invariant with Eq. 8; "
                         "ebar=0, m!=0 gives d ebar/dt = -2 eta_A (A r)(r.m)")


def check_conserved_C() -> SymbolicCheck:
    r"""Eq. 11: :math:`\dot C = 0` on Eq. 10, :math:`C=a^2/(2\eta_A)-c^2/\eta_x`."""
    a, c, etaA, etax = sp.symbols("a c eta_A eta_x", real=True)
    adot, cdot = -2 * etaA * c ** 2 * a, -etax * a ** 2 * c
    C = a ** 2 / (2 * etaA) - c ** 2 / etax
    res = sp.simplify(sp.diff(C, a) * adot + sp.diff(C, c) * cdot)
    return SymbolicCheck("conserved_C", res == 0, res, "dC/dt = 0 on Eq. 10")


def check_matrix_invariant(d_o: int = 2, d_e: int = 2) -> SymbolicCheck:
    r""":math:`\dot Q = 0` on Eq. 8 for :math:`Q = A^\top A/(2\eta_A) - rr^\top/\eta_x`."""
    d_o = check_scalar(d_o, "d_o", "check_matrix_invariant", int, 1)
    d_e = check_scalar(d_e, "d_e", "check_matrix_invariant", int, 1)
    etaA, etax = sp.symbols("eta_A eta_x", positive=True)
    A, r = _mat("A", d_o, d_e), _vec("r", d_e)
    Adot = -2 * etaA * A * r * r.T
    rdot = -etax * A.T * A * r
    Qdot = (Adot.T * A + A.T * Adot) / (2 * etaA) - (rdot * r.T + r * rdot.T) / etax
    Qdot = Qdot.applyfunc(lambda e: sp.expand(e))
    return SymbolicCheck(f"matrix_invariant[{d_o},{d_e}]", Qdot.is_zero_matrix is True, Qdot,
                         f"dQ/dt = 0 on Eq. 8 with A of shape ({d_o},{d_e})")


def check_closed_r_equation(d_o: int = 3, d_e: int = 2) -> SymbolicCheck:
    r"""With :math:`A^\top A = 2\eta_A(Q + rr^\top/\eta_x)`, Eq. 8 closes:
    :math:`\dot r = -2\eta_A(\eta_x Q + |r|^2)r`."""
    etaA, etax = sp.symbols("eta_A eta_x", positive=True)
    A, r = _mat("A", d_o, d_e), _vec("r", d_e)
    Q = A.T * A / (2 * etaA) - r * r.T / etax
    res = (-etax * A.T * A * r) - (-2 * etaA * (etax * Q + (r.T * r)[0] * sp.eye(d_e)) * r)
    res = res.applyfunc(sp.expand)
    return SymbolicCheck(f"closed_r_equation[{d_o},{d_e}]", res.is_zero_matrix is True, res,
                         "dr/dt = -2 eta_A (eta_x Q + |r|^2 Id) r")


def check_separatrix_asymptotes() -> SymbolicCheck:
    r"""Check 3: :math:`C=0 \Leftrightarrow |c|=\rho|a|`; asymptotes of Eq. 10 from conservation of C.

    For :math:`C>0` the flow ends at :math:`c=0` (``a`` stops once ``c`` vanishes), so
    :math:`a_\infty^2 = 2\eta_A C`; for :math:`C<0` at :math:`a=0`, :math:`c_\infty^2=-\eta_x C`.
    Also verifies the trajectories are the hyperbolas ``C = const`` and that ``c -> 0`` is
    attracting when ``a != 0`` (``d ln|c|/dt = -eta_x a^2 < 0``).
    """
    a, c = sp.symbols("a c", real=True)
    etaA, etax, Cs = sp.symbols("eta_A eta_x C", positive=True)
    C = a ** 2 / (2 * etaA) - c ** 2 / etax
    rho = sp.sqrt(etax / (2 * etaA))
    sols = sp.solve(sp.Eq(C, 0), c)
    ok1 = set(sp.simplify(s) for s in sols) == {sp.simplify(rho * a), sp.simplify(-rho * a)}
    a_inf_sq = sp.solve(sp.Eq(a ** 2 / (2 * etaA), Cs), a)  # C>0, c=0
    ok2 = all(sp.simplify(s ** 2 - 2 * etaA * Cs) == 0 for s in a_inf_sq)
    c_inf = sp.solve(sp.Eq(-c ** 2 / etax, -Cs), c)  # C<0 written as -Cs, a = 0
    ok3 = all(sp.simplify(s ** 2 - etax * Cs) == 0 for s in c_inf)
    res = sp.Tuple(sp.Integer(0 if ok1 else 1), sp.Integer(0 if ok2 else 1),
                   sp.Integer(0 if ok3 else 1))
    return SymbolicCheck("separatrix_asymptotes", ok1 and ok2 and ok3, res,
                         "C=0 <=> c=±rho a; a_inf^2 = 2 eta_A C (C>0); c_inf^2 = -eta_x C (C<0)")


def check_gaussian_cone() -> SymbolicCheck:
    r"""Theorem 3 by integration: :math:`P(|c|<\rho|a|)=\tfrac2\pi\arctan(\sigma_a\rho/\sigma_c)`.

    With :math:`a=\sigma_a u`, :math:`c=\sigma_c v` and polar coordinates :math:`(u,v) =
    R(\cos\theta,\sin\theta)`, the radial Gaussian integral is 1 and the angular measure of the
    cone :math:`|\tan\theta| < x`, :math:`x=\sigma_a\rho/\sigma_c`, is :math:`4\arctan x`. Also
    verifies :math:`p_r(x)+p_r(1/x)=1` and :math:`p_r'(\rho=0) = 2\sigma_a/(\pi\sigma_c)`.
    """
    R, th = sp.symbols("R theta", positive=True)
    x, sa, sc, rho = sp.symbols("x sigma_a sigma_c rho", positive=True)
    radial = sp.integrate(R * sp.exp(-R ** 2 / 2), (R, 0, sp.oo))            # = 1
    angular = 4 * sp.integrate(1 / (2 * sp.pi), (th, 0, sp.atan(x)))         # 4 quarter cones
    P = sp.simplify(radial * angular)
    law = 2 / sp.pi * sp.atan(x)
    r1 = sp.simplify(P - law)
    # cross-check by a one-dimensional integral: P = 2 int_0^oo 2 phi(u) (Phi(x u) - 1/2) du
    u = sp.symbols("u", positive=True)
    phi = sp.exp(-u ** 2 / 2) / sp.sqrt(2 * sp.pi)
    P1 = sp.integrate(2 * phi * sp.erf(x * u / sp.sqrt(2)), (u, 0, sp.oo))
    r2 = sp.simplify(P1 - law)
    # atan(x) + atan(1/x) = pi/2 on x > 0: constant (zero derivative) and equal at x = 1
    sym = sp.atan(x) + sp.atan(1 / x) - sp.pi / 2
    r3 = sp.simplify(sp.diff(sym, x)) + sym.subs(x, 1)
    pr_rho = law.subs(x, sa * rho / sc)
    r4 = sp.simplify(sp.diff(pr_rho, rho).subs(rho, 0) - 2 * sa / (sp.pi * sc))
    ok = all(sp.simplify(t) == 0 for t in (r1, r2, r3, r4))
    return SymbolicCheck("gaussian_cone", ok, sp.Tuple(r1, r2, r3, r4),
                         "cone integral = (2/pi) atan(x); p_r(x)+p_r(1/x)=1; slope at 0")


def check_F_reduction() -> SymbolicCheck:
    r"""The F(1,1) cdf is :math:`\tfrac2\pi\arctan\sqrt t`, so the F form reduces to Eq. 12.

    The F(1,1) density is :math:`1/(\pi\sqrt t(1+t))`; its integral from 0 is the arctan law, and
    with :math:`t=\rho^2\sigma_a^2/\sigma_c^2` the argument is :math:`\sigma_a\rho/\sigma_c`.
    """
    t, s = sp.symbols("t s", positive=True)
    dens = 1 / (sp.pi * sp.sqrt(s) * (1 + s))
    cdf = sp.integrate(dens, (s, 0, t))
    res = sp.simplify(cdf - 2 / sp.pi * sp.atan(sp.sqrt(t)))
    if res != 0:  # sympy may return an equivalent form; compare numerically at several points
        vals = [float(abs((cdf - 2 / sp.pi * sp.atan(sp.sqrt(t))).subs(t, v)))
                for v in (0.1, 1.0, 3.7, 25.0)]
        ok = max(vals) < 1e-14
    else:
        ok = True
    # the general density at d1=d2=1 is this density
    d1, d2 = sp.symbols("d1 d2", positive=True)
    gen = (sp.sqrt((d1 * s) ** d1 * d2 ** d2 / (d1 * s + d2) ** (d1 + d2))
           / (s * sp.beta(d1 / 2, d2 / 2)))
    res2 = sp.simplify(sp.expand_func(gen.subs({d1: 1, d2: 1})) - dens)
    return SymbolicCheck("F_reduction", ok and res2 == 0, sp.Tuple(res, res2),
                         "F(1,1) cdf = (2/pi) atan(sqrt t)")


def check_cluster_invariant() -> SymbolicCheck:
    r"""Spec §3.6, check 6: the 1-vs-N cluster.

    Sum loss :math:`\ell=\tfrac12 e_0^2+\tfrac N2 e_c^2` with :math:`e_0 = ax_0+b-y`,
    :math:`e_c = ax_c+b-y`, on the invariant set :math:`e_0+Ne_c=0`, :math:`x_0+Nx_c=0`:
    derives :math:`\dot a = -\eta_A\frac{N}{N+1}d^2a`, :math:`\dot d = -\eta_x a^2 d` and
    :math:`\dot K=0` for :math:`K=a^2(1+1/N)/\eta_A-d^2/\eta_x`; :math:`K(N{=}1,d{=}2c)=4C`; the
    quoted Eq. 13 at N = 1 has a squared argument 1/4 of Eq. 12's; a uniform loss scale
    :math:`\ell\to s\ell` leaves the criterion :math:`K>0` unchanged.
    """
    a, b, y, x0, xc = sp.symbols("a b y x0 x_c", real=True)
    N, etaA, etax, s = sp.symbols("N eta_A eta_x s", positive=True)
    e0, ec = a * x0 + b - y, a * xc + b - y
    loss = e0 ** 2 / 2 + N * ec ** 2 / 2
    adot = -etaA * sp.diff(loss, a)
    bdot = -etaA * sp.diff(loss, b)
    x0dot = -etax * sp.diff(loss, x0)
    # each of the N cluster members feels d(e_c^2/2)/dx = a e_c: the rigid cluster moves as one
    xcdot = -etax * a * ec
    # invariant set: x0 + N xc = 0 and e0 + N ec = 0  ->  xc = -x0/N, b solved
    xc_sol = -x0 / N
    b_sol = sp.solve(sp.Eq((e0 + N * ec).subs(xc, xc_sol), 0), b)[0]
    on = {xc: xc_sol}
    sub = lambda e: sp.simplify(e.subs(on).subs(b, b_sol))  # noqa: E731
    dd = sp.symbols("d", real=True)
    x0_of_d = N * dd / (N + 1)          # d = x0 - xc = x0 (1 + 1/N)
    to_d = lambda e: sp.simplify(e.subs(x0, x0_of_d))  # noqa: E731
    r_adot = to_d(sub(adot)) - (-etaA * N / (N + 1) * dd ** 2 * a)
    r_ddot = to_d(sub(x0dot - xcdot)) - (-etax * a ** 2 * dd)
    # invariance of the set
    r_com = to_d(sub(x0dot + N * xcdot))
    r_res = to_d(sub(sp.diff(e0 + N * ec, a) * adot + sp.diff(e0 + N * ec, b) * bdot
                     + sp.diff(e0 + N * ec, x0) * x0dot + sp.diff(e0 + N * ec, xc) * xcdot))
    K = a ** 2 * (1 + 1 / N) / etaA - dd ** 2 / etax
    Kdot = sp.diff(K, a) * (-etaA * N / (N + 1) * dd ** 2 * a) + sp.diff(K, dd) * (-etax * a ** 2 * dd)
    r_K = sp.simplify(Kdot)
    c = sp.symbols("c", real=True)
    C = a ** 2 / (2 * etaA) - c ** 2 / etax
    r_K4C = sp.simplify(K.subs({N: 1, dd: 2 * c}) - 4 * C)
    # quoted Eq. 13 vs Eq. 12 at N = 1 (squared arguments, sigma ratio dropped)
    arg13 = etax / (4 * (1 + 1 / N) * etaA)
    arg12 = etax / (2 * etaA)
    r_ratio = sp.simplify(arg13.subs(N, 1) / arg12 - sp.Rational(1, 4))
    # loss scale: rates -> s * rates leaves sign(K) and the threshold ratio unchanged
    thr = sp.sqrt(etax * (1 + 1 / N) / etaA)
    r_scale = sp.simplify(thr.subs({etax: s * etax, etaA: s * etaA}, simultaneous=True) - thr)
    parts = (r_adot, r_ddot, r_com, r_res, r_K, r_K4C, r_ratio, r_scale)
    ok = all(sp.simplify(p) == 0 for p in parts)
    return SymbolicCheck("cluster_invariant", ok, sp.Tuple(*parts),
                         "1-vs-N cluster: reduced flow, dK/dt=0, K(N=1,d=2c)=4C, quoted Eq. 13 "
                         "off by 1/4 in the squared argument at N=1, loss-scale invariance")


def all_symbolic_checks() -> tuple[SymbolicCheck, ...]:
    """Run every symbolic check of the spec (checks 1–7) and return them."""
    return (check_pc_log_base(), check_pc_series(),
            check_two_repon_reduction(2, 2), check_two_repon_reduction(3, 2),
            check_conserved_C(), check_matrix_invariant(2, 2), check_matrix_invariant(3, 2),
            check_closed_r_equation(3, 2), check_separatrix_asymptotes(), check_gaussian_cone(),
            check_F_reduction(), check_cluster_invariant())


# --------------------------------------------------------------------------------------------
# repon dynamics: numerical predictions
# --------------------------------------------------------------------------------------------
def separatrix_slope(eta_A, eta_x):
    r""":math:`\rho=\sqrt{\eta_x/(2\eta_A)}`: the separatrix of Eq. 10 is :math:`|c|=\rho|a|`."""
    eta_A = check_array(eta_A, "eta_A", "separatrix_slope", 0, closed="neither", what="positive and finite")
    eta_x = check_array(eta_x, "eta_x", "separatrix_slope", 0, closed="neither", what="positive and finite")
    out = np.sqrt(eta_x / (2 * eta_A))
    return float(out) if out.ndim == 0 else out


@dataclasses.dataclass(frozen=True)
class ReponPrediction:
    """Fate of one-dimensional two-repon systems (Eq. 10–11), elementwise over the inputs.

    Attributes
    ----------
    C : ndarray
        Conserved quantity :math:`a^2/(2\\eta_A)-c^2/\\eta_x`.
    collides : ndarray of bool
        ``C > 0`` (generalization).
    a_inf, c_inf : ndarray
        Asymptotes: ``|a_inf| = sqrt(2 eta_A C)``, ``c_inf = 0`` if ``C > 0``; ``a_inf = 0``,
        ``|c_inf| = sqrt(-eta_x C)`` otherwise (signs of the initial values kept).
    rho : float
    eta_A, eta_x : float
    """

    C: np.ndarray
    collides: np.ndarray
    a_inf: np.ndarray
    c_inf: np.ndarray
    rho: float
    eta_A: float
    eta_x: float


def two_repon_prediction(a0, c0, eta_A: float, eta_x: float) -> ReponPrediction:
    """Predicted fate and asymptotes of Eq. 10 from the initial ``(a0, c0)`` (vectorised)."""
    eta_A = check_scalar(eta_A, "eta_A", "two_repon_prediction", float, 0, closed="neither")
    eta_x = check_scalar(eta_x, "eta_x", "two_repon_prediction", float, 0, closed="neither")
    a0, c0 = np.broadcast_arrays(np.asarray(a0, float), np.asarray(c0, float))
    C = a0 ** 2 / (2 * eta_A) - c0 ** 2 / eta_x
    col = C > 0
    sa = np.where(a0 >= 0, 1.0, -1.0)
    sc = np.where(c0 >= 0, 1.0, -1.0)
    a_inf = np.where(col, sa * np.sqrt(np.abs(2 * eta_A * C)), 0.0)
    c_inf = np.where(col, 0.0, sc * np.sqrt(np.abs(eta_x * C)))
    return ReponPrediction(C, col, a_inf, c_inf, float(np.sqrt(eta_x / (2 * eta_A))), eta_A, eta_x)


@dataclasses.dataclass(frozen=True)
class MatrixReponPrediction:
    """Fate of Eq. 8 for matrix decoders (spec §3.4).

    Attributes
    ----------
    Q : ndarray (d_e, d_e)
        The invariant :math:`A^\\top A/(2\\eta_A) - rr^\\top/\\eta_x`.
    eigenvalues : ndarray
        Eigenvalues of ``Q`` (ascending).
    collides : bool
        ``Q`` positive definite (``r -> 0``).
    criterion : float
        :math:`r_0^\\top(A_0^\\top A_0)^{-1}r_0`; collision iff it is ``< eta_x/(2 eta_A)``
        (``nan`` when ``A0^T A0`` is singular).
    r_inf_sq : float
        Limit of :math:`|r|^2`: 0 on collision, :math:`\\eta_x|\\lambda_{\\min}(Q)|` otherwise.
    AtA_inf : ndarray or None
        :math:`2\\eta_A Q` on collision.
    """

    Q: np.ndarray
    eigenvalues: np.ndarray
    collides: bool
    criterion: float
    r_inf_sq: float
    AtA_inf: np.ndarray | None


def matrix_repon_prediction(A0, r0, eta_A: float, eta_x: float) -> MatrixReponPrediction:
    """Predicted fate of Eq. 8 from ``A0`` (d_o×d_e) and ``r0`` (d_e)."""
    eta_A = check_scalar(eta_A, "eta_A", "matrix_repon_prediction", float, 0, closed="neither")
    eta_x = check_scalar(eta_x, "eta_x", "matrix_repon_prediction", float, 0, closed="neither")
    A0 = np.atleast_2d(np.asarray(A0, float))
    r0 = np.asarray(r0, float).ravel()
    if A0.shape[1] != r0.size:
        raise invalid_parameter("r0", "matrix_repon_prediction", f"a vector of length {A0.shape[1]}", r0.shape)
    AtA = A0.T @ A0
    Q = AtA / (2 * eta_A) - np.outer(r0, r0) / eta_x
    ev = np.linalg.eigvalsh(Q)
    col = bool(ev[0] > 0)
    try:
        crit = float(r0 @ np.linalg.solve(AtA, r0)) if np.linalg.matrix_rank(AtA) == r0.size \
            else float("nan")
    except np.linalg.LinAlgError:
        crit = float("nan")
    return MatrixReponPrediction(Q, ev, col, crit, 0.0 if col else float(eta_x * abs(ev[0])),
                                 2 * eta_A * Q if col else None)


def collision_probability(eta_ratio=None, *, eta_A=None, eta_x=None, sigma_a: float = 1.0,
                          sigma_c: float = 1.0, rho=None):
    r"""Theorem 3 (Eq. 12): probability that two repons collide.

    .. math:: p_r = \frac2\pi\arctan\Big(\frac{\sigma_a}{\sigma_c}\rho\Big),\quad
              \rho=\sqrt{\eta_x/(2\eta_A)}

    Give either ``eta_ratio = eta_x/eta_A``, both rates, or ``rho`` directly. Vectorised.
    The probability is an upper bound on generalization (collision is necessary) reached only
    asymptotically in time.
    """
    where = "collision_probability"
    if rho is None:
        if eta_ratio is None:
            if eta_A is None or eta_x is None:
                raise invalid_parameter("eta_ratio", where, "given, or both eta_A and eta_x, or rho", None)
            eta_ratio = check_array(eta_x, "eta_x", where, 0, closed="neither", what="positive and finite") / \
                check_array(eta_A, "eta_A", where, 0, closed="neither", what="positive and finite")
        eta_ratio = check_array(eta_ratio, "eta_ratio", where, 0, closed="neither", what="positive and finite")
        rho = np.sqrt(eta_ratio / 2)
    rho = np.asarray(rho, float)
    if np.any(rho < 0):
        raise invalid_parameter("rho", where, "non-negative", rho.tolist())
    sigma_a = check_scalar(sigma_a, "sigma_a", where, float, 0, closed="neither")
    sigma_c = check_scalar(sigma_c, "sigma_c", where, float, 0, closed="neither")
    out = 2 / np.pi * np.arctan(sigma_a / sigma_c * rho)
    return float(out) if out.ndim == 0 else out


def collision_probability_matrix(rho, d_e: int = 1, d_o: int = 1, *, sigma_a: float = 1.0,
                                 sigma_c: float = 1.0):
    r"""Generalised Theorem 3 (spec §3.5): i.i.d. Gaussian ``A`` (d_o×d_e) and ``r`` (d_e).

    .. math::

        p_r = F_{\rm cdf}\Big(\rho^2\frac{\sigma_a^2}{\sigma_c^2}\frac{d_o-d_e+1}{d_e};
              d_e,\ d_o-d_e+1\Big)

    from :math:`r_0^\top(A_0^\top A_0)^{-1}r_0 \sim (\sigma_c^2/\sigma_a^2)\,
    \chi^2_{d_e}/\chi^2_{d_o-d_e+1}`. Equals Eq. 12 at ``d_e = d_o = 1``. Requires
    ``d_o >= d_e``.
    """
    from scipy import stats
    d_e = check_scalar(d_e, "d_e", "collision_probability_matrix", int, 1)
    d_o = check_scalar(d_o, "d_o", "collision_probability_matrix", int, 1)
    if d_o < d_e:
        raise invalid_parameter("d_o", "collision_probability_matrix", f"an int >= d_e = {d_e}", d_o)
    rho = np.asarray(rho, float)
    nu2 = d_o - d_e + 1
    out = stats.f.cdf(rho ** 2 * (sigma_a / sigma_c) ** 2 * nu2 / d_e, d_e, nu2)
    return float(out) if np.ndim(out) == 0 else out


def collision_probability_cluster(eta_ratio, *, sigma_a: float = 1.0, sigma: float = 1.0):
    r"""1-vs-N cluster (spec §3.6, derived): cluster members i.i.d. :math:`N(0,\sigma^2)` before
    collapsing, so :math:`\mathrm{var}\,d=\sigma^2(1+1/N)` and N cancels:

    .. math:: p_r = \frac2\pi\arctan\Big(\frac{\sigma_a}{\sigma}\sqrt{\eta_x/\eta_A}\Big)

    (``sigma`` is the per-embedding scale, not the scale of ``c``). Equals Eq. 12 with
    :math:`\sigma_c=\sigma/\sqrt2` at N = 1.
    """
    eta_ratio = check_array(eta_ratio, "eta_ratio", "collision_probability_cluster", 0, closed="neither",
                            what="positive and finite")
    out = 2 / np.pi * np.arctan(sigma_a / sigma * np.sqrt(eta_ratio))
    return float(out) if out.ndim == 0 else out


def quoted_eq13_probability(eta_ratio, N, *, sigma_a: float = 1.0, sigma_c: float = 1.0):
    r"""The multi-repon formula *as quoted* for GenEFT Eq. 13 — **not adopted**.

    .. math:: p_r^{(N)} = \frac2\pi\arctan\Big(\frac{\sigma_a}{\sigma_c}
              \sqrt{\frac{\eta_x}{4(1+1/N)\eta_A}}\Big)

    At N = 1 its squared argument is 1/4 of Eq. 12's (``eta_x/(8 eta_A)`` instead of
    ``eta_x/(2 eta_A)``), so it does not reduce to Theorem 3; a uniform loss rescaling cannot
    explain the factor (it rescales time only). Kept for comparison; use
    :func:`collision_probability_cluster`.
    """
    eta_ratio = check_array(eta_ratio, "eta_ratio", "quoted_eq13_probability", 0, closed="neither",
                            what="positive and finite")
    N = np.asarray(N, float)
    out = 2 / np.pi * np.arctan(sigma_a / sigma_c * np.sqrt(eta_ratio / (4 * (1 + 1 / N))))
    return float(out) if out.ndim == 0 else out


def _logistic(u0, u_inf, k, t):
    """Solution of ``u' = k u (1 - u/u_inf)`` from ``u0 >= 0``, stable for either sign of ``k``."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        em = np.exp(-np.abs(k) * t)           # in (0, 1]
        pos = u0 * u_inf / (u0 + (u_inf - u0) * em)            # k > 0
        neg = u0 * u_inf * em / (u0 * em + u_inf - u0)         # k < 0
        out = np.where(k > 0, pos, neg)
    return np.where(u0 == 0, 0.0, out)


def two_repon_solution(a0, c0, eta_A: float, eta_x: float, t):
    r"""Closed-form solution of Eq. 10 at time ``t`` (vectorised), returns ``(a(t), c(t))``.

    With :math:`C` conserved, :math:`u=a^2` and :math:`v=c^2` obey logistic equations

    .. math::

        \dot u = k u\,(1-u/u_\infty),\quad k = 4\eta_A\eta_x C,\ u_\infty = 2\eta_A C;\qquad
        \dot v = -k v\,(1-v/v_\infty),\quad v_\infty = -\eta_x C,

    and at :math:`C=0`: :math:`u = u_0/(1+2\eta_x u_0 t)`, :math:`v = v_0/(1+4\eta_A v_0 t)`.
    Signs of ``a`` and ``c`` never change. Useful for the collided fraction at very long times,
    where time stepping would be too slow.
    """
    eta_A = check_scalar(eta_A, "eta_A", "two_repon_solution", float, 0, closed="neither")
    eta_x = check_scalar(eta_x, "eta_x", "two_repon_solution", float, 0, closed="neither")
    a0, c0, t = np.broadcast_arrays(np.asarray(a0, float), np.asarray(c0, float),
                                    np.asarray(t, float))
    u0, v0 = a0 ** 2, c0 ** 2
    C = u0 / (2 * eta_A) - v0 / eta_x
    k = 4 * eta_A * eta_x * C
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(C != 0, _logistic(u0, 2 * eta_A * C, k, t), u0 / (1 + 2 * eta_x * u0 * t))
        v = np.where(C != 0, _logistic(v0, -eta_x * C, -k, t), v0 / (1 + 4 * eta_A * v0 * t))
    a = np.sign(a0) * np.sqrt(np.maximum(u, 0.0))
    c = np.sign(c0) * np.sqrt(np.maximum(v, 0.0))
    if a.ndim == 0:
        return float(a), float(c)
    return a, c


# --------------------------------------------------------------------------------------------
# right-hand sides (for solve_ivp and for tests)
# --------------------------------------------------------------------------------------------
def two_repon_rhs(t, y, eta_A, eta_x):
    """Eq. 10, ``y = (a, c)``; vectorised over trailing axes (``y`` of shape (2, ...))."""
    a, c = y[0], y[1]
    return np.array([-2 * eta_A * c * c * a, -eta_x * a * a * c])


def matrix_repon_rhs(t, y, d_o, d_e, eta_A, eta_x):
    """Eq. 8 with ``y = concat(A.ravel(), r)``."""
    A = y[: d_o * d_e].reshape(d_o, d_e)
    r = y[d_o * d_e:]
    Ar = A @ r
    return np.concatenate([(-2 * eta_A * np.outer(Ar, r)).ravel(), -eta_x * (A.T @ Ar)])


def cluster_rhs(t, y, N, eta_A, eta_x):
    """Reduced 1-vs-N flow, ``y = (a, d)``: ``a' = -eta_A N/(N+1) d^2 a``, ``d' = -eta_x a^2 d``."""
    a, d = y[0], y[1]
    return np.array([-eta_A * N / (N + 1) * d * d * a, -eta_x * a * a * d])

