"""Offset-preserving normalization (contract; implementation in progress)."""

from __future__ import annotations

from functools import cache

from qinglang.text.offsets import NormalizedText


class Normalizer:
    """Turns raw post text into the canonical text detectors read.

    ``normalize(s)`` returns a :class:`NormalizedText` whose ``to_original`` maps any
    span back to ``s``. ``normalize_term`` applies the same steps to a policy term so
    terms and posts meet in one space.
    """

    def normalize(self, s: str) -> NormalizedText:
        return NormalizedText.identity(s.lower())

    def normalize_term(self, term: str) -> str:
        return self.normalize(term).text


@cache
def default_normalizer() -> Normalizer:
    return Normalizer()
