"""Payment card numbers (bank cards; cash-out and money-mule posts publish them).

Canonical value: ``bank_card:<digits>`` (``bank_card:6222021234567890123``).

16-19 digits, optionally written in groups of at least three separated by a space or
``-`` ("6222 0212 3456 7890 123"), starting with 3, 4, 5 or 6, passing the Luhn
check, and not part of a longer digit run or a letter-digit token. Invalidated by:
an 18-digit number with a plausible birth date in positions 7-14 (a resident
identity card number), and a word in the 12 characters before it naming an order, waybill or ID
number (``data/bankcard_negative_context.txt``). ``detail.network`` is a guess from
the leading digits (62: unionpay, 4: visa, 51-55: mastercard, 35: jcb, ...).
"""

from __future__ import annotations

import re

from qinglang.entities.base import (
    Found,
    TextFacts,
    data_set,
    luhn_valid,
    prescanned,
    run_continues,
    split_groups,
    text_facts,
)
from qinglang.text.offsets import NormalizedText

#: starts with a character class (no lookbehind) so the engine skips ahead fast; the
#: left boundary is checked in code
_CARD_RE = re.compile(r"[3-6][0-9]{3}(?:[ \-]?[0-9]){12,15}(?![0-9a-z_])")
_WORD_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz_")
_NEG = tuple(data_set("bankcard_negative_context.txt"))


def network(digits: str) -> str:
    """Best guess of the card network from the leading digits."""
    if digits.startswith("62"):
        return "unionpay"
    if digits[0] == "4":
        return "visa"
    if "51" <= digits[:2] <= "55":
        return "mastercard"
    if digits.startswith("35"):
        return "jcb"
    if digits.startswith(("34", "37")):
        return "amex"
    if digits.startswith(("6011", "64", "65")):
        return "discover"
    if digits.startswith(("30", "36", "38", "39")):
        return "diners"
    return "other"


def looks_like_id_card(digits: str) -> bool:
    """An 18-digit mainland resident ID: region, then a birth date YYYYMMDD."""
    if len(digits) != 18:
        return False
    year, month, day = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
    return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def may_find(text: str, facts: TextFacts) -> bool:
    """Cheap necessary condition for :func:`extract` to find anything: 16 digits."""
    prof = facts.profile
    return prof.total >= 16 and prof.longest >= 3


def extract(nt: NormalizedText) -> list[Found]:
    text = nt.text
    if not prescanned(text) and not may_find(text, text_facts(text)):
        return []
    out: list[Found] = []
    pos = 0
    while (m := _CARD_RE.search(text, pos)) is not None:
        s, e = m.span()
        pos = e
        if s and text[s - 1] in _WORD_CHARS:
            pos = s + 1  # a card may start later inside this candidate
            continue
        digits, groups, seps = split_groups(m.group())
        if len(seps) > 1 or (seps and min(groups) < 3):
            pos = s + 1
            continue
        if run_continues(text, s, e, seps):
            continue
        if not luhn_valid(digits) or looks_like_id_card(digits):
            continue
        before = text[max(0, s - 12):s]
        if any(w in before for w in _NEG):
            continue
        out.append(Found("bank_card", "bank_card:" + digits, s, e, {"network": network(digits)}))
    return out
