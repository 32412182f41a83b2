"""Human-readable derivations: free entropy, stationarity conditions, fixed-point form, limits."""
from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

__all__ = ["derivation", "check_derivation", "parse_equation", "EquationCheck"]


def derivation(model, *, latex=False) -> str:
    """The model's free entropy, its stationarity conditions (by ``sympy.diff`` and Gaussian
    integration by parts), the fixed-point form and the closed-form transitions, as text or LaTeX."""
    from .solvers._fixed_point import as_model
    m = as_model(model)
    fmt = sp.latex if latex else sp.sstr
    lines = [f"# {m.name}: {m.description}", ""]
    lines.append("free entropy phi =" if not latex else r"\phi =")
    lines.append("  " + fmt(m.phi))
    lines.append("")
    lines.append("stationarity (d phi / d x = 0):")
    for x, g in zip(m.order_symbols, m.stationarity):
        lines.append(f"  d phi/d {x} = " + fmt(g))
    fp = m.fixed_point
    if fp:
        lines.append("")
        lines.append("fixed-point form:")
        for x, f in fp.items():
            lines.append(f"  {x} = " + fmt(f))
    elif m.conjugates:   # pairs declared, but an unpaired condition has no closed-form update
        from .theory._model import _solve_linear
        paired = {n for pair in m.conjugates for n in pair}
        stuck = [p.name for p, g in zip(m.order, m.stationarity)
                 if p.name not in paired and _solve_linear(g, p.symbol, general=False) is None]
        lines.append("")
        lines.append(f"fixed-point form: none (d phi/d y = 0 is not linear in y for the unpaired "
                     f"{', '.join(stuck)}); the solvers use Newton's method on grad phi = 0")
    obs = m.observables()
    if obs:
        lines.append("")
        lines.append("observables:")
        for k, v in obs.items():
            lines.append(f"  {k} = " + fmt(v))
    cf = [t for t in m.transitions if t.kind == "closed_form"]
    other = [t for t in m.transitions if t.kind != "closed_form"]
    if cf or other:
        lines.append("")
        lines.append("transitions:")
        for t in cf:
            lines.append(f"  {t.name}: {t.along} = " + fmt(t.expr) + f"   ({t.doc})")
        for t in other:
            lines.append(f"  {t.name}: {t.kind} criterion along {t.along}" + (f" on {t.observable}" if t.observable else "")
                         + f"   ({t.doc})")
    lines.append("")
    lines.append("notation: E[f; z] = Gaussian expectation over z ~ N(0,1); H(x) = erfc(x/sqrt 2)/2; "
                 "logH = ln H; mills = G/H; log2cosh(x) = ln(2 cosh x)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- checking a hand derivation

@dataclasses.dataclass(frozen=True)
class EquationCheck:
    """Verdict on one user-supplied equation.

    ``status`` is ``"equivalent"`` or ``"different"``; ``how`` says whether sympy decided it
    (``"symbolic"``) or random parameter points did (``"numeric"``, with ``max_rel_diff`` and
    ``tol``); ``difference`` is the sympy difference (user minus derived) and ``example`` one point
    with both values when they differ.
    """

    text: str
    target: str
    status: str
    how: str
    max_rel_diff: float
    tol: float
    difference: str
    example: dict

    @property
    def equivalent(self):
        return self.status == "equivalent"


def _convert_E_brackets(text):
    """``E[f; z]`` (phasekit's printed form) -> ``E(f, z)``; nested brackets allowed."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("E[", i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            depth, j = 0, i + 1
            semi = None
            while j < len(text):
                c = text[j]
                if c in "[(":
                    depth += 1
                elif c in "])":
                    depth -= 1
                    if depth == 0:
                        break
                elif c == ";" and depth == 1:
                    semi = j
                j += 1
            if j >= len(text) or semi is None:
                raise ValueError(f"malformed expectation in {text!r}: expected E[f; z]")
            inner = _convert_E_brackets(text[i + 2:semi])
            out.append(f"E({inner}, {text[semi + 1:j].strip()})")
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_equation(text, model):
    """Parse ``"lhs = rhs"`` with the model's symbols, ``E[f; z]`` or ``E(f, z)``, H, logH, mills,
    log2cosh, G and sympy functions. Returns ``(lhs, rhs)`` sympy expressions."""
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    from .theory import E, G, H, log2cosh, logH, mills
    from ._errors import InvalidParameterError
    if text.count("=") != 1 or "==" in text:
        raise InvalidParameterError(f"equation {text!r} must have the form 'lhs = rhs'")
    local = {p.name: p.symbol for p in model.control + model.order}
    for p in model.control + model.order:
        local[str(p.symbol)] = p.symbol
    for s in model.phi.atoms(sp.Symbol):   # integration variables keep their assumptions
        local.setdefault(str(s), s)
    for v in ("z", "xi", "t", "u", "z0", "z1", "z2", "z3"):
        local.setdefault(v, sp.Symbol(v, real=True))
    local.update({"E": lambda f, *v: E(f, *v), "H": H, "logH": logH, "mills": mills, "log2cosh": log2cosh, "G": G})
    lhs_t, rhs_t = (_convert_E_brackets(s.strip()) for s in text.split("="))
    try:
        return (parse_expr(lhs_t, local_dict=local, transformations=standard_transformations),
                parse_expr(rhs_t, local_dict=local, transformations=standard_transformations))
    except Exception as e:  # sympy raises many types
        raise InvalidParameterError(f"cannot parse equation {text!r}: {e}") from None


def _sample_points(model, n, rng):
    pts = []
    for _ in range(n):
        p = {}
        for par in model.control + model.order:
            lo = par.low if np.isfinite(par.low) else -2.0
            hi = par.high if np.isfinite(par.high) else lo + 3.0
            if par.name in ("q",) or (np.isfinite(par.low) and np.isfinite(par.high)):
                lo, hi = lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo)
            else:
                lo = lo + 0.05 if np.isfinite(par.low) else lo
            p[par.symbol] = float(rng.uniform(lo, hi))
        pts.append(p)
    return pts


def _zero_set_mismatch(fu, fr, args, pts, m):
    """For each sample point and each order parameter y: where the derived condition vanishes along
    the line in y (brentq), the user's residual must vanish too (relative to its size on the line),
    and vice versa.

    Returns ``(rel, where)``: the relative mismatches and, for each, the point (a dict of symbol
    values, y at the root) where it was measured; ``([inf], [pts[0]])`` when neither function
    changes sign on any line (nothing to compare).
    """
    import scipy.optimize as so
    rel, where = [], []
    for p in pts:
        for par in m.order:
            lo = par.low if np.isfinite(par.low) else -5.0
            hi = par.high if np.isfinite(par.high) else lo + 20.0
            ys = np.linspace(lo + 1e-3 * (hi - lo), hi - 1e-3 * (hi - lo), 41)

            def at(f, y):   # compiled functions are vectorised: y may be an array
                vals = dict(p)
                vals[par.symbol] = y
                out = np.broadcast_to(f(*[vals[a] for a in args]), np.shape(y)).astype(float)
                return out if np.ndim(y) else float(out)
            with np.errstate(all="ignore"):
                on_line = {f: at(f, ys) for f in (fr, fu)}
            for f, other in ((fr, fu), (fu, fr)):
                v = on_line[f]
                scale = np.nanmax(np.abs(on_line[other])) if np.any(np.isfinite(on_line[other])) else np.nan
                idx = np.flatnonzero(np.isfinite(v[:-1]) & np.isfinite(v[1:]) & (np.sign(v[:-1]) != np.sign(v[1:])))
                for i in idx[:2]:
                    y0 = so.brentq(lambda y: at(f, y), ys[i], ys[i + 1], xtol=1e-13)
                    rel.append(abs(at(other, y0)) / max(scale, 1e-300))
                    where.append({**p, par.symbol: y0})
    if not rel:
        return np.array([np.inf]), [dict(pts[0])]
    return np.array(rel), where


def _differ(vu, vr, rtol=1e-4):
    """Whether two sides evaluated at the same points differ where both are finite (beyond a
    quadrature-noise tolerance), which rules out a symbolic identity."""
    fin = np.isfinite(vu) & np.isfinite(vr)
    return bool(np.any(np.abs(vu[fin] - vr[fin]) > rtol * np.maximum(1.0, np.abs(vr[fin]))))


def _worst(rel):
    """Index of the largest relative difference, a non-finite one (NaN, inf) counting as largest."""
    bad = np.flatnonzero(~np.isfinite(rel))
    return int(bad[0]) if bad.size else int(np.argmax(rel))


def check_derivation(model, equations, *, n_points=6, tol=1e-8, rng=0):
    r"""Compare hand-derived stationarity equations with the ones sympy derives from the free entropy.

    Each equation is ``"x = F(...)"`` with ``x`` an order parameter (compared with the model's
    fixed-point form for ``x``) or any ``"lhs = rhs"`` (compared with the stationarity condition
    ``d phi/d y = 0`` it matches best, up to a constant factor). sympy decides first
    (``simplify`` of the difference after Gaussian integration by parts); otherwise the two sides
    are evaluated at ``n_points`` random points of the declared domains and called equivalent when
    the relative difference stays below ``tol``.

    Returns
    -------
    list of EquationCheck
    """
    from .solvers._fixed_point import as_model
    from .theory import compile_expr, expand_expectations, gaussian_ibp

    m = as_model(model)
    gen = np.random.default_rng(rng)
    pts = _sample_points(m, n_points, gen)
    args = m.control_symbols + m.order_symbols
    fp = m.fixed_point or {}
    out = []
    for text in ([equations] if isinstance(equations, str) else list(equations)):
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        lhs, rhs = parse_equation(text, m)
        if lhs not in fp:  # an unsolved condition: try to solve it for an order parameter first
            for x in fp:
                try:
                    sol = sp.solve(sp.Eq(lhs, rhs), x, dict=True)
                except Exception:  # noqa: BLE001
                    sol = []
                if len(sol) == 1 and x in sol[0] and x not in sol[0][x].free_symbols:
                    lhs, rhs = x, sol[0][x]
                    break
        if lhs in fp:
            user, ref, target = rhs, fp[lhs], f"the fixed-point form of {lhs}"
            candidates = [(user, ref, target)]
        else:
            user = lhs - rhs
            candidates = [(user, g, f"d phi/d {x} = 0") for x, g in zip(m.order_symbols, m.stationarity)]
        best = best_diff = None
        for u, r, target in candidates:
            diff = expand_expectations(gaussian_ibp(sp.expand(u - r)))
            fu, fr = compile_expr(u, args), compile_expr(r, args)
            with np.errstate(all="ignore"):
                vu = np.array([float(fu(*[p[a] for a in args])) for p in pts])
                vr = np.array([float(fr(*[p[a] for a in args])) for p in pts])
            symbolic = diff == 0
            # sympy can only prove what the numbers allow: simplify (slow: seconds on a large
            # condition) unless the two sides already differ at a sample point
            if not symbolic and not _differ(vu, vr):
                try:
                    diff = sp.simplify(diff)
                    symbolic = diff == 0
                except Exception:  # noqa: BLE001 - sympy may fail to decide: fall back to numbers
                    symbolic = False
            if lhs not in fp:  # unsolved condition: same zero set as d phi/dy along lines in y?
                rel, where = _zero_set_mismatch(fu, fr, args, pts, m)
            else:
                where = pts
                rel = np.abs(vu - vr) / np.maximum(1.0, np.abs(vr))
            i = _worst(rel)   # the example point, one of ``where`` (rel and where are parallel)
            mx = float(rel[i]) if np.isfinite(rel[i]) else float("inf")
            ok = symbolic or mx < tol
            pt = where[i]
            ex = {str(k): v for k, v in pt.items()} | {
                "user": float(fu(*[pt[a] for a in args])), "derived": float(fr(*[pt[a] for a in args]))}
            cand = EquationCheck(text, target, "equivalent" if ok else "different",
                                 "symbolic" if symbolic else "numeric", mx, tol, "0", {} if ok else ex)
            if best is None or (cand.equivalent and not best.equivalent) or (
                    cand.equivalent == best.equivalent and cand.max_rel_diff < best.max_rel_diff):
                best, best_diff = cand, diff
        if not best.equivalent:   # the difference shown: simplified, for the chosen condition only
            try:
                best_diff = sp.simplify(best_diff)
            except Exception:  # noqa: BLE001 - show it unsimplified
                pass
            best = dataclasses.replace(best, difference=sp.sstr(best_diff))
        out.append(best)
    return out
