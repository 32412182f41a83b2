"""``phasekit reproduce``: every registered check, its figures and tables, and one markdown report."""
from __future__ import annotations

import dataclasses
import json
import os
import time
import traceback

__all__ = ["reproduce", "Report"]


@dataclasses.dataclass(frozen=True)
class Report:
    path: str
    n_passed: int
    n_failed: int
    results: tuple


def reproduce(out_dir="phasekit-results", *, quick=False, progress=True, only=None) -> Report:
    """Run every check registered for the reproduce report into ``out_dir/<check>/`` and write
    ``out_dir/report.md`` and ``out_dir/summary.json``.

    ``quick=True`` asks each check for its smallest faithful run (the whole report in about five
    minutes on two cores). ``only`` restricts to the named checks. A check that raises is
    reported as failed with its traceback; the others still run.
    """
    from tqdm.auto import tqdm

    from ._registry import CHECKS, CheckResult
    from ._version import __version__
    from .solvers._results import provenance

    os.makedirs(out_dir, exist_ok=True)
    specs = [c for c in sorted(CHECKS.values(), key=lambda c: (c.name != "perceptron_theory", c.name))
             if c.in_reproduce and (not only or c.name in only)]
    results = []
    for spec in tqdm(specs, desc="phasekit reproduce", disable=not progress):
        sub = os.path.join(out_dir, spec.name.replace(".", "_"))
        os.makedirs(sub, exist_ok=True)
        t0 = time.perf_counter()
        try:
            res = spec.func(sub, quick=quick, seed=0)
        except Exception as e:  # report, keep going
            res = CheckResult(spec.name, False, {}, (), (), f"**error**: {e!r}\n\n```\n{traceback.format_exc()}\n```")
        results.append((res, time.perf_counter() - t0))
    path = os.path.join(out_dir, "report.md")
    with open(path, "w") as f:
        f.write(f"# phasekit {__version__} — reproduced results{' (quick)' if quick else ''}\n\n")
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
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump({"provenance": provenance(quick=quick),
                   "checks": [{"name": r.name, "passed": r.passed, "seconds": dt, "metrics": r.metrics,
                               "figures": list(r.figures), "tables": list(r.tables)} for r, dt in results]},
                  f, indent=1, default=lambda x: None)
    n_pass = sum(1 for r, _ in results if r.passed)
    return Report(path, n_pass, len(results) - n_pass, tuple(r for r, _ in results))
