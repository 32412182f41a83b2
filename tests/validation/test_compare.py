"""Overlay measured data on a theory curve (phasekit compare)."""
import csv
import json
import os

import numpy as np
import pytest

from phasekit.cli import main
from phasekit.validation import enumerate_storage
from phasekit.validation.compare import compare_data, read_measurements


@pytest.fixture(scope="module")
def enumeration_csv(tmp_path_factory):
    """Exhaustive-enumeration entropies (N = 17, 60 instances, seed 0) with error bars: standard
    error over instances plus a finite-size allowance of 0.015 nats (spec check 15 allows 0.02)."""
    r = enumerate_storage(17, 0.6, 60, seed=0)
    d = tmp_path_factory.mktemp("data")
    path = d / "enum.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["alpha", "entropy", "err"])
        for a, s, e in zip(r.alpha[1:], r.entropy[1:], r.entropy_sem[1:]):
            w.writerow([a, s, float(np.hypot(e, 0.015))])
    shifted = d / "shifted.csv"
    with open(shifted, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["alpha", "entropy", "err"])
        for a, s, e in zip(r.alpha[1:], r.entropy[1:], r.entropy_sem[1:]):
            w.writerow([a, s + 0.05, float(np.hypot(e, 0.015))])
    return str(path), str(shifted)


def test_enumeration_data_agree_with_rs_theory(enumeration_csv, tmp_path):
    good, _ = enumeration_csv
    res = compare_data(good, "perceptron.binary_storage", x="alpha", y="entropy", err="err", out_dir=str(tmp_path))
    assert not res.flagged and res.p_value > 1e-3
    assert res.n == 10 and os.path.getsize(res.figure) > 0
    rows = list(csv.DictReader(open(res.table)))
    assert set(rows[0]) == {"alpha", "entropy", "err", "theory", "z", "chi2"}


def test_shifted_data_are_flagged(enumeration_csv, tmp_path, capsys):
    _, shifted = enumeration_csv
    code = main(["compare", shifted, "--model", "perceptron.binary_storage", "--x", "alpha", "--y", "entropy",
                 "--err", "err", "--out", str(tmp_path)])
    assert code == 1
    d = json.loads(capsys.readouterr().out)
    assert d["flagged"] and d["chi2_per_point"] > 5


def test_json_input(tmp_path):
    p = tmp_path / "d.json"
    # Gibbs learning: literature values R(alpha) of the spherical teacher-student (replica spec table)
    json.dump({"alpha": [0.5, 1.0, 2.0], "R": [0.280326, 0.486264, 0.728298], "err": [1e-5, 1e-5, 1e-5]}, open(p, "w"))
    res = compare_data(str(p), "perceptron.spherical_teacher", x="alpha", y="R", err="err", out_dir=str(tmp_path))
    assert not res.flagged and res.max_abs_z < 1


@pytest.mark.parametrize("content,fragment", [
    ("alpha,entropy\n0.1,0.5\n0.2,\n", "row 2: missing value in column 'entropy'"),
    ("alpha,entropy\n0.1,0.5\n0.2,nan\n", "row 2, column 'entropy'"),
    ("alpha,entropy\n0.1,0.5\n-0.2,0.4\n", "row 2, column 'alpha'"),
    ("alpha,s\n0.1,0.5\n", "missing value in column 'entropy'"),
    ("alpha,entropy\n0.1,abc\n", "'abc' is not a number"),
])
def test_malformed_data_one_line_error_and_nothing_written(tmp_path, capsys, content, fragment):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    out = tmp_path / "out"
    code = main(["compare", str(p), "--model", "perceptron.binary_storage", "--x", "alpha", "--y", "entropy",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_unequal_json_columns(tmp_path):
    p = tmp_path / "d.json"
    json.dump({"alpha": [0.5, 1.0], "R": [0.3]}, open(p, "w"))
    with pytest.raises(ValueError, match="unequal lengths"):
        read_measurements(str(p), ["alpha", "R"])
