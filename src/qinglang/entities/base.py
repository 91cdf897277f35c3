"""Shared pieces of the extractors: the ``Found`` record, data files, digit helpers.

Every extractor follows the same three steps (Presidio's "match, validate,
invalidate"): a candidate regex over the normalized text, a validation (checksum,
prefix table, public-suffix list), then context that can veto a candidate (a postal
code is not a stock code). The helpers here are the pieces several extractors share.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any, NamedTuple

from qinglang.text.offsets import NormalizedText


class Found(NamedTuple):
    """One extracted entity, before its span is mapped back to the original text.

    ``value`` is the canonical form (``phone:+8613800138000``); ``nstart``/``nend``
    index the normalized text.
    """

    type: str
    value: str
    nstart: int
    nend: int
    detail: dict[str, Any] | None = None


# --------------------------------------------------------------------------- data


@cache
def data_lines(name: str) -> tuple[str, ...]:
    """Non-empty lines of ``entities/data/<name>``; lines starting with ``#`` are comments.

    Word lists live in data files so that reviewers can change them without touching
    code; they are read once per process.
    """
    raw = files("qinglang.entities").joinpath("data", name).read_text(encoding="utf-8")
    out: list[str] = []
    for line in raw.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return tuple(out)


def data_set(name: str) -> frozenset[str]:
    """The lines of a data file as a set (first tab-separated column)."""
    return frozenset(line.split("\t", 1)[0].strip() for line in data_lines(name))


def alternation(words: Iterable[str]) -> str:
    """A regex alternation of literal words, longest first so that the longest wins."""
    uniq = sorted(set(words), key=lambda w: (-len(w), w))
    return "|".join(re.escape(w) for w in uniq)


# ------------------------------------------------------------------------- digits

_RUN_RE = re.compile(r"[0-9]+")


class DigitProfile(NamedTuple):
    """Cheap facts about a text that let extractors skip it without a regex."""

    total: int  #: number of ASCII digits
    longest: int  #: longest run of consecutive digits
    ascii: int  #: number of ASCII characters


_profile_cache: tuple[str, DigitProfile] = ("", DigitProfile(0, 0, 0))


def digit_profile(text: str) -> DigitProfile:
    """Digit count, longest digit run and ASCII count of ``text``, computed once per text.

    Several extractors (phone, stock, bank card, wallet, returns) gate on these; the
    last text seen is remembered (by identity, in one atomic tuple, so threads at
    worst recompute) so the scan happens once per field rather than once per
    extractor.
    """
    global _profile_cache
    cached = _profile_cache
    if cached[0] is text:
        return cached[1]
    n_ascii = len(text.encode("ascii", "ignore"))
    runs = [len(r) for r in _RUN_RE.findall(text)] if n_ascii else []
    prof = DigitProfile(sum(runs), max(runs), n_ascii) if runs else DigitProfile(0, 0, n_ascii)
    _profile_cache = (text, prof)
    return prof


def split_groups(s: str) -> tuple[str, list[int], set[str]]:
    """Digits of ``s``, the lengths of its digit groups, and the separators used."""
    digits: list[str] = []
    groups: list[int] = []
    seps: set[str] = set()
    run = 0
    for ch in s:
        if "0" <= ch <= "9":
            digits.append(ch)
            run += 1
        else:
            seps.add(ch)
            if run:
                groups.append(run)
            run = 0
    if run:
        groups.append(run)
    return "".join(digits), groups, seps


def run_continues(text: str, start: int, end: int, seps: set[str]) -> bool:
    """True if the digit run ``text[start:end]`` continues past either end.

    A number written in groups ("138 0013 8000") that is followed by one more group
    with the same separator ("... 8000 1234") is part of something longer, and so is
    anything glued to a decimal point ("3.13800138000").
    """
    risky = seps | {"."}
    if end + 1 < len(text) and text[end] in risky and text[end + 1].isdigit():
        return True
    return start >= 2 and text[start - 1] in risky and text[start - 2].isdigit()


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ---------------------------------------------------------------- original text


def original_ascii(nt: NormalizedText, start: int, end: int) -> str | None:
    """The ASCII letters and digits the author wrote for normalized span ``[start, end)``.

    Normalized text is lowercase, but base58 addresses and invite codes are
    case-sensitive, so their checks need the original characters. Full-width forms
    are folded (NFKC) and anything the normalizer deleted (zero-width characters,
    emoji separators) is dropped. Returns ``None`` when the result does not match
    the normalized candidate letter for letter, i.e. when the case cannot be
    recovered reliably.
    """
    orig = unicodedata.normalize("NFKC", nt.original_text(start, end))
    kept = "".join(ch for ch in orig if ch.isascii() and ch.isalnum())
    cand = "".join(ch for ch in nt.text[start:end] if ch.isascii() and ch.isalnum())
    if kept.lower() != cand:
        return None
    return kept


def original_cased(nt: NormalizedText, start: int, end: int) -> str | None:
    """The author's text for ``[start, end)`` when it differs from it only by case.

    Used for URL paths, which are case-sensitive (short links). Full-width forms
    are folded and invisible format characters dropped first; ``None`` when the
    original still differs (the normalizer rewrote something), so the caller falls
    back to the normalized text.
    """
    orig = unicodedata.normalize("NFKC", nt.original_text(start, end))
    orig = "".join(ch for ch in orig if unicodedata.category(ch) != "Cf")
    return orig if orig.lower() == nt.text[start:end] else None


# ----------------------------------------------------------------------- numbers


def fmt_number(d: Decimal) -> str:
    """Canonical text of a number: no exponent, no trailing zeros (``7.20`` -> ``7.2``)."""
    if d == d.to_integral_value():
        return str(int(d))
    s = format(d.normalize(), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def json_number(d: Decimal) -> int | float:
    """A number for ``detail`` (JSON): an int when whole, else a float."""
    return int(d) if d == d.to_integral_value() else float(d)


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def cn_small_number(s: str) -> int | None:
    """Chinese numerals below 10000 ("三", "十", "三十五", "五百", "一千二") -> int.

    The normalizer only turns runs of four or more Chinese numerals into digits,
    so short amounts such as 十万 or 五千元 reach the extractors as characters.
    """
    if not s:
        return None
    total = 0
    cur = -1
    for ch in s:
        if ch in _CN_DIGITS:
            if cur >= 0:  # two digits in a row ("三五") is not this notation
                return None
            cur = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (cur if cur >= 0 else 1) * _CN_UNITS[ch]
            cur = -1
        else:
            return None
    if cur >= 0:
        total += cur
    return total
