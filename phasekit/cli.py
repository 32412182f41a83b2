"""The ``phasekit`` command line: a thin layer over the Python API.

Exit codes: 0 success; 1 a solver did not converge or a check failed (the reason is printed);
2 bad input (unknown model, out-of-domain parameter, malformed ``--set``), found before anything
is computed or written; 130 interrupted (Ctrl-C or SIGTERM; long runs keep what finished and
continue with ``--resume``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from ._errors import InvalidParameterError

__all__ = ["main"]


def _parse_set(items):
    out = {}
    for it in items or []:
        if "=" not in it:
            raise InvalidParameterError(f"malformed --set {it!r}: expected name=value")
        k, v = it.split("=", 1)
        k = k.strip()
        try:
            out[k] = float(v)
        except ValueError:
            raise InvalidParameterError(f"malformed --set {it!r}: {v!r} is not a number") from None
    return out


def _parse_axis_spec(text, flag):
    """``NAME=START:STOP:NUM`` -> ``(name, start, stop, num)`` (no array built yet)."""
    try:
        name, rng = text.split("=", 1)
        start, stop, num = rng.split(":")
        start, stop, num = float(start), float(stop), int(num)
    except ValueError:
        raise InvalidParameterError(f"malformed {flag} {text!r}: expected name=start:stop:num") from None
    if num < 1:
        raise InvalidParameterError(f"malformed {flag} {text!r}: num must be >= 1")
    return name.strip(), start, stop, num


def _dumps(obj):
    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, float) and not math.isfinite(x):
            return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
        return x
    return json.dumps(clean(obj), indent=2)


# --------------------------------------------------------------------------- commands
def cmd_list(args):
    from ._registry import CHECKS, list_models, get_model
    models = []
    for name in list_models():
        m = get_model(name)
        models.append({
            "name": name, "description": m.description,
            "params": {p.name: {"domain": p.interval(), "default": p.default, "doc": p.doc} for p in m.control},
            "order_parameters": {p.name: p.interval() for p in m.order},
            "branches": [b.name for b in m.branches],
            "transitions": {t.name: t.doc for t in m.transitions},
        })
    checks = [{"name": c.name, "description": c.description} for c in sorted(CHECKS.values(), key=lambda c: c.name)]
    if args.json:
        print(_dumps({"models": models, "checks": checks}))
        return 0
    print("Models:")
    for m in models:
        ps = ", ".join(f"{k} in {v['domain']}" + (f" (default {v['default']:g})" if v["default"] is not None else "")
                       for k, v in m["params"].items())
        print(f"  {m['name']:34s} {m['description']}")
        print(f"  {'':34s} params: {ps}")
        if m["transitions"]:
            print(f"  {'':34s} transitions: {', '.join(m['transitions'])}")
        if len(m["branches"]) > 1:
            print(f"  {'':34s} branches: {', '.join(m['branches'])}")
    print("Checks (theory vs simulation):")
    for c in checks:
        print(f"  {c['name']:34s} {c['description']}")
    return 0


def cmd_solve(args):
    from .solvers import solve
    res = solve(args.model, _parse_set(args.set), branch=args.branch, tol=args.tol, xtol=args.xtol,
                method=args.method, maxiter=args.maxiter)
    if args.json:
        d = res.to_dict()
        print(_dumps(d))
    else:
        print(f"{res.model}  {', '.join(f'{k}={v:g}' for k, v in res.params.items())}  branch={res.branch}")
        for k, v in res.order_parameters.items():
            print(f"  {k:12s} = {v:.12g}")
        print(f"  {'free_entropy':12s} = {res.free_entropy:.12g}")
        for k, v in res.observables.items():
            print(f"  {k:12s} = {v:.12g}")
        print(f"  status={res.status} iterations={res.iterations} residual={res.residual:.3g} "
              f"error_estimate={res.error_estimate:.2g} ({res.message})")
    if not res.converged:
        print(f"phasekit: {res.status.replace('_', ' ')}: {res.message}", file=sys.stderr)
        return 1
    return 0


def cmd_transition(args):
    from .solvers import find_transition
    res = find_transition(args.model, args.name, _parse_set(args.set))
    if args.json:
        print(_dumps(res.to_dict()))
    else:
        print(f"{res.model} {res.name}: {res.along} = {res.value:.12g}  ({res.kind}; {res.message})")
        if res.order_parameters:
            print("  at: " + ", ".join(f"{k}={v:.10g}" for k, v in res.order_parameters.items()))
    if not res.converged:
        print(f"phasekit: transition not located: {res.message}", file=sys.stderr)
        return 1
    return 0


def cmd_diagram(args):
    from .solvers._fixed_point import as_model
    from .solvers._io import check_output_dir
    from .solvers._results import STATUSES
    from .solvers._sweep import MAX_POINTS, check_observable, sweep
    # every input checked before anything is computed or written
    specs = [_parse_axis_spec(args.x, "--x")] + ([_parse_axis_spec(args.y, "--y")] if args.y else [])
    if len(specs) == 2 and specs[0][0] == specs[1][0]:
        raise InvalidParameterError(f"the same parameter {specs[0][0]!r} is on --x and --y; sweep two different ones")
    npts = math.prod(s[3] for s in specs)
    if npts > MAX_POINTS:
        raise InvalidParameterError(f"the grid has {' x '.join(str(s[3]) for s in specs)} = {npts:,} points, more "
                                    f"than the limit of {MAX_POINTS:,}; split the diagram into several runs")
    check_output_dir(args.out, "--out folder")
    model = as_model(args.model)
    check_observable(model, args.observable)
    grid = {name: np.linspace(a, b, n) for name, a, b, n in specs}
    stem = os.path.join(args.out, model.name.replace(".", "_") + "_" + "_".join(grid))
    res = sweep(model, grid, _parse_set(args.set), branch=args.branch, workers=args.workers,
                scheduler=args.dask, progress=not args.no_progress, out=stem, resume=args.resume)
    from .validation.figures import plot_sweep
    paths = [stem + ".csv", stem + ".json", plot_sweep(res, stem + ".png", observable=args.observable)]
    status = np.asarray(res.status).ravel()
    counts = {s: int((status == s).sum()) for s in STATUSES if (status == s).any()}
    print(_dumps({"model": res.model, "files": paths, "points": int(status.size), "statuses": counts}))
    n_bad = int(status.size - counts.get("converged", 0))
    if n_bad:
        print(f"phasekit: only {counts.get('converged', 0)} of {status.size} grid points converged ("
              + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")", file=sys.stderr)
        return 1
    return 0


def _log_axis(text, flag):
    try:
        a, b, n = text.split(":")
        a, b, n = float(a), float(b), int(n)
    except ValueError:
        raise InvalidParameterError(f"malformed {flag} {text!r}: expected start:stop:num (log-spaced, start > 0)") from None
    if not (a > 0 and b > 0 and n >= 1):
        raise InvalidParameterError(f"malformed {flag} {text!r}: start, stop must be > 0 and num >= 1")
    return np.geomspace(a, b, n)


def cmd_lr_diagram(args):
    from .validation.effective_theory import geneft as vg, liu as vl
    from .validation._common import figure, save_figure, write_csv
    from .validation.effective_theory.geneft_checks import phase_grid_figure
    xs, ys = _log_axis(args.x, "--x"), _log_axis(args.y, "--y")
    if args.steps < 1:
        raise InvalidParameterError(f"The 'steps' parameter of lr-diagram must be an int >= 1. Got {args.steps} instead.")
    seeds = tuple(range(args.seed, args.seed + args.seeds))
    run = dict(config=None, seeds=seeds, workers=args.workers, scheduler=args.dask or None,
               progress=not args.no_progress)
    if args.model == "geneft":
        run["config"] = vg.AutoencoderConfig(steps=args.steps, relation=args.relation)
        pd = vg.lr_phase_diagram(xs, ys, **run)
        labels = ("eta_enc", "eta_dec")
    else:
        run["config"] = vl.LiuConfig(steps=args.steps)
        pd = vl.liu_phase_diagram(xs, ys, **run)
        labels = ("eta_repr", "eta_dec")
    os.makedirs(args.out, exist_ok=True)
    maj = pd.majority()
    rows = [{labels[0]: ex, labels[1]: ey, "phase": maj[i, j]} for i, ex in enumerate(pd.eta_x_values)
            for j, ey in enumerate(pd.eta_y_values)]
    stem = f"lr_diagram_{args.model}"
    fig, ax = figure()
    phase_grid_figure(ax, pd, args.model, *labels)
    paths = [write_csv(args.out, stem, rows), save_figure(fig, args.out, stem)]
    print(_dumps({"model": args.model, "files": paths, "slope": float(pd.slope), "cells": len(rows)}))
    return 0


def cmd_check(args):
    from ._registry import get_check
    spec = get_check(args.name)
    out = args.out or os.path.join("phasekit-results", "checks")
    os.makedirs(out, exist_ok=True)
    res = spec.func(out, quick=args.quick, seed=args.seed)
    if args.json:
        print(_dumps({"name": res.name, "passed": res.passed, "metrics": res.metrics,
                      "figures": list(res.figures), "tables": list(res.tables), "seed": res.seed}))
    else:
        print(f"{res.name}: {'PASSED' if res.passed else 'FAILED'}")
        for k, v in res.metrics.items():
            print(f"  {k:40s} {v:.6g}" if isinstance(v, (int, float)) else f"  {k:40s} {v}")
        for f in res.figures:
            print(f"  figure: {f}")
    return 0 if res.passed else 1


def cmd_derive(args):
    from .derive import check_derivation, derivation
    if not args.check:
        print(derivation(args.model, latex=args.latex))
        return 0
    if not os.path.isfile(args.check):
        raise InvalidParameterError(f"equations file {args.check!r} does not exist")
    with open(args.check) as f:
        eqs = [l for l in f.read().splitlines() if l.strip() and not l.lstrip().startswith("#")]
    results = check_derivation(args.model, eqs, tol=args.tol)
    if args.json:
        import dataclasses
        print(_dumps([dataclasses.asdict(r) for r in results]))
    else:
        for i, r in enumerate(results, 1):
            verdict = "EQUIVALENT" if r.equivalent else "DIFFERENT"
            how = "symbolic" if r.how == "symbolic" else f"numeric, max rel. diff {r.max_rel_diff:.2g} (tol {r.tol:g})"
            print(f"[{i}] {verdict} to {r.target} ({how}): {r.text}")
            if not r.equivalent:
                print(f"    user - derived = {r.difference}")
                print(f"    e.g. at {', '.join(f'{k}={v:.4g}' for k, v in r.example.items())}")
    return 0 if all(r.equivalent for r in results) else 1


def cmd_compare(args):
    from .validation.compare import compare_data
    res = compare_data(args.data, args.model, x=args.x, y=args.y, err=args.err, params=_parse_set(args.set),
                       branch=args.branch, out_dir=args.out, alpha_level=args.alpha_level)
    print(_dumps(res.to_dict()))
    if res.flagged:
        print(f"phasekit: data deviate from the theory (chi2/point {res.chi2_per_point:.3g}, p = {res.p_value:.3g})",
              file=sys.stderr)
        return 1
    return 0


def cmd_reproduce(args):
    from .reproduce import reproduce
    report = reproduce(args.out, quick=args.quick, progress=not args.no_progress, only=args.only,
                       resume=args.resume)
    print(f"report: {report.path}")
    print(f"{report.n_passed} passed, {report.n_failed} failed")
    return 0 if report.n_failed == 0 else 1


def build_parser():
    p = argparse.ArgumentParser(prog="phasekit", description="Statistical physics of learning: "
                                "saddle points, transitions, phase diagrams and simulation checks.")
    from ._version import __version__
    p.add_argument("--version", action="version", version=f"phasekit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list models and checks")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("solve", help="solve the saddle-point equations at one parameter point")
    s.add_argument("model")
    s.add_argument("--set", action="append", metavar="NAME=VALUE", help="control parameter (repeatable)")
    s.add_argument("--branch")
    s.add_argument("--tol", type=float, default=None, help="tolerance on the stationarity residual (default 1e-10)")
    s.add_argument("--xtol", type=float, default=None,
                   help="accuracy target on the order parameters, from quadrature refinement (default 1e-8)")
    s.add_argument("--method", default=None, help="auto (default), fixed_point, anderson, newton, hybr")
    s.add_argument("--maxiter", type=int, default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_solve)

    s = sub.add_parser("transition", help="locate a named transition")
    s.add_argument("model")
    s.add_argument("name")
    s.add_argument("--set", action="append", metavar="NAME=VALUE")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_transition)

    s = sub.add_parser("diagram", help="sweep a 1-D/2-D phase diagram to CSV, JSON and PNG",
                       description="Sweep a 1-D/2-D phase diagram to CSV, JSON and PNG, with a status per "
                       "grid point. Exit code 1 when a point is not converged, 130 when interrupted (Ctrl-C "
                       "or SIGTERM: the finished rows are kept; rerun with --resume).")
    s.add_argument("model")
    s.add_argument("--x", required=True, metavar="NAME=START:STOP:NUM",
                   help="first grid axis (the grid may have at most 1,000,000 points in all)")
    s.add_argument("--y", metavar="NAME=START:STOP:NUM", help="second grid axis (another parameter)")
    s.add_argument("--set", action="append", metavar="NAME=VALUE")
    s.add_argument("--branch")
    s.add_argument("--observable", default=None, help="quantity to plot (default: entropy)")
    s.add_argument("--out", default="phasekit-results", help="output folder (each finished row is saved "
                   "at once in <stem>.partial/ there)")
    s.add_argument("--resume", action="store_true", help="finish an interrupted run of the same diagram: "
                   "compute only the rows not saved yet")
    s.add_argument("--workers", type=int, default=None,
                   help="local processes (default: solve in this process)")
    s.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="Dask scheduler address (checked with a 5 s timeout before computing)")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(func=cmd_diagram)

    s = sub.add_parser("lr-diagram", help="learning-rate x learning-rate phase diagram of a grokking network")
    s.add_argument("model", choices=["geneft", "liu"])
    s.add_argument("--x", default="3e-4:3e-3:5", help="encoder/representation rates, log-spaced start:stop:num")
    s.add_argument("--y", default="1e-3:3e-2:5", help="decoder rates, log-spaced start:stop:num")
    s.add_argument("--steps", type=int, default=4000)
    s.add_argument("--seeds", type=int, default=1)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--relation", default="mod3", help="GenEFT relation family")
    s.add_argument("--workers", type=int, default=None)
    s.add_argument("--dask", metavar="ADDRESS", default=None)
    s.add_argument("--out", default="phasekit-results")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(func=cmd_lr_diagram)

    s = sub.add_parser("check", help="run a theory-versus-simulation check")
    s.add_argument("name")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quick", action="store_true")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default=None)
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("derive", help="print the free entropy and its stationarity equations, or check yours")
    s.add_argument("model")
    s.add_argument("--latex", action="store_true")
    s.add_argument("--check", metavar="EQUATIONS", help="file of 'lhs = rhs' equations to compare with the derived ones")
    s.add_argument("--tol", type=float, default=1e-8, help="numeric tolerance of --check (relative)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_derive)

    s = sub.add_parser("compare", help="overlay measured data (CSV/JSON) on a theory curve")
    s.add_argument("data")
    s.add_argument("--model", required=True)
    s.add_argument("--x", required=True, help="control parameter column (e.g. alpha)")
    s.add_argument("--y", required=True, help="observable column (e.g. entropy)")
    s.add_argument("--err", default=None, help="column of standard errors")
    s.add_argument("--set", action="append", metavar="NAME=VALUE")
    s.add_argument("--branch")
    s.add_argument("--out", default="phasekit-results")
    s.add_argument("--alpha-level", type=float, default=1e-3, help="flag when the chi2 p-value is below this")
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("reproduce", help="reproduce the headline figures, tables and report")
    s.add_argument("--out", default="phasekit-results")
    s.add_argument("--quick", action="store_true", help="small runs (about 5 minutes on 2 cores)")
    s.add_argument("--only", action="append", help="restrict to these sections/checks (repeatable)")
    s.add_argument("--resume", action="store_true",
                   help="skip the checks whose result (<out>/<check>/result.json) is already there")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(func=cmd_reproduce)
    return p


def main(argv=None):
    from ._errors import SaddlePointNotConverged
    from .solvers._io import RunInterrupted, sigterm_as_interrupt
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with sigterm_as_interrupt():
            return args.func(args)
    except InvalidParameterError as e:
        print(f"phasekit: error: {e}", file=sys.stderr)
        return 2
    except SaddlePointNotConverged as e:  # a computation inside the command did not converge
        print(f"phasekit: not converged: {' '.join(str(e).split())}", file=sys.stderr)  # one line
        return 1
    except RunInterrupted as e:  # the finished part is on disk
        print(f"phasekit: interrupted: {e}; rerun the same command with --resume to finish", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("phasekit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` & co.: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
