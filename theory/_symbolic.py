"""Symbolic building blocks: Gaussian expectations and numerically safe special functions.

Everything the theory modules write is a sympy expression built from these objects, so that
``sympy.diff`` gives stationarity conditions, ``subs`` gives reductions and limits, and
:func:`phasekit.theory.compile_expr` turns the same expression into vectorised Gauss–Hermite
quadrature (float64) or into an mpmath high-precision reference.

Conventions
-----------
* ``Dz = exp(-z**2/2) / sqrt(2*pi) dz`` (standard Gaussian measure).
* ``H(x) = int_x^oo Dz = erfc(x/sqrt(2))/2`` (the Gaussian tail, *not* the Heaviside step).
* ``logH(x) = ln H(x)`` (evaluated with ``scipy.special.log_ndtr(-x)``, safe for x >> 1).
* ``mills(x) = G(x)/H(x)`` (inverse Mills ratio), ``d/dx logH = -mills``.
* ``log2cosh(x) = ln(2 cosh x)`` (evaluated with ``logaddexp``).
"""
from __future__ import annotations

import sympy as sp

__all__ = [
    "GaussE", "E", "H", "logH", "mills", "G", "log2cosh",
    "gaussian_ibp", "expectations", "expand_expectations",
]

_SQRT2PI = sp.sqrt(2 * sp.pi)


def G(x):
    """Standard Gaussian density ``exp(-x**2/2)/sqrt(2*pi)`` as a sympy expression."""
    return sp.exp(-x**2 / 2) / _SQRT2PI


class H(sp.Function):
    r"""Gaussian tail :math:`H(x)=\int_x^\infty Dz = \tfrac12\operatorname{erfc}(x/\sqrt2)`."""

    nargs = 1

    def fdiff(self, argindex=1):
        return -G(self.args[0])

    @classmethod
    def eval(cls, x):
        if x is sp.S.Zero:
            return sp.S.Half
        if x is sp.S.Infinity:
            return sp.S.Zero
        if x is sp.S.NegativeInfinity:
            return sp.S.One

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.erfc(x / sp.sqrt(2)) / 2

    def _eval_is_positive(self):
        return True if self.args[0].is_finite else None


class logH(sp.Function):
    r""":math:`\ln H(x)`, differentiable in sympy, evaluated without underflow."""

    nargs = 1

    def fdiff(self, argindex=1):
        return -mills(self.args[0])

    @classmethod
    def eval(cls, x):
        if x is sp.S.Zero:
            return -sp.log(2)

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.log(sp.erfc(x / sp.sqrt(2)) / 2)

    def _eval_rewrite_as_H(self, x, **kwargs):
        return sp.log(H(x))


class mills(sp.Function):
    r"""Inverse Mills ratio :math:`r(x) = G(x)/H(x)`; :math:`r'(x) = r(x)(r(x)-x)`."""

    nargs = 1

    def fdiff(self, argindex=1):
        r = mills(self.args[0])
        return r * (r - self.args[0])

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return G(x) / (sp.erfc(x / sp.sqrt(2)) / 2)

    def _eval_rewrite_as_H(self, x, **kwargs):
        return G(x) / H(x)


class log2cosh(sp.Function):
    r""":math:`\ln(2\cosh x)`, evaluated as ``logaddexp(x, -x)``."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.tanh(self.args[0])

    def _eval_rewrite_as_cosh(self, x, **kwargs):
        return sp.log(2 * sp.cosh(x))


class GaussE(sp.Expr):
    r"""Expectation over independent standard Gaussian variables.

    ``GaussE(f, (z1, z2, ...))`` stands for
    :math:`\mathbb E_{z}[f(z)] = \int \prod_i Dz_i\, f(z)`. The integration variables are bound:
    they are not free symbols of the result. ``sympy.diff`` differentiates under the integral
    sign, ``subs`` substitutes parameters, :func:`gaussian_ibp` applies Gaussian integration by
    parts.

    Parameters
    ----------
    f : sympy expression
        The integrand.
    variables : Symbol or tuple of Symbols
        The standard Gaussian variables integrated over.
    scale : sympy expression, optional
        A *numerical hint only*: the integrand varies on the scale ``1/scale`` in every variable
        (e.g. ``H(-theta*xi)`` with ``theta >> 1``). When the evaluated scale exceeds 1 the
        quadrature uses the change of variables :math:`t = s z`,
        :math:`\mathbb E_z f(z) = \mathbb E_t[G(t/s)/(s G(t))\, f(t/s)]`, valid when the
        integrand decays at least like a Gaussian outside the sharp region (true for the
        integrands of the teacher–student channels; see the replica spec §1). The hint does not
        change the mathematical value and is ignored by ``diff``.
    """

    is_commutative = True

    def __new__(cls, f, variables, scale=None):
        if isinstance(variables, sp.Symbol):
            variables = (variables,)
        variables = sp.Tuple(*variables)
        f = sp.sympify(f)
        scale = sp.S.One if scale is None else sp.sympify(scale)
        if not any(v in f.free_symbols for v in variables):
            return f  # E[c] = c
        return sp.Expr.__new__(cls, f, variables, scale)

    @property
    def integrand(self):
        return self.args[0]

    @property
    def variables(self):
        return tuple(self.args[1])

    @property
    def scale(self):
        return self.args[2]

    @property
    def free_symbols(self):
        fs = self.integrand.free_symbols - set(self.variables)
        return fs | (self.scale.free_symbols if self.scale is not sp.S.One else set())

    def _eval_derivative(self, s):
        if s in self.variables:
            return sp.S.Zero
        return GaussE(sp.diff(self.integrand, s), self.variables, self.scale)

    def _eval_subs(self, old, new):
        if old in self.variables:
            return self
        return None

    def doit(self, **hints):
        # Stays unevaluated: solve/simplify call doit, and a Gaussian expectation is evaluated
        # numerically (compile_expr) or in closed form only on request (integrate()).
        f = self.integrand.doit(**hints) if hints.get("deep", True) else self.integrand
        return GaussE(f, self.variables, self.scale)

    def integrate(self):
        """Sympy closed-form integration (slow; for derivations and tests only)."""
        f = self.integrand
        for v in self.variables:
            f = sp.integrate(f * G(v), (v, -sp.oo, sp.oo))
        return f

    def _latex(self, printer):
        vs = ",".join(printer._print(v) for v in self.variables)
        return r"\mathbb{E}_{%s}\left[%s\right]" % (vs, printer._print(self.integrand))

    def _sympystr(self, printer):
        vs = ", ".join(printer._print(v) for v in self.variables)
        return "E[%s; %s]" % (printer._print(self.integrand), vs)


def E(f, *variables, scale=None):
    """Shorthand constructor: ``E(f, z)`` or ``E(f, z1, z2)`` for :class:`GaussE`."""
    if len(variables) == 1 and isinstance(variables[0], (tuple, list, sp.Tuple)):
        variables = tuple(variables[0])
    return GaussE(f, variables, scale=scale)


def expectations(expr):
    """All :class:`GaussE` nodes of ``expr`` (outermost first, no duplicates)."""
    out = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, GaussE) and node not in out:
            out.append(node)
    return out


def _split_power(term, z):
    k, rest = 0, []
    for factor in sp.Mul.make_args(term):
        base, ex = factor.as_base_exp()
        if base == z and ex.is_Integer and ex > 0:
            k += int(ex)
        else:
            rest.append(factor)
    return k, sp.Mul(*rest)


def _expand_terms(e):
    return sp.Add.make_args(sp.expand(e, deep=False, mul=True, multinomial=False, power_exp=False,
                                      power_base=False, log=False))


def _ibp_term(term, z, depth=0):
    """E_z[term] -> E_z[term'] with the explicit polynomial factors of z removed by parts.

    ``E[z^k g] = (k-1) E[z^(k-2) g] + E[z^(k-1) g'(z)]``. Terms where differentiating ``g``
    re-creates powers of z (e.g. g = exp(-c z**2)) are left unchanged after a few levels, so the
    rewrite always terminates and is always an identity.
    """
    k, g = _split_power(term, z)
    if k == 0:
        return term
    if depth >= 3:
        return None
    out = sp.diff(g, z) * z ** (k - 1)
    if k >= 2:
        out += (k - 1) * z ** (k - 2) * g
    parts = [_ibp_term(t, z, depth + 1) for t in _expand_terms(out)]
    if any(p is None for p in parts):
        return term if depth == 0 else None
    return sp.Add(*parts)


def gaussian_ibp(expr):
    r"""Apply Gaussian integration by parts inside every expectation.

    :math:`\mathbb E_z[z\,f(z)] = \mathbb E_z[f'(z)]`, repeated until no explicit polynomial factor
    of an integration variable remains in any additive term of an integrand.
    """
    def rule(node):
        f = sp.expand(node.integrand, deep=False, mul=True, multinomial=True, power_exp=False,
                      power_base=False, log=False)
        for z in node.variables:
            f = sp.Add(*[_ibp_term(t, z) for t in sp.Add.make_args(f)])  # never None at depth 0
        return GaussE(f, node.variables, node.scale)

    return expr.replace(lambda e: isinstance(e, GaussE), rule)


def expand_expectations(expr):
    """Split expectations over sums and pull factors free of the integration variables out."""
    def rule(node):
        vs = set(node.variables)
        out = sp.S.Zero
        for term in sp.Add.make_args(sp.expand(node.integrand, deep=False, mul=True,
                                               power_exp=False, power_base=False, log=False)):
            c, dep = term.as_independent(*vs, as_Add=False)
            out += c * GaussE(dep, node.variables, node.scale)
        return out

    return expr.replace(lambda e: isinstance(e, GaussE), rule)
