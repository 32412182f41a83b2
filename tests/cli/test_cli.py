"""The phasekit command line: JSON schemas, exit codes and files."""
import json
import math
import os
import subprocess
import sys

import pytest

from phasekit.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json(capsys):
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    d = json.loads(out)
    names = {m["name"] for m in d["models"]}
    assert {"perceptron.spherical_storage", "perceptron.binary_storage", "perceptron.spherical_teacher",
            "perceptron.ising_teacher"} <= names
    bs = next(m for m in d["models"] if m["name"] == "perceptron.binary_storage")
    assert set(bs["transitions"]) >= {"capacity", "q_to_one", "at_instability"}
    assert bs["params"]["alpha"]["domain"] == "[0, inf)"
    assert any(c["name"] == "perceptron_theory" for c in d["checks"])


def test_solve_json_schema(capsys):
    code, out, _ = run(capsys, "solve", "perceptron.binary_storage", "--set", "alpha=0.5", "--json")
    assert code == 0
    d = json.loads(out)
    for key in ("model", "params", "order_parameters", "free_entropy", "converged", "iterations", "residual", "entropy"):
        assert key in d
    assert d["params"] == {"alpha": 0.5, "kappa": 0.0}
    assert d["order_parameters"]["q"] == pytest.approx(0.322385, abs=1e-6)   # replica spec [V]
    assert d["entropy"] == pytest.approx(0.314390, abs=1e-6)


def test_solve_teacher_observables(capsys):
    code, out, _ = run(capsys, "solve", "perceptron.spherical_teacher", "--set", "alpha=1", "--json")
    d = json.loads(out)
    assert code == 0 and d["eps_gibbs"] == pytest.approx(0.338359, abs=1e-6) and "eps_bayes" in d


def test_transition_json(capsys):
    code, out, _ = run(capsys, "transition", "perceptron.binary_storage", "capacity", "--json")
    d = json.loads(out)
    assert code == 0
    assert set(d) >= {"name", "value", "params", "converged"}
    assert d["value"] == pytest.approx(0.833079, abs=1e-5)  # Krauth-Mezard
    code, out, _ = run(capsys, "transition", "perceptron.binary_storage", "q_to_one")
    assert code == 0 and f"{4 / math.pi:.10f}"[:10] in out


@pytest.mark.parametrize("argv,fragment", [
    (["solve", "perceptron.binary_storage", "--set", "alpha=-1"], "'alpha' parameter"),
    (["solve", "perceptron.binary_storage", "--set", "alpha"], "malformed --set"),
    (["solve", "perceptron.binary_storage", "--set", "alpha=abc"], "malformed --set"),
    (["solve", "perceptron.nothing", "--set", "alpha=1"], "unknown model"),
    (["solve", "perceptron.binary_storage", "--set", "beta=1"], "unknown parameter 'beta'"),
    (["transition", "perceptron.binary_storage", "nope"], "unknown transition"),
    (["check", "no_such_check"], "unknown check"),
    (["diagram", "perceptron.binary_storage", "--x", "alpha=0:1"], "malformed --x"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_non_convergence_exits_1(capsys):
    code, out, err = run(capsys, "solve", "perceptron.binary_storage", "--set", "alpha=0.5",
                         "--method", "fixed_point", "--maxiter", "2")
    assert code == 1 and err.startswith("phasekit: not converged: ")


def test_transition_not_found_exits_1(capsys):
    # beyond the RS q -> 1 line (2 alpha_c(kappa)/pi = 0.61 at kappa = 0.5) there is no RS branch
    code, out, err = run(capsys, "transition", "perceptron.binary_storage", "at_instability", "--set", "kappa=3")
    assert code == 1


def test_derive_prints_stationarity(capsys):
    code, out, _ = run(capsys, "derive", "perceptron.binary_storage")
    assert code == 0
    assert "log2cosh(sqrt(qhat)*z)" in out and "d phi/d q" in out and "fixed-point form" in out
    code, out, _ = run(capsys, "derive", "perceptron.spherical_storage", "--latex")
    assert code == 0 and "\\mathbb{E}" in out


def test_diagram_writes_csv_json_png(capsys, tmp_path):
    code, out, _ = run(capsys, "diagram", "perceptron.binary_storage", "--x", "alpha=0.1:0.5:5", "--y", "kappa=0:0.3:3",
                       "--out", str(tmp_path), "--workers", "1", "--no-progress")
    assert code == 0
    d = json.loads(out)
    assert d["points"] == 15
    for f in d["files"]:
        assert os.path.getsize(f) > 0
    assert any(f.endswith(".png") for f in d["files"])


def test_diagram_past_the_rs_existence_line_exits_1(capsys, tmp_path):
    # kappa = 0.4: 2 alpha_c(0.4)/pi < 0.9, so the last column has no RS solution
    code, out, err = run(capsys, "diagram", "perceptron.binary_storage", "--x", "alpha=0.1:0.9:5", "--y",
                         "kappa=0:0.4:3", "--out", str(tmp_path), "--workers", "1", "--no-progress")
    assert code == 1
    assert json.loads(out)["statuses"].get("no_solution", 0) >= 1
    assert "no_solution" in err


def test_installed_entry_point():
    exe = os.path.join(os.path.dirname(sys.executable), "phasekit")
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "phasekit"]
    r = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "phasekit" in r.stdout


def test_lr_diagram_command(capsys, tmp_path):
    code, out, _ = run(capsys, "lr-diagram", "liu", "--x", "1e-3:1e-2:2", "--y", "1e-4:1e-4:1", "--steps", "50",
                       "--workers", "1", "--out", str(tmp_path), "--no-progress")
    assert code == 0
    d = json.loads(out)
    assert d["cells"] == 2 and all(os.path.getsize(f) > 0 for f in d["files"])
    code, _, err = run(capsys, "lr-diagram", "liu", "--x", "0:1:2")
    assert code == 2 and "--x" in err
