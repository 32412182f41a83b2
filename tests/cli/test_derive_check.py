"""Verify a hand derivation: correct equations pass, each typical slip is caught."""
import pytest

from phasekit.cli import main
from phasekit.derive import check_derivation

BINARY = "perceptron.binary_storage"
R2 = "E[mills((kappa - sqrt(q)*z)/sqrt(1-q))**2; z]"


@pytest.mark.parametrize("eq", [
    "q = E[tanh(sqrt(qhat)*z)**2; z]",                       # Gardner-Derrida, by integration by parts
    f"qhat = alpha/(1-q)*{R2}",
    f"qhat*(1-q) = alpha*{R2}",                               # unsolved form, same zero set
    "q = 1 - E[1/cosh(sqrt(qhat)*z)**2; z]",
])
def test_correct_equations_are_equivalent(eq):
    (r,) = check_derivation(BINARY, [eq])
    assert r.equivalent, r


@pytest.mark.parametrize("eq,slip", [
    (f"qhat = 2*alpha/(1-q)*{R2}", "missing factor 2"),
    (f"qhat = -alpha/(1-q)*{R2}", "wrong sign"),
    (f"qhat = alpha/(1+q)*{R2}", "1-q vs 1+q"),
    ("q = E[tanh(sqrt(qhat)*z); z]", "tanh instead of tanh^2"),
    (f"qhat*(1+q) = alpha*{R2}", "1-q vs 1+q, unsolved form"),
])
def test_typical_slips_are_caught(eq, slip):
    (r,) = check_derivation(BINARY, [eq])
    assert not r.equivalent, slip
    assert r.example and r.difference != "0"


def test_spherical_teacher_gibbs_equation():
    # the textbook form of the spherical teacher-student saddle point, R/sqrt(1-R) = ... rewritten
    # as a fixed point q = qhat/(1+qhat) with qhat = (alpha/(pi sqrt(1-q))) E[exp(-q t^2/2)/H(-sqrt(q) t)]
    good = "q = (alpha/(pi*sqrt(1-q))*E[exp(-q*t**2/2)/H(-sqrt(q)*t); t])/(1 + alpha/(pi*sqrt(1-q))*E[exp(-q*t**2/2)/H(-sqrt(q)*t); t])"
    bad = good.replace("exp(-q*t**2/2)", "exp(-t**2/2)")
    r_good, r_bad = check_derivation("perceptron.spherical_teacher", [good, bad])
    assert r_good.equivalent and not r_bad.equivalent


def test_cli_check(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text(f"# my derivation\nq = E[tanh(sqrt(qhat)*z)**2; z]\nqhat = alpha/(1-q)*{R2}\n")
    assert main(["derive", BINARY, "--check", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.count("EQUIVALENT") == 2
    bad = tmp_path / "bad.txt"
    bad.write_text(f"qhat = 2*alpha/(1-q)*{R2}\n")
    assert main(["derive", BINARY, "--check", str(bad)]) == 1
    assert "DIFFERENT" in capsys.readouterr().out
    assert main(["derive", BINARY, "--check", str(tmp_path / "missing.txt")]) == 2
    malformed = tmp_path / "m.txt"
    malformed.write_text("q == 1\n")
    assert main(["derive", BINARY, "--check", str(malformed)]) == 2
