"""``phasekit reproduce``: every registered check, its figures and tables, and one markdown report."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import time
import traceback

__all__ = ["reproduce", "Report"]

#: Name of the file each finished check leaves in its folder (what ``resume=True`` looks for).
RESULT_FILE = "result.json"


@dataclasses.dataclass(frozen=True)
class Report:
    """What ``reproduce`` wrote: ``report.md`` at ``path``, pass/fail counts and the check results.

    ``interrupted`` is True when the run was stopped before every check finished (``n_missing``
    checks did not run); ``n_resumed`` results were loaded from an earlier run (``resume=True``).
    """

    path: str
    n_passed: int
    n_failed: int
    results: tuple
    n_missing: int = 0
    n_resumed: int = 0
    interrupted: bool = False


def _json_default(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return v if math.isfinite(v) else None


def _save_result(path, res, seconds, *, quick, seed, error):
    from .solvers._io import atomic_write
    d = {"name": res.name, "passed": bool(res.passed), "metrics": res.metrics, "figures": list(res.figures),
         "tables": list(res.tables), "summary": res.summary, "seed": res.seed, "seconds": seconds,
         "quick": bool(quick), "run_seed": seed, "error": bool(error)}
    with atomic_write(path) as f:
        json.dump(d, f, indent=1, default=_json_default)


def _load_result(path, *, quick, seed):
    """``(CheckResult, seconds)`` saved by a finished run with the same settings, or None."""
    from ._registry import CheckResult
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(d, dict) or d.get("error") or d.get("quick") != bool(quick) or d.get("run_seed") != seed:
        return None  # a check that raised, or one run with other settings: run it again
    try:
        res = CheckResult(d["name"], bool(d["passed"]), dict(d.get("metrics") or {}), tuple(d.get("figures") or ()),
                          tuple(d.get("tables") or ()), d.get("summary") or "", d.get("seed"))
    except (KeyError, TypeError):
        return None
    return res, float(d.get("seconds") or 0.0)


def reproduce(out_dir="phasekit-results", *, quick=False, progress=True, only=None, resume=False) -> Report:
    """Run every check registered for the reproduce report into ``out_dir/<check>/`` and write
    ``out_dir/report.md`` and ``out_dir/summary.json``.

    ``quick=True`` asks each check for its smallest faithful run (the whole report in about five
    minutes on two cores). ``only`` restricts to the named checks. A check that raises is
    reported as failed with its traceback; the others still run.

    Each check's result is saved as ``out_dir/<check>/result.json`` as soon as it finishes, and the
    report is rewritten after every check. With ``resume=True`` a check whose result file is
    there (from a run with the same ``quick``, and that did not raise) is not run again: its
    saved result goes into the report. On Ctrl-C (or SIGTERM under the ``phasekit`` command) the
    report is written for the checks that finished and
    :class:`~phasekit.solvers._io.RunInterrupted` is raised, with the partial :class:`Report`.
    """
    from tqdm.auto import tqdm

    from ._errors import InvalidParameterError
    from ._registry import CHECKS, CheckResult
    from .solvers._io import RunInterrupted, check_output_dir

    check_output_dir(out_dir)
    if only:
        unknown = [n for n in only if n not in CHECKS]
        if unknown:
            raise InvalidParameterError(f"unknown check {unknown[0]!r}; known checks: {', '.join(sorted(CHECKS))}")
    specs = [c for c in sorted(CHECKS.values(), key=lambda c: (c.name != "perceptron_theory", c.name))
             if (c.name in only if only else c.in_reproduce)]
    os.makedirs(out_dir, exist_ok=True)
    seed = 0
    results = []
    n_resumed = 0
    bar = tqdm(specs, desc="phasekit reproduce", disable=not progress)
    try:
        for spec in bar:
            sub = os.path.join(out_dir, spec.name.replace(".", "_"))
            result_path = os.path.join(sub, RESULT_FILE)
            saved = _load_result(result_path, quick=quick, seed=seed) if resume else None
            if saved is not None:
                bar.set_postfix_str(f"{spec.name} (saved)")
                results.append(saved)
                n_resumed += 1
                continue
            bar.set_postfix_str(spec.name)
            os.makedirs(sub, exist_ok=True)
            t0 = time.perf_counter()
            error = False
            try:
                res = spec.func(sub, quick=quick, seed=seed)
            except Exception as e:  # report, keep going
                error = True
                res = CheckResult(spec.name, False, {}, (), (),
                                  f"**error**: {e!r}\n\n```\n{traceback.format_exc()}\n```")
            dt = time.perf_counter() - t0
            _save_result(result_path, res, dt, quick=quick, seed=seed, error=error)
            results.append((res, dt))
            _write_report(out_dir, results, quick=quick, missing=[s.name for s in specs[len(results):]])
    except KeyboardInterrupt:
        bar.close()
        missing = [s.name for s in specs[len(results):]]
        report = _write_report(out_dir, results, quick=quick, missing=missing, interrupted=True, n_resumed=n_resumed)
        raise RunInterrupted(f"{len(results)} of {len(specs)} checks finished (report: {report.path})",
                             report, (report.path,),
                             "rerun with resume=True to run only the missing checks") from None
    finally:
        bar.close()
    return _write_report(out_dir, results, quick=quick, missing=[], n_resumed=n_resumed)


def _write_report(out_dir, results, *, quick, missing, interrupted=False, n_resumed=0) -> Report:
    """Write ``report.md`` and ``summary.json`` (atomically) for the finished ``results``."""
    from ._version import __version__
    from .solvers._io import atomic_write
    from .solvers._results import provenance

    path = os.path.join(out_dir, "report.md")
    with atomic_write(path) as f:
        f.write(f"# phasekit {__version__} — reproduced results{' (quick)' if quick else ''}\n\n")
        if missing:
            f.write(f"**Incomplete{' (interrupted)' if interrupted else ''}**: {len(results)} of "
                    f"{len(results) + len(missing)} checks finished; not run: {', '.join(missing)}. "
                    "Run `phasekit reproduce --resume` (same options) to finish.\n\n")
        f.write("| check | result | time (s) | figures |\n|---|---|---|---|\n")
        for res, dt in results:
            figs = ", ".join(f"[{os.path.basename(p)}]({os.path.relpath(p, out_dir)})" for p in res.figures)
            f.write(f"| {res.name} | {'passed' if res.passed else '**FAILED**'} | {dt:.1f} | {figs} |\n")
        for res, dt in results:
            f.write(f"\n## {res.name}\n\n{res.summary}\n\n")
            for p in res.figures:
                f.write(f"![{os.path.basename(p)}]({os.path.relpath(p, out_dir)})\n\n")
            if res.metrics:
                f.write("<details><summary>metrics</summary>\n\n| metric | value |\n|---|---|\n")
                for k, v in res.metrics.items():
                    f.write(f"| {k} | {v:.6g} |\n" if isinstance(v, (int, float)) else f"| {k} | {v} |\n")
                f.write("\n</details>\n")
    with atomic_write(os.path.join(out_dir, "summary.json")) as f:
        json.dump({"provenance": provenance(quick=quick, complete=not missing, not_run=list(missing)),
                   "checks": [{"name": r.name, "passed": r.passed, "seconds": dt, "metrics": r.metrics,
                               "figures": list(r.figures), "tables": list(r.tables)} for r, dt in results]},
                  f, indent=1, default=_json_default)
    n_pass = sum(1 for r, _ in results if r.passed)
    return Report(path, n_pass, len(results) - n_pass, tuple(r for r, _ in results), n_missing=len(missing),
                  n_resumed=n_resumed, interrupted=interrupted)
