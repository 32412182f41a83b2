import math

import phasekit as pk
from ..._problems import Dz  # noqa: F401  (shared references, one level deeper)


def test_curie_weiss_is_registered_and_solves():
    assert "toyfam.curie_weiss" in pk.list_models()
    m = pk.solve("toyfam.curie_weiss", {"beta": 2.0, "h": 0.1}).order_parameters["m"]
    assert abs(m - math.tanh(2.0 * m + 0.1)) < 1e-8
