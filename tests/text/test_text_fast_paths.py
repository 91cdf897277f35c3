"""Differential tests for the normalizer's shortcuts: each must change nothing.

The fold's one-scan "nothing left to translate" check, the sharper guards of the
digit passes and the rewriter's alternatives grouped by first character are each
compared, on a few thousand generated texts, with the plain way of doing the same
thing (the reference here is the code they replaced, or the pass run unguarded).
"""

from __future__ import annotations

import random
import re

import pytest

from qinglang.text.fold import _ASTRAL_ANY, FoldTable
from qinglang.text.lexicon import _LEFT_BOUND_AFTER_FIRST, Rewriter, _is_ascii_letter
from qinglang.text.normalize import Normalizer

#: Pieces that exercise every pass: traditional and full-width forms, emoji and
#: invisible characters, separators between Han and between digits, Chinese
#: numerals, repeats, contact words and pinyin, astral letters and ideographs.
_PIECES = (
    "加微信|穩賺不賠|ＶＸ|ｗｘ：ａｂｃ１２３|薇❤信|威 信|加 微 信|jia wei xin"
    "|Jia Wei Xin|dai kuan|扣扣|企鹅号|飞机号|纸飞机|tg|vx|wx|v信"
    "|1 3 8 0 0 1 3 8 0 0 0|1.3.8.0.0|1-3-8-0|1.5 2.5 3.5|192.168.1.1|2024-12-11"
    "|138 0013 8000|一三八零零一三八零零零|幺三八|大陆2024|陆2024年|壹贰叁|①③⑧|⑩⒇㉑"
    "|稳稳稳赚|哈哈哈哈|...|!!!|000|。。。|一一一|\u200b|\u200d|\ufeff|😊|👍🏻"
    "|❤|★|1️⃣|𝐚𝐛𝐜|🅐|𠀀𠀀𠀀|İstanbul|ΣΟΦΙΑ|Ａｂｃ|，|！|？|（|）"
    "|；|：|·|•| |  |\t|\n|-|_|.|/|~|年化|收益|元"
    "|http://t.cn/AbC1|www.example.com|600519|3万|百分之十|零|〇|两|肆伍陆"
    "|a|B|7|12|中|国|人|的|是|老师|带单|Hello world|è"
).split("|")


def _texts(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rnd.choice(_PIECES) for _ in range(rnd.randrange(1, 9))]
        out.append("".join(parts) if rnd.random() < 0.5 else " ".join(parts))
    return out


TEXTS = _texts(3000, seed=11)


@pytest.fixture(scope="module")
def norm() -> Normalizer:
    return Normalizer()


def _reference_fold(table: FoldTable, s: str) -> str:
    """The fold before its one-scan shortcut: BMP keys, then astral keys, each searched."""
    if s.isascii():
        return s.lower()
    if "\u0130" in s:
        if table._all_bmp_re.search(s):
            s = s.translate(table._bmp)
    else:
        s = s.lower()
        for a, b in (("，", ","), ("！", "!"), ("？", "?"), ("：", ":"), ("；", ";"), ("（", "("), ("）", ")")):
            s = s.replace(a, b)
        if table._bmp_re is not None and table._bmp_re.search(s):
            s = s.translate(table._bmp)
    if _ASTRAL_ANY.search(s) and not table._astral_keys.isdisjoint(_ASTRAL_ANY.findall(s)):
        s = s.translate(table._astral)
    return s


def test_fold_shortcut_changes_nothing(norm: Normalizer) -> None:
    for s in TEXTS:
        assert norm.fold(s) == _reference_fold(norm.fold, s), s


def _layers(nt) -> list:
    return [(la.out_starts, la.segments, la.out_len, la.src_len) for la in nt.layers]


def test_digit_pass_guards_change_nothing(norm: Normalizer) -> None:
    unguarded = Normalizer.__new__(Normalizer)
    unguarded.__dict__.update(norm.__dict__)
    everywhere = re.compile("")  # a guard that always holds: the pass always runs
    unguarded._spaced_guard = everywhere
    unguarded._numeral_guard = everywhere
    for s in TEXTS:
        a, b = norm.normalize(s), unguarded.normalize(s)
        assert (a.text, _layers(a)) == (b.text, _layers(b)), s


def _ungrouped_pattern(rw: Rewriter) -> re.Pattern[str]:
    """The rewriter's pattern as built before its Han-led alternatives were grouped."""
    han_led: list[str] = []
    by_letter: dict[str, list[str]] = {}
    for i, alt in enumerate(rw.alternatives):
        body = f"{alt.body}(?P<a{i}>)"
        if _is_ascii_letter(alt.lead):
            by_letter.setdefault(alt.lead, []).append(body)
        else:
            han_led.append(re.escape(alt.lead) + body)
    letters = [f"{k}{_LEFT_BOUND_AFTER_FIRST}(?:{'|'.join(v)})" for k, v in by_letter.items()]
    return re.compile("|".join(han_led + letters))


def test_grouped_rewriter_pattern_matches_the_same(norm: Normalizer) -> None:
    rw = norm.rewriter
    old = _ungrouped_pattern(rw)
    for s in TEXTS:
        t = norm.fold(s)
        want = [(m.span(), m.lastgroup) for m in old.finditer(t)]
        assert [(m.span(), m.lastgroup) for m in rw.pattern.finditer(t)] == want, t
