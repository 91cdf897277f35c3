"""WhatsApp numbers (E.164) and group invites."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities

CASES = [
    ("wa.me/447911123456", ["whatsapp:+447911123456"]),
    ("https://wa.me/14155552671?text=hi", ["whatsapp:+14155552671"]),
    ("api.whatsapp.com/send?phone=8613800138000", ["whatsapp:+8613800138000"]),
    ("whatsapp: +44 7911 123456", ["whatsapp:+447911123456"]),
    ("whatsapp 13800138000", ["whatsapp:+8613800138000"]),
    ("whatsapp号 0085291234567", ["whatsapp:+85291234567"]),
    ("whatsapp: 14155552671", ["whatsapp:+14155552671"]),
    # not numbers
    ("wa.me/123", []),
    ("wa.me/99912345678", []),  # no such country
    ("whatsapp is down today", []),
    ("whatsapp: 2024", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_whatsapp(values, text: str, expected: list[str]) -> None:
    assert values(text, "whatsapp") == expected


def test_group_invite_keeps_case(lowered) -> None:
    es = extract_entities(lowered("chat.whatsapp.com/AbCdEfGhIjK123"), "text")
    (e,) = [e for e in es if e.type == "whatsapp"]
    assert e.value == "whatsapp:invite:AbCdEfGhIjK123"
    assert e.detail == {"invite": True}
