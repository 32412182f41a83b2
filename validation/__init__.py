"""Simulated networks and theory-versus-simulation checks (each returns data plus a figure).

Shared helpers stay here (:mod:`._common`: statistics, argument checks, figure and table writers;
:mod:`.figures`: diagrams; :mod:`.compare`: measurements against a theory curve). The families are
the subpackages (``replica``, ``adaptive_kernel``, ``effective_theory``, ``lut``, ``transport``, ...),
mirroring ``phasekit.theory``; every one found is imported here, which registers its checks
(``phasekit list`` shows them).

Deprecated aliases, kept for one release: the flat module names of earlier versions
(``phasekit.validation.enumeration``, ``.spherical``, ``.perceptron_checks``, ``.perceptron_theory``,
``.local_entropy``, ``.local_entropy_checks`` -> ``.replica.*``; ``.adaptive_kernel_checks`` ->
``.adaptive_kernel.*``; ``.geneft``, ``.geneft_checks``, ``.liu`` -> ``.effective_theory.*``;
``.lut_network``, ``.lut_checks`` -> ``.lut.*``; ``.transport_checks`` -> ``.transport.*``) are the
new modules under their old names. ``phasekit.validation.adaptive_kernel`` and ``.transport`` are now
packages that re-export their simulation module's names.
"""
from .._families import alias_modules, import_families
from ._common import SimStats, binomial_estimate, estimate, spawn_rngs
from .figures import plot_sweep
from .compare import Comparison, compare_data, read_measurements

#: The families (subpackages), imported in name order; importing registers their checks.
FAMILIES = import_families(__name__, __path__)

from .replica.enumeration import (StorageEnumeration, TeacherStudentEnumeration, VersionSpace,  # noqa: E402
                                  count_solutions, enumerate_storage, enumerate_teacher_student, version_space)
from .replica.spherical import (CoverSimulation, MaxMarginResult, MaxMarginSimulation, cover_count,  # noqa: E402
                                cover_probability, lp_separable, max_margin, simulate_cover, simulate_max_margin)
from .effective_theory.geneft import PhaseDiagram, lr_phase_diagram, train_autoencoder  # noqa: E402
from .effective_theory.liu import liu_phase_diagram, train_liu  # noqa: E402
from .lut.lut_network import (LUTNetwork, hysteresis, simulate_fit, simulate_gf2_learner,  # noqa: E402
                              topological_trajectory, transition_scan)

_FLAT_ALIASES = {
    "enumeration": "replica.enumeration", "spherical": "replica.spherical",
    "perceptron_theory": "replica.perceptron_theory", "perceptron_checks": "replica.perceptron_checks",
    "local_entropy": "replica.local_entropy", "local_entropy_checks": "replica.local_entropy_checks",
    "adaptive_kernel_checks": "adaptive_kernel.adaptive_kernel_checks",
    "geneft": "effective_theory.geneft", "geneft_checks": "effective_theory.geneft_checks",
    "liu": "effective_theory.liu",
    "lut_network": "lut.lut_network", "lut_checks": "lut.lut_checks",
    "transport_checks": "transport.transport_checks",
}
alias_modules(__name__, _FLAT_ALIASES)
del alias_modules, import_families

__all__ = ["SimStats", "estimate", "binomial_estimate", "spawn_rngs", "plot_sweep", "Comparison", "compare_data",
           "read_measurements", "count_solutions", "version_space", "VersionSpace", "enumerate_storage",
           "enumerate_teacher_student", "StorageEnumeration", "TeacherStudentEnumeration", "cover_count",
           "cover_probability", "lp_separable", "simulate_cover", "CoverSimulation", "max_margin",
           "MaxMarginResult", "simulate_max_margin", "MaxMarginSimulation",
           "LUTNetwork", "transition_scan", "simulate_fit", "hysteresis", "topological_trajectory",
           "simulate_gf2_learner", "train_autoencoder", "lr_phase_diagram", "train_liu", "liu_phase_diagram",
           "PhaseDiagram", *FAMILIES,
           # deprecated flat module names that were public (enumeration and spherical never were)
           *(n for n in _FLAT_ALIASES if n not in ("enumeration", "spherical"))]
