"""The registered perceptron theory-versus-simulation checks: quick variants by default, full ones slow."""
import json
import math
import os

import numpy as np
import pytest

from phasekit._registry import CHECKS, CheckResult, get_check
from phasekit.validation.replica import perceptron_checks  # noqa: F401  (registers the checks)

NAMES = ["binary_storage_enumeration", "teacher_student_enumeration", "cover_lp", "adatron_margin"]


def test_checks_registered():
    for name in NAMES:
        assert name in CHECKS
        assert CHECKS[name].description


def _assert_well_formed(res, name, out_dir):
    assert isinstance(res, CheckResult) and res.name == name
    assert res.figures and all(os.path.isfile(f) and f.endswith(".png") for f in res.figures)
    assert res.tables and all(os.path.isfile(t) and t.endswith(".csv") for t in res.tables)
    assert all(os.path.dirname(p) == str(out_dir) for p in (*res.figures, *res.tables))
    for k, v in res.metrics.items():                      # a flat object of numbers
        assert isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool), (k, v)
    d = json.loads(res.to_json())
    assert d["name"] == name and isinstance(d["passed"], bool)
    assert res.summary and res.seed == 0
    with open(res.tables[0]) as f:
        header = f.readline().strip().split(",")
        assert len(f.readlines()) >= 5 and len(header) >= 5


@pytest.mark.parametrize("name", NAMES)
def test_quick_check_passes(name, tmp_path):
    res = get_check(name).func(str(tmp_path), quick=True, seed=0)
    _assert_well_formed(res, name, tmp_path)
    assert res.passed, res.summary
    m = res.metrics
    if name == "binary_storage_enumeration":
        assert m["max_abs_dev_entropy"] <= m["tolerance"] == 0.03
        np.testing.assert_allclose(m["alpha_KM"], 0.833079, rtol=0, atol=1e-5)
        assert m["min_n_sat_compared"] >= 60
    if name == "teacher_student_enumeration":
        np.testing.assert_allclose(m["alpha_1st"], 1.24468, rtol=0, atol=1e-4)
        assert m["max_dev_over_bound"] <= 1
    if name == "cover_lp":
        assert m["cover_half_at_2N_exact"] == 1.0 and m["max_abs_z"] <= 3
    if name == "adatron_margin":
        assert m["abs_dev_alpha1"] <= 0.05 and m["adatron_vs_exact_max_diff"] <= 2e-4


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_full_check_passes(name, tmp_path):
    res = get_check(name).func(str(tmp_path), quick=False, seed=0)
    _assert_well_formed(res, name, tmp_path)
    assert res.passed, res.summary
    if name == "binary_storage_enumeration":             # spec check 15
        assert res.metrics["N"] == 21 and res.metrics["tolerance"] == 0.02
        assert res.metrics["min_n_sat_compared"] >= 60
    if name == "adatron_margin":                         # spec check 16
        assert abs(res.metrics["kappa_mean_N200_alpha1"] - res.metrics["kappa_max_theory_alpha1"]) <= 0.05


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_enumeration_spec_check_15_other_seeds(seed):
    """Spec check 15 for other seeds: N = 21, >= 60 SAT instances, |s_N - s_RS| <= 0.02 for alpha <= 0.6."""
    from phasekit.solvers import continue_branch
    from phasekit.validation.replica.enumeration import enumerate_storage
    r = enumerate_storage(21, 0.6, 80, seed=seed)
    br = continue_branch("perceptron.binary_storage", {"kappa": 0.0}, along="alpha", values=r.alpha[1:])
    assert np.all(br.converged) and np.all(r.n_sat[1:] >= 60)
    np.testing.assert_allclose(r.entropy[1:], np.asarray(br.values["entropy"]), rtol=0, atol=0.02)
    np.testing.assert_allclose(r.entropy[0], math.log(2), rtol=0, atol=1e-15)
