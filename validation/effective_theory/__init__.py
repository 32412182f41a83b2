"""GenEFT and Liu et al. simulations (numpy autoencoder, toy model, learning-rate phase diagrams) and
their checks (``geneft_checks``)."""
from . import geneft, liu, geneft_checks

__all__ = ["geneft", "liu", "geneft_checks"]
