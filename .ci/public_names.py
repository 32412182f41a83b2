"""Print the public names of phasekit and its subpackages (compared between editable and regular installs)."""
import importlib

for mod in ("phasekit", "phasekit.theory", "phasekit.solvers", "phasekit.validation"):
    m = importlib.import_module(mod)
    names = sorted(getattr(m, "__all__", [n for n in dir(m) if not n.startswith("_")]))
    missing = [n for n in names if not hasattr(m, n)]
    if missing:
        raise SystemExit(f"{mod}.__all__ lists missing names: {missing}")
    print(mod, " ".join(names))
print("models", " ".join(m.list_models()) if (m := importlib.import_module("phasekit")) else "")
print("checks", " ".join(importlib.import_module("phasekit").list_checks()))
