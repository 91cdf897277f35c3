"""Payment card numbers: 16-19 digits, Luhn, plausible IIN, not part of something else."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities
from qinglang.entities.base import luhn_valid
from qinglang.text.offsets import NormalizedText

UNIONPAY19 = "6222021234567890128"
ID_LUHN = "440301199001011232"  # an ID-card layout that happens to pass Luhn

CASES = [
    (f"卡号{UNIONPAY19}", [f"bank_card:{UNIONPAY19}"]),
    ("6222 0212 3456 7890 128", [f"bank_card:{UNIONPAY19}"]),
    ("6222-0212-3456-7890-128", [f"bank_card:{UNIONPAY19}"]),
    ("4111111111111111", ["bank_card:4111111111111111"]),
    ("visa 4111 1111 1111 1111 有效", ["bank_card:4111111111111111"]),
    ("5500 0000 0000 0004", ["bank_card:5500000000000004"]),
    ("622202 1234567890128", [f"bank_card:{UNIONPAY19}"]),
    # not cards
    ("6222021234567890123", []),  # Luhn fails
    ("4111111111111112", []),
    ("1234567890123452", []),  # Luhn passes but no card starts with 1
    ("7111111111111171", []),  # Luhn passes, no such network
    ("378282246310005", []),  # 15 digits (Amex) is below the 16-digit floor
    ("41111111111111111111", []),  # 20 digits
    ("a4111111111111111", []),
    ("4111111111111111x", []),
    ("4111 1111 1111 1111 2024", []),  # grouped run continues
    ("4111-1111 1111-1111", []),  # mixed separators
    ("41 11111111111111", []),  # a two-digit group
    (f"身份证{ID_LUHN}", []),
    (ID_LUHN, []),  # a resident ID layout (birth date 1990-01-01) is not a card
    ("订单号4111111111111111", []),
    ("快递单号: 4111111111111111", []),
    ("2024年10月15日 成交额12345亿元 同比增长3.5%", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_bankcard(values, text: str, expected: list[str]) -> None:
    assert values(text, "bank_card") == expected


@pytest.mark.parametrize(
    "digits",
    [UNIONPAY19, "4111111111111111", "5500000000000004", "1234567890123452",
     "7111111111111171", ID_LUHN],
)
def test_fixtures_pass_luhn(digits: str) -> None:
    """The no-match rows above must fail for the stated reason, not for Luhn."""
    assert luhn_valid(digits)


def test_bankcard_detail_and_span() -> None:
    es = extract_entities(NormalizedText.identity("转账到 6222 0212 3456 7890 128 即可"), "text")
    (e,) = [e for e in es if e.type == "bank_card"]
    assert e.text == "6222 0212 3456 7890 128"
    assert e.detail == {"network": "unionpay"}
