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


# ------------------------------------------------------------ per-text facts

#: ASCII bytes -> themselves for digits, a space for everything else (see digit_profile)
_DIGIT_MASK = bytes(b if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
#: the same for the lowercase ASCII letters (see latin_words)
_LETTER_MASK = bytes(b if 0x61 <= b <= 0x7A else 0x20 for b in range(256))
#: ASCII bytes -> "a" for [0-9a-z], a space for everything else (see has_alnum_run)
_ALNUM_MASK = bytes(0x61 if 0x30 <= b <= 0x39 or 0x61 <= b <= 0x7A else 0x20 for b in range(256))


class DigitProfile(NamedTuple):
    """Cheap facts about a text that let extractors skip it without a regex."""

    total: int  #: number of ASCII digits
    longest: int  #: longest run of consecutive digits
    ascii: int  #: number of ASCII characters


class TextFacts(NamedTuple):
    """What every extractor's gate reads, computed once per text (see :func:`text_facts`)."""

    text: str
    profile: DigitProfile
    #: ``text.encode("ascii", "replace")``: one byte per character (non-ASCII is ``?``),
    #: so positions are those of ``text``; empty when ``text`` has no ASCII at all
    image: bytes
    #: the ASCII characters of ``text`` in order: an ASCII word that is not in here is
    #: not in ``text`` either, and in a Chinese post this is a few characters long
    ascii: str
    #: ``text`` holds a lowercase ASCII letter: without one, no URL, e-mail address,
    #: handle or ticker can be written, which rules out most extractors at once
    letters: bool


_EMPTY_PROFILE = DigitProfile(0, 0, 0)
_facts_cache = TextFacts("", _EMPTY_PROFILE, b"", "", False)
#: builds a NamedTuple from a tuple in C (the generated ``__new__`` costs twice as much)
_tuple_new = tuple.__new__


def _compute_facts(text: str) -> TextFacts:
    """Byte operations only, which run at C speed over the whole text.

    Masking every non-digit of the image to a space and splitting yields exactly the
    digit runs: a ``[0-9]+`` regex scan costs several times more per character.
    """
    if text.isascii():
        ascii_chars = text
        image = text.encode("ascii")
    else:
        kept = text.encode("ascii", "ignore")
        if not kept:
            return _tuple_new(TextFacts, (text, _EMPTY_PROFILE, b"", "", False))
        ascii_chars = kept.decode("ascii")
        image = text.encode("ascii", "replace")
    # upper() changes exactly the letters a-z of an ASCII string
    letters = ascii_chars.upper() != ascii_chars
    runs = image.translate(_DIGIT_MASK).split()
    if runs:
        lengths = list(map(len, runs))
        profile = _tuple_new(DigitProfile, (sum(lengths), max(lengths), len(ascii_chars)))
    else:
        profile = _tuple_new(DigitProfile, (0, 0, len(ascii_chars)))
    return _tuple_new(TextFacts, (text, profile, image, ascii_chars, letters))


def text_facts(text: str) -> TextFacts:
    """The :class:`TextFacts` of ``text``, computed once per text.

    Every extractor gates on these, so the last text seen is remembered (by identity,
    in one atomic tuple, so threads at worst recompute): the work happens once per
    field rather than once per extractor.
    """
    global _facts_cache
    cached = _facts_cache
    if cached.text is not text:
        cached = _facts_cache = _compute_facts(text)
    return cached


#: every feature bit set: all that is known about a text that was not prescanned
ALL_FEATURES = -1
_features_cache: tuple[str, int] = ("", ALL_FEATURES)


def remember_features(text: str, bits: int) -> None:
    """Record what the registry's prescan (:func:`qinglang.entities.gate.scan`) found
    in ``text``, for the extractors it then runs on the same text."""
    global _features_cache
    _features_cache = (text, bits)


def text_features(text: str) -> int:
    """The prescan bits of ``text`` when it is the text last prescanned (by identity),
    else :data:`ALL_FEATURES`: an extractor called alone skips nothing.

    A clear bit means the prescan proved the corresponding pattern absent, so the
    reader may skip the work that needs it; a set bit proves nothing.
    """
    cached = _features_cache
    return cached[1] if cached[0] is text else ALL_FEATURES


def prescanned(text: str) -> bool:
    """True if ``text`` is the text last prescanned: the registry runs an extractor on it
    only when its prescan bit is set, which makes the extractor's own ``may_find``
    redundant (each is a cheap necessary condition, so skipping it changes nothing)."""
    return _features_cache[0] is text


def digit_profile(text: str) -> DigitProfile:
    """Digit count, longest digit run and ASCII count of ``text`` (cached, see :func:`text_facts`)."""
    cached = _facts_cache
    if cached.text is text:
        return cached.profile
    return text_facts(text).profile


def latin_words(text: str) -> set[bytes]:
    """The maximal runs of ``a``-``z`` in ``text`` (what ``re.findall("[a-z]+")`` gives),
    as ASCII bytes.

    Taken from the cached image with a byte mask, which costs a fraction of a regex
    ``findall``; compare with sets of ``bytes``.
    """
    return set(text_facts(text).image.translate(_LETTER_MASK).split())


def has_alnum_run(text: str, n: int) -> bool:
    """True if ``text`` holds ``n`` characters of ``[0-9a-z]`` in a row (no regex)."""
    return text_facts(text).image.translate(_ALNUM_MASK).find(b"a" * n) >= 0


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


def _ascii_of(ch: str) -> str:
    """The ASCII letters/digits one original character stands for ("" when none).

    Full-width and other compatibility forms fold through NFKC, keeping the
    author's case. A digit written as ➀, ❶ or 壹 has no ASCII NFKC form, but the
    normalizer folds it into the digit the candidate shows; its Unicode numeric
    value gives that digit back (digits have no case to recover).
    """
    if ch.isascii():
        return ch if ch.isalnum() else ""
    folded = unicodedata.normalize("NFKC", ch)
    if folded.isascii():
        return "".join(c for c in folded if c.isalnum())
    value = unicodedata.numeric(ch, None)
    if value is not None and value == int(value) and 0 <= value <= 20:
        return str(int(value))
    return ""


def original_ascii(nt: NormalizedText, start: int, end: int) -> str | None:
    """The ASCII letters and digits the author wrote for normalized span ``[start, end)``.

    Normalized text is lowercase, but base58 addresses and invite codes are
    case-sensitive, so their checks need the original characters. Full-width forms
    are folded (NFKC), fancy digits read by their value, and anything the normalizer
    deleted (zero-width characters, emoji separators) is dropped. Returns ``None`` when the result does not match
    the normalized candidate letter for letter, i.e. when the case cannot be
    recovered reliably.
    """
    kept = "".join(_ascii_of(ch) for ch in nt.original_text(start, end))
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
    orig = nt.original_text(start, end)
    if not orig.isascii():  # ASCII is its own NFKC form and holds no Cf character
        orig = unicodedata.normalize("NFKC", orig)
        orig = "".join(ch for ch in orig if unicodedata.category(ch) != "Cf")
    return orig if orig.lower() == nt.text[start:end] else None


# ----------------------------------------------------------------------- numbers


def _fmt_number(d: Decimal) -> str:
    if d == d.to_integral_value():
        return str(int(d))
    s = format(d.normalize(), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def _json_number(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


#: number -> (fmt_number, json_number): both depend on the value only, and the same
#: figures (rates, prices) recur; a Decimal hashes in a few nanoseconds, computing
#: either form costs a few hundred. Cleared when full, so memory stays bounded.
_NUMBER_FORMS: dict[Decimal, tuple[str, int | float]] = {}
_NUMBER_FORMS_MAX = 4096


def number_forms(d: Decimal) -> tuple[str, int | float]:
    """``(fmt_number(d), json_number(d))``, memoized."""
    forms = _NUMBER_FORMS.get(d)
    if forms is None:
        if len(_NUMBER_FORMS) >= _NUMBER_FORMS_MAX:
            _NUMBER_FORMS.clear()
        forms = _NUMBER_FORMS[d] = (_fmt_number(d), _json_number(d))
    return forms


def fmt_number(d: Decimal) -> str:
    """Canonical text of a number: no exponent, no trailing zeros (``7.20`` -> ``7.2``)."""
    return number_forms(d)[0]


def json_number(d: Decimal) -> int | float:
    """A number for ``detail`` (JSON): an int when whole, else a float."""
    return number_forms(d)[1]


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
