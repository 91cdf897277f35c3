"""Property: every span of normalized text maps back inside the original, in order."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinglang.text.normalize import default_normalizer

#: Pieces evasive posts are made of: Han (simplified, traditional, numerals, contact
#: homophones), ASCII, digits, fancy digits, emoji, invisible characters, separators.
_PIECES = [
    *"加微信薇威扣飞机电报号群纸企鹅稳赚股票一二三四零〇幺两陆伍肆壹叁捌請賺內",
    *"abcqvwxgtijnuoe VXTG",
    *"0123456789",
    *"①⑴⒈➀❶𝟏⑩⒇壹",
    *"😊❤👍🏻️⃣★",
    *"\u200b\u200d\ufeff\u202e\u00ad\ufe0f",
    *" -_.·•*|/\\~^`'\":：，。\n\t+@",
    *"ＶＸａ１",
    "jia wei xin",
    "dai kuan",
    "vx",
    "tg",
    "wei xin",
    "1 3 8 0 0",
    "加v",
    "+q",
    "v:abc",
    "q:12345",
]

posts = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)
any_text = st.text(max_size=40)


def _check(original: str) -> None:
    nt = default_normalizer().normalize(original)
    n, m = len(nt.text), len(original)
    assert nt.original == original
    spans = [nt.to_original(i, i + 1) for i in range(n)]
    # every character maps inside the original, to a non-empty span
    for s, e in spans:
        assert 0 <= s < e <= m
    # monotone: later characters never map before earlier ones
    for (s1, e1), (s2, e2) in pairwise(spans):
        assert s1 <= s2 and e1 <= e2
    # every span (including empty ones) maps inside, ordered
    for i in range(0, n + 1, max(1, n // 8)):
        for j in range(i, n + 1, max(1, n // 8)):
            s, e = nt.to_original(i, j)
            assert 0 <= s <= e <= m
    # the whole text covers from the first kept character to the last
    if n:
        assert nt.to_original(0, n) == (spans[0][0], spans[-1][1])
    else:
        s, e = nt.to_original(0, 0)
        assert 0 <= s == e <= m


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(posts)
def test_spans_map_back_for_evasive_posts(original: str) -> None:
    _check(original)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_spans_map_back_for_any_text(original: str) -> None:
    _check(original)


_PLAIN = st.lists(
    st.sampled_from([*"今天股市大涨請賺錢好的", *"😊❤\u200b\ufe0f", " ", ".", "-", "ＡＢ", "ab"]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_PLAIN)
def test_surviving_characters_map_to_themselves(original: str) -> None:
    """Without rewrites, each output character maps to the character(s) it folds from.

    A collapsed repeat ("今今😊今" -> "今") maps to the whole run, deletions inside
    included, so only the ends of the source span are checked.
    """
    norm = default_normalizer()
    nt = norm.normalize(original)
    for i, ch in enumerate(nt.text):
        src = nt.original_text(i, i + 1)
        folded = norm.fold(src)
        assert folded[0] == ch and folded[-1] == ch, (original, i, src)
