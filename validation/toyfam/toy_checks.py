"""Check: the Curie–Weiss magnetisation solves m = tanh(beta m + h)."""
import math

from ..._registry import CheckResult, register_check


@register_check("toyfam.self_consistency", "Curie-Weiss: m = tanh(beta m + h) at the solved point")
def check_self_consistency(out_dir, *, quick=False, seed=0) -> CheckResult:
    from ...solvers import solve
    res = solve("toyfam.curie_weiss", {"beta": 2.0, "h": 0.1})
    m = res.order_parameters["m"]
    err = abs(m - math.tanh(2.0 * m + 0.1))
    return CheckResult("toyfam.self_consistency", bool(res.converged and err < 1e-8), {"m": m, "error": err})
