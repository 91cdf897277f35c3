"""Text normalization that keeps offsets (see :mod:`qinglang.text.offsets`)."""

from qinglang.text.offsets import NormalizedText, apply_edits

__all__ = ["NormalizedText", "apply_edits"]
