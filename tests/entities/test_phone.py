"""Phone numbers: mainland mobiles however written, international numbers in E.164."""

from __future__ import annotations

import pytest

CASES = [
    # mainland mobiles, with and without prefixes and separators
    ("电话13800138000", ["phone:+8613800138000"]),
    ("call 13912345678 now", ["phone:+8613912345678"]),
    ("+8613800138000", ["phone:+8613800138000"]),
    ("+86 138 0013 8000", ["phone:+8613800138000"]),
    ("+86-138-0013-8000", ["phone:+8613800138000"]),
    ("0086 13800138000", ["phone:+8613800138000"]),
    ("8613800138000", ["phone:+8613800138000"]),
    ("(+86)13800138000", ["phone:+8613800138000"]),
    ("手机:138 0013 8000", ["phone:+8613800138000"]),
    ("138-0013-8000", ["phone:+8613800138000"]),
    ("138.0013.8000", ["phone:+8613800138000"]),
    ("1380 013 8000", ["phone:+8613800138000"]),
    ("19912345678和17712345678", ["phone:+8617712345678", "phone:+8619912345678"]),
    ("13800138000 13900139000", ["phone:+8613800138000", "phone:+8613900139000"]),
    # international numbers (leading + or 00), validated
    ("call +44 20 7946 0958 today", ["phone:+442079460958"]),
    ("+1 (415) 555-2671", ["phone:+14155552671"]),
    ("0044 20 7946 0958", ["phone:+442079460958"]),
    ("+852 9123 4567", ["phone:+85291234567"]),
    ("+44 20 7946 0958 2024", ["phone:+442079460958"]),  # trailing year is dropped
    # not phones
    ("12800138000", []),  # 12x is not a mobile prefix
    ("1380013800", []),  # ten digits
    ("订单号138001380001", []),  # inside a longer run
    ("6213800138000", []),  # inside a longer run
    ("2024.13800138000", []),  # glued to a decimal
    ("13.5 14.2 15.1 16.0", []),  # a list of decimals
    ("1 3800 1380 00", []),  # one-digit group
    ("138 0013 8000 1234", []),  # grouped number continues
    ("a13800138000", []),  # part of an alphanumeric token
    ("wxid13800138000", []),
    ("+999 1234 5678", []),  # no such country
    ("+1 555 0100", []),  # invalid length
    ("1000 12345678", []),  # "00" inside a number is not a prefix
    ("2024年10月15日 上涨3.5%, 成交额8000亿元", []),
    ("营收同比增长12.5%, 达到138亿元", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_phone(values, text: str, expected: list[str]) -> None:
    assert values(text, "phone") == expected


def test_phone_span_includes_prefix(values) -> None:
    from qinglang.entities import extract_entities
    from qinglang.text.offsets import NormalizedText

    (e,) = extract_entities(NormalizedText.identity("tel: +86 138 0013 8000."), "text")
    assert e.text == "+86 138 0013 8000"
    assert e.detail == {"region": "CN"}
