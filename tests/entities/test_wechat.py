"""WeChat ids after the canonical word 微信 (the normalizer rewrites vx, 薇信, 威❤信 ...)."""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities
from qinglang.text.offsets import NormalizedText

CASES = [
    ("加微信abc123", ["wechat:abc123"]),
    ("微信:abc123", ["wechat:abc123"]),
    ("微信: abc123 备注股票", ["wechat:abc123"]),
    ("微信号:abc_123", ["wechat:abc_123"]),
    ("微信号是abc-123-", ["wechat:abc-123"]),  # "-" is an id character; trailing one is not
    ("微信id: stock_teacher88", ["wechat:stock_teacher88"]),
    ("微信搜 hello666", ["wechat:hello666"]),
    ("微信=zhang_san1", ["wechat:zhang_san1"]),
    ("wechat: lucky2024", ["wechat:lucky2024"]),
    # handles split to dodge filters
    ("微信: a b c 1 2 3", ["wechat:abc123"]),
    ("微信 abc 123 加我", ["wechat:abc123"]),
    ("微信a.b.c.1.2.3", ["wechat:abc123"]),
    ("微信: ab c1 23", ["wechat:abc123"]),
    # a phone number as id
    ("微信13800138000", ["wechat:13800138000"]),
    ("微信: 138 0013 8000", ["wechat:13800138000"]),
    ("13800138000(微信同号)", ["wechat:13800138000"]),
    ("微信同号13800138000", ["wechat:13800138000"]),
    ("电话13800138000,微信同号", ["wechat:13800138000"]),
    ("手机号同微信: 13800138000", ["wechat:13800138000"]),
    # system ids
    ("wxid_abcdef123", ["wechat:wxid_abcdef123"]),
    ("微信id_abcdef123", ["wechat:wxid_abcdef123"]),
    # no id
    ("微信支付很方便", []),
    ("微信群里聊", []),
    ("微信 official account", []),
    ("微信 abc", []),  # too short
    ("微信: 12345678", []),  # must start with a letter
    ("微信abc.com", []),  # a domain
    ("微信abc123@qq.com", []),  # an email address
    ("微信 abc123thisiswaytoolongforanid", []),  # longer than 20
    ("用微信扫一扫", []),
    ("微信同号", []),  # no number near
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_wechat(values, text: str, expected: list[str]) -> None:
    assert values(text, "wechat") == expected


def test_split_handle_detail_and_span() -> None:
    text = "加微信: a b c 1 2 3 咨询"
    (e,) = [e for e in extract_entities(NormalizedText.identity(text), "text") if e.type == "wechat"]
    assert e.text == "a b c 1 2 3"
    assert e.detail == {"split": True}


def test_phone_id_is_also_a_phone() -> None:
    es = extract_entities(NormalizedText.identity("微信13800138000"), "text")
    assert [(e.type, e.value) for e in es] == [
        ("phone", "phone:+8613800138000"),
        ("wechat", "wechat:13800138000"),
    ]
    assert es[1].detail == {"phone": True}
