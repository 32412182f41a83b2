"""Package list for setuptools (everything else is in pyproject.toml).

The four top-level folders are installed under ``phasekit`` (``theory/`` as ``phasekit.theory``, ...);
every subpackage below them (one per model family) is found here, so that a regular ``pip install .``
ships a new family without an edit of any list.
"""
from setuptools import find_packages, setup

ROOTS = {"phasekit": "phasekit", "phasekit.theory": "theory", "phasekit.solvers": "solvers",
         "phasekit.validation": "validation"}

setup(package_dir=ROOTS,
      packages=[*ROOTS, *(f"{name}.{sub}" for name, folder in ROOTS.items() for sub in find_packages(folder))])
