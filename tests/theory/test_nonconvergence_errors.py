"""One exception for non-convergence: SaddlePointNotConverged (a RuntimeError), never
InvalidParameterError (bad input, exit code 2).

Each site is driven cheaply: the inner solve / transition search is replaced by one that reports
non-convergence. The lru-cached functions are called at parameter values no other test uses (an
exception is never cached).
"""
import math
import types

import numpy as np
import pytest

import phasekit.solvers
from phasekit._errors import InvalidParameterError, SaddlePointNotConverged
from phasekit.cli import main
from phasekit.theory.replica import local_entropy as le
from phasekit.theory.replica import local_entropy_teacher as lt
from phasekit.theory.replica import random_features as rf
from phasekit.theory.replica import random_features_fp as fp

MU = math.sqrt(2 / math.pi)


def not_converged(*args, **kwargs):
    return types.SimpleNamespace(converged=False, message="no convergence in 2 iterations (residual 0.1)",
                                 order_parameters={}, free_entropy=math.nan, value=math.nan, observables={})


def raises_not_converged(fn, *args, match=None, **kwargs):
    with pytest.raises(SaddlePointNotConverged, match=match) as exc:
        fn(*args, **kwargs)
    assert isinstance(exc.value, RuntimeError)
    assert not isinstance(exc.value, (InvalidParameterError, ValueError))
    assert "\n" not in str(exc.value)
    return exc.value


def test_binary_reference_state(monkeypatch):
    monkeypatch.setattr(phasekit.solvers, "solve", not_converged)
    raises_not_converged(le.reference_state, 0.4321987, 0.0, match="reference state at alpha=0.4321987")
    raises_not_converged(le.reference_state, 0.4321987, 0.0, True, match="did not converge")


def test_teacher_reference_state(monkeypatch):
    monkeypatch.setattr(phasekit.solvers, "solve", not_converged)
    raises_not_converged(lt.teacher_reference_state, 0.4321987, 0.0123,
                         match="reference state of perceptron.ising_teacher_margin")


def test_teacher_kappa_max(monkeypatch):
    monkeypatch.setattr(phasekit.solvers, "find_transition", not_converged)
    raises_not_converged(lt.teacher_kappa_max, 0.4321987, match="kappa_max .* was not found")
    # a bad alpha is still bad input
    with pytest.raises(InvalidParameterError):
        lt.teacher_kappa_max(0.0)


def test_random_feature_kappa_max_and_its_caller(monkeypatch):
    monkeypatch.setattr(fp, "rf_reference_state", lambda *a, **k: {"converged": False})
    raises_not_converged(fp.rf_kappa_max, 0.4321987, 1.0123, MU, match="reference state at alpha=0.4321987")
    # rf_le_criterion reads "no converged reference" as beyond the interpolation threshold: NaN
    value, curve = fp.rf_le_criterion(0.4321987, 1.0123)
    assert math.isnan(value) and curve is None


def test_random_feature_setup(monkeypatch):
    monkeypatch.setattr(fp, "rf_reference_state", lambda *a, **k: {"converged": False})
    raises_not_converged(fp._Setup, 0.5, 1.0, MU, 0.0, match="the reference must lie inside its SAT phase")


def test_random_feature_thresholds_refinement(monkeypatch):
    # the grid scan converges (entropy gamma - 1.5, sign change between gamma = 2 and 1), the
    # refinement inside brentq does not: the error raised there is SaddlePointNotConverged, and
    # rf_thresholds reports it in its result
    calls = {"n": 0}

    def solve(model, params, **kw):
        calls["n"] += 1
        if calls["n"] > 5:
            return not_converged()
        return types.SimpleNamespace(converged=True, free_entropy=params["gamma"] - 1.5, message="converged",
                                     order_parameters={"q": 0.5}, observables={"eps_gen": 0.1})
    seen = {}

    def brentq(f, a, b, **kw):
        try:
            return f(0.5 * (a + b))
        except Exception as e:  # noqa: BLE001 - record what the site raised
            seen["exc"] = e
            raise
    monkeypatch.setattr(phasekit.solvers, "solve", solve)
    monkeypatch.setattr(rf, "so", types.SimpleNamespace(brentq=brentq))
    res = rf.rf_thresholds(1.0, [1.0, 2.0], model=object())
    assert type(seen["exc"]) is SaddlePointNotConverged
    assert not res.success and res.message.startswith("saddle point failed while refining")


def test_compare_theory_not_converged(monkeypatch, tmp_path, capsys):
    import phasekit.solvers._fixed_point as fpm
    from phasekit.validation.compare import compare_data

    def solve_batch(model, params, **kw):
        x = np.asarray(params["alpha"], float)
        return {"values": {"entropy": np.zeros_like(x)}, "converged": np.arange(x.size) != 1}
    monkeypatch.setattr(fpm, "solve_batch", solve_batch)
    data = tmp_path / "d.csv"
    data.write_text("alpha,entropy,err\n0.3,0.5,0.01\n0.6,0.3,0.01\n")
    raises_not_converged(compare_data, str(data), "perceptron.binary_storage", x="alpha", y="entropy", err="err",
                         out_dir=str(tmp_path), match=r"did not converge at alpha=0\.6 \(row 2\)")
    # the command line: exit code 1, one line, no traceback
    code = main(["compare", str(data), "--model", "perceptron.binary_storage", "--x", "alpha", "--y", "entropy",
                 "--err", "err", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("phasekit: not converged: the theory did not converge at alpha=0.6 (row 2)")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_message_is_one_line(monkeypatch, capsys):
    # a multi-line solver message (scipy's hybr says "... as measured by the \n improvement ...")
    def boom(args):
        raise SaddlePointNotConverged("The iteration is not making good progress, as measured by the \n"
                                      "  improvement from the last ten iterations.")
    import phasekit.cli as cli
    monkeypatch.setattr(cli, "cmd_solve", boom)
    assert main(["solve", "perceptron.binary_storage"]) == 1
    err = capsys.readouterr().err
    assert err == ("phasekit: not converged: The iteration is not making good progress, as measured by the "
                   "improvement from the last ten iterations.\n")
