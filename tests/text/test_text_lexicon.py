"""Data files behind the contact-word and pinyin rewrite."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.text.fold import read_data
from qinglang.text.lexicon import (
    SPACE_CLASS,
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


# --- the Hyperscan prefilter -----------------------------------------------------

REWRITER = Rewriter()
needs_prefilter = pytest.mark.skipif(REWRITER.prefilter is None, reason="hyperscan is not installed")


@needs_prefilter
def test_space_class_is_what_re_calls_whitespace() -> None:
    """SPACE_CLASS, in Hyperscan's syntax, holds exactly the characters ``\\s`` matches
    in ``re`` (no character outside the BMP is whitespace)."""
    import hyperscan

    db = hyperscan.Database()
    db.compile(expressions=[SPACE_CLASS.encode()], ids=[0], elements=1, flags=hyperscan.HS_FLAG_UTF8)
    # one character after each "a", so a report's end offset names its character
    chars = [chr(cp) for cp in range(0x10000) if not 0xD800 <= cp < 0xE000]
    data = "".join("a" + c for c in chars).encode()
    ends: list[int] = []
    db.scan(data, lambda _i, _f, to, _fl, _c: ends.append(to), 0, None)
    found = {data[:end].decode()[-1] for end in ends}
    assert found == {c for c in chars if re.fullmatch(r"\s", c)}
    assert all(not chr(cp).isspace() for cp in range(0x10000, 0x110000))


#: pieces of text that reach every alternative: each form and its context, the heads
#: written before a form, handles and numbers, pinyin syllables and separators
FRAGMENTS = sorted(
    {row[2] for row in read_data("contact_words.tsv")}
    | {c for row in read_data("contact_words.tsv") if len(row) > 3 for c in row[3].split("|")}
    | {s for w in load_pinyin_words() for s in w.syllables}
    | {"加", "加我", "加个", "+", " ", "  ", ":", "：", "\u3000", "_", "-", ".", "'", "@", "/",
       "abc123", "a b c 1", "12345678", "x", "Dai Kuan", "wx.qq.com", "中文", "股票", "ab"}
)
fragment_texts = st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join)

SEPARATORS = ("", " ", "  ", ".", "_", "-", "'", "\u3000", " ._")
HANDLES = ("abc123", "a b c 1", "12345678", "a.b.c.d", "ab")


def _examples() -> list[str]:
    """Texts written to match each alternative, with the separators, heads, contexts,
    handles and numbers its data row allows (and some it does not)."""
    out: list[str] = []
    for row in read_data("contact_words.tsv"):
        kind, form = row[1], row[2]
        forms = [sep.join(form.split(" ")) for sep in SEPARATORS]
        if kind == "before":
            out += [f + c for f in forms for c in row[3].split("|")]
        elif kind == "after_add":
            out += [h + f for f in forms for h in ("加", "加 ", "加我", "加个 ", "+", "+ ", "加  ")]
        elif kind in ("before_handle", "before_number"):
            out += [f + a + ":" + b + h for f in forms for a in (*SEPARATORS[:3], "\u3000", "\t")
                    for b in (*SEPARATORS[:3], "\u2003") for h in HANDLES]
        out += forms
    for w in load_pinyin_words():
        out += [sep.join(w.syllables) for sep in SEPARATORS]
    return out


EXAMPLES = _examples()


def _check_prefilter(text: str) -> None:
    matched = any(True for _ in REWRITER.pattern.finditer(text)) or any(
        True for _ in REWRITER.ascii_pattern.finditer(" " + text)
    )
    if matched:
        assert REWRITER.prefilter(text), text
    plain = copy.copy(REWRITER)
    plain.prefilter = None
    assert REWRITER.edits(text) == plain.edits(text), text
    assert REWRITER.edits(text, has_han=False) == plain.edits(text, has_han=False), text


@needs_prefilter
def test_prefilter_is_necessary_on_every_alternative() -> None:
    """Where the prefilter reports nothing, neither rewrite pattern matches (so the
    rewrite's edits are those it finds without the prefilter): each alternative's
    examples, alone and between other text."""
    assert len(EXAMPLES) > 1000
    for example in EXAMPLES:
        for before, after in (("", ""), ("x ", " y"), ("中", "文"), ("a", "1"), ("chapter ", "")):
            _check_prefilter(before + example + after)


@needs_prefilter
@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.sampled_from(EXAMPLES), max_size=6).map("".join))
def test_prefilter_is_necessary_on_mixed_text(text: str) -> None:
    _check_prefilter(default_normalizer().fold(text))


@needs_prefilter
def test_prefilter_passes_the_documented_forms() -> None:
    for text in ("v:abc123", "加v", "+ q", "q:12345678", "jia wei xin", "dai-kuan", "薇信", "飞机号",
                 "vx123456", "tg群"):
        assert REWRITER.prefilter(text), text
    for text in ("quarterly revenue grew 12%", "la banca centrale", "沪深两市早盘震荡", "v for vendetta"):
        assert not REWRITER.prefilter(text), text
