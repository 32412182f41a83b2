r"""Independent high-precision references for the "Trustworthy numbers" tests.

Nothing here imports phasekit: every equation is derived below from the free entropy as written
in the issue, integrated with ``scipy.integrate.quad`` (tight tolerances, break points at every
sharp feature, sharp integrands rewritten in their natural variable) and solved with ``brentq`` /
``scipy.optimize.root`` on scalar or two-component equations. Results are cached.

Models
------
* **RS Hopfield model** (Amit, Gutfreund & Sompolinsky 1987), one condensed pattern, at inverse
  temperature beta and load alpha. Free entropy per spin (minus the AGS free energy, up to the
  constant alpha/2)

  .. math::
      f = -\frac{m^2}2 - \frac{\alpha}{2\beta}\Big[\ln D - \frac{\beta q}{D}\Big]
          - \frac{\alpha\beta r(1-q)}2 + \frac1\beta\,\mathbb E_z\ln 2\cosh\beta(m+\sqrt{\alpha r}z),
      \qquad D = 1-\beta(1-q).

  Stationarity (checked by hand): d f/dm = -m + E tanh(.) so m = E tanh(beta(m + sqrt(alpha r) z));
  d f/dr = -alpha beta (1-q)/2 + sqrt(alpha)/(2 sqrt r) E[z tanh(.)] and, by Gaussian integration by
  parts, E[z tanh(beta(m+sigma z))] = beta sigma E sech^2(.), so q = E tanh^2(.); d f/dq: with
  dD/dq = beta, d/dq[ln D - beta q/D] = beta/D - beta/D + beta^2 q/D^2, so
  d f/dq = -alpha beta q/(2 D^2) + alpha beta r/2 and r = q/D^2.
  Numerically we use C = beta(1-q) in (0, 1) (so q = 1 - C/beta keeps all its digits near 1) and
  q's equation in the form C/beta = E sech^2(.) (no cancellation).
  Branches: spin glass (m = 0) and retrieval (m > 0). The physical state maximises f, so the
  retrieval state becomes the global one where f_ret - f_sg changes sign.

* **Bayes-optimal spherical teacher-student perceptron with label noise** (flip probability
  eps). Output channel P(y|h) = (1-eps) Theta(y h) + eps Theta(-y h); with
  omega = sqrt(q) xi, V = 1-q, Z_out(y) = int Dx P(y|omega + sqrt(V) x) = eps + (1-2 eps) H(-y omega/sqrt V).
  The replica-symmetric free entropy on the Nishimori line (spherical prior, q_hat eliminated by
  its own stationarity, q/(1-q) = q_hat) is

  .. math:: \phi(q) = \tfrac12\ln(1-q) + \tfrac q2 + \alpha\,\mathbb E_\xi\sum_{y=\pm1} Z_{out}(y)\ln Z_{out}(y)
                    = \tfrac12\ln(1-q) + \tfrac q2 + 2\alpha\,\mathbb E_\xi Z(\xi)\ln Z(\xi),

  Z(xi) = eps + (1-2eps) H(-theta xi), theta = sqrt(q/(1-q)); the y = -1 term equals the y = +1
  term after xi -> -xi. Stationarity: q/(1-q) = q_hat = alpha E_xi sum_y (d_omega Z_out)^2 / Z_out
  = 2 alpha (1-2eps)^2/(1-q) E_xi G(theta xi)^2 / Z(xi), i.e. the scalar equation

  .. math:: q = 2\alpha(1-2\epsilon)^2 I(q),\quad I(q) = \mathbb E_\xi \frac{G(\theta\xi)^2}{Z(\xi)}
            = \frac1\theta\int dt\, G(t/\theta)\frac{G(t)^2}{\epsilon+(1-2\epsilon)H(-t)},

  integrated in t = theta xi (smooth for every q < 1). eps = 0 is the noiseless (Gibbs = Bayes at
  zero temperature) spherical teacher of Gyorgyi-Tishby / Opper-Haussler: q = 2 alpha I_0(q), the
  known small-alpha slope q ~ 2 alpha / pi (I_0(0) = 1/pi), and for q -> 1 I(q) ~ sqrt(1-q) c1 /
  sqrt(2 pi) with c1 = int dt G(t)^2 / Z(t), so 1 - q ~ pi / (2 alpha^2 (1-2eps)^4 c1^2).

* **Binary (Ising) perceptron storage, RS** (Gardner-Derrida 1988): q = E tanh^2(sqrt(qhat) z),
  qhat = alpha/(1-q) E r(u)^2, u = (kappa - sqrt q z)/sqrt(1-q), r = G/H; entropy
  s = -qhat(1-q)/2 + E ln 2cosh(sqrt(qhat) z) + alpha E ln H(u); AT function
  alpha/(1-q)^2 E[(r(u)(u - r(u)))^2] E[sech^4(sqrt(qhat) z)].
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import scipy.optimize as so
from scipy import integrate, special

SQ2PI = math.sqrt(2 * math.pi)
_INF = math.inf


def _gauss(x):
    return math.exp(-0.5 * x * x) / SQ2PI


def _quad(f, edges):
    """sum of quad over consecutive edges (may include +-inf)."""
    tot = 0.0
    with warnings.catch_warnings():
        # roundoff warnings near the 1e-15 absolute floor are harmless here
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        for lo, hi in zip(edges[:-1], edges[1:]):
            if hi > lo:
                tot += integrate.quad(f, lo, hi, epsabs=1e-15, epsrel=1e-13, limit=1000)[0]
    return tot


def Dz_sharp(f, centre=0.0, width=1.0, extra=()):
    r""":math:`\int Dz\, f(z)` with break points around a feature of width ``width`` at ``centre``."""
    w = max(width, 1e-300)
    pts = {centre + k * w for k in (-40, -10, -3, -1, 0, 1, 3, 10, 40)}
    pts |= {0.0, -1.0, 1.0, -6.0, 6.0, *extra}
    pts = sorted(p for p in pts if -40 < p < 40)
    return _quad(lambda x: f(x) * _gauss(x), [-_INF, *pts, _INF])


def _sech2(t):
    a = math.exp(-2 * abs(t))
    return 4 * a / (1 + a) ** 2


def _tanh(t):
    return math.tanh(t)


def _log2cosh(t):
    return abs(t) + math.log1p(math.exp(-2 * abs(t)))


def _logH(x):
    return float(special.log_ndtr(-x))


def _H(x):
    return float(special.ndtr(-x))


def _mills(x):
    return math.exp(-0.5 * x * x - 0.5 * math.log(2 * math.pi) - _logH(x))


# =============================================================================== Hopfield (AGS)
def _hop_sigma(alpha, beta, C):
    """sigma = sqrt(alpha r), r = q/D^2, q = 1 - C/beta, D = 1 - C."""
    q = 1 - C / beta
    return math.sqrt(alpha * q) / (1 - C)


def _hop_E(func, beta, m, sigma):
    """E_z func(beta (m + sigma z)), sharp feature at z = -m/sigma of width 1/(beta sigma)."""
    if sigma == 0:
        return func(beta * m)
    return Dz_sharp(lambda z: func(beta * (m + sigma * z)), centre=-m / sigma, width=1 / (beta * sigma))


def hopfield_free_entropy(alpha, beta, m, q, r):
    """The free entropy f(m, q, r) of the module docstring (no stationarity assumed)."""
    D = 1 - beta * (1 - q)
    sigma = math.sqrt(alpha * r)
    ent = _hop_E(_log2cosh, beta, m, sigma) / beta
    return (-m * m / 2 - alpha / (2 * beta) * (math.log(D) - beta * q / D)
            - alpha * beta * r * (1 - q) / 2 + ent)


def hopfield_gradient(alpha, beta, m, q, r):
    """(df/dm, df/dq, df/dr) by the closed forms of the module docstring (independent quad)."""
    D = 1 - beta * (1 - q)
    sigma = math.sqrt(alpha * r)
    tm = _hop_E(_tanh, beta, m, sigma)
    s2 = _hop_E(_sech2, beta, m, sigma)
    return np.array([-m + tm,
                     -alpha * beta * q / (2 * D * D) + alpha * beta * r / 2,
                     -alpha * beta * (1 - q) / 2 + alpha * beta * s2 / 2])


def _hop_residual(alpha, beta, m, C):
    """Residuals of m = E tanh and C/beta = E sech^2 with r = q/D^2 eliminated."""
    sigma = _hop_sigma(alpha, beta, C)
    return (m - _hop_E(_tanh, beta, m, sigma), C / beta - _hop_E(_sech2, beta, m, sigma))


@functools.lru_cache(maxsize=None)
def hopfield_spin_glass(alpha, beta):
    """Spin-glass solution m = 0: returns dict(m, q, r, C, f). Scalar brentq on C in (0, 1)."""
    g = lambda C: _hop_residual(alpha, beta, 0.0, C)[1]  # noqa: E731
    Cs = np.linspace(1e-6, 1 - 1e-9, 200)
    vals = [g(c) for c in Cs]
    roots = [so.brentq(g, Cs[i], Cs[i + 1], xtol=1e-16, rtol=1e-15)
             for i in range(len(Cs) - 1) if np.sign(vals[i]) != np.sign(vals[i + 1])]
    if len(roots) != 1:
        raise RuntimeError(f"spin-glass equation has {len(roots)} roots at alpha={alpha}, beta={beta}")
    return _hop_pack(alpha, beta, 0.0, roots[0])


def _hop_pack(alpha, beta, m, C):
    q = 1 - C / beta
    r = q / (1 - C) ** 2
    return {"m": m, "q": q, "r": r, "C": C, "f": hopfield_free_entropy(alpha, beta, m, q, r)}


@functools.lru_cache(maxsize=None)
def hopfield_retrieval(alpha, beta, m0=1.0, C0=1e-3):
    """Retrieval solution (m > 0) by hybr on (m, C) (C entering as |C|), from m0 = 1, C0 = 1e-3
    (the stable branch at low temperature; a start with larger C can land on the unstable
    retrieval branch). Absolute residuals: the error of C/beta is the error of q."""
    def F(y):
        return _hop_residual(alpha, beta, y[0], min(abs(y[1]), 1 - 1e-12))
    sol = so.root(F, [m0, C0], method="hybr", options={"xtol": 1e-15})
    m, C = float(sol.x[0]), abs(float(sol.x[1]))
    res = max(abs(v) for v in F(sol.x))
    if res > 1e-13 or not (0.1 < m <= 1 and 0 < C < 1):
        raise RuntimeError(f"no retrieval solution found at alpha={alpha}, beta={beta}: {sol.message}")
    return _hop_pack(alpha, beta, m, C)


@functools.lru_cache(maxsize=None)
def hopfield_crossing(beta=30.0, lo=0.03, hi=0.08):
    """alpha where f_retrieval = f_spin_glass at inverse temperature beta (brentq, xtol 1e-13)."""
    d = lambda a: hopfield_retrieval(a, beta)["f"] - hopfield_spin_glass(a, beta)["f"]  # noqa: E731
    return so.brentq(d, lo, hi, xtol=1e-13, rtol=1e-14)


# =============================================================================== noisy teacher
def _noisy_I(e, eps):
    r"""I at q = 1 - e: (1/theta) int dt G(t/theta) G(t)^2 / (eps + (1-2eps) H(-t)),
    theta = sqrt(q/(1-q)) (argument e = 1 - q, so that q -> 1 keeps its digits)."""
    if e == 1:
        return 1.0 / (2 * math.pi) / (eps + (1 - 2 * eps) * 0.5)
    th = math.sqrt((1 - e) / e)

    def f(t):
        # G(t)^2 / Z(t) computed in logs (Z >= eps > 0 or, for eps = 0, Z = H(-t) -> 0 as t -> -inf)
        if eps > 0:
            lz = math.log(eps + (1 - 2 * eps) * _H(-t))
        else:
            lz = _logH(-t)
        return math.exp(-t * t - math.log(2 * math.pi) - lz) * _gauss(t / th) / th
    if th < 1:  # the t-integrand is a narrow Gaussian of width theta: integrate in xi = t/theta
        return _quad(lambda x: f(th * x) * th, [-_INF, -8.0, -3.0, -1.0, 0.0, 1.0, 3.0, 8.0, _INF])
    return _quad(f, [-_INF, -8.0, -3.0, -1.0, 0.0, 1.0, 3.0, 8.0, _INF])


def noisy_teacher_equation(q, alpha, eps, e=None):
    """Residual q - 2 alpha (1-2eps)^2 I(q) of the stationarity condition (zero at the solution);
    pass ``e = 1 - q`` for q close to 1."""
    e = 1 - q if e is None else e
    return (1 - e) - 2 * alpha * (1 - 2 * eps) ** 2 * _noisy_I(e, eps)


@functools.lru_cache(maxsize=None)
def noisy_teacher_gap(alpha, eps=0.1):
    r"""1 - q of the Bayes-optimal noisy spherical teacher-student perceptron (eps = 0: the
    noiseless Gibbs teacher), solved in log(1 - q) so that 1 - q keeps full relative accuracy;
    the equation has a single root (checked on a scan)."""
    if alpha == 0:
        return 1.0  # q = 0: no data
    def g(le):
        return noisy_teacher_equation(None, alpha, eps, e=math.exp(le))
    grid = np.linspace(math.log(1e-15), math.log(1 - 1e-12), 36)
    vals = [g(v) for v in grid]
    if vals[-1] > 0:  # tiny load: q < 1e-12, solve in q itself
        gq = lambda q: noisy_teacher_equation(q, alpha, eps)  # noqa: E731
        return 1 - so.brentq(gq, 0.0, 1e-12, xtol=1e-300, rtol=1e-15)
    idx = [i for i in range(len(grid) - 1) if np.sign(vals[i]) != np.sign(vals[i + 1])]
    if len(idx) != 1:
        raise RuntimeError(f"noisy teacher: {len(idx)} roots at alpha={alpha}, eps={eps}")
    i = idx[0]
    return math.exp(so.brentq(g, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15))


def noisy_teacher_q(alpha, eps=0.1):
    """Overlap q = 1 - :func:`noisy_teacher_gap`."""
    return 1 - noisy_teacher_gap(alpha, eps)


def noisy_teacher_free_entropy(q, alpha, eps=0.1):
    """phi(q) = ln(1-q)/2 + q/2 + 2 alpha E_xi Z ln Z (in t = theta xi)."""
    th = math.sqrt(q / (1 - q))

    def f(t):
        zz = eps + (1 - 2 * eps) * _H(-t)
        return zz * math.log(zz) * _gauss(t / th) / th if zz > 0 else 0.0
    if th < 1:
        return (math.log1p(-q) / 2 + q / 2
                + 2 * alpha * _quad(lambda x: f(th * x) * th, [-_INF, -8.0, -3.0, -1.0, 0.0, 1.0, 3.0, 8.0, _INF]))
    return math.log1p(-q) / 2 + q / 2 + 2 * alpha * _quad(f, [-_INF, -8.0, -3.0, -1.0, 0.0, 1.0, 3.0, 8.0, _INF])


def noisy_teacher_asymptotic_gap(alpha, eps=0.1):
    r"""Large-alpha asymptotics 1 - q ~ pi / (2 alpha^2 (1-2eps)^4 c1^2), c1 = int dt G(t)^2/Z(t)
    (from q = 2 alpha (1-2eps)^2 I(q) with I(q) ~ sqrt(1-q) c1/sqrt(2 pi) as q -> 1)."""
    def f(t):
        lz = math.log(eps + (1 - 2 * eps) * _H(-t)) if eps > 0 else _logH(-t)
        return math.exp(-t * t - math.log(2 * math.pi) - lz)
    c1 = _quad(f, [-_INF, -8.0, -3.0, 0.0, 3.0, 8.0, _INF])
    return math.pi / (2 * alpha * alpha * (1 - 2 * eps) ** 4 * c1 * c1)


def spherical_teacher_q(alpha):
    """Noiseless spherical teacher (``perceptron.spherical_teacher``): q = R at load alpha."""
    return noisy_teacher_q(alpha, 0.0)


# =============================================================================== binary storage
def _bin_qhat(q, alpha, kappa):
    sq, s1 = math.sqrt(q), math.sqrt(1 - q)
    zk = kappa / sq if sq > 0 else 0.0
    return alpha / (1 - q) * Dz_sharp(lambda z: _mills((kappa - sq * z) / s1) ** 2,
                                      centre=zk, width=s1 / max(sq, 1e-300))


def _bin_q_of_qhat(qh):
    s = math.sqrt(qh)
    return 1 - Dz_sharp(lambda z: _sech2(s * z), centre=0.0, width=1 / max(s, 1e-300))


@functools.lru_cache(maxsize=None)
def binary_storage_rs(alpha, kappa=0.0):
    """RS solution of the binary perceptron: dict(q, qhat, entropy, at_function). The root of
    q - q(qhat(q)) nearest the small-q side (bracketed on a scan of q)."""
    g = lambda q: q - _bin_q_of_qhat(_bin_qhat(q, alpha, kappa))  # noqa: E731
    grid = np.concatenate([np.linspace(1e-6, 0.9, 91), 1 - np.logspace(-1, -8, 60)[1:]])
    vals = [g(v) for v in grid]
    idx = [i for i in range(len(grid) - 1) if np.sign(vals[i]) != np.sign(vals[i + 1])]
    if not idx:
        raise RuntimeError(f"binary storage: no RS solution at alpha={alpha}, kappa={kappa}")
    i = idx[0]
    q = so.brentq(g, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15)
    qh = _bin_qhat(q, alpha, kappa)
    sq, s1, s = math.sqrt(q), math.sqrt(1 - q), math.sqrt(qh)
    zk, w = kappa / sq, s1 / sq
    ent = (-qh * (1 - q) / 2 + Dz_sharp(lambda z: _log2cosh(s * z), width=1 / s)
           + alpha * Dz_sharp(lambda z: _logH((kappa - sq * z) / s1), centre=zk, width=w))

    def d2(z):
        u = (kappa - sq * z) / s1
        r = _mills(u)
        return (r * (u - r)) ** 2
    at = (alpha / (1 - q) ** 2 * Dz_sharp(d2, centre=zk, width=w)
          * Dz_sharp(lambda z: _sech2(s * z) ** 2, width=1 / s))
    return {"q": q, "qhat": qh, "entropy": ent, "at_function": at}


def gardner_capacity(kappa):
    """alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2."""
    return 1.0 / _quad(lambda t: (t + kappa) ** 2 * _gauss(t), [-kappa, -kappa + 3, -kappa + 10, _INF])


def binary_q_to_one(kappa):
    """RS q -> 1 line of the binary perceptron, 2 alpha_c(kappa)/pi."""
    return 2 * gardner_capacity(kappa) / math.pi


@functools.lru_cache(maxsize=None)
def binary_at_line(kappa=0.0, lo=0.9, hi=1.2):
    """alpha where the AT function of the RS solution reaches 1 (1.01465 at kappa = 0)."""
    return so.brentq(lambda a: binary_storage_rs(a, kappa)["at_function"] - 1, lo, hi, xtol=1e-10)


# =============================================================================== generic evaluator
# An evaluator of sympy expressions with Gaussian-expectation nodes that shares no numerics with
# phasekit: each expectation node (recognised by duck typing: a sympy Expr whose class is named
# "GaussE", with ``integrand``, ``variables``, ``scale``) is integrated by adaptive
# ``scipy.integrate.quad`` with an error estimate; the special functions are mapped by name
# (H, logH, mills, log2cosh) to scipy. Used by the property campaign on the models' sympy
# stationarity conditions (d phi/dx, derived by sympy from the free entropy).
_SPECIAL = {
    "H": lambda x: special.ndtr(-x),
    "logH": lambda x: special.log_ndtr(-x),
    "mills": lambda x: math.sqrt(2 / math.pi) / special.erfcx(x / math.sqrt(2)),
    "log2cosh": lambda x: np.logaddexp(x, -x),
}


def _gauss_nodes(expr):
    found = []

    def walk(e):
        if type(e).__name__ == "GaussE":
            if e not in found:
                found.append(e)
            return
        for a in e.args:
            walk(a)
    walk(expr)
    return found


class QuadExpr:
    """``QuadExpr(expr, symbols)(values) -> (value, error_bound)`` for a sympy expression with
    one-dimensional Gaussian expectations (no nesting). ``values`` maps symbol names to floats.
    The error bound propagates quad's absolute error estimates through the outer expression
    to first order (finite differences)."""

    def __init__(self, expr, symbols):
        import sympy as sp
        self.symbols = tuple(symbols)
        nodes = _gauss_nodes(expr)
        self.dummies = [sp.Dummy(f"E{i}") for i in range(len(nodes))]
        outer = expr.xreplace(dict(zip(nodes, self.dummies))) if nodes else expr
        mods = [_SPECIAL, "numpy", "scipy"]
        self.outer = sp.lambdify(list(self.symbols) + self.dummies, outer, modules=mods)
        self.inner = []
        for nd in nodes:
            vs = nd.variables
            if len(vs) != 1 or _gauss_nodes(nd.integrand):
                raise NotImplementedError("QuadExpr: only non-nested one-dimensional expectations")
            f = sp.lambdify(list(self.symbols) + [vs[0]], nd.integrand, modules=mods)
            sc = None if nd.scale == 1 else sp.lambdify(list(self.symbols), nd.scale, modules=mods)
            self.inner.append((f, sc))

    def __call__(self, values):
        args = [float(values[s.name]) for s in self.symbols]
        evs, errs = [], []
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for f, sc in self.inner:
                s = 1.0 if sc is None else max(1.0, float(sc(*args)))

                def g(z, f=f):
                    w = math.exp(-0.5 * z * z) / SQ2PI
                    if w == 0.0:
                        return 0.0
                    v = float(f(*args, z))
                    return v * w if math.isfinite(v) else (0.0 if w < 1e-200 else math.nan)
                pts = sorted({0.0, *(k / s for k in (-30, -8, -3, -1, -0.3, 0.3, 1, 3, 8, 30)),
                              -8.0, -3.0, -1.0, 1.0, 3.0, 8.0})
                edges = [-_INF, *[p for p in pts if -40 < p < 40], _INF]
                tot, err = 0.0, 0.0
                for lo, hi in zip(edges[:-1], edges[1:]):
                    val, e = integrate.quad(g, lo, hi, epsabs=1e-15, epsrel=1e-13, limit=400)
                    tot += val
                    err += e
                evs.append(tot)
                errs.append(err + 1e-15)
            val = float(self.outer(*args, *evs))
            bound = 0.0
            for i, e in enumerate(errs):
                h = max(1e-7 * abs(evs[i]), 1e-9)
                ev2 = list(evs)
                ev2[i] += h
                d = (float(self.outer(*args, *ev2)) - val) / h
                bound += abs(d) * e
        return val, bound
