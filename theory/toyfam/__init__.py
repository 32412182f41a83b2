"""Toy family (scratch): the Curie–Weiss magnet, to show what a new family touches."""
from . import curie_weiss

__all__ = ["curie_weiss"]
