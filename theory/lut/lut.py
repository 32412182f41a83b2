r"""Theory of the self-organized lookup-table network on parity targets, and its GF(2) reference.

.. note::
   **Reconstruction.** The learner this theory describes is the LUT-decomposition network of
   ``shared/specs/lut_network.md`` §3 (:class:`phasekit.validation.lut.lut_network.LUTNetwork`), a
   reconstruction *in the spirit of* the abstract of S. Barland and L. Gil, arXiv:2410.02590
   (2024), whose body was not available. The nucleation theory below is our own derivation [R]
   for that reconstruction, not a result of the paper.

Conventions
-----------
* Inputs :math:`x \in \{0,1\}^n` uniform, target the full parity :math:`f(x) = \oplus_j x_j`,
  :math:`P` training examples drawn without replacement. Accuracy is measured on all
  :math:`2^n - P` unseen inputs.
* "Success" means accuracy 1 (the network found the full parity).
* Logarithms in the scaling variable :math:`a = \log_2 P / n` are base 2; entropies are in bits per
  input.

Local learner: nucleation (spec §4.2)
-------------------------------------
The first XOR merge of a coordinate pair :math:`(i, j)` needs two witnesses, a training pair that
differs exactly on :math:`\{i, j\}` with values 00↔11 and one with 01↔10. The number of training
pairs differing exactly on :math:`\{i,j\}` is approximately Poisson with mean

.. math:: \lambda = \binom{P}{2} 2^{-n} = \frac{P(P-1)}{2^{n+1}},

each of the two types with probability 1/2, so a given pair nucleates with probability
(derived in sympy by :func:`derive_nucleation`)

.. math:: w(\lambda) = \sum_N e^{-\lambda}\frac{\lambda^N}{N!}\,\Pr[\text{both types}\mid N]
          = \left(1 - e^{-\lambda/2}\right)^2 .

With :math:`\binom n2` nearly independent pairs and a cascade that completes once nucleated,

.. math:: P_\text{success}(n, P) \approx 1 - \exp\!\left[-\binom n2 w(\lambda)\right],\qquad
          P_c(n) = \frac{2^{(n+2)/2}}{\binom n2^{1/4}},\qquad
          P_\text{success} \approx 1 - e^{-(P/P_c)^4}.

Exact global reference: GF(2) parity learner (spec §4.4)
-------------------------------------------------------
A learner that outputs a uniformly random parity consistent with the data is right with
probability :math:`2^{-(n-r)}` (:math:`r` the GF(2) rank of the :math:`P\times n` example matrix,
i.i.d. uniform rows) and otherwise has accuracy exactly 1/2.

.. math:: \Pr[r = n] = \prod_{i=0}^{n-1}\left(1 - 2^{i-P}\right),\qquad
          \Pr[r] = 2^{-Pn}\prod_{i=0}^{r-1}\frac{(2^P-2^i)(2^n-2^i)}{2^r-2^i},\qquad
          \mathbb E[\varepsilon] = \tfrac12\left(1 - \mathbb E\, 2^{-(n-r)}\right).

References
----------
S. Barland, L. Gil, arXiv:2410.02590 (2024). G. Landsberg (1893) and e.g. V. F. Kolchin, *Random
Graphs* (1999) for the rank law of random GF(2) matrices [L].
"""
from __future__ import annotations

import dataclasses
import functools
import math
from fractions import Fraction

import numpy as np
import sympy as sp

from ..._constraints import check_array, check_scalar, invalid_parameter

__all__ = [
    "NucleationDerivation", "derive_nucleation", "witness_lambda", "witness_probability",
    "p_success", "p_success_cascade", "p_critical", "p_success_weibull", "weibull_shape", "WEIBULL_EXPONENT",
    "mean_accuracy_local", "coverage", "accuracy_topological", "scaling_variable_local",
    "a_critical", "transition_width_local", "scaling_variable_gf2", "transition_width_gf2",
    "p_full_rank", "p_full_rank_limit", "rank_distribution", "rank_distribution_exact",
    "gf2_success_probability", "gf2_mean_error", "gf2_wrong_parity_accuracy", "gf2_entropy",
    "description_length_structured", "description_length_memorized", "binder_two_state",
    "p_frozen_success", "p_fresh_success",
]

#: Exponent of the Weibull shape :math:`1 - \exp(-(P/P_c)^k)` of the local learner.
WEIBULL_EXPONENT = 4


def _out(a):
    a = np.asarray(a, dtype=float)
    return float(a) if a.ndim == 0 else a


# --------------------------------------------------------------------------------------------
# symbolic derivation
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class NucleationDerivation:
    """Sympy derivation of the nucleation law (spec §4.2).

    Attributes
    ----------
    lam, P, n : sympy.Symbol
        Poisson mean, number of examples, input dimension (positive symbols).
    witness_probability : sympy.Expr
        The Poisson sum :math:`\\sum_N e^{-\\lambda}\\lambda^N/N!\\,\\Pr[\\text{both types}|N]`,
        simplified; equal to ``closed_form``.
    closed_form : sympy.Expr
        :math:`(1 - e^{-\\lambda/2})^2`.
    leading_term : sympy.Expr
        Small-:math:`\\lambda` leading term, :math:`\\lambda^2/4`.
    lambda_of_P : sympy.Expr
        :math:`P(P-1)/2^{n+1}`.
    weibull_exponent : int
        Power of :math:`P` in :math:`\\binom n2` times the leading term (4).
    p_critical : sympy.Expr
        Solution of :math:`\\binom n2 (P^2/2^{n+1})^2/4 = 1`: :math:`2^{(n+2)/2}/\\binom n2^{1/4}`.
    residual : sympy.Expr
        ``simplify(witness_probability - closed_form)`` (0 when the derivation holds).
    """

    lam: sp.Symbol
    P: sp.Symbol
    n: sp.Symbol
    witness_probability: sp.Expr
    closed_form: sp.Expr
    leading_term: sp.Expr
    lambda_of_P: sp.Expr
    weibull_exponent: int
    p_critical: sp.Expr
    residual: sp.Expr


@functools.lru_cache(maxsize=1)
def derive_nucleation() -> NucleationDerivation:
    r"""Derive the witness probability, the Weibull exponent and :math:`P_c(n)` with sympy.

    Given :math:`N` training pairs differing exactly on a coordinate pair, each is of type
    00↔11 or 01↔10 with probability 1/2, so both types are present with probability
    :math:`1 - 2\cdot 2^{-N}` for :math:`N\ge1` (0 for :math:`N=0`). Summing over
    :math:`N\sim\mathrm{Poisson}(\lambda)` gives :math:`(1-e^{-\lambda/2})^2`.

    Examples
    --------
    >>> d = derive_nucleation()
    >>> d.residual
    0
    >>> d.weibull_exponent
    4
    """
    lam = sp.Symbol("lambda", positive=True)
    P, n = sp.symbols("P n", positive=True)
    N = sp.Symbol("N", integer=True, nonnegative=True)
    pmf = sp.exp(-lam) * lam**N / sp.factorial(N)
    # sum over N >= 0 of pmf * (1 - 2^(1-N)) (by linearity, two series), then correct the N = 0
    # term (its true value is 0, not -1)
    total = sp.summation(pmf, (N, 0, sp.oo))
    one_type = sp.summation(pmf * sp.Rational(1, 2) ** N, (N, 0, sp.oo))
    s = sp.simplify(total - 2 * one_type + sp.exp(-lam))
    closed = (1 - sp.exp(-lam / 2)) ** 2
    residual = sp.simplify(sp.expand(s - closed))
    lead = sp.series(closed, lam, 0, 3).removeO()
    lead = sp.simplify(lead)
    lam_P = P * (P - 1) / 2 ** (n + 1)
    binom = n * (n - 1) / 2
    # leading order in P: lambda ~ P^2 / 2^(n+1)
    expo_expr = sp.expand(binom * lead.subs(lam, P**2 / 2 ** (n + 1)))
    weibull_exponent = int(sp.degree(expo_expr, P))
    sol = sp.solve(sp.Eq(expo_expr, 1), P)
    # the positive real root (checked at n = 14; the roots differ by a sign or a factor i)
    pc = [s_ for s_ in sol if complex(s_.subs(n, 14).evalf()).real > 0
          and abs(complex(s_.subs(n, 14).evalf()).imag) < 1e-12]
    pc = sp.simplify(pc[0])
    return NucleationDerivation(lam=lam, P=P, n=n, witness_probability=s, closed_form=closed,
                                leading_term=lead, lambda_of_P=lam_P,
                                weibull_exponent=weibull_exponent, p_critical=pc,
                                residual=residual)


# --------------------------------------------------------------------------------------------
# local learner: nucleation
# --------------------------------------------------------------------------------------------
def witness_lambda(n, P):
    r"""Poisson mean :math:`\lambda = P(P-1)/2^{n+1}` of training pairs differing exactly on a given pair."""
    where = "witness_lambda"
    n = check_scalar(n, "n", where, int, 1)
    P = check_array(P, "P", where, 0)
    return _out(P * (P - 1) / 2.0 ** (n + 1))


def witness_probability(lam):
    r"""Probability :math:`(1 - e^{-\lambda/2})^2` that both witness types are present."""
    lam = check_array(lam, "lam", "witness_probability", 0)
    return _out(np.expm1(-lam / 2) ** 2)


def p_success(n, P):
    r"""Nucleation estimate :math:`1 - \exp[-\binom n2 (1 - e^{-\lambda/2})^2]` of P(accuracy = 1).

    Parameters
    ----------
    n : int >= 2
    P : float or array_like, >= 0

    Examples
    --------
    >>> round(p_success(14, 83), 3)
    0.587
    """
    where = "p_success"
    n = check_scalar(n, "n", where, int, 2)
    P = check_array(P, "P", where, 0)
    lam = np.maximum(P * (P - 1), 0.0) / 2.0 ** (n + 1)
    return _out(-np.expm1(-math.comb(n, 2) * np.expm1(-lam / 2) ** 2))


def p_success_cascade(n, P):
    r"""Growth-corrected estimate [R]: every merge of the cascade must find a witnessed pair.

    With :math:`m` top variables left (each the parity of a block of inputs), two training points
    differ exactly on two given top variables with probability :math:`\approx 2^{-m}`, so the
    Poisson mean is :math:`\lambda_m = \binom P2 2^{-m}` and the step succeeds with probability
    :math:`1 - (1 - w_m)^{\binom m2}`, :math:`w_m = (1 - e^{-\lambda_m/2})^2` (the exponential form
    of :func:`p_success` is its small-:math:`w` limit and fails for the last steps, where
    :math:`w_m \to 1`). Treating the steps as independent,

    .. math:: P_\text{cascade}(n, P) = \prod_{m=2}^{n}
              \left[1 - \left(1 - \left(1 - e^{-\lambda_m/2}\right)^2\right)^{\binom m2}\right],

    whose first factor (:math:`m = n`) is :func:`p_success` to :math:`O(w^2)`. The later factors
    matter only below :math:`P_c`, where a nucleus often stalls; the independence of the steps is
    an approximation (it still overestimates the simulated success there, e.g. 0.14 against
    0.11 ± 0.02 at n = 14, P = 0.75 P_c).
    """
    where = "p_success_cascade"
    n = check_scalar(n, "n", where, int, 2)
    P = check_array(P, "P", where, 0)
    pairs = np.maximum(P * (P - 1), 0.0) / 2.0
    out = np.ones_like(P, dtype=float)
    for m in range(2, n + 1):
        lam = pairs / 2.0**m
        w = np.expm1(-lam / 2) ** 2
        out = out * -np.expm1(math.comb(m, 2) * np.log1p(-np.minimum(w, 1.0 - 1e-16)))
    return _out(out)


def p_critical(n):
    r""":math:`P_c(n) = 2^{(n+2)/2} / \binom n2^{1/4}` (where the Weibull shape gives 1 - 1/e)."""
    n = check_scalar(n, "n", "p_critical", int, 2)
    return 2.0 ** ((n + 2) / 2) / math.comb(n, 2) ** 0.25


def weibull_shape(x, k=WEIBULL_EXPONENT):
    r""":math:`1 - \exp(-x^k)`, the n-independent shape of P_success in :math:`x = P/P_c`."""
    x = check_array(x, "x", "weibull_shape", 0)
    return _out(-np.expm1(-x**k))


def p_success_weibull(n, P):
    r"""Near-threshold form :math:`1 - \exp[-(P/P_c(n))^4]`."""
    P = check_array(P, "P", "p_success_weibull", 0)
    return weibull_shape(P / p_critical(n))


def mean_accuracy_local(n, P):
    r"""Mean unseen-input accuracy of the local learner, :math:`\tfrac12 + P_\text{success}/2` (bimodal outcomes)."""
    return _out(0.5 + 0.5 * np.asarray(p_success(n, P)))


def coverage(m, P):
    r"""Fraction of the :math:`2^m` top patterns hit by :math:`P` examples, :math:`1 - (1 - 2^{-m})^P`."""
    where = "coverage"
    m = check_array(m, "m", where, 0)
    P = check_array(P, "P", where, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = -np.expm1(P * np.log1p(-(2.0 ** -m)))
    return _out(np.where(P == 0, 0.0, c))


def accuracy_topological(m, P):
    r"""Accuracy with :math:`m` top variables left on a successful run: :math:`\tfrac12 + \mathrm{coverage}(m)/2`."""
    return _out(0.5 + 0.5 * np.asarray(coverage(m, P)))


# --------------------------------------------------------------------------------------------
# finite-size scaling variables
# --------------------------------------------------------------------------------------------
def scaling_variable_local(n, P):
    r"""Extensive variable :math:`a = \log_2 P / n` of the local learner (step at 1/2, width ∝ 1/n)."""
    n = check_scalar(n, "n", "scaling_variable_local", int, 1)
    P = check_array(P, "P", "scaling_variable_local", 0)
    with np.errstate(divide="ignore"):
        return _out(np.log2(P) / n)


def a_critical(n):
    r""":math:`a_c(n) = \log_2 P_c(n) / n = \tfrac{n+2}{2n} - \tfrac{\log_2\binom n2}{4n} \to \tfrac12`."""
    return math.log2(p_critical(n)) / n


def transition_width_local(n, lo=0.1, hi=0.9):
    r"""Width in :math:`a` of the Weibull step between P_success = ``lo`` and ``hi``:
    :math:`\log_2(x_{hi}/x_{lo}) / n` with :math:`x_p = (-\ln(1-p))^{1/4}` (∝ 1/n)."""
    n = check_scalar(n, "n", "transition_width_local", int, 2)
    if not (0 < lo < hi < 1):
        raise invalid_parameter("lo", "transition_width_local", "a float with 0 < lo < hi < 1", (lo, hi))
    x = lambda p: (-math.log1p(-p)) ** (1 / WEIBULL_EXPONENT)  # noqa: E731
    return math.log2(x(hi) / x(lo)) / n


def scaling_variable_gf2(n, P):
    r""":math:`\alpha = P/n` of the GF(2) learner (step at 1, width ∝ 1/n)."""
    n = check_scalar(n, "n", "scaling_variable_gf2", int, 1)
    return _out(check_array(P, "P", "scaling_variable_gf2", 0) / n)


def transition_width_gf2(n, lo=0.1, hi=0.9):
    r"""Width in :math:`\alpha` of the P(full rank) step between ``lo`` and ``hi`` (O(1) in P, so ∝ 1/n)."""
    n = check_scalar(n, "n", "transition_width_gf2", int, 1)
    Ps = np.arange(n, n + 200)
    pr = np.array([p_full_rank(n, int(p)) for p in Ps])
    P_lo = float(np.interp(lo, pr, Ps))
    P_hi = float(np.interp(hi, pr, Ps))
    return (P_hi - P_lo) / n


# --------------------------------------------------------------------------------------------
# GF(2) learner
# --------------------------------------------------------------------------------------------
def _nP(n, P, where):
    n = check_scalar(n, "n", where, int, 1)
    if isinstance(P, (bool, np.bool_)) or not isinstance(P, (int, np.integer)) or P < 0:
        raise invalid_parameter("P", where, "an int in the range [0, inf)", P)
    return n, int(P)


def p_full_rank(n, P):
    r"""Exact :math:`\Pr[\mathrm{rank}_{GF(2)} = n] = \prod_{i=0}^{n-1}(1 - 2^{i-P})` (0 for P < n).

    Examples
    --------
    >>> round(p_full_rank(12, 14), 4)
    0.7701
    """
    n, P = _nP(n, P, "p_full_rank")
    if P < n:
        return 0.0
    return float(math.prod(1.0 - 2.0 ** (i - P) for i in range(n)))


def p_full_rank_limit(j):
    r""":math:`\lim_{n\to\infty}\Pr[\text{full rank} \mid P = n + j] = \prod_{i>j}(1 - 2^{-i})`."""
    if isinstance(j, (bool, np.bool_)) or not isinstance(j, (int, np.integer)) or j < 0:
        raise invalid_parameter("j", "p_full_rank_limit", "an int in the range [0, inf)", j)
    return float(math.prod(1.0 - 2.0 ** (-i) for i in range(j + 1, j + 80)))


def rank_distribution_exact(n, P):
    r"""Exact law of the GF(2) rank of a uniform :math:`P\times n` binary matrix, as Fractions.

    .. math:: \Pr[r] = 2^{-Pn}\prod_{i=0}^{r-1}\frac{(2^P - 2^i)(2^n - 2^i)}{2^r - 2^i},
              \quad r = 0, \dots, \min(n, P).
    """
    n, P = _nP(n, P, "rank_distribution_exact")
    out = []
    for r in range(min(n, P) + 1):
        num, den = 1, 1
        for i in range(r):
            num *= (2**P - 2**i) * (2**n - 2**i)
            den *= 2**r - 2**i
        out.append(Fraction(num, den * 2 ** (P * n)))
    return out


def rank_distribution(n, P):
    """:func:`rank_distribution_exact` as a float array indexed by the rank."""
    return np.array([float(f) for f in rank_distribution_exact(n, P)])


def gf2_success_probability(n, P):
    r"""Probability that a uniformly random consistent parity is the target, :math:`\mathbb E\,2^{-(n-r)}`."""
    n, P = _nP(n, P, "gf2_success_probability")
    pr = rank_distribution_exact(n, P)
    return float(sum(p * Fraction(1, 2 ** (n - r)) for r, p in enumerate(pr)))


def gf2_mean_error(n, P):
    r"""Mean generalization error (uniform inputs) :math:`\tfrac12(1 - \mathbb E\,2^{-(n-r)})` of the GF(2) learner."""
    return 0.5 * (1.0 - gf2_success_probability(n, P))


def gf2_wrong_parity_accuracy(n, P=0, unseen_only=False):
    r"""Accuracy of a wrong consistent parity: exactly 1/2 on uniform inputs (exact bimodality);
    :math:`(2^{n-1} - P)/(2^n - P)` on the unseen inputs only (all P training points agree)."""
    n, P = _nP(n, P, "gf2_wrong_parity_accuracy")
    if not unseen_only:
        return 0.5
    if P >= 2**n:
        raise invalid_parameter("P", "gf2_wrong_parity_accuracy", f"an int below 2**n = {2**n}", P)
    return (2 ** (n - 1) - P) / (2**n - P)


def gf2_entropy(alpha):
    r"""Entropy of the consistent hypotheses in bits per input, :math:`\max(1 - \alpha, 0)` (large n)."""
    a = check_array(alpha, "alpha", "gf2_entropy", 0)
    return _out(np.maximum(1.0 - a, 0.0))


# --------------------------------------------------------------------------------------------
# order parameters and the hysteresis protocol
# --------------------------------------------------------------------------------------------
def description_length_structured(n):
    """Description length of a completed full-parity network: ``4(n-1) + 2``."""
    n = check_scalar(n, "n", "description_length_structured", int, 1)
    return 4 * (n - 1) + 2


def description_length_memorized(P):
    """Description length with no operation applied: the ``P`` stored (distinct) examples."""
    if isinstance(P, (bool, np.bool_)) or not isinstance(P, (int, np.integer)) or P < 0:
        raise invalid_parameter("P", "description_length_memorized", "an int in the range [0, inf)", P)
    return int(P)


def binder_two_state(p):
    r"""Binder-like ratio :math:`U_4 = 1 - \langle M^4\rangle/(3\langle M^2\rangle^2) = 1 - 1/(3p)`
    for :math:`M \in \{0, 1\}` with :math:`\Pr[M=1] = p` (negative for p < 1/3)."""
    p = np.asarray(p, dtype=float)
    if np.any((p <= 0) | (p > 1)):
        raise invalid_parameter("p", "binder_two_state", "a float in the range (0, 1]", p)
    return _out(1.0 - 1.0 / (3.0 * p))


def p_frozen_success(P_down):
    r"""Down-sweep of the hysteresis protocol: a frozen full-parity structure refitted on
    :math:`P'` examples is perfect iff both parity values are seen, :math:`1 - 2^{1-P'}`."""
    P = check_array(P_down, "P_down", "p_frozen_success", 0)
    return _out(np.where(P >= 1, 1.0 - 2.0 ** (1.0 - P), 0.0))


def p_fresh_success(n, P_down):
    """Fresh fit at :math:`P'`: the nucleation estimate :func:`p_success`."""
    return p_success(n, P_down)
