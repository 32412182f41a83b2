"""Model-agnostic solver machinery on a toy model with exact answers and on the perceptrons."""
import dataclasses
import math

import numpy as np
import pytest

import phasekit as pk
from phasekit.solvers import continue_branch, damped_fixed_point, find_transition, solve, sweep

from .._toy import CurieWeiss


@pytest.fixture(scope="module")
def cw():
    return CurieWeiss()


def test_damped_fixed_point_on_a_contraction():
    # x = cos(x): Dottie number 0.7390851332151607 (closed form root of x - cos x)
    x, ok, it, res, msg = damped_fixed_point(lambda y: np.cos(y), np.array([1.0]), damping=0.3, tol=1e-14)
    assert ok and res < 1e-14
    np.testing.assert_allclose(x, [0.7390851332151607], rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match="'damping' parameter"):
        damped_fixed_point(np.cos, np.array([1.0]), damping=1.5)


@pytest.mark.parametrize("method", ["auto", "fixed_point", "anderson", "newton", "hybr"])
def test_every_method_solves_the_toy(cw, method):
    r = solve(cw, {"beta": 2.0, "h": 0.1}, branch="up", method=method)
    assert r.converged
    mm = r.order_parameters["m"]
    assert mm == pytest.approx(math.tanh(2.0 * mm + 0.1), abs=1e-10)


def test_non_convergence_is_reported_not_hidden(cw):
    r = solve(cw, {"beta": 2.0, "h": 0.1}, branch="up", method="fixed_point", maxiter=2)
    assert not r.converged and "no convergence" in r.message
    with pytest.raises(pk.SaddlePointNotConverged):
        r.require_converged()


def test_results_are_frozen(cw):
    r = solve(cw, {"beta": 2.0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.converged = False


def test_fold_matches_closed_form(cw):
    b = 2.0
    m_sp = math.sqrt(1 - 1 / b)
    h_sp = math.atanh(m_sp) - b * m_sp
    tr = find_transition(cw, "spinodal", {"beta": b})
    assert tr.converged and tr.kind == "fold"
    assert tr.value == pytest.approx(h_sp, abs=1e-9)
    assert tr.order_parameters["m"] == pytest.approx(m_sp, abs=1e-6)


def test_free_entropy_crossing_at_zero_field(cw):
    tr = find_transition(cw, "coexistence", {"beta": 1.5})
    assert tr.converged and tr.value == pytest.approx(0.0, abs=1e-9)


def test_zero_criterion_not_found_is_reported(cw):
    # the up branch never has m = 0 for beta > 1 in this range
    tr = find_transition(cw, "m_zero", {"beta": 2.0})
    assert not tr.converged and "no sign change" in tr.message


def test_continuation_keeps_the_metastable_branch_and_flags_its_end(cw):
    b = 2.0
    h_sp = math.atanh(math.sqrt(1 - 1 / b)) - b * math.sqrt(1 - 1 / b)
    hs = np.linspace(0.2, -0.8, 41)
    br = continue_branch(cw, {"beta": b}, along="h", values=hs, branch="up")
    alive = hs > h_sp + 1e-3
    assert br.converged[alive].all()          # metastable part (h < 0) followed
    assert not br.converged[hs < h_sp - 1e-2].any()  # past the spinodal the branch is gone
    np.testing.assert_allclose(br["m"][alive], np.tanh(b * br["m"][alive] + hs[alive]), atol=1e-10)


def test_unknown_names_raise_value_errors(cw):
    with pytest.raises(ValueError, match="unknown transition"):
        find_transition(cw, "nope")
    with pytest.raises(ValueError, match="unknown branch"):
        solve(cw, {"beta": 1.0}, branch="sideways")
    with pytest.raises(ValueError, match="unknown parameter 'gamma'"):
        solve(cw, {"gamma": 1.0})
    with pytest.raises(ValueError, match="'method' parameter"):
        solve(cw, {"beta": 1.0}, method="magic")
    with pytest.raises(ValueError, match="'along' parameter"):
        continue_branch(cw, {}, along="m", values=[0.1])
    with pytest.raises(ValueError, match="unknown model"):
        solve("perceptron.nope", {})


def test_sweep_local_equals_sequential_and_records_status():
    grid = {"alpha": np.linspace(0.1, 0.5, 5), "kappa": np.array([0.0, 0.5])}  # below the RS q->1 line
    seq = sweep("perceptron.binary_storage", grid, workers=1, progress=False)
    par = sweep("perceptron.binary_storage", grid, workers=2, progress=False)
    assert seq.values["entropy"].shape == (5, 2)
    np.testing.assert_array_equal(seq.values["entropy"], par.values["entropy"])
    np.testing.assert_array_equal(seq.converged, par.converged)
    assert seq.converged.all()
    # the sweep agrees with single solves
    r = solve("perceptron.binary_storage", {"alpha": 0.3, "kappa": 0.5})
    assert seq.values["entropy"][2, 1] == pytest.approx(r.free_entropy, abs=1e-10)
    assert seq.provenance["phasekit_version"] == pk.__version__


def test_sweep_files(tmp_path):
    res = sweep("perceptron.spherical_teacher", {"alpha": np.linspace(0.5, 2.0, 4)}, workers=1, progress=False)
    csv_path = res.to_csv(tmp_path / "s.csv")
    lines = [l for l in open(csv_path) if not l.startswith("#")]
    assert lines[0].startswith("alpha,")
    assert len(lines) == 5
    import json
    d = json.load(open(res.to_json(tmp_path / "s.json")))
    assert d["provenance"]["model"] == "perceptron.spherical_teacher"
    np.testing.assert_allclose(d["values"]["q"][1], 0.486264, atol=1e-6)  # Gibbs R(alpha=1), literature


def test_sweep_on_dask_local_cluster_matches_local():
    distributed = pytest.importorskip("dask.distributed")
    grid = {"alpha": np.linspace(0.2, 0.8, 4), "kappa": np.array([0.0, 0.3])}
    local = sweep("perceptron.binary_storage", grid, workers=1, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = sweep("perceptron.binary_storage", grid, scheduler=client, progress=False)
        by_address = sweep("perceptron.binary_storage", grid, scheduler=cluster.scheduler_address, progress=False)
    np.testing.assert_array_equal(local.values["entropy"], remote.values["entropy"])
    np.testing.assert_array_equal(local.values["entropy"], by_address.values["entropy"])
    assert remote.provenance["backend"] == "dask"


def test_sweep_rejects_bad_grids():
    with pytest.raises(ValueError, match="grid"):
        sweep("perceptron.binary_storage", {"alpha": [0.1], "kappa": [0.0], "x": [1]})
    with pytest.raises(ValueError, match="'alpha' parameter"):
        sweep("perceptron.binary_storage", {"alpha": [-0.1, 0.2]})


def test_advance_path_follows_a_branch_and_halves_failed_steps():
    # x(s) = cube root of s, corrected by a few Newton steps that fail (ok=False) when started far away
    from phasekit.solvers import advance_path
    calls = []

    def correct(s, x):
        calls.append(s)
        x = float(x[0])
        for _ in range(6):
            x -= (x ** 3 - s) / (3 * x ** 2)
        ok = abs(x ** 3 - s) < 1e-12 and abs(x - float(hist[-1][1][0])) < 0.05
        return np.array([x]), ok, None

    hist = [(1.0, np.array([1.0]))]
    ok, x, _ = advance_path(hist, 2.0, correct, max_fail=40)
    assert ok and x[0] == pytest.approx(2.0 ** (1 / 3), abs=1e-12)     # exact cube root
    assert len(calls) > len(hist) - 1                                    # some steps were halved
    assert all(abs(b[1][0] - a[1][0]) < 0.05 for a, b in zip(hist, hist[1:]))
    # the pre-split into steps of at most max_step, and failure after max_fail
    hist = [(1.0, np.array([1.0]))]
    assert advance_path(hist, 1.5, correct, max_step=0.1)[0] and len(hist) >= 6
    hist = [(1.0, np.array([1.0]))]
    assert advance_path(hist, 8.0, lambda s, x: (x, False, None), max_fail=3) == (False, None, None)
