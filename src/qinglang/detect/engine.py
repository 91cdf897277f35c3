"""The detection engine (contract; real implementation in progress)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qinglang import ENGINE_VERSION
from qinglang.model import Post, Verdict
from qinglang.policy.loader import CategoryInfo, Pack, load_packs, taxonomy


class Engine:
    """Scans batches of posts with policy packs and returns one Verdict per post."""

    def __init__(self, packs: list[Pack] | None = None) -> None:
        self.packs = packs if packs is not None else load_packs()

    @classmethod
    def from_options(cls, packs: list[str] | None = None) -> Engine:
        return cls(load_packs(packs) if packs else None)

    @property
    def taxonomy(self) -> dict[str, CategoryInfo]:
        return taxonomy()

    @property
    def versions(self) -> dict[str, Any]:
        return {"engine": ENGINE_VERSION, "packs": {p.name: p.version for p in self.packs}}

    def detect(self, posts: Sequence[Post]) -> list[Verdict]:
        return [
            Verdict(p.id, [], "none", False, [], [], self.versions, p.account_id, p.platform)
            for p in posts
        ]

    def detect_text(self, text: str, *, post_id: str = "-", lang: str | None = None) -> Verdict:
        return self.detect([Post(id=post_id, text=text, lang=lang)])[0]
