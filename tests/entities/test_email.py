"""Email addresses."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities

CASES = [
    ("联系邮箱: zhang.san@example.com", ["email:zhang.san@example.com"]),
    ("12345678@qq.com", ["email:12345678@qq.com"]),
    ("mail me at a_b+tag@mail.example.co.uk.", ["email:a_b+tag@mail.example.co.uk"]),
    ("abc(at)gmail.com", ["email:abc@gmail.com"]),
    ("abc [at] gmail.com", ["email:abc@gmail.com"]),
    ("abc艾特163.com", ["email:abc@163.com"]),
    # not addresses
    ("@abc_def", []),
    ("a@b.c", []),
    ("x@report.pdf", []),  # not a public suffix
    ("user@localhost", []),
    ("a..b@example.com", []),
    ("价格 5@10元", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_email(values, text: str, expected: list[str]) -> None:
    assert values(text, "email") == expected


def test_email_is_lowercased_and_span_is_original(lowered) -> None:
    (e,) = [e for e in extract_entities(lowered("Mail: John.Doe@Example.COM!"), "text")
            if e.type == "email"]
    assert e.value == "email:john.doe@example.com"
    assert e.text == "John.Doe@Example.COM"


def test_email_domain_is_not_a_domain_entity(values) -> None:
    assert values("zhang.san@example.com", "domain", "url") == []
