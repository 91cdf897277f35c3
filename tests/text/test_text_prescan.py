"""The C prescan agrees with the pure-Python fold and regex guards it replaces.

Where the extension is not built these tests skip (the pure-Python path is then the
only one, and the rest of the suite covers it).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.text import prescan
from qinglang.text.normalize import Normalizer, default_normalizer

NORM = default_normalizer()
pytestmark = pytest.mark.skipif(
    not NORM.compiled, reason="qinglang.text._prescan is not built (no C compiler at install)"
)

#: characters that exercise every class the prescan knows, several of each
ALPHABET = (
    "加微信稳赚股票贷款〇𠀀𪚥"  # Han, incl. 〇 and astral Han
    "零一二三四五六七八九幺两肆伍陆壹柒"  # numerals (and financial ones the fold turns to digits)
    "0123456789１２"  # digits, full-width digits
    " \t\r\n.·_-"  # spacers
    "*|/\\~^`'\"・—"  # other separators
    "\u3000\u00a0"  # wide and no-break spaces
    "❤★\u200b\u200d\ufe0f\u20e3😀🀄"  # deletable and astral symbols
    "⑩⒇㉑①⑴"  # enclosed numbers
    "vxwqtgjiaeinVXQＶΣσİ"  # rewrite leads, letters, case
    "@:：，,。"  # boundaries and punctuation
    "薇威扣飞机"  # homophone leads
)

GUARDS = (
    (prescan.HAN, lambda n, t: n._han.search(t)),
    (prescan.STRIP, lambda n, t: n._strip_guard.search(t)),
    (prescan.SYMBOL, lambda n, t: n._symbol_guard.search(t)),
    (prescan.DIGIT, lambda n, t: n._digit_guard.search(t)),
    (prescan.SPACED, lambda n, t: n._spaced_guard.search(t)),
    (prescan.NUMERAL, lambda n, t: n._numeral_guard.search(t)),
    (prescan.REPEAT, lambda n, t: n._repeat.search(t)),
    (prescan.ASCII, lambda n, t: t.isascii()),
)

texts = st.text(alphabet=ALPHABET, max_size=40)


def test_fold_matches_on_every_code_point():
    """The C fold table is the Python fold, character for character (surrogates aside)."""
    pre = NORM._prescan
    cps = [cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]
    for i in range(0, len(cps), 4096):
        chunk = "".join(map(chr, cps[i : i + 4096]))
        assert pre.prescan(chunk)[0] == NORM.fold(chunk), f"fold differs in chunk starting at U+{cps[i]:04X}"


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_every_guard_flag_is_its_regex(s):
    folded, flags = NORM._prescan.prescan(s)
    assert folded == NORM.fold(s)
    for bit, guard in GUARDS:
        assert bool(flags & bit) == bool(guard(NORM, folded)), (bit, folded)
    assert flags == NORM._prescan.guards(folded)
    # REPEAT_HAN: a repeat the repeat pass would edit
    assert bool(flags & prescan.REPEAT_HAN) == bool(NORM._repeat_edits(folded))


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_rewrite_flag_is_necessary(s):
    """No contact or pinyin rewrite can match where the REWRITE flag is off."""
    folded, flags = NORM._prescan.prescan(s)
    if not flags & prescan.REWRITE:
        assert NORM.rewriter.edits(folded) == []
        assert NORM.rewriter.edits(folded, has_han=False) == []


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_normalize_is_the_regex_path(s):
    a, b = NORM.normalize(s), NORM.normalize_regex(s)
    assert a.text == b.text
    assert a.layers == b.layers


@pytest.mark.parametrize(
    "s",
    [
        "加 薇❤信: a b c 1 2 3",
        "ＶＸ:abc123",
        "稳稳稳赚 1 3 8 0 0 1 3 8 0 0 0",
        "一三八零零一三八零零零",
        "jia wei xin 哦",
        "请 jia wei xin 哦哦哦",
        "⑩⒇㉑ 号",
        "1.2.3.4 和 1.5 2.5 3.5",
        "",
        "😀" * 600,  # longer than the C stack buffer
    ],
)
def test_normalize_cases_agree(s):
    a, b = NORM.normalize(s), NORM.normalize_regex(s)
    assert (a.text, a.layers) == (b.text, b.layers)


def test_pure_python_switch(monkeypatch):
    """QINGLANG_PURE_PYTHON=1 turns the extension off: the regex path runs, same output."""
    monkeypatch.setenv("QINGLANG_PURE_PYTHON", "1")
    assert prescan.extension() is None
    pure = Normalizer()
    assert not pure.compiled
    s = "加 薇❤信: a b c 1 2 3"
    assert pure.normalize(s).text == NORM.normalize(s).text


def test_bad_tables_are_refused():
    ext = prescan.extension()
    with pytest.raises(TypeError):
        ext.prescan("not bytes", b"", b"", b"", "x")
    with pytest.raises(ValueError):
        ext.prescan(b"", b"", b"", b"", "x")
