"""Shared helpers for the entity tests.

Most tests feed text that already looks normalized (lowercase, half-width, contact
words canonicalized) through :meth:`NormalizedText.identity`; tests of
case-sensitive formats use the ``lowered`` fixture, which keeps the author's case in
``original`` the way the real normalizer does.
"""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities
from qinglang.text.offsets import NormalizedText


def lowercase_only(original: str) -> NormalizedText:
    """A normalization that only lowercases (1:1, so no offset layers are needed)."""
    return NormalizedText(original, original.lower(), [])


def values_of(nt: NormalizedText, *types: str) -> list[str]:
    """Sorted distinct canonical values of the given types found in ``nt``."""
    return sorted({e.value for e in extract_entities(nt, "text") if e.type in types})


@pytest.fixture
def lowered():
    """``lowered(original)``: a NormalizedText that differs from ``original`` only by case."""
    return lowercase_only


@pytest.fixture
def values():
    """``values(text, *types)``: canonical values found in an already-normalized text."""

    def _values(text: str, *types: str) -> list[str]:
        return values_of(NormalizedText.identity(text), *types)

    return _values
