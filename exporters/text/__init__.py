"""A model's text ends: the tokenizer in front, the postprocess behind, proven with the model (see spec.py)."""

from .spec import TextSpec

__all__ = ["TextSpec"]
