"""Sweeps as a library: status per point, rows saved as they finish, resume, validation up front,
no worker processes unless asked for, and the hatched status regions of the figure."""
import dataclasses
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import phasekit.solvers._sweep as sw
from phasekit import InvalidParameterError
from phasekit.solvers import sweep
from phasekit.solvers._io import RunInterrupted

MODEL = "perceptron.binary_storage"
GRID = {"alpha": np.linspace(0.1, 0.6, 6), "kappa": np.linspace(0.0, 0.4, 5)}
REAL_ROW = sw._row
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def assert_same_sweep(a, b):
    assert list(a.values) == list(b.values)
    for k in a.values:
        np.testing.assert_array_equal(a.values[k], b.values[k])
    for field in ("converged", "residual", "iterations", "status", "error_estimate"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.fixture(scope="module")
def reference():
    return sweep(MODEL, GRID, progress=False)


def counting_row(monkeypatch, stop_after=None):
    """Count solved rows; raise KeyboardInterrupt (as Ctrl-C would) when row ``stop_after`` starts."""
    calls = []

    def row(*args):
        if stop_after is not None and len(calls) == stop_after:
            raise KeyboardInterrupt
        calls.append(args[1])
        return REAL_ROW(*args)
    monkeypatch.setattr(sw, "_row", row)
    return calls


def test_sweep_reports_status_and_error_estimate_per_point(reference):
    assert reference.status.shape == reference.converged.shape == (6, 5)
    assert reference.error_estimate.shape == (6, 5)
    assert set(reference.status.ravel()) <= set(sw.STATUSES)
    np.testing.assert_array_equal(reference.status == "converged", reference.converged)


def test_interrupted_sweep_keeps_rows_and_resume_computes_only_missing(tmp_path, monkeypatch, reference):
    stem = str(tmp_path / "d")
    counting_row(monkeypatch, stop_after=2)
    with pytest.raises(RunInterrupted) as info:
        sweep(MODEL, GRID, progress=False, out=stem)
    part = info.value.partial
    assert isinstance(info.value, KeyboardInterrupt)
    assert sorted(os.listdir(stem + ".partial")) == ["manifest.json", "row_000000.npz", "row_000001.npz"]
    assert part.provenance["partial"] is True and part.provenance["rows_done"] == 2
    assert (part.status[:, 2:] == "not_converged").all() and np.isnan(part.values["q"][:, 2:]).all()
    np.testing.assert_array_equal(part.values["q"][:, :2], reference.values["q"][:, :2])
    assert info.value.paths == (stem + ".csv", stem + ".json")
    assert json.load(open(stem + ".json"))["provenance"]["partial"] is True

    calls = counting_row(monkeypatch)
    res = sweep(MODEL, GRID, progress=False, out=stem, resume=True)
    assert [c["kappa"] for c in calls] == list(GRID["kappa"][2:])  # only the missing rows
    assert_same_sweep(res, reference)
    assert "partial" not in res.provenance
    assert not os.path.exists(stem + ".partial")
    assert "partial" not in json.load(open(stem + ".json"))["provenance"]


def test_resume_refuses_rows_of_another_sweep_and_fresh_runs_discard_them(tmp_path, monkeypatch):
    stem = str(tmp_path / "d")
    counting_row(monkeypatch, stop_after=1)
    with pytest.raises(RunInterrupted):
        sweep(MODEL, GRID, progress=False, out=stem)
    other = dict(GRID, kappa=GRID["kappa"] + 0.01)
    calls = counting_row(monkeypatch)
    with pytest.raises(InvalidParameterError, match="different sweep .*axes"):
        sweep(MODEL, other, progress=False, out=stem, resume=True)
    with pytest.raises(InvalidParameterError, match="different sweep .*branch"):
        sweep("perceptron.ising_teacher", {"alpha": [0.5]}, progress=False, out=stem, resume=True)
    assert calls == []
    sweep(MODEL, GRID, progress=False, out=stem)  # no resume: everything computed again
    assert len(calls) == len(GRID["kappa"])


def test_resume_without_saved_rows_computes_everything(tmp_path, reference):
    res = sweep(MODEL, GRID, progress=False, out=tmp_path / "new", resume=True)
    assert_same_sweep(res, reference)


@pytest.mark.parametrize("kw,match", [
    (dict(branch="nope"), "unknown branch 'nope'"),
    (dict(params={"alpha": 0.3}), "both swept"),
    (dict(params={"beta": 0.3}), "unknown parameter 'beta'"),
    (dict(max_points=29), "6 x 5 = 30 points, more than the limit of 29"),
    (dict(workers=0), "'workers' parameter"),
    (dict(workers=1.5), "'workers' parameter"),
    (dict(resume=True), "'resume' parameter of sweep needs 'out'"),
])
def test_sweep_validates_everything_before_computing(monkeypatch, kw, match):
    calls = counting_row(monkeypatch)
    with pytest.raises(InvalidParameterError, match=match):
        sweep(MODEL, GRID, progress=False, **kw)
    assert calls == []


def test_sweep_refuses_a_file_in_the_way_of_its_output(tmp_path, monkeypatch):
    calls = counting_row(monkeypatch)
    (tmp_path / "f").write_text("")
    with pytest.raises(InvalidParameterError, match="existing file"):
        sweep(MODEL, GRID, progress=False, out=tmp_path / "f" / "d")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InvalidParameterError, match="a folder of that name exists"):
        sweep(MODEL, GRID, progress=False, out=tmp_path / "d")
    assert calls == [] and sorted(os.listdir(tmp_path)) == ["d.csv", "f"]


def test_default_sweep_spawns_no_processes(monkeypatch, reference):
    import concurrent.futures

    def no_pool(*a, **k):
        raise AssertionError("a process pool was started")
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    res = sweep(MODEL, GRID, progress=False)
    assert res.provenance["backend"] == "in-process"
    assert_same_sweep(res, reference)


def test_readme_ten_lines_run_as_a_script(tmp_path):
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    section = readme[readme.index("## Ten lines of Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "pk.sweep(" in code
    script = tmp_path / "ten_lines.py"
    script.write_text(code)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "BrokenProcessPool" not in r.stderr and "Traceback" not in r.stderr


def test_csv_has_status_and_error_estimate_columns(tmp_path, reference):
    path = reference.to_csv(tmp_path / "s.csv")
    header = next(l for l in open(path) if not l.startswith("#")).strip().split(",")
    assert "status" in header and "error_estimate" in header
    rows = [l.strip().split(",") for l in open(path) if not l.startswith("#")][1:]
    assert [r[header.index("status")] for r in rows] == list(reference.status.ravel())


# --------------------------------------------------------------------------- figure
def fake_statuses(res):
    """Mark part of a real sweep as no_solution / unstable / not_converged (values NaN where unsolved)."""
    st = np.array(res.status, dtype=object)
    st[:] = "converged"
    st[-2:, -2:] = "no_solution"
    st[-1, 0] = "unstable"
    st[0, 1] = "not_converged"
    keep = np.isin(st, ["converged", "unstable"])
    values = {k: np.where(keep, v, np.nan) for k, v in res.values.items()}
    values["entropy"] = np.where(st == "unstable", 50.0, values["entropy"])  # a stray value
    return dataclasses.replace(res, values=values, status=st, converged=st == "converged")


@pytest.fixture
def captured_figure(monkeypatch):
    import phasekit.validation.figures as figures
    figs = []
    real = figures.save_figure

    def save(fig, out_dir, name):
        figs.append(fig)
        return real(fig, out_dir, name)
    monkeypatch.setattr(figures, "save_figure", save)
    return figs


def test_plot_sweep_hatches_each_status_and_scales_on_converged_points(tmp_path, reference, captured_figure):
    from matplotlib.collections import QuadMesh

    from phasekit.validation.figures import STATUS_STYLES, plot_sweep
    res = fake_statuses(reference)
    path = plot_sweep(res, tmp_path / "map.png")
    assert os.path.getsize(path) > 0
    fig = captured_figure[0]
    ax = fig.axes[0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [STATUS_STYLES[s][0] for s in ("no_solution", "unstable", "not_converged")]
    assert "no solution (no_solution)" in labels
    from matplotlib.contour import ContourSet
    hatches = [c.hatches[0] for c in ax.collections if isinstance(c, ContourSet)]
    assert hatches == [STATUS_STYLES[s][1] for s in ("no_solution", "unstable", "not_converged")]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    good = res.values["entropy"][res.converged]
    assert mesh.norm.vmin == pytest.approx(good.min()) and mesh.norm.vmax == pytest.approx(good.max())
    # the legend is off the data: below the axes
    fig.canvas.draw()
    assert fig.legends[0].get_window_extent().y1 <= ax.get_window_extent().y0


def test_plot_sweep_1d_hatches_spans(tmp_path, captured_figure):
    from phasekit.validation.figures import STATUS_STYLES, plot_sweep
    res = sweep(MODEL, {"alpha": np.linspace(0.1, 0.6, 8)}, progress=False)
    st = np.array(res.status, dtype=object)
    st[:] = "converged"
    st[5:] = "no_solution"
    values = {k: np.where(st == "converged", v, np.nan) for k, v in res.values.items()}
    res = dataclasses.replace(res, values=values, status=st, converged=st == "converged")
    plot_sweep(res, tmp_path / "curve.png")
    fig = captured_figure[0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["entropy", STATUS_STYLES["no_solution"][0]]
    lo, hi = fig.axes[0].get_ylim()
    good = values["entropy"][:5]
    assert lo < good.min() and hi > good.max() and hi - lo < 1.2 * (good.max() - good.min())
