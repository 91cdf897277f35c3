"""Phone numbers: mainland mobiles however written, and international numbers.

Canonical value: ``phone:+<E.164>`` (``phone:+8613800138000``). Mainland mobiles
(``1[3-9]`` + 9 digits) are recognised with or without +86/0086/86 and with
separators between digit groups ("138 0013 8000", "138-0013-8000"); separators
must split the number into groups of at least three digits, so a list of decimals
("13.5 14.2 15.1 16.0") is not read as a phone. Numbers with a leading ``+`` or
``00`` are validated with ``phonenumbers`` and reported only when valid.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from qinglang.entities.base import Found, TextFacts, run_continues, split_groups, text_facts
from qinglang.text.offsets import NormalizedText

#: A mainland mobile: starts with the literal "1" so the regex engine skips ahead
#: fast; the country prefix and the boundaries are checked by :func:`find_mobiles`.
_CORE_RE = re.compile(r"1[3-9][0-9](?:[ \-.]?[0-9]){8}")
#: Country prefixes written before a mobile, matched against the text just before it.
_CC_RE = re.compile(r"(?:(?:\+|00)86[ \-]?|\(\+?86\)[ \-]?|86[ \-]?)$")
_WORD_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz_")

#: The same as a single regex, for matching at a known position (after 微信).
MOBILE_RE = re.compile(
    r"(?<![0-9a-z_+])"
    r"(?:(?:\+|00)86[ \-]?|\(\+?86\)[ \-]?|86[ \-]|86(?=1[3-9][0-9]{9}(?![0-9])))?"
    r"(?P<num>1[3-9][0-9](?:[ \-.]?[0-9]){8})"
    r"(?![0-9a-z_])"
)

_INTL_RE = re.compile(
    r"(?:\+|00) ?(?P<body>[1-9][0-9]{0,3}(?:[ \-.()/]{0,2}[0-9]){5,15})(?![0-9])"
)


def _valid_groups(text: str, s: int, e: int, num: str) -> str | None:
    digits, groups, seps = split_groups(num)
    if len(seps) > 1 or min(groups) < 3:
        return None
    if run_continues(text, s, e, seps):
        return None
    return digits


def mobile_at(text: str, m: re.Match[str]) -> str | None:
    """Validate a :data:`MOBILE_RE` match; return the 11 national digits or ``None``."""
    return _valid_groups(text, m.start(), m.end(), m.group("num"))


def find_mobiles(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, digits)`` of every mainland mobile in ``text[start:end]``.

    The span includes a country prefix (+86, 0086, (+86), 86) written before it.
    """
    out = []
    stop = len(text) if end is None else end
    for m in _CORE_RE.finditer(text, start, stop):
        s, e = m.span()
        if e < len(text) and text[e] in _WORD_CHARS:
            continue
        cc = _CC_RE.search(text, max(0, s - 6), s)
        if cc:
            s = cc.start()
        if s and (text[s - 1] in _WORD_CHARS or text[s - 1] == "+"):
            continue
        digits = _valid_groups(text, s, e, m.group())
        if digits:
            out.append((s, e, digits))
    return out


@lru_cache(maxsize=4096)
def parse_international(raw_digits: str) -> tuple[str, str] | None:
    """``"442079460958"`` -> ``("+442079460958", "GB")`` if valid, else ``None``.

    ``phonenumbers`` takes tens of microseconds per call, and the same digits are read
    by the phone and WhatsApp extractors of one post (and recur across posts), so
    results are memoized.
    """
    try:
        num = phonenumbers.parse("+" + raw_digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(num) or ""


def trimmed(body: str, max_drops: int = 3) -> list[str]:
    """``body`` and then ``body`` with its trailing digit groups dropped one at a time.

    A number followed by a date or another number ("+44 20 7946 0958 2024") is
    matched with the extra groups; the caller tries each prefix until one is valid.
    """
    out = [body]
    cuts = [i for i, ch in enumerate(body) if not ch.isdigit() and i > 0]
    for cut in reversed(cuts):
        part = body[:cut].rstrip(" -.()/")
        if part and part != out[-1]:
            out.append(part)
            if len(out) > max_drops:
                break
    return out


def _international(text: str, taken: list[tuple[int, int]]) -> list[Found]:
    out: list[Found] = []
    for m in _INTL_RE.finditer(text):
        s, e = m.span()
        if s and (text[s - 1] in _WORD_CHARS or text[s - 1] == "+"):
            continue
        if any(s < te and ts < e for ts, te in taken):
            continue
        body = m.group("body")
        for part in trimmed(body):
            parsed = parse_international("".join(ch for ch in part if ch.isdigit()))
            if parsed:
                e = m.start("body") + len(part)
                out.append(Found("phone", "phone:" + parsed[0], s, e, {"region": parsed[1]}))
                break
    return out


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything: seven digits."""
    return facts.profile.total >= 7


def extract(nt: NormalizedText) -> list[Found]:
    """Mainland mobiles first, then ``+``/``00`` international numbers elsewhere."""
    text = nt.text
    if not may_find(text, text_facts(text)):
        return []
    out: list[Found] = []
    for s, e, digits in find_mobiles(text):
        out.append(Found("phone", "phone:+86" + digits, s, e, {"region": "CN"}))
    if "+" in text or "00" in text:
        out.extend(_international(text, [(f.nstart, f.nend) for f in out]))
    return out
