"""Entity extraction: one extractor per module (contract; implementation in progress)."""

from __future__ import annotations

from qinglang.model import Entity
from qinglang.text.offsets import NormalizedText


def extract_entities(nt: NormalizedText, field: str) -> list[Entity]:
    return []
