"""Replica theory of perceptrons: Gardner storage and teacher-student (``perceptron``), the Franz-Parisi
local entropy (``local_entropy``, its large-deviation version ``local_entropy_ld`` and teacher-student
version ``local_entropy_teacher``) and random-feature (hidden-manifold) data (``random_features``,
``random_features_fp``). Importing the package registers the ``perceptron.*`` models."""
from . import perceptron, local_entropy, local_entropy_ld, local_entropy_teacher, random_features, random_features_fp

__all__ = ["perceptron", "local_entropy", "local_entropy_ld", "local_entropy_teacher", "random_features",
           "random_features_fp"]
