"""The C byte-to-character offset conversion and occurrence index give what the Python path gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.detect import matcher as matcher_mod
from qinglang.detect.matcher import TermMatcher, default_backend

pytestmark = [
    pytest.mark.skipif(default_backend() != "hyperscan", reason="hyperscan is not installed: no byte offsets"),
    pytest.mark.skipif(matcher_mod._spans is None, reason="qinglang.detect._spans is not built (no C compiler)"),
]

TERMS = ["股票", "加微信", "a", "ab", "é", "😀", "𠀀股", "稳赚", "x😀y"]
ALPHABET = "股票加微信稳赚abxyAé😀𠀀 ,1_"


def _matcher() -> TermMatcher:
    m = TermMatcher("hyperscan")
    for t in TERMS:
        m.add(t)
    m.build()
    return m


MATCHER = _matcher()


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30))
def test_c_and_python_conversions_agree(text):
    with_c = MATCHER.find(text)
    saved = matcher_mod._spans
    matcher_mod._spans = None
    try:
        pure = MATCHER.find(text)
    finally:
        matcher_mod._spans = saved
    assert with_c == pure
    for tid, s, e, _ in with_c:
        assert text[s:e] == MATCHER.terms[tid].text


def test_collect_appends_what_the_python_handler_appends():
    a: list[tuple[int, int]] = []
    b: list[tuple[int, int]] = []
    matcher_mod._spans.collect(3, 0, 9, 0, a)
    matcher_mod._collect(3, 0, 9, 0, b)
    assert a == b == [(3, 9)]
    with pytest.raises(TypeError):
        matcher_mod._spans.collect(3, 0, 9, 0, None)


def test_char_spans_rejects_bad_input():
    spans = matcher_mod._spans
    with pytest.raises(TypeError):
        spans.char_spans("abc", [(0,)], [1])
    with pytest.raises(IndexError):
        spans.char_spans("abc", [(5, 1)], [1])
    with pytest.raises(ValueError):
        spans.char_spans("股", [(0, 1)], [1])  # inside the character's three bytes


def _index_both(texts: list[str]) -> tuple[dict, dict]:
    with_c: dict = {}
    pure: dict = {}
    for fi, t in enumerate(texts):
        MATCHER.find_into(t, fi, with_c)
    saved = matcher_mod._spans
    matcher_mod._spans = None
    try:
        for fi, t in enumerate(texts):
            MATCHER.find_into(t, fi, pure)
    finally:
        matcher_mod._spans = saved
    return with_c, pure


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=20), min_size=1, max_size=3))
def test_index_into_builds_the_same_occurrence_index_over_fields(texts):
    with_c, pure = _index_both(texts)
    assert with_c == pure
    assert list(with_c) == list(pure)  # first-occurrence order: rules read evidence in it


@pytest.mark.parametrize(("text", "bounded"), [
    ("ab", True), ("ab c", True), ("xab", False), ("abx", False), ("_ab", False), ("1ab", False),
    ("股ab股", True), ("Aab", False), ("é ab", True), ("éab", True),
])
def test_index_into_word_boundaries(text, bounded):
    occ: dict = {}
    MATCHER.find_into(text, 0, occ)
    tid = TERMS.index("ab")
    assert [o[3] for o in occ[tid]] == [bounded]


def test_index_into_rejects_bad_input():
    spans = matcher_mod._spans
    with pytest.raises(TypeError):
        spans.index_into("abc", [(0, 1)], [1], "not bytes", 0, {})
    with pytest.raises(IndexError):
        spans.index_into("abc", [(1 + 64, 1)], [1], b"\0", 0, {})  # past the terms and the prescan bits
    with pytest.raises(IndexError):
        spans.index_into("abc", [(-1, 1)], [1], b"\0", 0, {})
    with pytest.raises(ValueError):
        spans.index_into("股", [(0, 1)], [1], b"\0", 0, {})
    with pytest.raises(ValueError):
        spans.index_into("ab", [(0, 1)], [2], b"\0", 0, {})  # a two-character term cannot end at 1


def test_index_into_returns_prescan_bits_past_the_terms():
    """Ids len(lengths) + k are bits of a prescan compiled into the same database."""
    spans = matcher_mod._spans
    occ: dict = {}
    assert spans.index_into("ab", [(0, 1), (2 + 3, 2), (1, 2), (2 + 0, 2)], [1, 2], b"\0\0", 0, occ) == 0b1001
    assert occ == {0: [(0, 0, 1, True)], 1: [(0, 0, 2, True)]}
    assert spans.index_into("ab", [(2 + 63, 1)], [1, 2], b"\0\0", 0, {}) == 1 << 63
    with pytest.raises(IndexError):
        spans.index_into("ab", [(2 + 64, 1)], [1, 2], b"\0\0", 0, {})


def test_find_into_returns_no_mask_without_a_prescan():
    assert MATCHER.find_into("股票", 0, {}) is None
