"""Telegram handles, channels and invite links."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities

CASES = [
    ("t.me/abc_def", ["telegram:abc_def"]),
    ("https://t.me/crypto_signals", ["telegram:crypto_signals"]),
    ("telegram.me/crypto_signals", ["telegram:crypto_signals"]),
    ("telegram.dog/crypto_signals", ["telegram:crypto_signals"]),
    ("t.me/s/channel1", ["telegram:channel1"]),
    ("tg://resolve?domain=vip_group", ["telegram:vip_group"]),
    ("telegram: @crypto_king", ["telegram:crypto_king"]),
    ("telegram @crypto_king", ["telegram:crypto_king"]),
    ("telegram号 crypto_king", ["telegram:crypto_king"]),
    ("telegram群 abcdefg", ["telegram:abcdefg"]),
    ("加telegram:a b c d e 1", ["telegram:abcde1"]),
    # not handles
    ("t.me/abc", []),  # too short
    ("t.me/share/url?url=x", []),  # reserved path
    ("t.me/addstickers/cats", []),
    ("telegram group", []),
    ("telegram: 12345", []),
    ("telegram abc.com", []),
    ("at.me/abcdef", []),  # "at.me" is another domain
    ("我在用telegram", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_telegram(values, text: str, expected: list[str]) -> None:
    assert values(text, "telegram") == expected


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("https://t.me/joinchat/AbCdEfGh12", "telegram:+AbCdEfGh12"),
        ("t.me/+AbCd-Ef_12", "telegram:+AbCd-Ef_12"),
        ("进群 T.ME/+XyZ123abc", "telegram:+XyZ123abc"),
    ],
)
def test_invites_keep_case(lowered, original: str, expected: str) -> None:
    es = [e for e in extract_entities(lowered(original), "text") if e.type == "telegram"]
    assert [e.value for e in es] == [expected]
    assert es[0].detail == {"invite": True}


def test_handles_are_lowercased(lowered) -> None:
    es = extract_entities(lowered("Join t.me/Crypto_Signals"), "text")
    assert [e.value for e in es if e.type == "telegram"] == ["telegram:crypto_signals"]
