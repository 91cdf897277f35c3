"""post_from_mapping: one function decides what a valid post is, with coded errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from qinglang.errors import QLError
from qinglang.io.records import post_from_mapping


def test_minimal_record() -> None:
    post = post_from_mapping({"id": "p1", "text": "你好"}, 1)
    assert (post.id, post.text, post.title, post.links) == ("p1", "你好", None, None)


def test_all_fields() -> None:
    rec = {
        "id": 7,
        "text": "t",
        "account_id": 99,
        "platform": "weibo",
        "timestamp": "2024-05-01T10:00:00+08:00",
        "title": "标题",
        "transcript": "口播",
        "ocr": "图中文字",
        "links": ["https://a.example", "", "https://b.example"],
        "bio": "简介",
        "lang": "zh",
        "unknown_column": {"ignored": True},
    }
    post = post_from_mapping(rec, 3)
    assert post.id == "7" and post.account_id == "99"
    assert post.links == ["https://a.example", "https://b.example"]
    assert [name for name, _ in post.fields()] == ["text", "title", "transcript", "ocr", "bio", "links"]
    assert (post.platform, post.lang, post.timestamp) == ("weibo", "zh", "2024-05-01T10:00:00+08:00")


def test_text_may_be_missing_when_another_text_field_is_present() -> None:
    post = post_from_mapping({"id": "1", "ocr": "加V"}, 1)
    assert post.text == "" and post.ocr == "加V"
    post = post_from_mapping({"id": "1", "text": None, "title": "标题"}, 1)
    assert post.title == "标题"


def test_datetime_timestamp_from_parquet_is_iso() -> None:
    ts = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert post_from_mapping({"id": "1", "text": "x", "timestamp": ts}, 1).timestamp == ts.isoformat()


def test_tab_newline_and_zero_width_are_allowed() -> None:
    text = "加\u200bV\t微信\r\n涨停"
    assert post_from_mapping({"id": "1", "text": text}, 1).text == text


@pytest.mark.parametrize(
    ("record", "code", "words"),
    [
        ({"text": "x"}, "QL-1008", "no id"),
        ({"id": "", "text": "x"}, "QL-1008", "empty id"),
        ({"id": "   ", "text": "x"}, "QL-1008", "empty id"),
        ({"id": None, "text": "x"}, "QL-1008", "no id"),
        ({"id": 1.5, "text": "x"}, "QL-1004", "'id'"),
        ({"id": True, "text": "x"}, "QL-1004", "'id'"),
        ({"id": "1"}, "QL-1003", "no text"),
        ({"id": "1", "text": ""}, "QL-1003", "no text"),
        ({"id": "1", "text": "", "title": ""}, "QL-1003", "no text"),
        ({"id": "1", "links": ["https://x.example"]}, "QL-1003", "no text"),
        ({"id": "1", "text": 42}, "QL-1004", "'text' must be a string, not a number"),
        ({"id": "1", "text": ["a"]}, "QL-1004", "'text' must be a string, not a list"),
        ({"id": "1", "text": "x", "title": 3}, "QL-1004", "'title'"),
        ({"id": "1", "text": "x", "platform": {}}, "QL-1004", "'platform' must be a string, not an object"),
        ({"id": "1", "text": "x", "lang": False}, "QL-1004", "'lang'"),
        ({"id": "1", "text": "x", "account_id": 1.0}, "QL-1004", "'account_id'"),
        ({"id": "1", "text": "x", "timestamp": 1714528800}, "QL-1004", "'timestamp'"),
        ({"id": "1", "text": "x", "links": "https://x.example"}, "QL-1004", "'links' must be a list"),
        ({"id": "1", "text": "x", "links": ["ok", 5]}, "QL-1004", "item 1"),
        ({"id": "1", "text": "ab\x00c"}, "QL-1005", "U+0000 at position 2"),
        ({"id": "1", "text": "ab\x1bc"}, "QL-1005", "U+001B"),
        ({"id": "1", "text": "ab\x7fc"}, "QL-1005", "U+007F"),
        ({"id": "1", "text": "ab\x85c"}, "QL-1005", "U+0085"),
        ({"id": "1", "text": "x", "bio": "b\x07"}, "QL-1005", "field 'bio'"),
        ({"id": "1", "text": "x", "links": ["a", "b\x01"]}, "QL-1005", "field 'links'"),
    ],
)
def test_invalid_records(record: dict[str, Any], code: str, words: str) -> None:
    with pytest.raises(QLError) as info:
        post_from_mapping(record, 12)
    assert info.value.code.code == code
    assert info.value.record == 12
    assert words in info.value.message


def test_errors_carry_the_post_id_when_known() -> None:
    with pytest.raises(QLError) as info:
        post_from_mapping({"id": 5, "text": 1}, 1)
    assert info.value.post_id == "5"


def test_text_too_large() -> None:
    with pytest.raises(QLError) as info:
        post_from_mapping({"id": "1", "text": "a" * 10_000_001}, 4)
    assert info.value.code.code == "QL-1006"
    assert "10,000,001" in info.value.message
    with pytest.raises(QLError) as info:
        post_from_mapping({"id": "1", "text": "ok", "transcript": "b" * 11}, 4, max_text_chars=10)
    assert info.value.code.code == "QL-1006" and "'transcript'" in info.value.message
    assert post_from_mapping({"id": "1", "text": "a" * 10}, 1, max_text_chars=10).text == "a" * 10
