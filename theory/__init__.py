"""Theory: one module per model family; sympy is the single source of truth for every equation."""
from ._symbolic import E, G, GaussE, H, expand_expectations, expectations, gaussian_ibp, log2cosh, logH, mills
from ._compile import compile_expr, evaluate_mpmath
from ._model import Branch, EquilibriumModel, Param, Transition, define_model
from . import perceptron, local_entropy, local_entropy_ld, local_entropy_teacher, random_features, random_features_fp, lut, transport, geneft, liu, adaptive_kernel
from .perceptron import BinaryStorage, IsingTeacher, SphericalStorage, SphericalTeacher

__all__ = ["E", "G", "GaussE", "H", "logH", "mills", "log2cosh", "gaussian_ibp", "expand_expectations",
           "expectations", "compile_expr", "evaluate_mpmath", "Param", "Branch", "Transition",
           "EquilibriumModel", "define_model", "perceptron", "local_entropy", "local_entropy_ld", "local_entropy_teacher", "random_features", "random_features_fp", "lut", "transport", "geneft", "liu", "adaptive_kernel", "SphericalStorage", "BinaryStorage", "SphericalTeacher",
           "IsingTeacher"]
