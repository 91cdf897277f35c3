"""The registry: spans mapped back to the author's text, de-duplication, order, names."""

from __future__ import annotations

import re

import pytest

from qinglang.entities import EXTRACTORS, extract_entities, extractor_versions
from qinglang.entities.types import ENTITY_TYPES
from qinglang.text.offsets import NormalizedText, apply_edits

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_CONTACT = re.compile(r"vx|薇信|威❤信")


def fake_normalize(original: str) -> NormalizedText:
    """A small stand-in for the real normalizer that builds real offset layers:
    full-width -> half-width and lowercase (1:1), delete zero-width spaces, rewrite
    WeChat variants to 微信."""
    text = original.translate(_FULLWIDTH).lower()
    layers = []
    text2, layer = apply_edits(text, [(m.start(), m.end(), "") for m in re.finditer("\u200b", text)])
    if layer:
        layers.append(layer)
    text3, layer = apply_edits(text2, [(m.start(), m.end(), "微信") for m in _CONTACT.finditer(text2)])
    if layer:
        layers.append(layer)
    return NormalizedText(original, text3, layers)


POSTS = [
    "加ＶＸ：ａｂｃ１２３，电话１３８\u200b0013\u200b8000",
    "薇信: s\u200bt\u200bo\u200bc\u200bk\u200b8\u200b8 带你上车 600519 明天涨停!",
    "日收益３％，月入过万，官网 www.abc-invest.top/reg?id=Ab12 详询 qq群:12345678",
    "转 USDT 到 TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t 或卡号6222 0212 3456 7890 128",
    "Guaranteed 20% weekly! DM t.me/Crypto_King or wa.me/447911123456, mail x.y@Gmail.com",
    "威❤信 13800138000（同号）$TSLA 港股00700 年化利率7.2% 100美元",
]


@pytest.mark.parametrize("original", POSTS)
def test_entity_text_is_what_the_author_wrote(original: str) -> None:
    nt = fake_normalize(original)
    entities = extract_entities(nt, "text")
    assert entities
    for e in entities:
        assert 0 <= e.start < e.end <= len(original)
        assert e.text == original[e.start:e.end]
        assert (e.start, e.end) == nt.to_original(e.nstart, e.nend)
        assert e.text == e.text.strip()
        assert e.field == "text"
        assert e.type in ENTITY_TYPES
        assert e.value.startswith(e.type + ":")


def test_spans_through_rewrites() -> None:
    original = "加ＶＸ：ａｂｃ１２３，电话１３８\u200b0013\u200b8000"
    got = {(e.type, e.value, e.text) for e in extract_entities(fake_normalize(original), "f")}
    assert ("wechat", "wechat:abc123", "ａｂｃ１２３") in got
    assert ("phone", "phone:+8613800138000", "１３８\u200b0013\u200b8000") in got
    split = "薇信: s\u200bt\u200bo\u200bc\u200bk\u200b8\u200b8 带你上车"
    (e,) = [e for e in extract_entities(fake_normalize(split), "f") if e.type == "wechat"]
    assert e.value == "wechat:stock88"
    assert e.text == "s\u200bt\u200bo\u200bc\u200bk\u200b8\u200b8"


def test_sorted_by_start_and_deduplicated() -> None:
    # 同微信 and 微信 + number both report the same WeChat id on the same span
    nt = NormalizedText.identity("电话同微信13800138000, 股票600519")
    es = extract_entities(nt, "text")
    assert [(e.type, e.value) for e in es] == [
        ("phone", "phone:+8613800138000"),
        ("wechat", "wechat:13800138000"),
        ("stock_code", "stock_code:600519.SH"),
    ]
    assert [e.start for e in es] == sorted(e.start for e in es)


def test_empty_and_plain_text() -> None:
    assert extract_entities(NormalizedText.identity(""), "text") == []
    assert extract_entities(NormalizedText.identity("今天天气很好，我们去公园散步吧。"), "text") == []


def test_registry_names() -> None:
    names = extractor_versions()
    assert len(names) == len(set(names)) == len(EXTRACTORS)
    assert all(re.fullmatch(r"fin\.[a-z]+\.v[0-9]+", n) for n in names)
    emitted = {t for x in EXTRACTORS for t in x.types}
    assert emitted == ENTITY_TYPES


def test_entity_to_dict() -> None:
    (e,) = extract_entities(NormalizedText.identity("qq群 12345678"), "bio")
    assert e.to_dict() == {"type": "qq", "value": "qq:12345678", "field": "bio", "start": 4,
                           "end": 12, "text": "12345678", "detail": {"group": True}}
