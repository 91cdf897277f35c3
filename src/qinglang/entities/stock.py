"""Stock codes: A-shares, Hong Kong codes and US tickers.

Canonical values (exchange upper case, the way exchanges write them):

* ``stock_code:600519.SH`` / ``.SZ`` / ``.BJ``: six digits whose leading digits are
  an A-share or B-share prefix of that exchange (``data/a_share_prefixes.tsv``),
  alone or with an exchange marker (``sh600519``, ``600519.sh``; a marker that
  contradicts the prefix table voids the candidate). Not when part of a longer
  digit run, a decimal or a thousands-grouped number, when a unit follows
  (``300000股``, ``600000元``, ``200315期``: ``data/stock_units.txt``), when a money
  sign precedes, or when a word just before names it something else (邮编, 验证码,
  订单号, qq, 微信 ...: ``data/stock_negative_context.txt``).
* ``stock_code:00700.HK``: 4-5 digits, zero-padded to five, only with a Hong Kong
  marker: ``hk``/``.hk`` written on the code, or 港股, 港交所, 恒生, hk ... within a
  few characters (``data/hk_context.txt``). Four-digit years are not codes unless
  marked on the code itself.
* ``stock_code:TSLA.US``: cashtags (``$tsla``) and tickers after an exchange name
  with a colon (``nasdaq: tsla``, ``nyse:ko``). Crypto and currency cashtags
  (``$btc``, ``$usdt``) are not stocks (``data/crypto_cashtags.txt``), nor is a
  cashtag with crypto words around it (``$moonx presale``: ``data/crypto_context.txt``).

``detail`` carries ``exchange`` and, for A-shares, ``board``.
"""

from __future__ import annotations

import re

from qinglang.entities.base import (
    Found,
    TextFacts,
    alternation,
    data_lines,
    data_set,
    prescanned,
    text_facts,
    text_features,
)
from qinglang.text.offsets import NormalizedText

_PREFIXES: dict[str, tuple[str, str]] = {}
for _line in data_lines("a_share_prefixes.tsv"):
    _p, _ex, _board = (c.strip() for c in _line.split("\t"))
    _PREFIXES[_p] = (_ex.upper(), _board)

_NEG = tuple(data_set("stock_negative_context.txt"))
_UNITS_RE = re.compile(r"\s?(?:" + alternation(data_set("stock_units.txt")) + ")")
_HK_CTX = tuple(data_set("hk_context.txt"))
_CRYPTO = data_set("crypto_cashtags.txt")
_CRYPTO_CTX_RE = re.compile(
    r"(?<![a-z])(?:" + alternation(data_set("crypto_context.txt")) + r")(?![a-z])"
)

# The regexes start with a digit (or "$") so that the engine can skip ahead fast; the
# left boundary and an exchange marker written before the code are checked in code.
_A_RE = re.compile(r"(?P<code>[0-9]{6})(?:\.(?P<sx>sh|sz|bj|ss)(?![a-z0-9]))?")
_HK_RE = re.compile(r"(?P<code>[0-9]{4,5})(?:\.(?P<sx>hk)(?![a-z0-9]))?")
_CASHTAG_RE = re.compile(r"\$(?P<t>[a-z]{1,5}(?:\.[a-z])?)(?![a-z0-9])")
_EXCHANGE_RE = re.compile(
    r"(?:nasdaq|nyse|amex)(?:\s?(?:gs|gm|cm|american|arca))?\s?:\s?(?P<t>[a-z]{1,5}(?:\.[a-z])?)"
    r"(?![a-z0-9])"
)
_PX_RE = re.compile(r"(?P<px>sh|sz|bj|hk)[.:]?$")
_LEFT_BLOCK = frozenset("0123456789abcdefghijklmnopqrstuvwxyz_.,$¥€£")
_CONNECTORS = " :=#是为()[]"


def _code_span(text: str, m: re.Match[str], markers: tuple[str, ...]) -> tuple[int, str | None] | None:
    """Start of a code match (with a marker such as "sh" before it) and the marker.

    ``None`` when the digits continue a longer token on either side ("6005190",
    "1.600519", "600519.5", "1,600,519", "abc600519").
    """
    s, e = m.span()
    n = len(text)
    if e < n and (text[e].isdigit() or (text[e] in ".," and e + 1 < n and text[e + 1].isdigit())):
        return None
    marker = m.group("sx")
    px = _PX_RE.search(text, max(0, s - 3), s)
    if px and px.group("px") in markers:
        if marker is None:
            marker = px.group("px")
        elif marker != px.group("px"):
            return None
        s = px.start()
    if s and text[s - 1] in _LEFT_BLOCK:
        return None
    return s, marker


def _negative_context(text: str, start: int) -> bool:
    """A word just before the number (allowing connectors) says it is not a code."""
    window = text[max(0, start - 10):start].rstrip(_CONNECTORS)
    return window.endswith(_NEG)


def _unit_follows(text: str, end: int) -> bool:
    return _UNITS_RE.match(text, end) is not None


def _a_shares(text: str) -> list[Found]:
    out: list[Found] = []
    for m in _A_RE.finditer(text):
        code = m.group("code")
        info = _PREFIXES.get(code[:3]) or _PREFIXES.get(code[:2])
        if info is None:
            continue
        span = _code_span(text, m, ("sh", "sz", "bj"))
        if span is None:
            continue
        s, marker = span
        exchange, board = info
        if marker and ("SH" if marker == "ss" else marker.upper()) != exchange:
            continue
        e = m.end()
        if _unit_follows(text, e) or _negative_context(text, s):
            continue
        out.append(Found("stock_code", f"stock_code:{code}.{exchange}", s, e,
                         {"exchange": exchange, "board": board}))
    return out


def _hong_kong(text: str) -> list[Found]:
    out: list[Found] = []
    for m in _HK_RE.finditer(text):
        code = m.group("code")
        span = _code_span(text, m, ("hk",))
        if span is None:
            continue
        s, marker = span
        e = m.end()
        if not marker:
            if len(code) == 4 and 1900 <= int(code) <= 2099:
                continue  # a year
            around = text[max(0, s - 12):s] + " " + text[e:e + 8]
            if not any(w in around for w in _HK_CTX):
                continue
            if _unit_follows(text, e) or _negative_context(text, s):
                continue
        if int(code) == 0:
            continue
        out.append(Found("stock_code", f"stock_code:{code.zfill(5)}.HK", s, e,
                         {"exchange": "HK"}))
    return out


def _us(text: str) -> list[Found]:
    out: list[Found] = []
    if "$" in text:
        for m in _CASHTAG_RE.finditer(text):
            s = m.start()
            if s and (text[s - 1] in _LEFT_BLOCK and text[s - 1] not in ".,"):
                continue
            around = text[max(0, s - 40):s] + " " + text[m.end():m.end() + 40]
            if _CRYPTO_CTX_RE.search(around):
                continue  # a token being shilled, not a listed stock
            out.append(_ticker(m, cashtag=True))
    if "nasdaq" in text or "nyse" in text or "amex" in text:
        for m in _EXCHANGE_RE.finditer(text):
            s = m.start()
            if s and "a" <= text[s - 1] <= "z":
                continue
            out.append(_ticker(m, cashtag=False))
    return [f for f in out if f is not None]


def _ticker(m: re.Match[str], *, cashtag: bool) -> Found | None:
    ticker = m.group("t")
    if ticker in _CRYPTO:
        return None
    return Found("stock_code", f"stock_code:{ticker.upper()}.US", m.start(), m.end(),
                 {"exchange": "US", "cashtag": cashtag})


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything: four digits in a
    row, or a cashtag or an exchange name among the ASCII characters."""
    asc = facts.ascii
    return facts.profile.longest >= 4 or "$" in asc or "nasdaq" in asc or "nyse" in asc or "amex" in asc


# Bits of the registry's prescan (see returns.F_ZH; patterns in gate._PATTERNS), each
# the same test as the one extract() makes from the facts:
#: six digits in a row (longest >= 6)
F_A_SHARE = 1 << 7
#: four digits in a row and a Hong Kong mark ("hk" among the ASCII characters, 港, 恒)
F_HONG_KONG = 1 << 20
#: a cashtag or an exchange name (what _us needs in the text)
F_US = 1 << 21


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    out: list[Found] = []
    if prescanned(text):  # the prescan made the tests below; no facts needed
        feats = text_features(text)
        a_share, hong_kong, us = feats & F_A_SHARE, feats & F_HONG_KONG, feats & F_US
    else:
        facts = text_facts(text)
        longest = facts.profile.longest
        asc = facts.ascii  # the ASCII words are looked for here: a few characters in a Chinese post
        a_share = longest >= 6
        hong_kong = longest >= 4 and ("hk" in asc or "港" in text or "恒" in text)
        us = "$" in asc or "nasdaq" in asc or "nyse" in asc or "amex" in asc
    if a_share:
        out.extend(_a_shares(text))
    if hong_kong:
        out.extend(_hong_kong(text))
    if us:
        out.extend(_us(text))
    return out
