"""Promised returns (``return_promise``) and money amounts and rates (``amount``).

Canonical values:

* ``return_promise:<period>:<value>``; period is ``day``, ``week``, ``month``,
  ``year`` or ``total`` (no period stated); value is ``<rate>%``, ``<amount><currency>``
  (``10000cny``, ``500usd``; Chinese promises without a unit are ``cny``, other
  languages without a unit give the bare number), or ``<n>x`` for multiples (翻倍 is
  ``2x``; "10x returns", 十倍股 ``10x``: a multiple is not converted to a percentage
  because "10x" is ambiguous between 900% and 1000% gain).
  Examples: 日收益3% -> ``day:3%``, 日赚500 -> ``day:500cny``, 月入过万 ->
  ``month:10000cny`` (``detail.at_least``), 年化30% -> ``year:30%``, "500% gains" ->
  ``total:500%``, "guaranteed 20% weekly" -> ``week:20%`` (``detail.guaranteed``),
  "rendimento garantito del 5% al mese" -> ``month:5%``.
  ``detail``: ``period``, one of ``rate``/``amount``+``currency``/``multiple``,
  ``max`` for ranges (the value is the low end), ``at_least``, ``guaranteed``.
* ``amount:<currency>:<number>`` for money (``amount:cny:30000`` for 3万,
  ``amount:usd:500`` for $500, ``amount:eur:100``); currencies cny, usd, eur, gbp,
  hkd, usdt. A bare number counts as money only with a currency sign or word, or
  with 万/亿/千 and no count word after it (3万人 is people: ``data/non_money_units.txt``).
* ``amount:apr:<rate>%`` (``detail.kind`` ``apr``) for disclosed annualised rates:
  年化利率, 年利率, 综合年化, APR, TAEG, TAN. A bare 年化 N% is a rate disclosure when
  loan words are near (``data/loan_context.txt``) and a return promise otherwise.

Chinese promises need a period word touching a gain word (日收益, 月入, 年化收益) or a
"long" period word up to six characters before it (每天在家轻松赚500); statistics
and news (人均年收入, 同比增长, "profit rose 20%": ``data/return_negative_context.txt``)
are not promises. Latin-script promises need a gain or guarantee word near the
figure (``data/gain_words_latin.txt``, ``data/guarantee_words.txt``); a guarantee
word with a Chinese period (保证每月10%) also counts. Percentages written in words
(百分之十八) are read like digits.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, NamedTuple

from qinglang.entities.base import (
    Found,
    TextFacts,
    alternation,
    cn_small_number,
    data_lines,
    data_set,
    fmt_number,
    json_number,
    latin_words,
    number_forms,
    text_facts,
    text_features,
)
from qinglang.text.offsets import NormalizedText

# Performance note: this runs on every text field. Regexes that scan a whole text
# start with a literal or a character class (never a lookbehind or an optional
# group), so that the engine skips ahead in C; left word boundaries are checked in
# Python on the few hits.

# ------------------------------------------------------------------ vocabulary

_ZH_PERIODS: dict[str, tuple[str, str]] = {}
for _line in data_lines("periods_zh.tsv"):
    _w, _p, _form = (c.strip() for c in _line.split("\t"))
    _ZH_PERIODS[_w] = (_p, _form)
_ZH_PERIOD_WORDS = sorted(_ZH_PERIODS, key=len, reverse=True)
_LAT_PERIODS: dict[str, str] = {}
for _line in data_lines("periods_latin.tsv"):
    _w, _p = (c.strip() for c in _line.split("\t"))
    _LAT_PERIODS[_w] = _p

_ZH_GAINS = data_set("gain_words_zh.txt")
_LAT_GAINS = data_set("gain_words_latin.txt")
_GUARANTEE = data_set("guarantee_words.txt")
_NEGATIVE = data_set("return_negative_context.txt")
_NON_MONEY = data_set("non_money_units.txt")
_LOAN = tuple(data_set("loan_context.txt"))
_MULT_WORDS = ("potential", "gem", "coin", "token", "moon", "pump")


def _words_re(words: frozenset[str] | set[str] | tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``words``, not followed by a letter; check the left side with :func:`_word_ok`."""
    return re.compile("(?:" + alternation(words) + r")(?![a-z])")


def _word_ok(text: str, m: re.Match[str]) -> bool:
    """A Latin word must not continue a longer word on its left ("standard" is not "tan")."""
    s = m.start()
    return not (s and "a" <= text[s - 1] <= "z" and "a" <= text[s] <= "z")


def _search_word(rx: re.Pattern[str], text: str, pos: int = 0,
                 endpos: int | None = None) -> re.Match[str] | None:
    end = len(text) if endpos is None else endpos
    m = rx.search(text, pos, end)
    while m is not None and not _word_ok(text, m):
        m = rx.search(text, m.start() + 1, end)
    return m


_GUARANTEE_RE = _words_re(_GUARANTEE)
_NEGATIVE_RE = _words_re(_NEGATIVE)
_LAT_GAIN_RE = _words_re(_LAT_GAINS)
_LAT_TRIGGER_RE = _words_re(_LAT_GAINS | _GUARANTEE | set(_MULT_WORDS))
#: Gates on English-like text use the set of its words (``base.latin_words``, at C
#: speed): a few set lookups are cheaper than a search over a hundred-word alternation.
_TRIGGER_WORDS = frozenset(w for w in _LAT_GAINS | _GUARANTEE | set(_MULT_WORDS)
                           if re.fullmatch(r"[a-z]+", w))
#: the rest ("risk-free", "no risk", 保证, 稳赚 ...), searched as one alternation
_TRIGGER_PHRASES_RE = re.compile(
    alternation(w for w in _LAT_GAINS | _GUARANTEE if not re.fullmatch(r"[a-z]+", w))
)
#: the phrases without an ASCII letter (保证, 稳赚 ...): all a text without one can hold
_TRIGGER_PHRASES_ZH_RE = re.compile(
    alternation(w for w in _LAT_GAINS | _GUARANTEE if not re.search("[a-z]", w))
)
_CURRENCY_WORDS = frozenset({"rmb", "cny", "usd", "usdt", "dollar", "dollars", "bucks", "eur",
                             "euro", "euros", "hkd", "gbp", "pound", "pounds"})
_APR_WORDS = frozenset({"apr", "taeg", "tan"})
#: the word sets above as ASCII bytes, to compare with :func:`latin_words`
_TRIGGER_WORDS_B = frozenset(w.encode("ascii") for w in _TRIGGER_WORDS)
_CURRENCY_WORDS_B = frozenset(w.encode("ascii") for w in _CURRENCY_WORDS)
_APR_WORDS_B = frozenset(w.encode("ascii") for w in _APR_WORDS)
_LAT_PERIOD_RE = re.compile("(?P<p>" + alternation(_LAT_PERIODS) + r")(?![a-z])")
_NON_MONEY_RE = re.compile(r"\s?(?:" + alternation(_NON_MONEY) + ")")
_MULT_AFTER_RE = re.compile(r"\s?(?:" + alternation(_MULT_WORDS) + ")")
_APR_NEAR_RE = _words_re(("apr", "taeg", "tan", "年化利率", "年利率"))

_SINGLE = [w for w, (_, form) in _ZH_PERIODS.items() if form == "single"]
_LONG = [w for w, (_, form) in _ZH_PERIODS.items() if form == "long"]
_GAIN_ALT = alternation(_ZH_GAINS)
#: characters before a single-character period word that make it part of another
#: word (今日, 节日, 3个月, 周日, 2024年) or a span of several (三天赚500)
_SINGLE_BLOCK = frozenset(
    "0123456789一二两三四五六七八九十几数今昨明前后次节生假平本上下去这那岁同环全当逐近每末"
    "初半少中老青成周个星礼工正"
)
#: cheap test for any Chinese promise: a gain word ("入" only as 月入/日入...)
_ZH_GATE_RE = re.compile(
    alternation((_ZH_GAINS - {"入"}) | {w + "入" for w in _SINGLE} | {"倍", "翻番"})
)
_ZH_ANCHOR_RE = re.compile(
    rf"(?:{alternation(_LONG)})[^0-9\n,.;!?。，；！？]{{0,6}}?(?:{_GAIN_ALT})"
    rf"|(?:{alternation(_SINGLE)})(?:{_GAIN_ALT})"
)
_ZH_TOTAL_RE = re.compile(
    r"(?:收益率|回报率|收益|回报|利润|盈利)"
    r"[^0-9\n,.;!?。，；！？]{0,4}?"
    r"(?:高达|可达|达到|超过|至少|保底|稳定|轻松|最高|最低|超|达)"
)
_CN_NUMERALS = "一二两三四五六七八九十百千"
_ZH_MULT_RE = re.compile(
    rf"(?P<fan>翻了?)?(?:(?P<n>[0-9]+|[{_CN_NUMERALS}]+)倍|(?<=[翻了])(?:倍|番))"
    r"(?P<tail>收益|回报|利润|币|股)?"
)
_PERIOD_BEFORE_RE = re.compile(
    rf"(?:{alternation(_LONG)})[^0-9\n,.;!?。，；！？]{{0,4}}$|(?:{alternation(_SINGLE)})$"
)
_APR_RE = re.compile(
    "(?P<kw>" + alternation(data_set("apr_words.txt")) + r")(?![a-z])"
    r"(?P<fill>[^0-9\n。；;!?！？]{0,8}?)"
    r"(?P<a>[0-9]+(?:[.,][0-9]+)?)\s?%?(?:\s?[-~到至]\s?(?P<b>[0-9]+(?:[.,][0-9]+)?))?\s?%"
)
_APR_AFTER_RE = re.compile(r"%\s?(?P<kw>apr|taeg|tan)(?![a-z])")
#: 百分之十八, 百分之零点五: percentages written in words (transcripts, evasion)
_CN_PCT = r"百分之(?P<ci>[零一二两三四五六七八九十百]+)(?:点(?P<cf>[零一二三四五六七八九]+))?"
_CN_PCT_RE = re.compile(_CN_PCT)
_APR_CN_RE = re.compile(
    "(?P<kw>" + alternation(data_set("apr_words.txt")) + r")(?![a-z])"
    r"(?P<fill>[^0-9\n。；;!?！？]{0,8}?)" + _CN_PCT
)
_CN_DIGIT = str.maketrans("零一二三四五六七八九", "0123456789")

# ----------------------------------------------------------------- values

_NUM = r"[0-9]+(?:[.,][0-9]+)*"
_CUR_WORDS: dict[str, str] = {
    "元": "cny", "块钱": "cny", "块": "cny", "人民币": "cny", "rmb": "cny", "cny": "cny",
    "¥": "cny", "￥": "cny",
    "美元": "usd", "美金": "usd", "usd": "usd", "dollars": "usd", "dollar": "usd",
    "bucks": "usd", "$": "usd", "us$": "usd",
    "欧元": "eur", "euros": "eur", "euro": "eur", "eur": "eur", "€": "eur",
    "港元": "hkd", "港币": "hkd", "hkd": "hkd", "hk$": "hkd",
    "英镑": "gbp", "gbp": "gbp", "pounds": "gbp", "pound": "gbp", "£": "gbp",
    "usdt": "usdt",
}
_SYMS = ("us$", "hk$", "$", "¥", "￥", "€", "£", "rmb", "cny", "usd", "eur", "hkd", "gbp")
_CURS = ("元", "块钱", "块", "人民币", "rmb", "cny", "美元", "美金", "usd", "usdt", "dollars",
         "dollar", "bucks", "欧元", "euros", "euro", "eur", "港元", "港币", "hkd", "英镑", "gbp",
         "pounds", "pound", "€")
_MULTS = {"万亿": Decimal(10) ** 12, "千万": Decimal(10) ** 7, "亿": Decimal(10) ** 8,
          "万": Decimal(10000), "w": Decimal(10000), "千": Decimal(1000), "k": Decimal(1000),
          "m": Decimal(10) ** 6}
_CJK_MULTS = frozenset({"万亿", "千万", "亿", "万", "千"})

_NUM_RE = re.compile(_NUM)
_SYM_BEFORE_RE = re.compile("(?P<sym>" + alternation(_SYMS) + r") ?$")
_MONEY_SUFFIX_RE = re.compile(
    rf"(?:\s?(?:-|~|到|至)\s?(?P<b>{_NUM}))?"
    r"(?:\s?(?P<mult>万亿|千万|亿|万|千|w|k|m)(?![a-z]))?(?P<plus>\+|多|余)?"
    rf"(?:\s?(?P<cur>{alternation(_CURS)})(?![a-z]))?"
)
_PCT_SUFFIX_RE = re.compile(
    rf"\s?%\s?(?:-|~|到|至)\s?(?P<b>{_NUM})\s?%|\s?(?:-|~|到|至)\s?(?P<b2>{_NUM})\s?%|\s?%"
)
_X_SUFFIX_RE = re.compile(r"x(?![a-z0-9])")
_SEP_RE = re.compile(r"[.,]")
_ONE = Decimal(1)
#: what a match of _PCT_SUFFIX_RE can start with, besides whitespace
_PCT_FIRST = frozenset("%-~到至")
_NUM_BEFORE_RE = re.compile(r"[0-9]+(?:[.,][0-9]+)?\s?$")
_CN_MONEY = rf"(?P<cn>[{_CN_NUMERALS}]+)(?P<mult>万亿|亿|万)?(?P<plus>多|余)?(?P<cur>元|块钱|块)"
_CN_MONEY_RE = re.compile(_CN_MONEY + "?")
#: the same with the currency required: it finds exactly the matches of _CN_MONEY_RE
#: that have one (a numeral run is matched whole either way), without stopping at
#: every bare numeral (一, 十) on the way
_CN_AMOUNT_RE = re.compile(_CN_MONEY)
_OVER_RE = re.compile(rf"(?:过|上|破|超)(?P<cn>[{_CN_NUMERALS}]*)(?P<mult>万|千|亿)")
#: money written with a sign or a CJK unit (Latin currency words go through the word set)
_MARK_CHARS_RE = re.compile(r"[元块万亿千$¥￥€£美欧港英]")
_NODIGIT_GATE = re.compile(r"[倍万千百元块番]")  # 百 also gates 百分之
_STOP = frozenset("\n,;!?。，；！？")
#: builds a NamedTuple from a tuple in C (the generated ``__new__`` costs twice as much)
_tuple_new = tuple.__new__
_ASCII_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


class Value(NamedTuple):
    """A figure read from the text: a rate, an amount of money or a multiple.

    A tuple (built with ``_tuple_new`` on the hot path: a dataclass ``__init__``
    costs several times more); never modified.
    """

    kind: str  #: "rate" | "money" | "multiple"
    number: Decimal
    start: int
    end: int
    currency: str | None = None
    at_least: bool = False
    max: Decimal | None = None
    cjk_mult: bool = False  #: money only through 万/亿/千 (no currency written)

    def token(self, default_currency: str | None) -> str:
        n = fmt_number(self.number)
        if self.kind == "rate":
            return n + "%"
        if self.kind == "multiple":
            return n + "x"
        return n + (self.currency or default_currency or "")

    def detail(self, default_currency: str | None) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.kind == "rate":
            d["rate"] = json_number(self.number)
        elif self.kind == "multiple":
            d["multiple"] = json_number(self.number)
        else:
            d["amount"] = json_number(self.number)
            cur = self.currency or default_currency
            if cur:
                d["currency"] = cur
        if self.max is not None:
            d["max"] = json_number(self.max)
        if self.at_least:
            d["at_least"] = True
        return d


#: (text, percent) -> parse_number: the same figures recur; cleared when full
_PARSED: dict[tuple[str, bool], Decimal] = {}


def parse_number(s: str, *, percent: bool = False) -> Decimal:
    """Read ``1,299.50``, ``1.000,50``, ``7,2`` (a decimal comma, as in "TAEG 7,2%").

    A single separator followed by exactly three digits is a thousands separator,
    except in a percentage; otherwise the last separator is the decimal point.
    """
    if s.isdigit():
        return Decimal(s)
    key = (s, percent)
    d = _PARSED.get(key)
    if d is None:
        if len(_PARSED) >= 4096:
            _PARSED.clear()
        d = _PARSED[key] = _parse_number(s, percent)
    return d


def _parse_number(s: str, percent: bool) -> Decimal:
    nseps = s.count(".") + s.count(",")
    if not nseps:
        return Decimal(s)
    if nseps == 1:
        i = max(s.find("."), s.find(","))
        if percent or len(s) - i - 1 != 3:
            return Decimal(s.replace(",", "."))
        return Decimal(s[:i] + s[i + 1:])
    groups = _SEP_RE.split(s)
    seps = [ch for ch in s if ch in ".,"]
    if all(len(g) == 3 for g in groups[1:]) and len(set(seps)) == 1:
        return Decimal("".join(groups))  # thousands separators only
    last = max(s.rfind("."), s.rfind(","))
    return Decimal(_SEP_RE.sub("", s[:last]) + "." + s[last + 1:])


#: what may follow a figure that matters (%, x, a range, 万, a currency sign) ...
_AFTER_CHARS = frozenset("%-~到至万亿千+多余元块人美欧港英€")
_AFTER_WORDS = _CURRENCY_WORDS | {"k", "m", "w", "x"}
#: ... and the currency signs and codes written before it
_BEFORE_CHARS = frozenset("$¥￥€£")
_BEFORE_CODES = ("rmb", "cny", "usd", "eur", "hkd", "gbp")


def _candidate_re(rates: bool) -> re.Pattern[str]:
    """Numbers whose neighbours make them worth reading: most numbers are bare (dates,
    counts) and need no Python work at all.

    A match is exactly a :data:`_NUM_RE` match (one that ``_NUM_RE.finditer`` would
    give: it does not continue a number) with a currency sign or code just before it
    (one space allowed), or one of :data:`_AFTER_CHARS` / :data:`_AFTER_WORDS` just
    after it (one space allowed). Without ``rates``, ``%`` and ``x`` do not count.
    Every test sits after the first digit, so ``re`` skips non-digits in C.
    """
    chars = "".join(re.escape(c) for c in sorted(_AFTER_CHARS) if rates or c != "%")
    words = alternation(w for w in _AFTER_WORDS if rates or w != "x")
    sym = "[" + "".join(re.escape(c) for c in sorted(_BEFORE_CHARS)) + "]"
    codes = "(?:" + "|".join(_BEFORE_CODES) + ")"
    rest = r"[0-9]*+(?:[.,][0-9]+)*+"
    return re.compile(
        r"[0-9](?<![0-9].)(?<![0-9][.,].)"  # the first digit of a number
        rf"(?:(?<={sym}.)|(?<={sym} .)|(?<={codes}.)|(?<={codes} .)"  # a sign or code before
        rf"|(?={rest} ?(?:[{chars}]|(?:{words})(?![a-z]))))"  # or a unit, range, % after
        + rest
    )


_MONEY_CANDIDATE_RE = _candidate_re(rates=False)
_RATE_CANDIDATE_RE = _candidate_re(rates=True)


def _number_value(text: str, m: re.Match[str]) -> Value | None:
    """Classify the number matched by ``m``: a rate (%), a multiple (x), money, or nothing.

    Money needs a currency sign or word, or a Chinese multiplier (3万); the caller
    decides what a bare multiplier means.
    """
    s, e = m.span()
    if s and text[s - 1] in ".,":
        return None  # the tail of a decimal or a grouped number
    start = s
    sym = None
    if s:
        sm = _SYM_BEFORE_RE.search(text, max(0, s - 4), s) if (
            text[s - 1] in _BEFORE_CHARS or text[s - 1] in "bdpy ") else None
        if sm and not (sm.start() and "a" <= text[sm.start() - 1] <= "z"):
            sym, start = sm.group("sym"), sm.start()
        elif text[s - 1] in _ASCII_ALNUM:
            return None  # "v2", "abc123"
    num = m.group()
    # the suffix patterns below are tried only where their first character can start
    # them (each is a regex call, and most figures are followed by a plain character)
    nxt = text[e:e + 1]
    if sym is None:
        if nxt in _PCT_FIRST or nxt.isspace():
            pm = _PCT_SUFFIX_RE.match(text, e)
            if pm:
                b = pm.group("b") or pm.group("b2")
                return _tuple_new(Value, ("rate", parse_number(num, percent=True), s, pm.end(), None,
                                          False, parse_number(b, percent=True) if b else None, False))
        if nxt == "x" and _X_SUFFIX_RE.match(text, e) and num.isdigit():
            return _tuple_new(Value, ("multiple", Decimal(num), s, e + 1, None, False, None, False))
    sf = _MONEY_SUFFIX_RE.match(text, e)
    b, mult, plus, cur = sf.groups()
    currency = _CUR_WORDS.get(cur or "") or _CUR_WORDS.get(sym or "")
    if currency is None and mult not in _CJK_MULTS:
        return None
    value = Decimal(num) if num.isdigit() else parse_number(num)
    if mult:
        factor = _MULTS[mult]
        value *= factor
        high = parse_number(b) * factor if b else None
    else:
        if len(num) > 28:  # what the multiplication by one did: round to the context
            value *= _ONE
        high = parse_number(b) * _ONE if b else None
    return _tuple_new(Value, ("money", value, start, sf.end(), currency, bool(plus), high, currency is None))


def _tokens(text: str, *, rates: bool) -> list[Value]:
    """Every amount of money written with digits, and with ``rates`` every rate and
    multiple too (only the Latin-script promise pass needs those)."""
    out: list[Value] = []
    last_end = -1
    for m in (_RATE_CANDIDATE_RE if rates else _MONEY_CANDIDATE_RE).finditer(text):
        if m.start() < last_end:
            continue  # the upper end of a range already read
        v = _number_value(text, m)
        if v is not None:
            out.append(v)
            last_end = v.end
    return out


def _bare_money_at(text: str, pos: int) -> Value | None:
    """Money in a Chinese promise, where the unit may be implied (日赚500, 月入3w)."""
    m = _NUM_RE.match(text, pos)
    if m is None:
        return None
    v = _number_value(text, m)
    if v is not None:
        return v
    sf = _MONEY_SUFFIX_RE.match(text, m.end())
    factor = _MULTS.get(sf.group("mult") or "", Decimal(1))
    b = sf.group("b")
    return Value("money", parse_number(m.group()) * factor, pos, sf.end(),
                 at_least=bool(sf.group("plus")),
                 max=parse_number(b) * factor if b else None)


def _value_at(text: str, pos: int) -> Value | None:
    """The figure starting at ``pos`` in a Chinese promise, if any."""
    ch = text[pos]
    if "0" <= ch <= "9":
        if pos and text[pos - 1].isdigit():
            return None
        mm = _ZH_MULT_RE.match(text, pos)
        if mm and mm.group("n"):
            return Value("multiple", Decimal(mm.group("n")), pos, mm.end())
        return _bare_money_at(text, pos)
    if ch in "$¥￥€£":
        q = pos + 1 + (text[pos + 1:pos + 2] == " ")
        return _bare_money_at(text, q) if text[q:q + 1].isdigit() else None
    if ch == "百":
        pm = _CN_PCT_RE.match(text, pos)
        if pm:
            rate = _cn_percent(pm)
            return Value("rate", rate, pos, pm.end()) if rate is not None else None
    om = _OVER_RE.match(text, pos)
    if om:
        base = cn_small_number(om.group("cn")) if om.group("cn") else 1
        if base:
            return Value("money", base * _MULTS[om.group("mult")], pos, om.end(), at_least=True)
    if ch == "翻":
        mm = _ZH_MULT_RE.match(text, pos)
        if mm:
            return Value("multiple", _multiple(mm.group("n")) or Decimal(2), pos, mm.end())
    cm = _CN_MONEY_RE.match(text, pos)
    if cm:
        n = cn_small_number(cm.group("cn"))
        if n and (cm.group("mult") or cm.group("cur") or n >= 10):
            factor = _MULTS.get(cm.group("mult") or "", Decimal(1))
            return Value("money", n * factor, pos, cm.end(), at_least=bool(cm.group("plus")))
    return None


def _cn_percent(m: re.Match[str]) -> Decimal | None:
    """百分之十八 -> 18, 百分之零点五 -> 0.5 (groups ``ci`` and ``cf``)."""
    whole = 0 if m.group("ci") == "零" else cn_small_number(m.group("ci"))
    if whole is None:
        return None
    frac = m.group("cf")
    return Decimal(f"{whole}.{frac.translate(_CN_DIGIT)}") if frac else Decimal(whole)


def _multiple(n: str | None) -> Decimal | None:
    if not n:
        return None
    if n.isdigit():
        return Decimal(n)
    small = cn_small_number(n)
    return Decimal(small) if small else None


def _guaranteed(text: str, s: int, e: int) -> bool:
    return _search_word(_GUARANTEE_RE, text, max(0, s - 12), min(len(text), e + 10)) is not None


def _negative(text: str, s: int, e: int) -> bool:
    return _search_word(_NEGATIVE_RE, text, max(0, s), min(len(text), e)) is not None


def _promise(period: str, v: Value, s: int, e: int, guaranteed: bool,
             default_currency: str | None) -> Found:
    detail = {"period": period, **v.detail(default_currency)}
    if guaranteed:
        detail["guaranteed"] = True
    return Found("return_promise", f"return_promise:{period}:{v.token(default_currency)}",
                 s, e, detail)


# --------------------------------------------------------------- Chinese

def _scan_value(text: str, pos: int, reach: int = 8) -> Value | None:
    """The first figure within ``reach`` characters of ``pos``, in the same clause."""
    limit = min(len(text), pos + reach)
    for p in range(pos, limit):
        if text[p] in _STOP:
            return None
        v = _value_at(text, p)
        if v is not None:
            return v
    return None


def _period_of(word_start: str) -> tuple[str, str]:
    """(period, form) of the period word at the start of ``word_start``."""
    for w in _ZH_PERIOD_WORDS:
        if word_start.startswith(w):
            return _ZH_PERIODS[w]
    raise ValueError(word_start)  # pragma: no cover - the regex only matches period words


def _period_before(text: str, s: int) -> tuple[str, int]:
    """Period word just before a multiple (一个月翻倍 -> month) and where it starts."""
    lo = max(0, s - 8)
    m = _PERIOD_BEFORE_RE.search(text, lo, s)
    if m is None:
        return "total", s
    period, form = _period_of(m.group())
    start = m.start()
    if form == "single" and start and text[start - 1] in _SINGLE_BLOCK:
        return "total", s
    return period, start


def _zh_promises(text: str, out: list[Found]) -> None:
    taken: list[tuple[int, int]] = []
    for m in _ZH_ANCHOR_RE.finditer(text):
        s = m.start()
        period, form = _period_of(m.group())
        if form == "single" and s and text[s - 1] in _SINGLE_BLOCK:
            continue
        v = _scan_value(text, m.end())
        if v is None:
            continue
        if v.kind == "money" and v.currency is None and _NON_MONEY_RE.match(text, v.end):
            continue  # 每天赚钱的方法3个: a count
        if _negative(text, s - 8, v.end):
            continue
        out.append(_promise(period, v, s, v.end, _guaranteed(text, s, v.end), "cny"))
        taken.append((s, v.end))
    for m in _ZH_TOTAL_RE.finditer(text):
        s = m.start()
        if any(ts <= s < te for ts, te in taken):
            continue
        v = _scan_value(text, m.end(), reach=4)
        if v is None or v.kind == "money" or _negative(text, s - 8, v.end):
            continue
        out.append(_promise("total", v, s, v.end, _guaranteed(text, s, v.end), "cny"))
        taken.append((s, v.end))
    if "倍" in text or "翻番" in text:
        for m in _ZH_MULT_RE.finditer(text):
            s = m.start()
            if not (m.group("fan") or m.group("tail")) or any(ts <= s < te for ts, te in taken):
                continue
            num = _multiple(m.group("n")) if m.group("n") else Decimal(2)
            if num is None:
                continue
            v = Value("multiple", num, s, m.end())
            period, ps = _period_before(text, s)
            out.append(_promise(period, v, ps, v.end, _guaranteed(text, ps, v.end), None))


# ----------------------------------------------------------------- rates

def _aprs(text: str, out: list[Found]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    matches: list[tuple[re.Match[str], Decimal, Decimal | None, int]] = []
    if "%" in text:
        for m in _APR_RE.finditer(text):
            a, b = m.group("a", "b")
            hi = parse_number(b, percent=True) if b else None
            matches.append((m, parse_number(a, percent=True), hi, m.start("a")))
    if "百分之" in text:
        for m in _APR_CN_RE.finditer(text):
            rate = _cn_percent(m)
            if rate is not None:
                matches.append((m, rate, None, m.end("fill")))
    for m, rate, hi, vstart in matches:
        if not _word_ok(text, m):
            continue
        kw, fill = m.group("kw", "fill")
        if fill and ("收益" in fill or "回报" in fill or "利润" in fill or "赚" in fill):
            continue
        s = m.start()
        spans.append((vstart, m.end()))
        if kw in ("年化", "年息"):
            near = text[max(0, s - 30):m.end() + 30]
            # F_LOAN clear: no loan word anywhere in the text
            if not (text_features(text) & F_LOAN and any(w in near for w in _LOAN)):
                v = Value("rate", rate, vstart, m.end(), max=hi)
                out.append(_promise("year", v, s, m.end(), _guaranteed(text, s, m.end()), "cny"))
                continue
        rate_text, rate_json = number_forms(rate)
        detail: dict[str, Any] = {"kind": "apr", "rate": rate_json}
        if hi is not None:
            detail["max"] = json_number(hi)
        out.append(_tuple_new(Found, ("amount", f"amount:apr:{rate_text}%", s, m.end(), detail)))
    if not ("apr" in text or "taeg" in text or "tan" in text):
        return spans  # what _APR_AFTER_RE needs after the "%"
    for m in _APR_AFTER_RE.finditer(text):
        num = _NUM_BEFORE_RE.search(text, max(0, m.start() - 12), m.start())
        if num is None:
            continue
        s = m.start() - len(num.group())
        if any(ss <= s < se for ss, se in spans):
            continue
        rate = parse_number(num.group().strip(), percent=True)
        spans.append((s, m.end()))
        out.append(Found("amount", f"amount:apr:{fmt_number(rate)}%", s, m.end(),
                         {"kind": "apr", "rate": json_number(rate)}))
    return spans


# --------------------------------------------------------------- amounts

def _amounts(text: str, tokens: list[Value], out: list[Found], chinese: int = 1) -> None:
    """Money among ``tokens``, then amounts in Chinese numerals unless ``chinese`` is 0."""
    for v in tokens:
        if v.kind != "money":
            continue
        currency = v.currency
        if currency is None:
            if _NON_MONEY_RE.match(text, v.end):
                continue  # 3万人
            currency = "cny"
        text_value, json_value = number_forms(v.number)
        detail: dict[str, Any] = {"currency": currency, "value": json_value}
        if v.max is not None:
            detail["max"] = json_number(v.max)
        out.append(_tuple_new(Found, ("amount", f"amount:{currency}:{text_value}",
                                      v.start, v.end, detail)))
    if chinese and ("元" in text or "块" in text):
        for m in _CN_AMOUNT_RE.finditer(text):
            if m.start() and text[m.start() - 1] in _CN_NUMERALS:
                continue
            n = cn_small_number(m.group("cn"))
            if not n:
                continue
            value = Decimal(n) * _MULTS.get(m.group("mult") or "", Decimal(1))
            out.append(Found("amount", f"amount:cny:{fmt_number(value)}", m.start(), m.end(),
                             {"currency": "cny", "value": json_number(value)}))


# ----------------------------------------------------------- Latin script

def _clip_sentence(s: str, *, keep_end: bool) -> str:
    """The part of ``s`` inside the same sentence as the figure."""
    cuts = [i for i, ch in enumerate(s) if ch in "\n!?;。！？" or (ch == "." and (
        i + 1 == len(s) or s[i + 1] == " "))]
    if not cuts:
        return s
    return s[cuts[-1] + 1:] if keep_end else s[:cuts[0]]


_SENTENCE_END_RE = re.compile(r"[\n!?;。！？]|\.(?= |$)")


def _clip_before(s: str) -> str:
    """The end of ``s`` that lies in the same sentence as what follows it."""
    last = None
    for last in _SENTENCE_END_RE.finditer(s):  # noqa: B007 - we want the last match
        pass
    return s[last.end():] if last else s


def _clip_after(s: str) -> str:
    """The start of ``s`` that lies in the same sentence as what precedes it."""
    m = _SENTENCE_END_RE.search(s)
    return s[:m.start()] if m else s


def _latin_promises(text: str, tokens: list[Value], out: list[Found],
                    taken: list[tuple[int, int]]) -> None:
    for v in tokens:
        if v.cjk_mult or any(ts <= v.start < te for ts, te in taken):
            continue
        lo = max(0, v.start - 40)
        if _search_word(_LAT_TRIGGER_RE, text, lo, min(len(text), v.end + 30)) is None:
            continue
        before = _clip_before(text[lo:v.start])
        after = _clip_after(text[v.end:v.end + 30])
        trigger = _search_word(_LAT_GAIN_RE, before) or _search_word(_GUARANTEE_RE, before)
        after_gain = _search_word(_LAT_GAIN_RE, after, 0, min(20, len(after)))
        if after_gain is not None:
            # the gain word must follow the figure directly ("500% gains"), or after a
            # period ("20% daily returns"); "$500 and receive" is not about the $500
            gap = after[:after_gain.start()].strip()
            if gap and not _LAT_PERIOD_RE.fullmatch(gap):
                after_gain = None
        if after_gain is None and v.kind == "multiple":
            after_gain = _MULT_AFTER_RE.match(after)
        if not (trigger or after_gain):
            continue
        if _search_word(_NEGATIVE_RE, before) or _search_word(_NEGATIVE_RE, after, 0,
                                                              min(12, len(after))):
            continue
        if _search_word(_APR_NEAR_RE, before[-12:] + " " + after[:6]):
            continue
        pm = _search_word(_LAT_PERIOD_RE, after, 0, min(24, len(after)))
        pb = None if pm else _search_word(_LAT_PERIOD_RE, before, max(0, len(before) - 25))
        hit = pm or pb
        period = _LAT_PERIODS[hit.group("p")] if hit else "total"
        start = v.start - len(before) + trigger.start() if trigger else v.start
        if period == "total":  # 保证每月10%: a Chinese period word right before
            period, zs = _period_before(text, v.start)
            start = min(start, zs)
        end = v.end
        if pm:
            end = v.end + pm.end()
        if after_gain:
            end = max(end, v.end + after_gain.end())
        out.append(_promise(period, v, start, end, _guaranteed(text, start, end), None))
        taken.append((v.start, v.end))


# ------------------------------------------------------------------ entry

def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything: a digit, or a
    character that Chinese figures need (倍万千百元块番)."""
    return facts.profile.total > 0 or _NODIGIT_GATE.search(text) is not None


# Bits of the registry's prescan (:mod:`qinglang.entities.gate`, which holds their
# patterns) that this module reads through :func:`~qinglang.entities.base.text_features`.
# A clear bit proves a pattern absent, and the pass that needs it is skipped; called
# alone, the extractor sees every bit set and runs every pass behind its own test.
#: what every Chinese promise needs (an anchor, a total-return phrase or a multiple:
#: see gate._ZH_PROMISE)
F_ZH = 1 << 10
#: a rate disclosure word (data/apr_words.txt): needed by every APR
F_APR = 1 << 11
#: Chinese numerals with 元/块 (_CN_AMOUNT_RE)
F_CN_AMOUNT = 1 << 12
#: a figure _number_value can read as money: needed for any money token (see gate._PATTERNS)
F_MONEY_FIGURE = 1 << 13
#: a money mark (_MARK_CHARS_RE) or a currency word, where a money figure or a Chinese
#: amount is found too (F_MONEY_FIGURE, F_CN_AMOUNT): without one, money decides
#: nothing (it only lets _with_digits read those; a trigger word lets it read all)
F_MONEY = 1 << 14
#: a Latin-script trigger word or phrase (_TRIGGER_WORDS, _TRIGGER_PHRASES_RE)
F_TRIGGER = 1 << 15
#: a loan word (data/loan_context.txt) in a text with a rate disclosure word (F_APR):
#: 年化 N% near one is a disclosure, not a promise
F_LOAN = 1 << 19
#: a rate or a multiple (a digit before "%" or "x") in a text with a trigger word
#: (F_TRIGGER): rates and multiples count in Latin-script promises only
F_RATE_FIGURE = 1 << 22
#: the bits of which one at least is set when anything can be found
F_ANY = F_ZH | F_APR | F_CN_AMOUNT | F_MONEY_FIGURE | F_RATE_FIGURE


#: any digit; found near the start of most texts that have one
_DIGIT_RE = re.compile(r"[0-9]")


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    feats = text_features(text)
    if not feats & F_ANY:
        return []
    if _DIGIT_RE.search(text) is None:
        return _without_digits(text, feats)
    return _with_digits(text, feats)


def _without_digits(text: str, feats: int) -> list[Found]:
    """Figures written in Chinese only: 月入过万, 翻倍, 百分之十, 五千元."""
    if not _NODIGIT_GATE.search(text):
        return []
    out: list[Found] = []
    if feats & F_ZH and not text.isascii() and _ZH_GATE_RE.search(text):
        _zh_promises(text, out)
    if feats & F_APR and "百分之" in text:
        _aprs(text, out)
    if feats & F_CN_AMOUNT and ("元" in text or "块" in text):
        _amounts(text, [], out)
    return out


_NO_WORDS: frozenset[bytes] = frozenset()


def _words(text: str) -> frozenset[bytes] | set[bytes]:
    """:func:`~qinglang.entities.base.latin_words` of a text with digits, or none
    without two ASCII non-digits (a lone letter is no word any set here holds)."""
    facts = text_facts(text)
    prof = facts.profile
    return latin_words(text) if facts.letters and prof.ascii - prof.total > 1 else _NO_WORDS


def _with_digits(text: str, feats: int) -> list[Found]:
    """Every pass, each behind its own cheap test; Latin-script words are read once,
    and only when a test needs them."""
    out: list[Found] = []
    if feats & F_ZH and not text.isascii() and _ZH_GATE_RE.search(text):
        _zh_promises(text, out)
    taken = [(f.nstart, f.nend) for f in out]
    words: frozenset[bytes] | set[bytes] | None = None
    if feats & F_APR:  # else _aprs finds nothing
        if "%" in text and "年" not in text:
            words = _words(text)
        if ("%" in text and ("年" in text or not words.isdisjoint(_APR_WORDS_B))) or "百分之" in text:
            taken += _aprs(text, out)
    money = False
    if feats & F_MONEY:
        money = _MARK_CHARS_RE.search(text) is not None
        if not money:
            if words is None:
                words = _words(text)
            money = not words.isdisjoint(_CURRENCY_WORDS_B)
    if not money and "x" not in text and "%" not in text:
        return out  # no figure worth reading, so no Latin-script promise either
    latin = False
    if feats & F_TRIGGER:
        if words is None:
            words = _words(text)
        latin = not words.isdisjoint(_TRIGGER_WORDS_B) or (
            _TRIGGER_PHRASES_RE if text_facts(text).letters else _TRIGGER_PHRASES_ZH_RE
        ).search(text) is not None
    if not (money or latin):
        return out
    # tokens that are no money count only for Latin-script promises (latin)
    figures = F_MONEY_FIGURE | F_RATE_FIGURE if latin else F_MONEY_FIGURE
    tokens = _tokens(text, rates=latin) if feats & figures else []
    _amounts(text, tokens, out, feats & F_CN_AMOUNT)
    if latin and tokens:
        _latin_promises(text, tokens, out, taken)
    return out
