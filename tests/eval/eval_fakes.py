"""Test helpers: a fake engine for evaluation tests (the real one is built elsewhere).

Keyword rules give crafted, predictable verdicts, so every expected number in the
tests can be worked out by hand from the fixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qinglang.model import CategoryScore, ErrorRecord, Hit, Post, Verdict
from qinglang.policy.loader import CategoryInfo, taxonomy

FIXTURES = Path(__file__).parent / "fixtures"

#: keyword -> (category, rule id), in the order verdicts list their codes
KEYWORD_RULES: list[tuple[str, str, str]] = [
    ("包下款", "illegal_intermediary", "t.loan"),
    ("套现", "card_cashout", "t.cashout"),
    ("涨停", "stock_tipping", "t.tip"),
    ("airdrop", "crypto_promotion", "t.airdrop"),
    ("recover your funds", "rights_agency", "t.recover"),
    ("客服", "impersonation", "t.cs"),
    ("加V", "traffic_diversion", "t.divert"),
]


def hit(code: str, rule: str) -> Hit:
    return Hit(code, rule, "test", "0", "text", rule, 0, 1, "x", 0.9)


def verdict(post_id: str, codes: Sequence[str], rules: Sequence[tuple[str, str]] = ()) -> Verdict:
    """A verdict flagging ``codes``, with a hit per (rule, category) in ``rules``."""
    cats = [CategoryScore(c, 0.9, "high", False, []) for c in codes]
    hits = [hit(cat, rule) for rule, cat in rules]
    return Verdict(post_id, cats, "high" if codes else "none", False, hits, [], {})


class FakeEngine:
    """Flags a post for each keyword it contains; ``fail_ids`` come back as ErrorRecords."""

    def __init__(self, fail_ids: Sequence[str] = ()) -> None:
        self.fail_ids = set(fail_ids)
        self.calls: list[int] = []

    @property
    def taxonomy(self) -> dict[str, CategoryInfo]:
        return taxonomy()

    @property
    def versions(self) -> dict[str, Any]:
        return {"engine": "fake-1", "packs": {"test": "0"}}

    def detect(self, posts: Sequence[Post]) -> list[Verdict | ErrorRecord]:
        self.calls.append(len(posts))
        out: list[Verdict | ErrorRecord] = []
        for i, p in enumerate(posts):
            if p.id in self.fail_ids:
                out.append(ErrorRecord(p.id, "QL-1010", "record could not be processed", i + 1))
                continue
            found = [(rule, cat) for kw, cat, rule in KEYWORD_RULES if kw in p.text]
            out.append(verdict(p.id, [cat for _, cat in found], found))
        return out
