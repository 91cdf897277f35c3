"""Raw evasion forms through the real normalizer, end to end.

These depend on :mod:`qinglang.text.normalize` doing its part (simplified Chinese,
half-width, fancy digits, zero-width and emoji removal, contact-word
canonicalization); a failure here may be the normalizer's. Each case also checks
that the entity's text is the span the author wrote.
"""

from __future__ import annotations

import pytest

from qinglang.entities import extract_entities
from qinglang.text.normalize import default_normalizer

ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

CASES = [
    # (raw post, entity type, canonical value, text the author wrote)
    ("薇❤: a b c 1 2 3", "wechat", "wechat:abc123", "a b c 1 2 3"),
    ("VX:abc123", "wechat", "wechat:abc123", "abc123"),
    ("加薇信 abc123 领资料", "wechat", "wechat:abc123", "abc123"),
    ("威❤信：abc123", "wechat", "wechat:abc123", "abc123"),
    ("v信: ABC123", "wechat", "wechat:abc123", "ABC123"),
    ("加V：ｓｔｏｃｋ８８８", "wechat", "wechat:stock888", "ｓｔｏｃｋ８８８"),
    ("微 信: abc123", "wechat", "wechat:abc123", "abc123"),
    ("wx: a​b​c​1​2​3", "wechat", "wechat:abc123", "a​b​c​1​2​3"),
    ("扣扣:12345678", "qq", "qq:12345678", "12345678"),
    ("企鹅号 12345678", "qq", "qq:12345678", "12345678"),
    ("q q群：87654321", "qq", "qq:87654321", "87654321"),
    ("飞机号 @crypto_king", "telegram", "telegram:crypto_king", "crypto_king"),
    ("纸飞机: crypto_king", "telegram", "telegram:crypto_king", "crypto_king"),
    ("TG: @Crypto_King", "telegram", "telegram:crypto_king", "Crypto_King"),
    ("Ｔ.ｍｅ/abc_def", "telegram", "telegram:abc_def", "abc_def"),
    ("电话：１３８００１３８０００", "phone", "phone:+8613800138000", "１３８００１３８０００"),
    ("壹叁捌零零壹叁捌零零零", "phone", "phone:+8613800138000", "壹叁捌零零壹叁捌零零零"),
    ("一三八零零一三八零零零", "phone", "phone:+8613800138000", "一三八零零一三八零零零"),
    ("①③⑧⓪⓪①③⑧⓪⓪⓪", "phone", "phone:+8613800138000", "①③⑧⓪⓪①③⑧⓪⓪⓪"),
    ("1 3 8 0 0 1 3 8 0 0 0", "phone", "phone:+8613800138000", "1 3 8 0 0 1 3 8 0 0 0"),
    ("138​0013​8000", "phone", "phone:+8613800138000", "138​0013​8000"),
    ("牛股６００５１９", "stock_code", "stock_code:600519.SH", "６００５１９"),
    ("日收益３％", "return_promise", "return_promise:day:3%", "日收益３％"),
    ("月入過萬", "return_promise", "return_promise:month:10000cny", "月入過萬"),
    ("官網ａｂｃ點ｃｏｍ", "domain", "domain:abc.com", "ａｂｃ點ｃｏｍ"),
    ("HTTPS://Example.COM/Path", "url", "url:https://example.com/Path",
     "HTTPS://Example.COM/Path"),
    (f"ERC20收款:{ETH}", "wallet", f"wallet:eth:{ETH.lower()}", ETH),
    ("卡号６２２２ ０２１２ ３４５６ ７８９０ １２８", "bank_card",
     "bank_card:6222021234567890128", "６２２２ ０２１２ ３４５６ ７８９０ １２８"),
]


@pytest.mark.parametrize(("raw", "etype", "value", "written"), CASES)
def test_evasion_form(raw: str, etype: str, value: str, written: str) -> None:
    nt = default_normalizer().normalize(raw)
    found = [e for e in extract_entities(nt, "text") if e.type == etype]
    assert [e.value for e in found] == [value], nt.text
    (e,) = found
    assert e.text == written
    assert raw[e.start:e.end] == written
