"""Liu et al. addition toy in numpy: RQI, Acc^, backprop, seeded runs (spec §7, 18–19)."""
import numpy as np
import pytest

from phasekit.theory.effective_theory import liu as tl
from phasekit.validation.effective_theory import geneft as vg
from phasekit.validation.effective_theory import liu as vl


def test_rqi_linear_and_random():
    E = 0.3 + 0.7 * np.arange(10.0)
    r, mask = vl.rqi(E)
    assert r == 1.0 and mask.all()
    r2, _ = vl.rqi(np.random.default_rng(0).uniform(-0.5, 0.5, 10))
    assert r2 < 0.5


def test_predicted_accuracy():
    lin = np.arange(10.0)
    assert vl.predicted_accuracy(lin, np.ones(55, dtype=bool)) == 1.0
    # a linear embedding predicts every test sample whose sum is represented in training
    S = tl.samples(10)
    train = np.arange(0, 55, 2)
    sums_tr = set(S[train].sum(axis=1))
    want = np.mean([k in set(train) or s in sums_tr for k, s in enumerate(S.sum(axis=1))])
    assert vl.predicted_accuracy(lin, train) == pytest.approx(want)


def test_liu_gradients_finite_difference():
    rng = np.random.default_rng(0)
    S = tl.samples(10)
    train = rng.choice(55, 20, replace=False)
    E = rng.uniform(-0.5, 0.5, (10, 1))
    Ws, bs = vg._init_mlp(rng, [1, 8, 8, 5], np.float64)
    T = rng.standard_normal((20, 5))
    eye = np.eye(10)
    Osum = eye[S[train, 0]] + eye[S[train, 1]]
    ia, ib = S[train, 0], S[train, 1]
    loss, gE, gW, gb = vl._loss_and_grads(E, Ws, bs, ia, ib, Osum, T)
    h = 1e-6
    for P, G in zip([E] + Ws + bs, [gE] + gW + gb):
        for _ in range(3):
            idx = tuple(rng.integers(0, s) for s in P.shape)
            old = P[idx]
            P[idx] = old + h
            lp = vl._loss_and_grads(E, Ws, bs, ia, ib, Osum, T)[0]
            P[idx] = old - h
            lm = vl._loss_and_grads(E, Ws, bs, ia, ib, Osum, T)[0]
            P[idx] = old
            np.testing.assert_allclose(G[idx], (lp - lm) / (2 * h), rtol=1e-5, atol=1e-10)


def test_reference_split_is_reproducible():
    a = vl.train_liu(steps=2, rng=58, reference_split=True)
    b = vl.train_liu(steps=2, rng=58, reference_split=True)
    np.testing.assert_array_equal(a.extra["train_mask"], b.extra["train_mask"])
    legacy = np.random.RandomState(58)
    legacy.normal(0, 1, size=(19, 30))
    want = np.zeros(55, dtype=bool)
    want[legacy.choice(55, 45, replace=False)] = True
    np.testing.assert_array_equal(a.extra["train_mask"], want)


def test_default_run_comprehends():
    r = vl.train_liu(rng=0, steps=3000)
    assert r.phase == "generalization", (r.step_train, r.step_test)
    assert r.extra["step_rqi"] is not None and r.extra["step_rqi"] <= r.step_test
    assert abs(r.extra["acc"] - r.extra["pred_acc"]) <= 0.02


def test_fast_decoder_memorizes():
    r = vl.train_liu(rng=0, steps=2000, eta_repr=1e-4, eta_dec=1e-2)
    assert r.phase in ("memorization", "confusion")
    assert r.phase != "generalization"


@pytest.mark.slow
def test_lr_grid_no_comprehension_with_fast_decoder():
    grid = 10 ** np.linspace(-5, -2, 10)
    sub = grid[[1, 3, 5, 7, 9]]
    pd = vl.liu_phase_diagram(sub, sub, config=vl.LiuConfig(eval_every=10), workers=2)
    maj = pd.majority()
    for i, a in enumerate(sub):
        for j, b in enumerate(sub):
            if b >= a:
                assert maj[i, j] != "generalization"
    assert 0.5 <= pd.slope <= 2.0        # measured 0.98 (seed 0)
