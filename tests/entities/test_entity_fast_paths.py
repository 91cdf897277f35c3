"""Differential tests for the extractors' shortcuts: each must change nothing.

Extraction skips work with cheap tests (per-text facts computed with byte
operations, ``may_find`` prefilters in the registry, sharper gates and patterns
rewritten so that ``re`` can skip ahead). Each is compared here, on a few thousand
generated texts, with the plain way of doing the same thing: the code it replaced
(kept below as a reference) or the extractor run without the shortcut.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal

from qinglang.entities import EXTRACTORS, base, email, extract_entities, returns, url
from qinglang.entities.base import Found
from qinglang.text.normalize import default_normalizer
from qinglang.text.offsets import NormalizedText

# ---------------------------------------------------------------- the corpus

_PIECES = (
    # figures, units, ranges, currencies, rates
    "3|18|2024|3.5|1,299.50|7,2|10000|600519|00700|13800138000|0086"
    "|元|块|块钱|万|亿|千|万亿|多|余|人|股|个|%| %|x| x|k|m|w"
    "|-|~|到|至|+|$|$ |¥|￥|€|£|us$|hk$|rmb|rmb |cny|usd"
    "|usdt|eur|hkd|gbp|dollars|bucks|euro|pounds|美元|美金|欧元|港元|港币"
    "|英镑|人民币|美|欧|港|英|三|十|五百|一千二|三万|五千元|十元|两块钱"
    "|百分之十八|百分之零点五|过万|破亿|翻倍|翻了三倍|十倍股|翻番|倍"
    # promise words and context
    "|日收益|月入|年化|年化利率|年利率|综合年化|每天|每月|一个月|天天|收益率"
    "|回报|稳赚|保本|保证|包赚|无风险|赚|挣|返利|同比增长|人均年收入|贷款"
    "|guaranteed|guarantee|daily|weekly|per month|returns|profit|gains|earn"
    "|risk-free|no risk|apr|taeg|tan|standard|potential|gem|coin|presale"
    "|rendimento garantito|al mese|bénéfice|the|and|xyz|abc"
    # contacts, links, codes
    "|微信|wechat|weixin|wxid_abc1234|微信id_|qq|qq群|@qq.com|telegram|t.me/"
    "|telegram.me/|t.me/joinchat/|tg://resolve?domain=|wa.me/|whatsapp|whats app|瓦次普"
    "|chat.whatsapp.com/|@|(at)|[at]|艾特|gmail.com|http://|https://|hxxp://"
    "|www.|example.com|.cn/|abc点com| dot |(.)|[.]|。|点|.|/|:|："
    "|同号|同微信|sh|sz|.sh|hk|港股|恒生|nasdaq: |nyse:|$tsla|$btc"
    "|邮编|验证码|订单号|卡号"
    "|1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa|bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    "|0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed|TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    "|6222021234567890128|6222 0212 3456 7890 128|4111111111111111|440301199001011232"
    "|+44 20 7946 0958|+39 347 1234567|138 0013 8000|138-0013-8000|qq:12345678|qq群 87654321"
    "|12345678@qq.com|wa.me/447911123456|whatsapp +447911123456|微信:abc_123|t.me/crypto_king"
    # filler
    "| |  |\n|,|，|!|?|;|的|是|在|了|今天|我们|公司|老师|带单"
    "|Hello|world|a|v2|abc123"
).split("|")


def _texts(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rnd.choice(_PIECES) for _ in range(rnd.randrange(1, 10))]
        sep = rnd.choice(("", "", " ", ""))
        out.append(sep.join(parts))
    return out


def _normalized(texts: list[str]) -> list[NormalizedText]:
    """Each text as already-normalized text and through the real normalizer."""
    norm = default_normalizer()
    return [NormalizedText.identity(t.lower()) for t in texts] + [norm.normalize(t) for t in texts]


NTS = _normalized(_texts(2500, seed=3))


# ------------------------------------------------------------- per-text facts

_RUN = re.compile(r"[0-9]+")


def test_text_facts_agree_with_regex_scans() -> None:
    for text in [nt.text for nt in NTS] + ["", "Ab1😊", "一二", "12 ３4", "x" * 30, "ABC", "中?x"]:
        facts = base.text_facts(text)
        assert facts.letters == (re.search("[a-z]", text) is not None), text
        runs = [len(r) for r in _RUN.findall(text)]
        assert facts.profile == (sum(runs), max(runs, default=0), sum(ch.isascii() for ch in text)), text
        assert base.digit_profile(text) == facts.profile
        assert facts.ascii == "".join(ch for ch in text if ch.isascii())
        assert base.latin_words(text) == {w.encode() for w in re.findall("[a-z]+", text)}
        for n in (1, 5, 26):
            assert base.has_alnum_run(text, n) == (re.search(f"[0-9a-z]{{{n}}}", text) is not None), text


# ------------------------------------------------------------------ registry


def test_prefilters_only_skip_extractors_that_find_nothing() -> None:
    for nt in NTS:
        facts = base.text_facts(nt.text)
        for x in EXTRACTORS:
            if not x.may_find(nt.text, facts):
                assert x.extract(nt) == [], (x.name, nt.text)


def test_registry_output_is_what_every_extractor_gives() -> None:
    for nt in NTS:
        if not nt.text:
            continue
        found: list[Found] = []
        for x in EXTRACTORS:
            found.extend(x.extract(nt))
        got = extract_entities(nt, "f")
        keys = {(f.type, f.value, f.nstart, f.nend) for f in found}
        assert {(e.type, e.value, e.nstart, e.nend) for e in got} == keys, nt.text


# ------------------------------------------------------------ returns.py: reference

_AFTER_CHARS = frozenset("%-~到至万亿千+多余元块人美欧港英€")
_AFTER_WORDS = returns._CURRENCY_WORDS | {"k", "m", "w", "x"}
_BEFORE_CHARS = frozenset("$¥￥€£")
_BEFORE_CODES = ("rmb", "cny", "usd", "eur", "hkd", "gbp")


def _ref_worth_a_look(text: str, s: int, e: int, rates: bool) -> bool:
    n = len(text)
    before = text[s - 1] if s else ""
    if before == " " and s > 1:
        before = text[s - 2]
        s -= 1
    if before in _BEFORE_CHARS or (before.isalpha() and text[max(0, s - 3) : s] in _BEFORE_CODES):
        return True
    after = e + 1 if e < n and text[e] == " " else e
    if after >= n:
        return False
    ch = text[after]
    if "a" <= ch <= "z":
        word = re.compile("[a-z]+").match(text, after)
        return word is not None and word.group() in _AFTER_WORDS and (rates or word.group() != "x")
    return ch in _AFTER_CHARS and (rates or ch != "%")


def _ref_tokens(text: str, *, rates: bool) -> list[returns.Value]:
    out: list[returns.Value] = []
    last_end = -1
    for m in returns._NUM_RE.finditer(text):
        s, e = m.span()
        if s < last_end or not _ref_worth_a_look(text, s, e, rates):
            continue
        v = returns._number_value(text, m)
        if v is not None:
            out.append(v)
            last_end = v.end
    return out


def _ref_amounts(text: str, tokens: list[returns.Value], out: list[Found]) -> None:
    """returns._amounts as it was: Chinese amounts read with the optional-currency pattern."""
    for v in tokens:
        if v.kind != "money":
            continue
        currency = v.currency
        if currency is None:
            if returns._NON_MONEY_RE.match(text, v.end):
                continue
            currency = "cny"
        detail = {"currency": currency, "value": returns.json_number(v.number)}
        if v.max is not None:
            detail["max"] = returns.json_number(v.max)
        out.append(Found("amount", f"amount:{currency}:{returns.fmt_number(v.number)}", v.start, v.end, detail))
    if "元" in text or "块" in text:
        for m in returns._CN_MONEY_RE.finditer(text):
            if not m.group("cur") or (m.start() and text[m.start() - 1] in returns._CN_NUMERALS):
                continue
            n = returns.cn_small_number(m.group("cn"))
            if not n:
                continue
            value = Decimal(n) * returns._MULTS.get(m.group("mult") or "", Decimal(1))
            out.append(
                Found(
                    "amount",
                    f"amount:cny:{returns.fmt_number(value)}",
                    m.start(),
                    m.end(),
                    {"currency": "cny", "value": returns.json_number(value)},
                )
            )


def _ref_returns(nt: NormalizedText) -> list[Found]:
    """returns.extract as it was written before its gates were reordered."""
    text = nt.text
    total = sum(len(r) for r in _RUN.findall(text))
    n_ascii = sum(ch.isascii() for ch in text)
    has_digits = total > 0
    if not has_digits and not returns._NODIGIT_GATE.search(text):
        return []
    ascii_only = n_ascii == len(text)
    words = set(re.findall("[a-z]+", text)) if n_ascii - total > 1 else set()
    out: list[Found] = []
    if not ascii_only and returns._ZH_GATE_RE.search(text):
        returns._zh_promises(text, out)
    taken = [(f.nstart, f.nend) for f in out]
    if (has_digits and "%" in text and ("年" in text or not words.isdisjoint(returns._APR_WORDS))) or "百分之" in text:
        taken += returns._aprs(text, out)
    if not has_digits:
        if "元" in text or "块" in text:
            _ref_amounts(text, [], out)
        return out
    latin = not words.isdisjoint(returns._TRIGGER_WORDS) or returns._TRIGGER_PHRASES_RE.search(text) is not None
    tokens: list[returns.Value] = []
    if (
        returns._MARK_CHARS_RE.search(text)
        or not words.isdisjoint(returns._CURRENCY_WORDS)
        or (latin and ("x" in text or "%" in text))
    ):
        tokens = _ref_tokens(text, rates=latin)
        _ref_amounts(text, tokens, out)
    if latin and tokens:
        returns._latin_promises(text, tokens, out, taken)
    return out


def test_candidate_numbers_are_the_ones_worth_a_look() -> None:
    for nt in NTS:
        for rates in (False, True):
            assert returns._tokens(nt.text, rates=rates) == _ref_tokens(nt.text, rates=rates), nt.text


def test_chinese_amounts_with_a_currency_are_the_same_matches() -> None:
    for nt in NTS:
        text = nt.text
        want = [m.span() for m in returns._CN_MONEY_RE.finditer(text) if m.group("cur")]
        assert [m.span() for m in returns._CN_AMOUNT_RE.finditer(text)] == want, text


def test_returns_gates_change_nothing() -> None:
    assert sum(1 for nt in NTS if returns.extract(nt)) > 300  # the corpus has figures to find
    for nt in NTS:
        assert returns.extract(nt) == _ref_returns(nt), nt.text


# ---------------------------------------------------------------- url.py, email.py

_STOP = url._STOP_CHARS
_LBL = url._LBL
_REF_SCHEME = re.compile(
    r"(?<![a-z0-9])(?P<scheme>h(?:tt|xx)ps?|ftp)://"
    rf"(?P<host>{_LBL}(?:\.{_LBL})*|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
    rf"(?P<rest>[/?#][^{_STOP}]*)?"
)
_REF_BARE = re.compile(
    rf"(?<![a-z0-9\-_.@/:%])(?P<host>(?:{_LBL}\.)+[a-z]{{2,24}})"
    r"(?::(?P<port>[0-9]{2,5}))?"
    rf"(?P<rest>/[^{_STOP}]*)?"
    r"(?![a-z0-9\-_@])"
)
_URLISH = [
    *_texts(1500, seed=5),
    "see http://a.b.c/x?y=1#z and ftp://1.2.3.4:21/f, hxxps://ex-ample.co.uk/p.",
    "go www.abc-invest.top/reg?id=Ab12 or abc123.cn/xyz, not report.zip; x.y@gmail.com",
    "链接http://t.cn/RUPFv5k全文...http://t.cn/zjkqlu1 和 www.例子.com a.b",
]


def test_url_patterns_match_as_before() -> None:
    for text in _URLISH:
        t = text.lower()
        for new, old in ((url._SCHEME_RE, _REF_SCHEME), (url._BARE_RE, _REF_BARE)):
            assert [m.groupdict() | {"_": m.span()} for m in new.finditer(t)] == [
                m.groupdict() | {"_": m.span()} for m in old.finditer(t)
            ], t


def test_bare_scan_is_skipped_only_when_it_finds_nothing() -> None:
    for text in _URLISH:
        nt = NormalizedText.identity(text.lower())
        out: list[Found] = []
        taken = url._scheme_urls(nt, out) if "://" in nt.text else []
        if not url._dot_letter_outside(nt.text, taken):
            bare: list[Found] = []
            url._bare(nt, bare, taken)
            assert bare == [], nt.text


def test_email_gate_only_skips_texts_without_an_address() -> None:
    for nt in NTS:
        if not email.may_find(nt.text, base.text_facts(nt.text)):
            assert list(email._EMAIL_RE.finditer(nt.text)) == [], nt.text
