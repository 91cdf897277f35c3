"""Data files behind the contact-word and pinyin rewrite."""

from __future__ import annotations

import re

import pytest

from qinglang.text.fold import read_data
from qinglang.text.lexicon import (
    Rewriter,
    load_contact_alternatives,
    load_pinyin_words,
    load_stopwords,
)
from qinglang.text.normalize import default_normalizer

CANONICAL = {"微信", "qq", "telegram"}


def test_contact_rows_are_well_formed() -> None:
    rows = list(read_data("contact_words.tsv"))
    assert rows
    kinds = {"form", "before", "after_add", "before_handle", "before_number"}
    for row in rows:
        assert row[0] in CANONICAL, row
        assert row[1] in kinds, row
        assert row[2] == row[2].lower(), "forms are written in normalized (lowercase) space"
    alts = load_contact_alternatives()
    assert len(alts) == len(rows)
    for alt in alts:
        re.compile(alt.body)


@pytest.mark.parametrize("word", sorted(CANONICAL))
def test_canonical_spellings_are_fixed_points(word: str) -> None:
    norm = default_normalizer()
    assert norm.normalize_term(word) == word
    assert norm.normalize(f"加{word}:abc123").text == f"加{word}:abc123"


def test_pinyin_keywords() -> None:
    words = load_pinyin_words()
    assert 40 <= len(words) <= 80
    by_word = {w.word: w for w in words}
    assert by_word["代还"].syllables == ("dai", "huan")  # override of pypinyin's dai hai
    assert by_word["加微信"].syllables == ("jia", "wei", "xin")
    assert "提额" not in by_word  # "tie" and "ti e" are both Latin-script text
    assert by_word["返利"].joined_ok and not by_word["返利"].spaced_ok
    for w in words:
        assert len(w.syllables) >= 2


def test_no_pinyin_form_is_a_stop_word() -> None:
    """No compiled form may rewrite a stop word, or a phrase made only of stop words."""
    stop = sorted(load_stopwords())
    assert {"tie", "dai", "fan", "li"} <= set(stop)
    norm = default_normalizer()
    for w in stop:
        assert norm.normalize(w).text == w, w
    for a in stop:
        for b in stop:
            phrase = f"{a} {b}"
            assert norm.normalize(phrase).text == phrase, phrase


def test_rewriter_ascii_and_mixed_paths_agree() -> None:
    """The pure-ASCII pattern (run on " " + text) finds what the general one finds."""
    rw = Rewriter()
    samples = [
        "vx123456 and tg",
        "jia wei xin, dai-kuan; q q:12345",
        "+v abc +q 12345",
        "wx.qq.com t.me/tg_bot vx@qq.com",
        "v:abc123 wei xin gupiao zhang ting",
    ]
    for text in samples:
        ascii_edits = rw.edits(text)
        mixed = [
            (m.start(), m.end(), rw._canonical[m.lastgroup])  # type: ignore[index]
            for m in rw.pattern.finditer(text)
            if text[m.start() : m.end()] != rw._canonical[m.lastgroup]  # type: ignore[index]
        ]
        assert ascii_edits == mixed, text
