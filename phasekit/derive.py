"""Human-readable derivations: free entropy, stationarity conditions, fixed-point form, limits."""
from __future__ import annotations

import sympy as sp

__all__ = ["derivation"]


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
