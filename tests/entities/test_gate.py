"""The registry's gates (entities/gate.py) and the prescan bits extractors read.

Every gate bit must be a necessary condition for its extractor to find anything, and
every prescan bit an extractor reads must only skip work that finds nothing. Both are
checked here the plain way: each extractor called alone (no prescan, so it reads
every bit as set and runs every pass behind its own tests) against the registry, on
generated texts built to reach the corners of the patterns, with and without
Hyperscan.
"""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import pytest
from test_entity_fast_paths import _PIECES, NTS

from qinglang.entities import EXTRACTORS, base, extract_entities, extract_entities_many, gate, returns, url
from qinglang.entities.base import ALL_FEATURES, text_facts
from qinglang.text.normalize import default_normalizer
from qinglang.text.offsets import NormalizedText

# pieces aimed at the prescan patterns: a Hong Kong mark that exists only among the
# ASCII characters (h, 中, k), a context word without one (联交所), currency words
# next to digits or not (5人民币, 美国, 5usdx), counts (3万人), multiples written out
# (翻了番, 十倍股), gain words that anchor nothing (一家收入), figures a few characters
# from their unit, Latin multipliers, obfuscated dots with spaces, rates by a trigger
_CORNERS = (
    "h中k|联交所|港|恒|0700|00700.hk|hk|5人民币|美国|英国|港股|欧洲|5usdx|usd5|rmb 5|5 usd"
    "|3万人|30人|5多元|5 多 元|5k+ usd|5k元|5w|3m|10x|10x gem|x2|翻了番|翻倍股|十倍股|三倍收益"
    "|一家收入|收益率高达|每月稳定|月入过亿|年化|年化利率|贷款|loan|百分之十|百分之零点五"
    "|abc  点  com|abc 点 com|abc点com|a。b|x . y|(dot)|[.]|hxxp://|ftp://|http://1.2.3.4"
    "|t.cn/Ab|www.|.cn|tg://resolve?domain=abcde|wa.me/|chat.whatsapp.com/|@|艾特|(at)"
    "|wxid_abcd|微信id_|同微信|微信同号|+86|0086|+1|00|+44 20 7946 0958|138 0013 8000"
    "|4111 1111 1111 1111|6222 021 234 567 890 12|1a1zp1ep5qgefi2dmptftl5slmv7divfna"
    "|0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed|tr7nhqjekqxgtci8q8zy4pl8otszgjlj6t"
    "|risk-free|no risk|bénéfice|guaranteed|returns|make|next|earn|apr|taeg|tan|%|x| |,|中"
    "|了倍股|了番收益|涨了|41111 111 111 11111|411111 111 1111 111|example.zone/abc|bit.ly/Zz"
    "|年化7.2%|年息 5%|借款|分期|利息|三万多元|五亿元|十余块|两万亿元|一千二百元|五千块钱"
).split("|")


def _corner_texts(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    pieces = list(_PIECES) + list(_CORNERS) * 3
    out = []
    for _ in range(n):
        parts = [rnd.choice(pieces) for _ in range(rnd.randrange(1, 8))]
        out.append(rnd.choice(("", "", " ", "中")).join(parts))
    return out


def _corners_only(n: int, seed: int) -> list[str]:
    """Two to four corner pieces: each pair of them meets many times."""
    rnd = random.Random(seed)
    return [rnd.choice(("", " ", "中")).join(rnd.choice(_CORNERS) for _ in range(rnd.randrange(2, 5)))
            for _ in range(n)]


#: one text per clause of the prescan patterns, so that no clause depends on chance
_CLAUSES = [
    "guaranteed 5 % weekly", "returns of 3\u3000% a day", "100 x gem", "10x gem presale", "daily profit 2 %",
    "月入 3 万", "日赚 5多元", "每天赚5 多 元", "earn 5k+ usd daily", "get $ 500", "usd 500 back", "rmb5 返利",
    "5人民币", "3万人", "日收益3%", "翻了番", "涨了倍股", "一个月翻了三倍", "收益率高达20%", "每天在家轻松赚500",
    "年化 5% 贷款", "年化7.2%借款", "综合年化利率百分之十八", "7.2% apr", "taeg 7,2%", "三万多元", "五亿元",
    "h中k 联交所 0700", "港股 0700", "hk 00700", "$tsla", "nasdaq: tsla", "600519", "sh600519",
    "abc 点 com", "abc。com", "abc (.) com", "abc [.] com", "abc . com", "abc dot com", "hxxps://a.b/c",
    "ftp://1.2.3.4/x", "http://a.b?x=http://c.d", "www.abc-invest.top", "abc123.cn/xyz", "example.zone/abc",
    "x.y@gmail.com", "x (at) gmail.com", "x艾特gmail.com", "12345678@qq.com", "qq群 87654321",
    "微信:abc_123", "wxid_abcdefg", "微信id_abcd12", "电话同微信13800138000", "wechat abc123",
    "t.me/crypto_king", "telegram.dog/abcdef", "tg://resolve?domain=abcde", "telegram @abcdef",
    "wa.me/447911123456", "whatsapp +447911123456", "瓦次普 13800138000", "chat.whatsapp.com/AbCdEfGhIjK",
    "+44 20 7946 0958", "0086 138 0013 8000", "138-0013-8000", "4111 1111 1111 1111", "41111 111 111 11111",
    "6222021234567890128", "1a1zp1ep5qgefi2dmptftl5slmv7divfna", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "tr7nhqjekqxgtci8q8zy4pl8otszgjlj6t",
]

_norm = default_normalizer()
CORPUS: list[NormalizedText] = (
    [NormalizedText.identity(t) for t in _CLAUSES]
    + [NormalizedText.identity(t) for t in _corner_texts(3000, seed=11) + _corners_only(6000, seed=13)]
    + [_norm.normalize(t) for t in _corner_texts(1000, seed=12)]
    + NTS
)


def _alone(x, nt: NormalizedText):  # type: ignore[no-untyped-def]
    """``x.extract(nt)`` without a prescan: every bit reads as set."""
    base.remember_features("", ALL_FEATURES)
    return x.extract(nt)


def _keys(nt: NormalizedText, entities) -> set:  # type: ignore[no-untyped-def]
    return {(e.type, e.value, e.nstart, e.nend, repr(e.detail)) for e in entities}


@pytest.fixture
def no_hyperscan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "hyperscan", None)
    monkeypatch.setattr(gate, "_DATABASE", None)


def test_every_extractor_has_its_bits() -> None:
    assert set(gate.BITS) == {x.name for x in EXTRACTORS}
    for name, bits in gate.BITS.items():
        others = [b for n, b in gate.BITS.items() if n != name]
        assert bits and not any(bits & b for b in others), name
    # the bits returns reads without running on them belong to no other extractor
    plan = sum(gate.BITS.values())
    for bit in (returns.F_MONEY, returns.F_TRIGGER, returns.F_LOAN):
        assert bit & returns.F_ANY == 0 and bit & plan == 0
    # every prescan id fits Hyperscan's, and no two patterns share one by accident
    ids = [bit for bit, _ in gate._PATTERNS] + [c[0] for c in gate._COMBINED]
    assert all(0 < i < 2**31 and i & (i - 1) == 0 for i in ids)
    assert {i for i, n in Counter(ids).items() if n > 1} == {gate.PHONE}  # a mobile or an international number


@pytest.mark.skipif(gate.hyperscan is None, reason="Hyperscan is not installed")
def test_prescan_bits_are_necessary() -> None:
    for nt in CORPUS:
        mask = gate.scan(nt.text)
        assert mask is not None
        for x in EXTRACTORS:
            if not mask & gate.BITS[x.name]:
                assert _alone(x, nt) == [], (x.name, nt.text)


def test_fallback_bits_are_necessary() -> None:
    for nt in CORPUS:
        mask = gate.candidates(nt.text, text_facts(nt.text))
        for x in EXTRACTORS:
            if not mask & gate.BITS[x.name]:
                assert _alone(x, nt) == [], (x.name, nt.text)


def _registry_is_every_extractor_alone() -> None:
    for nt in CORPUS:
        if not nt.text:
            continue
        alone = []
        for x in EXTRACTORS:
            alone.extend(_alone(x, nt))
        want = {(f.type, f.value, f.nstart, f.nend, repr(f.detail)) for f in alone}
        assert _keys(nt, extract_entities(nt, "f")) == want, nt.text


@pytest.mark.skipif(gate.hyperscan is None, reason="Hyperscan is not installed")
def test_registry_with_prescan_is_every_extractor_alone() -> None:
    _registry_is_every_extractor_alone()


@pytest.mark.usefixtures("no_hyperscan")
def test_registry_without_hyperscan_is_every_extractor_alone() -> None:
    assert gate.scan("abc") is None
    _registry_is_every_extractor_alone()


def test_text_that_is_not_utf8_falls_back() -> None:
    nt = NormalizedText.identity("微信 abc123\ud800 13800138000")
    assert gate.scan(nt.text) is None
    assert {e.value for e in extract_entities(nt, "f")} == {"wechat:abc123", "phone:+8613800138000"}


@pytest.mark.skipif(gate.hyperscan is None, reason="Hyperscan is not installed")
def test_hong_kong_mark_among_ascii_characters() -> None:
    # stock.extract reads "hk" among the ASCII characters: h and k around a Chinese one
    nt = NormalizedText.identity("h中k 联交所 0700")
    assert gate.scan(nt.text) & gate.STOCK
    assert [e.value for e in extract_entities(nt, "f")] == ["stock_code:00700.HK"]
    assert not gate.scan("联交所 0700") & gate.STOCK


# ------------------------------------------------------- the faster equivalents


def test_scheme_matches_are_the_pattern_matches() -> None:
    for nt in CORPUS:
        text = nt.text
        want = [(m.span(), m.groupdict()) for m in url._SCHEME_RE.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in url.scheme_matches(text)] == want, text
    text = "http://a.b/x?u=http://c.d https://e.f hxxps://g.h ftp://1.2.3.4 xhttp://i.j"
    assert [m.group() for m in url.scheme_matches(text)] == [m.group() for m in url._SCHEME_RE.finditer(text)]


def test_obfuscation_test_is_the_gate_pattern() -> None:
    for nt in CORPUS:
        assert url._has_obfuscation(nt.text) == (url._OBF_GATE_RE.search(nt.text) is not None), nt.text


def test_number_forms_are_the_plain_ones() -> None:
    for s in ("0", "7", "7.2", "7.20", "18", "1E+3", "0.5", "10000", "1234567.891", "3.0"):
        d = Decimal(s)
        assert base.number_forms(d) == (base._fmt_number(d), base._json_number(d))
        assert base.fmt_number(d) == base._fmt_number(d)


def test_parse_number_memo_is_the_plain_parse() -> None:
    for s in ("7,2", "1,299.50", "1.000,50", "12", "1,000", "0.5"):
        for percent in (False, True):
            assert returns.parse_number(s, percent=percent) == returns._parse_number(s, percent)
            assert returns.parse_number(s, percent=percent) == returns._parse_number(s, percent)


def _entity_rows(entities: list) -> list[tuple]:
    return [(e.type, e.value, e.field, e.start, e.end, e.text, repr(e.detail), e.nstart, e.nend) for e in entities]


def test_many_texts_at_once_are_each_text_alone() -> None:
    """extract_entities_many (prescan every text, then extract) gives each text what
    extract_entities gives it alone: the prescan bits it remembers are the right
    text's, and texts without Hyperscan (a lone surrogate) or without text fall back."""
    nts = [*NTS, NormalizedText.identity(""), NormalizedText.identity("微信 abc123\ud800 13800138000")]
    fields = [f"f{i % 3}" for i in range(len(nts))]
    many = extract_entities_many(nts, fields)
    assert len(many) == len(nts)
    assert sum(1 for found in many if found) > 100
    for nt, field, found in zip(nts, fields, many, strict=True):
        assert _entity_rows(found) == _entity_rows(extract_entities(nt, field)), nt.text


@pytest.mark.usefixtures("no_hyperscan")
def test_many_texts_at_once_without_hyperscan() -> None:
    many = extract_entities_many(NTS[:300], ["f"] * 300)
    assert [_entity_rows(found) for found in many] == [_entity_rows(extract_entities(nt, "f")) for nt in NTS[:300]]


@pytest.mark.skipif(gate.hyperscan is None, reason="hyperscan is not installed: no prescan to merge")
def test_prescan_merged_into_a_term_scan_is_the_prescan_alone() -> None:
    """The gate's items compiled into a term database (the engine's single pass) give
    every text the mask gate.scan gives it, and the terms the plain database finds."""
    from qinglang.detect import matcher as matcher_mod

    if matcher_mod._spans is None:
        pytest.skip("qinglang.detect._spans is not built (no C compiler): nothing is merged")
    terms = ["微信", "收益", "a", "usdt", "贷款", "%", "股"]
    plain = matcher_mod.TermMatcher("hyperscan")
    merged = matcher_mod.TermMatcher("hyperscan")
    for t in terms:
        plain.add(t)
        merged.add(t)
    assert merged.attach_prescan(gate.hyperscan_items)
    nts = [nt for nt in NTS if "\ud800" not in nt.text]
    seen_bits = 0
    for nt in [*nts, NormalizedText.identity("")]:
        occ_plain: dict = {}
        occ_merged: dict = {}
        assert plain.find_into(nt.text, 0, occ_plain) is None
        mask = merged.find_into(nt.text, 0, occ_merged)
        assert mask == (gate.scan(nt.text) if nt.text else 0), nt.text
        assert occ_merged == occ_plain and list(occ_merged) == list(occ_plain)
        seen_bits |= mask
    assert bin(seen_bits).count("1") > 15  # the texts reach most bits


def test_hyperscan_items_number_bits_and_quiet_patterns() -> None:
    if gate.hyperscan is None:
        pytest.skip("hyperscan is not installed")
    items = gate.hyperscan_items(1000)
    reporting = {pid for pid, _, flags in items if not flags & gate.hyperscan.HS_FLAG_QUIET}
    quiet = {pid for pid, _, flags in items if flags & gate.hyperscan.HS_FLAG_QUIET}
    every_bit = 0
    for bits in gate.BITS.values():
        every_bit |= bits
    assert {1000 + k for k in range(gate.BIT_IDS) if every_bit >> k & 1} <= reporting
    assert all(1000 <= pid < 1000 + gate.BIT_IDS for pid in reporting)
    assert all(pid >= 1000 + gate.BIT_IDS for pid in quiet)
    assert all(flags & gate.hyperscan.HS_FLAG_SINGLEMATCH for _, _, flags in items)


def test_many_texts_with_masks_given_are_each_text_alone() -> None:
    """Masks a merged term scan computed are used as they are; None still scans."""
    nts = NTS[:400]
    masks = [gate.scan(nt.text) if i % 2 else None for i, nt in enumerate(nts)]
    many = extract_entities_many(nts, ["f"] * len(nts), masks)
    assert [_entity_rows(found) for found in many] == [_entity_rows(extract_entities(nt, "f")) for nt in nts]
