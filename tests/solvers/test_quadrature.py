import math

import numpy as np
import pytest

from phasekit.solvers import gauss_hermite, gaussian_expectation, gaussian_expectation_quad


@pytest.mark.parametrize("k,moment", [(0, 1.0), (2, 1.0), (4, 3.0), (6, 15.0), (8, 105.0)])
def test_gauss_hermite_moments(k, moment):
    # E z^k = (k-1)!! exactly
    assert float(gaussian_expectation(lambda z: z**k, n=41)) == pytest.approx(moment, rel=1e-12)


def test_weights_normalised_and_multidimensional():
    nodes, lw = gauss_hermite(21, 2)
    assert nodes.shape == (2, 441)
    assert np.exp(lw).sum() == pytest.approx(1.0, abs=1e-13)
    v = gaussian_expectation(lambda a, b: (a * b) ** 2 + a**2, n=21, dim=2)
    assert float(v) == pytest.approx(2.0, rel=1e-12)


def test_scaled_rule_for_sharp_tanh():
    # E tanh(s z)^2 for s = 200 against quad with break points
    s = 200.0
    ref = gaussian_expectation_quad(lambda z: math.tanh(s * z) ** 2, points=(-0.05, 0.0, 0.05))
    val = float(gaussian_expectation(lambda z: 1 - np.tanh(s * z) ** 2, n=201, scale=s))
    assert val == pytest.approx(1 - ref, abs=1e-10)


def test_bad_node_count():
    with pytest.raises(ValueError, match="'n' parameter"):
        gauss_hermite(0)
