"""``phasekit derive MODEL --check FILE`` on user models with three and four order parameters.

The model is the RS Hopfield model at finite temperature (Amit, Gutfreund & Sompolinsky 1987),
free entropy per spin

    phi(m, q, r) = -m^2/2 - alpha/(2 beta) [ln(1 - beta(1-q)) - beta q/(1 - beta(1-q))]
                   - alpha beta r (1-q)/2 + (1/beta) E ln 2cosh(beta (m + sqrt(alpha r) z)).

Derived by hand (D = 1 - beta(1-q)):
  d phi/dm = -m + E tanh(beta(m + sqrt(alpha r) z))                      -> m = E tanh(...)
  d phi/dr = -alpha beta (1-q)/2 + alpha beta (1 - E tanh^2(...))/2      -> q = E tanh^2(...)
             (Gaussian integration by parts: E z tanh(b(m + s z)) = b s E sech^2(...))
  d phi/dq = -alpha beta q/(2 D^2) + alpha beta r/2                      -> r = q/D^2
(d/dq [beta q/D] = beta (1 - beta)/D^2, so d/dq of the bracket is beta^2 q/D^2.)
These are checked numerically against quad in tests/theory/test_partial_conjugates.py.
"""
import json

import numpy as np
import pytest

from phasekit.cli import main
from phasekit.derive import check_derivation

from .._user_files import HOPFIELD

M_EQ = "m = E[tanh(beta*(m + sqrt(alpha*r)*z)); z]"
Q_EQ = "q = E[tanh(beta*(m + sqrt(alpha*r)*z))**2; z]"
R_EQ = "r = q/(1 - beta*(1-q))**2"


@pytest.fixture
def user_file(tmp_path):
    p = tmp_path / "hopfield.py"
    p.write_text(HOPFIELD)
    return str(p)


@pytest.mark.parametrize("cls", ["HOP", "HOP_QR"])
def test_correct_equations_of_three_order_parameters(user_file, tmp_path, capsys, cls):
    eqs = tmp_path / "mine.txt"
    eqs.write_text(f"# AGS, by hand\n{M_EQ}\n{Q_EQ}\n{R_EQ}\n")
    assert main(["derive", f"{user_file}:{cls}", "--check", str(eqs)]) == 0
    out = capsys.readouterr().out
    assert out.count("EQUIVALENT") == 3 and "DIFFERENT" not in out
    assert "d phi/d m = 0" in out and "d phi/d r = 0" in out and "d phi/d q = 0" in out


@pytest.mark.parametrize("wrong,slip", [
    ("r = q/(1 - beta*(1-q))", "missing square of 1 - beta(1-q)"),
    ("m = E[tanh(beta*(m + sqrt(r)*z)); z]", "missing alpha in the noise"),
    ("q = E[tanh(beta*(m + sqrt(alpha*r)*z)); z]", "tanh instead of tanh^2"),
])
def test_one_wrong_equation_among_three(user_file, tmp_path, capsys, wrong, slip):
    eqs = tmp_path / "mine.txt"
    good = [M_EQ, Q_EQ, R_EQ]
    lines = [wrong if e.split("=")[0] == wrong.split("=")[0] else e for e in good]
    eqs.write_text("\n".join(lines) + "\n")
    assert main(["derive", f"{user_file}:HOP", "--check", str(eqs), "--json"]) == 1, slip
    res = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in res] == ["different" if l == wrong else "equivalent" for l in lines]
    bad = next(r for r in res if r["status"] == "different")
    # the example is a point of the parameter domains, with both sides evaluated there
    ex = bad["example"]
    assert set(ex) == {"alpha", "beta", "m", "q", "r", "user", "derived"}
    assert 0 < ex["alpha"] < 1 and 1 < ex["beta"] < 20 and -1 < ex["m"] < 1 and 0 < ex["q"] < 1 and 0 < ex["r"] < 50
    assert np.isfinite(ex["user"]) and np.isfinite(ex["derived"])


def test_human_readable_output_of_a_wrong_equation(user_file, tmp_path, capsys):
    eqs = tmp_path / "mine.txt"
    eqs.write_text(f"{M_EQ}\n{Q_EQ}\nr = q/(1 - beta*(1-q))\n")
    assert main(["derive", f"{user_file}:HOP", "--check", str(eqs)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[1] EQUIVALENT") and out[1].startswith("[2] EQUIVALENT")
    assert out[2].startswith("[3] DIFFERENT") and out[3].startswith("    user - derived = ")
    assert out[4].startswith("    e.g. at alpha=")


def test_four_order_parameters_with_a_fixed_point_form(user_file, tmp_path, capsys):
    # with a complete fixed-point form, "x = F" is compared with the form of x
    good = ["m = E[tanh(beta*(mhat + sqrt(alpha*r)*z)); z]", "mhat = t", "t = m",
            "q = E[tanh(beta*(mhat + sqrt(alpha*r)*z))**2; z]", R_EQ]
    res = check_derivation(f"{user_file}:HOP4", good)
    assert all(r.equivalent for r in res), res
    assert [r.target for r in res] == [f"the fixed-point form of {x}" for x in ("m", "mhat", "t", "q", "r")]
    (bad,) = check_derivation(f"{user_file}:HOP4", ["mhat = 2*t"])
    assert not bad.equivalent and bad.example["user"] == pytest.approx(2 * bad.example["derived"])
