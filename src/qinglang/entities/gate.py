"""One gate for the whole registry: which extractors can find anything in a text.

Every extractor has its own ``may_find``, but calling eleven of them per text cost
more than the extraction itself on ordinary posts (a Python call each, and a regex
scan over the whole text for several). Two implementations decide for all of them
at once; both give, per extractor, a *necessary* condition for its ``extract`` to
return anything (``tests/entities/test_gate.py`` checks this, on texts built to
reach every clause of the patterns below):

* :func:`scan`: one Hyperscan pass over the UTF-8 text with the patterns in
  :data:`_PATTERNS`, each reporting at most once. Most posts fire none or one, so the
  pass costs about as much as the per-text facts alone, and a post that fires none
  runs no extractor. Some bits are not whole extractors but passes of one (returns,
  url, stock): the scan remembers them (:func:`~qinglang.entities.base.text_features`)
  and the extractor skips a pass whose bit is clear. The database is compiled on
  first use (about a quarter second).
* :func:`candidates`: the fallback without Hyperscan (or for text that is not valid
  UTF-8), from :func:`~qinglang.entities.base.text_facts`, grouping the tests by what
  they share: most extractors need an ASCII letter, so a post without one (most
  Chinese posts) skips all of those with a single test.

Bits in use (each module defines its own): 0-5 phone, wechat, qq, telegram,
whatsapp, email; 7, 20, 21 stock; 8 wallet; 9 bankcard; 10-15, 19, 22 returns;
16-18 url. ``BITS`` maps each extractor name to all of its bits.
"""
from __future__ import annotations

import re
from typing import Any

from qinglang.entities import phone, returns, stock, url
from qinglang.entities.base import TextFacts, alternation, data_set, has_alnum_run, remember_features
from qinglang.entities.email import _PLAIN_AT_RE
from qinglang.entities.returns import _NODIGIT_GATE
from qinglang.entities.url import has_cjk_obfuscation

try:  # pragma: no cover - exercised by whichever is installed
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

# The bits of each extractor (the registry runs it when any is set).
PHONE = 1 << 0
WECHAT = 1 << 1
QQ = 1 << 2
TELEGRAM = 1 << 3
WHATSAPP = 1 << 4
EMAIL = 1 << 5
#: url reads several bits of the prescan; it runs when any of these is set
URL = url.F_SCHEME | url.F_DOT | url.F_OBFUSCATED
#: stock reads three bits of the prescan
STOCK = stock.F_A_SHARE | stock.F_HONG_KONG | stock.F_US
WALLET = 1 << 8
BANKCARD = 1 << 9
#: returns reads several bits of the prescan; it runs when any of these is set
RETURNS = returns.F_ANY
BITS = {
    "fin.phone.v1": PHONE,
    "fin.wechat.v1": WECHAT,
    "fin.qq.v1": QQ,
    "fin.telegram.v1": TELEGRAM,
    "fin.whatsapp.v1": WHATSAPP,
    "fin.email.v1": EMAIL,
    "fin.url.v1": URL,
    "fin.stock.v1": STOCK,
    "fin.wallet.v1": WALLET,
    "fin.bankcard.v1": BANKCARD,
    "fin.returns.v1": RETURNS,
}

#: the dot of a URL among the ASCII characters of a text (where anything contiguous in
#: the text is contiguous too): before a letter (every bare host has one before its
#: suffix), or between the brackets or spaces of an obfuscated dot ("(.)", " . ")
_URL_DOT_RE = re.compile(r"\.(?:[a-z]|(?<=[(\[{< ]\.)[)\]}> ])")


def candidates(text: str, facts: TextFacts) -> int:
    """The bits of the extractors that may find something in ``text`` (``facts`` is
    :func:`~qinglang.entities.base.text_facts` of it)."""
    prof = facts.profile
    total = prof.total
    longest = prof.longest
    mask = 0
    if total:
        mask = RETURNS
        # a mainland mobile has 11 digits; an international number a "+" or "00"
        if total >= 11 or (total >= 7 and ("+" in facts.ascii or "00" in facts.ascii)):
            mask |= PHONE
        if longest >= 4:
            mask |= STOCK
            if total >= 16:  # a card number starts with four digits in a row
                mask |= BANKCARD
    elif _NODIGIT_GATE.search(text) is not None:
        mask = RETURNS
    if not facts.letters:
        # no handle, link, address or ticker; only numbers after a word
        if total >= 11 and "微信" in text:  # a mobile as WeChat id
            mask |= WECHAT
        if total >= 5 and "瓦次普" in text:  # a number after the word
            mask |= WHATSAPP
        if longest >= 26:  # an all-digit run is the only 26 [0-9a-z] in a row left
            mask |= WALLET
        return mask
    asc = facts.ascii
    if "微信" in text or "wechat" in asc or "weixin" in asc or "wxid" in asc:
        mask |= WECHAT
    if "qq" in asc:
        mask |= QQ
    if ".me/" in asc or ".dog/" in asc or "telegram" in asc or "tg://" in asc:
        mask |= TELEGRAM
    if "wa.me" in asc or "whats" in asc or "瓦次普" in text:
        mask |= WHATSAPP
    if ("@" in asc and _PLAIN_AT_RE.search(text) is not None) or "at)" in asc or "at]" in asc \
            or "at}" in asc or "艾特" in text:
        mask |= EMAIL
    if "://" in asc or "dot" in asc or ("." in asc and _URL_DOT_RE.search(asc) is not None) \
            or has_cjk_obfuscation(text):
        mask |= URL
    if "$" in asc or "nasdaq" in asc or "nyse" in asc or "amex" in asc:
        mask |= STOCK
    if prof.ascii >= 26 and (total or "t" in asc) and has_alnum_run(text, 26):
        mask |= WALLET
    return mask


# ------------------------------------------------------------------ Hyperscan

_HK = "(?:h[^\\x00-\\x7f]*k|港|恒)"


def _word(words: frozenset[str]) -> str:
    """Any of ``words`` as a whole word of ``[a-z]`` (no letter on either side)."""
    return "(?:^|[^a-z])(?:" + alternation(words) + ")(?:[^a-z]|$)"


#: what returns._zh_promises needs to find anything: an anchor (_ZH_ANCHOR_RE), a
#: total-return phrase (_ZH_TOTAL_RE), or a multiple with 翻 before or a gain word
#: after (_ZH_MULT_RE with its "fan" or "tail" group); lazy repeats made greedy,
#: look-behinds written out
_STOP_CLASS = "[^0-9\\n,.;!?。，；！？]"
_CN = returns._CN_NUMERALS
_ZH_PROMISE = (
    f"(?:{alternation(returns._LONG)}){_STOP_CLASS}{{0,6}}(?:{returns._GAIN_ALT})"
    f"|(?:{alternation(returns._SINGLE)})(?:{returns._GAIN_ALT})"
    f"|(?:收益率|回报率|收益|回报|利润|盈利){_STOP_CLASS}{{0,4}}"
    "(?:高达|可达|达到|超过|至少|保底|稳定|轻松|最高|最低|超|达)"
    f"|翻了?(?:[0-9]+倍|[{_CN}]+倍|倍|番)|(?:[0-9]|[{_CN}]|翻|了)(?:倍|番)(?:收益|回报|利润|币|股)"
)


def _word_start(words: frozenset[str]) -> str:
    """Any of ``words`` with no letter before it (a wider :func:`_word`: a logical
    combination cannot take the "$" of a pattern)."""
    return "(?:^|[^a-z])(?:" + alternation(words) + ")"


_TRIGGER_PATTERN = returns._TRIGGER_PHRASES_RE.pattern + "|" + _word(returns._TRIGGER_WORDS)
_TRIGGER_LOOSE = returns._TRIGGER_PHRASES_RE.pattern + "|" + _word_start(returns._TRIGGER_WORDS)

#: (bit, pattern): a pattern matching somewhere in the text is a necessary condition
#: for the extractor of that bit to find anything, or for the pass of it that reads
#: the bit (byte-for-byte the extractor's own regex where one is given, with
#: look-arounds dropped, which only widens it). Hyperscan syntax (no look-behind);
#: ``.`` matches any character (DOTALL, UTF-8).
_PATTERNS: tuple[tuple[int, str], ...] = (
    (PHONE, phone._CORE_RE.pattern),  # a mainland mobile
    (PHONE, r"(?:\+|00) ?[1-9][0-9]{0,3}(?:[ \-.()/]{0,2}[0-9]){5,15}"),  # phone._INTL_RE
    (WECHAT, "微信|wechat|weixin|wxid"),
    (QQ, "qq"),
    (TELEGRAM, r"\.me/|\.dog/|telegram|tg://"),
    (WHATSAPP, r"wa\.me|whats|瓦次普"),
    # an address: a local-part character, the at-sign and a domain character, or an
    # obfuscated at-sign (email.may_find)
    (EMAIL, r"[a-z0-9_]@[a-z0-9]|at[)\]}]|艾特"),
    # url (its own bits): a scheme, a dot before a letter (every bare host), an
    # obfuscated dot as url._OBF_GATE_RE finds it
    (url.F_SCHEME, "://"),
    (url.F_DOT, r"\.[a-z]"),
    (url.F_OBFUSCATED, r"[a-z0-9] ?[点。] ?[a-z]|dot|\(\.\)|\[\.\]|\{\.\}|<\.>| \. "),
    # stock (its own bits): an A-share code, a cashtag or an exchange name (a Hong Kong
    # code: see _COMBINED)
    (stock.F_A_SHARE, "[0-9]{6}"),
    (stock.F_US, "\\$[a-z]|nasdaq|nyse|amex"),
    # an address's prefix and the next eleven of its characters (bitcoin's base58
    # "1"/"3", "bc1", TRON's "t", "0x"): a short repeat scans faster than the whole
    (WALLET, "(?:0x|bc1|[13t])[0-9a-z]{11}"),
    # the start of a card number bankcard.extract accepts: four digits in a row, then
    # three more, or a separator after the first group (of four to six digits) and
    # the next group (of three at least)
    (BANKCARD, "[3-6][0-9]{3}(?:[0-9]{3}|[0-9]{0,2}[ \\-][0-9]{3})"),
    # returns (its own bits, see returns.F_ANY): what a Chinese promise needs, a rate
    # disclosure word, an amount in Chinese numerals with its currency ...
    (returns.F_ZH, _ZH_PROMISE),
    (returns.F_APR, alternation(data_set("apr_words.txt"))),
    (returns.F_CN_AMOUNT, "[一二两三四五六七八九十百千](?:万亿|亿|万)?(?:多|余)?(?:元|块)"),
    # ... or a figure returns._number_value turns into money (the rest are counts and
    # dates): a currency sign anywhere, a currency code before a digit, a Chinese
    # multiplier one character after a digit at most ("3 万"), or a currency word
    # (returns._CURS) at most four after one (after a space, a Latin multiplier and
    # 多/余: "5k+ usd"); for rates and multiples see _COMBINED
    (returns.F_MONEY_FIGURE, "[$¥￥€£]|(?:rmb|cny|usd|eur|hkd|gbp) ?[0-9]|[0-9].?[万亿千]"
                             "|[0-9].{0,4}(?:[元块€]|人民币|美元|美金|欧元|港元|港币|英镑"
                             "|rmb|cny|usd|dollar|bucks|eur|hkd|gbp|pound)"),
    # a trigger word or phrase, as returns tests it (a word of latin_words: no letter on
    # either side); F_MONEY and F_LOAN: see _COMBINED
    (returns.F_TRIGGER, _TRIGGER_PATTERN),
)


#: ids of patterns that report nothing themselves, only through a combination
_RUN4, _HK_MARK, _RATE, _TRIGGER, _MONEY, _LOAN = ((1 << 28) + i for i in range(6))
#: (bit, quiet patterns, logical combination of ids): a bit reported when the
#: combination of its quiet patterns and other bits holds. Two patterns that must both
#: match somewhere need no ".*" pattern (which would stay active from the first match
#: to the end of the text), and a common pattern (a money mark) reports only where it
#: matters. Hyperscan takes no "$" in a pattern a combination reads.
_COMBINED: tuple[tuple[int, tuple[tuple[int, str], ...], str], ...] = (
    (stock.F_HONG_KONG, ((_RUN4, "[0-9]{4}"), (_HK_MARK, _HK)), f"{_RUN4} & {_HK_MARK}"),
    # a rate or a multiple returns._number_value reads ("%" or "x" right after a digit,
    # one character between for "%") where a trigger word or phrase makes it count
    # (F_TRIGGER, wider)
    (returns.F_RATE_FIGURE, ((_RATE, "[0-9].?%|[0-9]x"), (_TRIGGER, _TRIGGER_LOOSE)), f"{_RATE} & {_TRIGGER}"),
    # a money mark or a currency word (a wider test than returns', without "$"), only
    # where it can matter: money decides whether returns reads money figures and
    # Chinese amounts (with a trigger word it reads every figure anyway). Common
    # marks (美, 港) would otherwise cost a report in a third of all posts.
    (returns.F_MONEY, ((_MONEY, returns._MARK_CHARS_RE.pattern + "|" + _word_start(returns._CURRENCY_WORDS)),),
     f"{_MONEY} & ({returns.F_MONEY_FIGURE} | {returns.F_CN_AMOUNT})"),
    # a loan word, only with a rate disclosure word (where returns reads it)
    (returns.F_LOAN, ((_LOAN, alternation(returns._LOAN)),), f"{_LOAN} & {returns.F_APR}"),
)

#: ids ``base`` to ``base + BIT_IDS - 1`` of :func:`hyperscan_items` report bits; the
#: quiet patterns' ids follow
BIT_IDS = 32
_PID_RE = re.compile(r"[0-9]+")


def hyperscan_items(base: int = 0) -> list[tuple[int, bytes, int]]:
    """The prescan as Hyperscan ``(id, expression, flags)`` items, ids from ``base``.

    A pattern that reports has id ``base + k`` where ``1 << k`` is its bit, so whoever
    scans with these items builds the mask as ``mask |= 1 << (id - base)`` for each
    id reported below ``base + BIT_IDS``; quiet patterns (read only by combinations)
    take the ids after those and report nothing. Every reporting item is
    SINGLEMATCH. :func:`scan` compiles them alone; the engine compiles them into its
    term automaton (``TermMatcher.attach_prescan``) so that one pass over a text
    finds its terms and its prescan bits together.
    """
    quiet = {pid: i for i, pid in enumerate(p for _, parts, _ in _COMBINED for p, _ in parts)}

    def new_id(old: int) -> int:
        if old in quiet:
            return base + BIT_IDS + quiet[old]
        assert old & (old - 1) == 0 and old.bit_length() <= BIT_IDS, old
        return base + old.bit_length() - 1

    flags = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_DOTALL
    items = [(new_id(bit), pattern.encode("utf-8"), flags) for bit, pattern in _PATTERNS]
    for bit, parts, logic in _COMBINED:
        items += [(new_id(pid), pattern.encode("utf-8"), flags | hyperscan.HS_FLAG_QUIET)
                  for pid, pattern in parts]
        logic = _PID_RE.sub(lambda m: str(new_id(int(m.group()))), logic)
        items.append((new_id(bit), logic.encode("ascii"),
                      hyperscan.HS_FLAG_COMBINATION | hyperscan.HS_FLAG_SINGLEMATCH))
    return items


_DATABASE: Any = None


def _database() -> Any:
    """The compiled patterns (once per process, on first use: about a quarter second)."""
    global _DATABASE
    if _DATABASE is None:
        items = hyperscan_items()
        db = hyperscan.Database()
        db.compile(
            expressions=[pattern for _, pattern, _ in items],
            ids=[pid for pid, _, _ in items],
            elements=len(items),
            flags=[f for _, _, f in items],
        )
        _DATABASE = db
    return _DATABASE


def _hit(pid: int, _start: int, _end: int, _flags: int, acc: list[int]) -> None:
    acc[0] |= 1 << pid  # SINGLEMATCH: each id reports once at most


def scan(text: str) -> int | None:
    """The bits of the extractors that may find something in ``text``, by one
    Hyperscan pass, remembered for the extractors that then run on it
    (:func:`~qinglang.entities.base.text_features`); ``None`` without Hyperscan, for
    text that is not valid UTF-8 (a lone surrogate) and when another thread holds the
    scratch space."""
    db = _DATABASE
    if db is None:
        if hyperscan is None:
            return None
        db = _database()
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    acc = [0]
    try:
        # positional arguments: keywords cost a third of the call here
        db.scan(data, _hit, 0, acc)
    except hyperscan.ScratchInUseError:  # pragma: no cover - a concurrent scan
        return None
    mask = acc[0]
    remember_features(text, mask)
    return mask
