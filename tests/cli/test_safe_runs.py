"""Safe long runs from the command line: Ctrl-C / SIGTERM keep the finished rows and checks,
``--resume`` finishes them, bad input is refused before anything is computed or written."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from phasekit import _registry
from phasekit.cli import main

MODEL = "perceptron.binary_storage"
GRID = ["--x", "alpha=0.1:0.8:20", "--y", "kappa=0:0.5:12"]
STEM = "perceptron_binary_storage_alpha_kappa"

# Runs `phasekit ...` (same entry point as the console script) with rows after the third one held
# back until the test sends a signal: the interruption always lands mid-run, whatever the speed of
# the machine.
DRIVER = r"""
import sys, time
import phasekit.solvers._sweep as sw
from phasekit.cli import main
_row, calls = sw._row, [0]
def held_row(*args, **kw):
    calls[0] += 1
    if calls[0] > 3:
        time.sleep(300)
    return _row(*args, **kw)
sw._row = held_row
sys.exit(main(sys.argv[1:]))
"""


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path):
    """(comment lines, header, rows) of a sweep CSV."""
    with open(path) as f:
        lines = f.read().splitlines()
    comments = [l for l in lines if l.startswith("#")]
    rows = list(csv.reader(l for l in lines if not l.startswith("#")))
    return comments, rows[0], rows[1:]


def numeric_table(header, rows):
    cols = [i for i, h in enumerate(header) if h != "status"]
    return np.array([[float(r[i]) for i in cols] for r in rows])


def wait_for(predicate, timeout=90.0, proc=None):
    t0 = time.monotonic()
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended early (rc {proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() - t0 > timeout:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def interrupted_diagram(tmp_path, sig):
    out = tmp_path / "run"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, "diagram", MODEL, *GRID, "--workers", "1",
                             "--out", str(out), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        partial = out / f"{STEM}.partial"
        wait_for(lambda: len(list(partial.glob("row_*.npz"))) >= 3, proc=proc)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out, proc.returncode, stderr


def check_partial_run(out, rc, stderr):
    """An interrupted diagram: exit 130, one line on stderr, a valid partial table on disk."""
    assert rc == 130, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phasekit: interrupted") and "--resume" in lines[0]

    # a valid partial table: every grid point present, the missing ones marked, the file marked partial
    comments, header, rows = read_csv(out / f"{STEM}.csv")
    assert "# partial: true" in comments
    assert len(rows) == 20 * 12
    table = numeric_table(header, rows)
    kappa = table[:, header.index("kappa")]
    done = np.isin(kappa, np.linspace(0, 0.5, 12)[:3])
    conv = table[:, [h for h in header if h != "status"].index("converged")]
    assert np.isnan(table[~done, [h for h in header if h != "status"].index("entropy")]).all()
    assert not conv[~done].any() and conv[done].any()
    d = json.loads((out / f"{STEM}.json").read_text())
    assert d["provenance"]["partial"] is True and d["provenance"]["rows_done"] == 3
    status = np.array(d["status"], dtype=object)  # (alpha, kappa)
    assert (status[:, 3:] == "not_converged").all() and (status[:, :3] == "converged").any()
    if "status" in header:
        assert {r[header.index("status")] for r, k in zip(rows, done) if not k} == {"not_converged"}


def test_sigterm_stops_a_diagram_cleanly(tmp_path):
    check_partial_run(*interrupted_diagram(tmp_path, signal.SIGTERM))


def test_sigint_then_resume_equals_an_uninterrupted_diagram(tmp_path, capsys):
    out, *rest = interrupted_diagram(tmp_path, signal.SIGINT)
    check_partial_run(out, *rest)

    # resume: only the missing rows are computed, the table equals an uninterrupted run's
    code, _, _ = run(capsys, "diagram", MODEL, *GRID, "--workers", "1", "--out", out, "--no-progress", "--resume")
    assert code in (0, 1)
    assert not (out / f"{STEM}.partial").exists()
    ref = tmp_path / "ref"
    code_ref, _, _ = run(capsys, "diagram", MODEL, *GRID, "--workers", "1", "--out", ref, "--no-progress")
    assert code == code_ref
    c1, h1, r1 = read_csv(out / f"{STEM}.csv")
    c2, h2, r2 = read_csv(ref / f"{STEM}.csv")
    assert h1 == h2
    # rows computed in another process may differ in the last bits (numpy's SIMD summation depends on
    # memory alignment), never more; statuses must be identical
    np.testing.assert_allclose(numeric_table(h1, r1), numeric_table(h2, r2), rtol=1e-12, atol=1e-15)
    k = h1.index("status")
    assert [r[k] for r in r1] == [r[k] for r in r2]
    assert [c for c in c1 if not c.startswith("# date")] == [c for c in c2 if not c.startswith("# date")]
    assert "partial" not in json.loads((out / f"{STEM}.json").read_text())["provenance"]


def test_diagram_exit_code_and_status_counts(capsys, tmp_path):
    code, out, err = run(capsys, "diagram", MODEL, "--x", "alpha=0.1:0.5:5", "--y", "kappa=0:0.3:3",
                         "--out", tmp_path / "a", "--no-progress")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert d["points"] == 15 and d["statuses"] == {"converged": 15}
    # past the RS q -> 1 line (4/pi at kappa = 0) there is no RS solution: exit 1, counts on stderr
    code, out, err = run(capsys, "diagram", MODEL, "--x", "alpha=0.5:1.6:6", "--out", tmp_path / "b",
                         "--no-progress")
    d = json.loads(out)
    assert code == 1
    assert sum(d["statuses"].values()) == d["points"] == 6 and d["statuses"].get("converged", 0) < 6
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phasekit: ")
    for status, n in d["statuses"].items():
        assert f"{status}: {n}" in lines[0]


@pytest.fixture
def no_computation(monkeypatch):
    """Fail the test if a sweep row is solved."""
    import phasekit.solvers._sweep as sw

    def forbidden(*a, **k):
        raise AssertionError("computed before validating")
    monkeypatch.setattr(sw, "_row", forbidden)
    monkeypatch.setattr(sw, "solve_batch", forbidden)


@pytest.mark.parametrize("argv,fragment", [
    (["--x", "alpha=0:1:3", "--observable", "nope"], "unknown observable 'nope'"),
    (["--x", "alpha=0:1:3", "--branch", "nope"], "unknown branch 'nope'"),
    (["--x", "alpha=0:1:3", "--y", "alpha=0:1:3"], "the same parameter 'alpha' is on --x and --y"),
    (["--x", "alpha=0:1:2000", "--y", "kappa=0:1:1000"], "limit of 1,000,000"),
    (["--x", "beta=0:1:3"], "unknown parameter 'beta'"),
    (["--x", "alpha=0:1:3", "--set", "beta=1"], "unknown parameter 'beta'"),
    (["--x", "alpha=0:1:3", "--set", "alpha=0.5"], "both swept"),
    (["--x", "alpha=-1:1:3"], "'alpha' parameter"),
    (["--x", "alpha=0:1:3", "--workers", "0"], "'workers' parameter"),
    (["--x", "alpha=0:1:3", "--resume", "--out", "{file}"], "is an existing file"),
])
def test_bad_diagram_input_exits_2_before_computing_or_writing(capsys, tmp_path, no_computation, argv, fragment):
    (tmp_path / "a_file").write_text("keep me")
    out = tmp_path / "out"
    argv = [a.replace("{file}", str(tmp_path / "a_file")) for a in argv]
    code, stdout, err = run(capsys, "diagram", MODEL, "--out", out, "--no-progress", *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phasekit: error:") and fragment in lines[0]
    assert stdout == ""
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["a_file"] and (tmp_path / "a_file").read_text() == "keep me"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unwritable_out_folder_exits_2(capsys, tmp_path, no_computation):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code, _, err = run(capsys, "diagram", MODEL, "--x", "alpha=0:1:3", "--out", ro / "out", "--no-progress")
    finally:
        ro.chmod(0o700)
    assert code == 2 and err.startswith("phasekit: error:") and "not writable" in err
    assert os.listdir(ro) == []


def test_unreachable_dask_scheduler_exits_2(capsys, tmp_path, no_computation):
    pytest.importorskip("dask.distributed")
    code, _, err = run(capsys, "diagram", MODEL, "--x", "alpha=0:1:3", "--out", tmp_path / "out",
                       "--dask", "tcp://127.0.0.1:9", "--no-progress")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith("phasekit: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()


def test_missing_dask_exits_2(capsys, tmp_path, monkeypatch, no_computation):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if not installed
    code, _, err = run(capsys, "diagram", MODEL, "--x", "alpha=0:1:3", "--out", tmp_path / "out",
                       "--dask", "tcp://127.0.0.1:9", "--no-progress")
    assert code == 2 and err.startswith("phasekit: error:") and "pip install" in err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- reproduce
@pytest.fixture
def fake_checks(monkeypatch):
    """Two tiny checks in place of the registry; ``calls`` records which ran."""
    calls = []
    state = {"interrupt": None}

    def make(name, passed):
        def check(out_dir, *, quick=False, seed=0):
            calls.append(name)
            if state["interrupt"] == name:
                raise KeyboardInterrupt
            path = os.path.join(out_dir, f"{name}.csv")
            with open(path, "w") as f:
                f.write("x\n1\n")
            return _registry.CheckResult(name, passed, {"value": 1.5, "label": "ok"}, (), (path,),
                                         f"summary of {name}", seed)
        return _registry.CheckSpec(name, check, f"fake {name}")

    monkeypatch.setattr(_registry, "CHECKS", {"fake_a": make("fake_a", True), "fake_b": make("fake_b", False)})
    return calls, state


def test_reproduce_saves_each_check_and_resume_skips_finished(capsys, tmp_path, fake_checks):
    calls, state = fake_checks
    out = tmp_path / "res"
    state["interrupt"] = "fake_b"  # Ctrl-C while the second check runs
    code, _, err = run(capsys, "reproduce", "--out", out)
    assert code == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("phasekit: interrupted") and "--resume" in err
    assert "fake_b" in err  # the progress bar names the running check
    saved = json.loads((out / "fake_a" / "result.json").read_text())
    assert saved["name"] == "fake_a" and saved["passed"] is True and saved["metrics"]["value"] == 1.5
    assert not (out / "fake_b" / "result.json").exists()
    report = (out / "report.md").read_text()
    assert "fake_a" in report and "Incomplete" in report and "not run: fake_b" in report
    assert calls == ["fake_a", "fake_b"]

    state["interrupt"] = None
    code, stdout, _ = run(capsys, "reproduce", "--out", out, "--resume", "--no-progress")
    assert calls == ["fake_a", "fake_b", "fake_b"]  # fake_a loaded from its result file
    assert code == 1 and "1 passed, 1 failed" in stdout  # fake_b fails by design
    report = (out / "report.md").read_text()
    assert "Incomplete" not in report and "summary of fake_a" in report and "summary of fake_b" in report
    summary = json.loads((out / "summary.json").read_text())
    assert [c["name"] for c in summary["checks"]] == ["fake_a", "fake_b"]
    assert summary["checks"][0]["metrics"] == {"value": 1.5, "label": "ok"}

    # --quick results are not reused for a full run
    code, _, _ = run(capsys, "reproduce", "--out", out, "--resume", "--quick", "--no-progress")
    assert calls[-2:] == ["fake_a", "fake_b"]


def test_reproduce_rejects_a_file_as_out_and_unknown_checks(capsys, tmp_path, fake_checks):
    calls, _ = fake_checks
    f = tmp_path / "f"
    f.write_text("")
    code, _, err = run(capsys, "reproduce", "--out", f)
    assert code == 2 and err.startswith("phasekit: error:") and "existing file" in err
    code, _, err = run(capsys, "reproduce", "--out", tmp_path / "o", "--only", "nope")
    assert code == 2 and "unknown check 'nope'" in err
    assert calls == [] and not (tmp_path / "o").exists()
