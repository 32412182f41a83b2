"""Theory: one subpackage per model family; sympy is the single source of truth for every equation.

The shared core stays here: :mod:`._symbolic` (the Gaussian-expectation operator ``E``, integration
by parts), :mod:`._model` (``EquilibriumModel``, ``define_model``: stationarity, fixed-point form,
Hessian) and :mod:`._compile` (sympy -> vectorised numpy quadrature). The families are the
subpackages (``replica``, ``adaptive_kernel``, ``effective_theory``, ``lut``, ``transport``, ...);
every one found is imported here, which registers its models.

Deprecated aliases, kept for one release: the flat module names of earlier versions
(``phasekit.theory.perceptron``, ``.local_entropy``, ``.local_entropy_ld``,
``.local_entropy_teacher``, ``.random_features``, ``.random_features_fp`` -> ``.replica.*``;
``.geneft``, ``.liu`` -> ``.effective_theory.*``) are the new modules under their old names.
``phasekit.theory.adaptive_kernel``, ``.lut`` and ``.transport`` are now packages that re-export
their module's names.
"""
from .._families import alias_modules, import_families
from ._symbolic import E, G, GaussE, H, expand_expectations, expectations, gaussian_ibp, log2cosh, logH, mills
from ._compile import compile_expr, evaluate_mpmath
from ._model import Branch, EquilibriumModel, Param, Transition, Validity, define_model

#: The model families (subpackages), imported in name order; importing registers their models.
FAMILIES = import_families(__name__, __path__)

from .replica.perceptron import BinaryStorage, IsingTeacher, SphericalStorage, SphericalTeacher  # noqa: E402

_FLAT_ALIASES = {
    "perceptron": "replica.perceptron", "local_entropy": "replica.local_entropy",
    "local_entropy_ld": "replica.local_entropy_ld", "local_entropy_teacher": "replica.local_entropy_teacher",
    "random_features": "replica.random_features", "random_features_fp": "replica.random_features_fp",
    "geneft": "effective_theory.geneft", "liu": "effective_theory.liu",
}
alias_modules(__name__, _FLAT_ALIASES)
del alias_modules, import_families

__all__ = ["E", "G", "GaussE", "H", "logH", "mills", "log2cosh", "gaussian_ibp", "expand_expectations",
           "expectations", "compile_expr", "evaluate_mpmath", "Param", "Branch", "Transition", "Validity",
           "EquilibriumModel", "define_model", "SphericalStorage", "BinaryStorage", "SphericalTeacher",
           "IsingTeacher", *FAMILIES, *_FLAT_ALIASES]
