"""The 1:1 fold: every character maps to one character, so offsets need no map."""

from __future__ import annotations

import random
import unicodedata

import pytest
from opencc import OpenCC

from qinglang.text.fold import _COMMON_FULLWIDTH, FINANCIAL_DIGITS, FoldTable, load_homoglyphs, load_t2s
from qinglang.text.normalize import default_normalizer


@pytest.fixture(scope="module")
def fold() -> FoldTable:
    return default_normalizer().fold


def test_t2s_table_agrees_with_opencc() -> None:
    """The shipped table is what scripts/gen_t2s_table.py gets from OpenCC."""
    table = load_t2s()
    assert len(table) > 3000
    cc = OpenCC("t2s")
    rng = random.Random(20240611)
    for trad in rng.sample(sorted(table), 300):
        assert cc.convert(trad) == table[trad], trad
    for trad, simp in table.items():
        assert len(trad) == 1 and len(simp) == 1 and trad != simp


@pytest.mark.parametrize(
    ("src", "want"),
    [
        # traditional -> simplified
        ("請加微信", "请加微信"),
        ("穩賺不賠", "稳赚不赔"),
        ("內幕消息", "内幕消息"),
        ("股票漲停", "股票涨停"),
        # full width, ideographic space
        ("ＶＸ：１２３", "vx:123"),
        ("加\u3000微", "加 微"),
        ("（你好）！？；", "(你好)!?;"),
        # lowercase
        ("VIP", "vip"),
        ("A股", "a股"),
        ("İstanbul", "istanbul"),
        # NFKC single-character folds
        ("𝐚𝐛𝐜", "abc"),
        ("ⓐⓑⓒ", "abc"),
        ("¹²³", "123"),
        ("ℂ𝐇", "ch"),
        ("⼈", "人"),  # Kangxi radical
        ("㊀", "一"),
        # enclosed forms NFKC wraps, and forms NFKC leaves alone
        ("⑴⒈⒜㈠", "11a一"),
        ("🅐🅰ᴀʙ", "aaab"),
        # fancy digits
        ("①", "1"),
        ("⑴", "1"),
        ("⒈", "1"),
        ("➀", "1"),
        ("❶", "1"),
        ("𝟏", "1"),
        ("⓵⓿🄋", "100"),
        ("٣३", "33"),
        # financial numerals (the safe ones)
        ("壹贰叁柒捌玖", "123789"),
        ("貳", "2"),
        # homoglyphs
        ("wх", "wx"),  # Cyrillic ha
        ("аеорсх", "aeopcx"),
        ("ν", "v"),
        ("ΤG", "tg"),
    ],
)
def test_fold(fold: FoldTable, src: str, want: str) -> None:
    out = fold(src)
    assert out == want
    assert len(out) == len(src)


@pytest.mark.parametrize(
    "src",
    [
        "今天天气很好",
        "hello world",
        "大陆 队伍 放肆 登陆",  # 肆伍陆 are everyday characters: not folded here
        "⑩",  # multi-digit: handled by the strip pass, not the 1:1 fold
        "😊❤",  # symbols are deleted later, not folded
    ],
)
def test_fold_leaves_alone(fold: FoldTable, src: str) -> None:
    assert fold(src) == src.lower()


def test_fold_is_length_preserving_everywhere(fold: FoldTable) -> None:
    """Every table value is one character, and the fast paths agree with the table."""
    for cp, out in fold.mapping.items():
        assert len(out) == 1, hex(cp)
    rng = random.Random(7)
    keys = [chr(cp) for cp in fold.mapping]
    for _ in range(200):
        s = "".join(rng.choice(keys) for _ in range(20)) + "加微信ABC"
        assert fold(s) == "".join(fold.mapping.get(ord(c), c) for c in s)


def test_fold_is_idempotent(fold: FoldTable) -> None:
    """Targets are fixed points, so a folded term folds to itself."""
    for out in set(fold.mapping.values()):
        assert fold.mapping.get(ord(out), out) == out, out


def test_only_one_character_lowercases_to_several(fold: FoldTable) -> None:
    """The fast path relies on str.lower() being 1:1 except for the listed characters."""
    multi = {chr(cp) for cp in range(0x110000) if len(chr(cp).lower()) != 1}
    assert multi == set(fold.multi_lower)


def test_data_files_are_sane() -> None:
    homo = load_homoglyphs()
    for src, dst in homo.items():
        assert len(src) == 1 and len(dst) == 1 and dst.isascii() and dst.isalpha()
        assert src == src.lower() or len(src.lower()) != 1
    assert set(FINANCIAL_DIGITS.values()) <= set("0123456789")
    assert all(unicodedata.category(c) == "Lo" for c in FINANCIAL_DIGITS)


def test_common_fullwidth_replaces_match_the_table(fold: FoldTable) -> None:
    for a, b in _COMMON_FULLWIDTH:
        assert fold.mapping[ord(a)] == b
        assert fold(f"你{a}好") == f"你{b}好"
