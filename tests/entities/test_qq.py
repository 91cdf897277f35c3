"""QQ numbers and groups after the canonical word qq (扣扣, 企鹅号 ... are rewritten to it)."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities
from qinglang.text.offsets import NormalizedText

CASES = [
    ("qq12345678", ["qq:12345678"]),
    ("qq: 12345678", ["qq:12345678"]),
    ("加qq号码:98765432", ["qq:98765432"]),
    ("qq号 10001", ["qq:10001"]),
    ("qq群:123456789", ["qq:123456789"]),
    ("qq交流群(123456789)", ["qq:123456789"]),
    ("qq 13800138000", ["qq:13800138000"]),
    ("邮箱12345678@qq.com", ["qq:12345678"]),
    # not QQ numbers
    ("qq音乐", []),
    ("qq: 1234", []),  # too short
    ("qq: 012345678", []),  # leading zero
    ("qq: 123456789012", []),  # twelve digits
    ("qqabc12345678", []),
    ("myqq12345678", []),  # "qq" inside a word
    ("abc@qq.com", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_qq(values, text: str, expected: list[str]) -> None:
    assert values(text, "qq") == expected


@pytest.mark.parametrize(
    ("text", "detail"),
    [("qq群 123456789", {"group": True}), ("qq 123456789", None),
     ("123456789@qq.com", {"from_email": True})],
)
def test_qq_detail(text: str, detail: dict[str, bool] | None) -> None:
    (e,) = [e for e in extract_entities(NormalizedText.identity(text), "text") if e.type == "qq"]
    assert e.detail == detail
    assert e.text == "123456789"
