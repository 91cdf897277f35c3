"""The 1:1 character fold: one translation table, built once.

Every fold here maps one character to exactly one character, so it keeps offsets
for free and needs no :class:`~qinglang.text.offsets.LayerMap`. The table composes,
per character and until nothing changes:

* lowercase (only where ``str.lower`` gives one character);
* NFKC where it gives one character: full-width ASCII, ideographic space, math
  alphanumerics (𝐚), circled letters (ⓐ), superscripts, Kangxi radicals,
  compatibility ideographs, circled ideographs (㊀ -> 一) ...;
* enclosed forms whose NFKC wraps one character in ``()`` or adds ``.``/``,``
  (⑴ -> 1, ⒈ -> 1, ⒜ -> a, ㈠ -> 一);
* every character with a Unicode digit value (➀ ❶ ⓵ ٣ ३ -> ASCII digits);
* small capitals and negative circled/squared Latin letters, which NFKC leaves alone
  (ᴀ 🅐 🅰 -> a);
* a curated homoglyph table (``data/homoglyphs.tsv``: Cyrillic/Greek look-alikes);
* traditional -> simplified Chinese (``data/t2s_chars.tsv`` from OpenCC);
* the financial numerals 壹贰叁柒捌玖 -> digits. 肆伍陆 are *not* folded here: they
  are everyday characters (放肆, 队伍, 大陆, 登陆) and only become digits inside a run
  of numerals (see :mod:`qinglang.text.normalize`).

Speed: ``str.translate`` with a dict costs ~40 ns a character because every miss
raises ``KeyError`` inside CPython. We instead (1) let ``str.lower`` do case, at C
speed, whenever the text has no character whose lowercase is longer than one
character (only U+0130 İ); (2) search a compiled character class of the remaining
keys and of every astral character, and return at once when nothing matches (most
simplified posts, once the handful of full-width punctuation marks is folded with
``str.replace``): one scan instead of one per kind of key; (3) when
translating, use a list indexed by code point for the BMP (no exceptions on misses)
and a small dict only for astral characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from importlib import resources

#: Financial (anti-forgery) numerals that are safe to fold anywhere.
FINANCIAL_DIGITS: dict[str, str] = {
    "壹": "1",
    "贰": "2",
    "叁": "3",
    "柒": "7",
    "捌": "8",
    "玖": "9",
}

#: Full-width punctuation so common in Chinese posts that it is folded with
#: ``str.replace`` before the "anything left to translate?" check (``__call__`` spells
#: the same pairs out as a chain of replaces; a test keeps the two in step).
_COMMON_FULLWIDTH: tuple[tuple[str, str], ...] = (
    ("，", ","),
    ("！", "!"),
    ("？", "?"),
    ("：", ":"),
    ("；", ";"),
    ("（", "("),
    ("）", ")"),
)

_ASTRAL_ANY = re.compile("[\U00010000-\U0010ffff]")
_LETTER_NAME = re.compile(
    r"^(?:(?:NEGATIVE )?(?:CIRCLED|SQUARED|PARENTHESIZED) LATIN (?:CAPITAL|SMALL) LETTER"
    r"|LATIN LETTER SMALL CAPITAL) ([A-Z])$"
)
_DIGIT_NAME = re.compile(r" DIGIT (ZERO|ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN|EIGHT|NINE)$")
_DIGIT_WORDS = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")
#: Blocks where name-based folds apply (IPA small capitals, phonetic extensions,
#: enclosed alphanumerics and dingbats, Latin extended-D, enclosed supplement).
_NAMED_BLOCKS: tuple[tuple[int, int], ...] = (
    (0x0200, 0x0300),
    (0x1D00, 0x1E00),
    (0x2400, 0x2800),
    (0xA700, 0xA800),
    (0x1F100, 0x1F200),
)

#: Blocks scanned for generic folds. The big Han and Hangul blocks are skipped (they
#: have no compatibility decomposition, case or digit value); their t2s entries come
#: from the data file.
_SCAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x3400),
    (0x4DC0, 0x4E00),
    (0xA000, 0xAC00),
    (0xD7B0, 0xD800),
    (0xF900, 0x20000),
    (0x2F800, 0x2FA20),
)


def read_data(name: str) -> Iterable[list[str]]:
    """Rows of a tab-separated data file in ``qinglang/text/data``, comments skipped."""
    text = resources.files("qinglang.text").joinpath("data", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        yield line.rstrip("\n").split("\t")


def load_t2s() -> dict[str, str]:
    """Traditional -> simplified, one character to one character."""
    return {row[0]: row[1] for row in read_data("t2s_chars.tsv")}


def load_homoglyphs() -> dict[str, str]:
    return {row[0]: row[1] for row in read_data("homoglyphs.tsv")}


def _lower1(c: str) -> str:
    lo = c.lower()
    return lo if len(lo) == 1 else c


def _enclosed_single(c: str, nfkc: str) -> str | None:
    """⑴ -> 1, ⒈ -> 1, ⒜ -> a, ㈠ -> 一: strip the wrapping NFKC adds to enclosed forms."""
    if unicodedata.category(c) not in ("No", "So"):
        return None
    core = nfkc
    if core.startswith("(") and core.endswith(")"):
        core = core[1:-1]
    elif core.endswith((".", ",")):
        core = core[:-1]
    return core if len(core) == 1 and core.isalnum() else None


def _by_name(c: str) -> str | None:
    """Enclosed and small-capital letters and digits that NFKC leaves alone (🅐 🅰 ᴀ 🄋)."""
    cp = ord(c)
    if not (0x0200 <= cp < 0x2800 or 0xA700 <= cp < 0xA800 or 0x1F100 <= cp < 0x1F200):
        return None  # fast exit; the exact blocks are _NAMED_BLOCKS
    if not any(lo <= cp < hi for lo, hi in _NAMED_BLOCKS):
        return None
    name = unicodedata.name(c, "")
    m = _LETTER_NAME.match(name)
    if m:
        return m.group(1).lower()
    d = _DIGIT_NAME.search(name)
    return str(_DIGIT_WORDS.index(d.group(1))) if d else None


class FoldTable:
    """The composed 1:1 fold, ready for ``str.translate``."""

    def __init__(self) -> None:
        t2s = load_t2s()
        homo = load_homoglyphs()
        # final sigma (str.lower() produces it in context); İ, whose lowercase is two
        # characters, folds to plain i
        extra = {"ς": "σ", "\u0130": "i"}

        def step(c: str) -> str:
            c = _lower1(c)
            c = homo.get(c, c)
            c = extra.get(c, c)
            n = unicodedata.normalize("NFKC", c)
            if len(n) == 1:
                c = n
            else:
                single = _enclosed_single(c, n)
                if single is not None:
                    c = single
            if not ("0" <= c <= "9"):
                d = unicodedata.digit(c, None)
                if d is not None:
                    c = str(d)
            named = _by_name(c)
            if named is not None:
                c = named
            c = t2s.get(c, c)
            return FINANCIAL_DIGITS.get(c, c)

        def fold(c: str) -> str:
            for _ in range(6):
                nxt = step(c)
                if nxt == c:
                    break
                c = nxt
            return c

        mapping: dict[int, str] = {}
        # A character can only fold if it is in a table, has a decomposition (NFKC),
        # a case mapping, a digit value, or sits in a block with name-based folds.
        candidates: set[str] = set(t2s) | set(homo) | set(FINANCIAL_DIGITS) | set(extra)
        decomposition, digit = unicodedata.decomposition, unicodedata.digit
        for lo, hi in _SCAN_RANGES:
            for cp in range(lo, hi):
                if 0xD800 <= cp < 0xF900:
                    continue  # surrogates, private use
                c = chr(cp)
                if decomposition(c) or c.lower() != c or digit(c, None) is not None:
                    candidates.add(c)
        for lo, hi in _NAMED_BLOCKS:
            candidates.update(map(chr, range(lo, hi)))
        for c in candidates:
            out = fold(c)
            if out != c:
                mapping[ord(c)] = out

        #: every key -> target (the fold as data, for tests and inspection)
        self.mapping: dict[int, str] = mapping
        #: characters whose lowercase is longer than one character; ``str.lower`` is
        #: 1:1 on any text without them (a test checks this is still just U+0130 İ)
        self.multi_lower: frozenset[str] = frozenset({"\u0130"})
        self._bmp: list[int] = list(range(0x10000))
        self._astral: dict[int, int] = {}
        for cp, out in mapping.items():
            if cp < 0x10000:
                self._bmp[cp] = ord(out)
            else:
                self._astral[cp] = ord(out)
        # After str.lower() and the common replaces, these are the keys still to look for.
        replaced = {ord(a) for a, _ in _COMMON_FULLWIDTH}
        bmp_keys = [cp for cp in mapping if cp < 0x10000 and cp not in replaced and _lower1(chr(cp)) == chr(cp)]
        self._bmp_re = re.compile(_char_class(bmp_keys)) if bmp_keys else None
        #: the same keys or any astral character: one scan that usually says "nothing to do"
        self._rest_re = re.compile(_char_class(bmp_keys)[:-1] + "\U00010000-\U0010ffff]")
        self._astral_keys = frozenset(chr(cp) for cp in self._astral)
        self._all_bmp_re = re.compile(_char_class([cp for cp in mapping if cp < 0x10000]))

    def __call__(self, s: str) -> str:
        """Fold ``s`` character by character; ``len`` is preserved."""
        if s.isascii():
            return s.lower()
        if "\u0130" in s:  # the one character str.lower() would expand (see multi_lower)
            if self._all_bmp_re.search(s):
                s = s.translate(self._bmp)
        else:
            # str.replace returns the same object when there is nothing to replace
            s = (
                s.lower()
                .replace("，", ",")
                .replace("！", "!")
                .replace("？", "?")
                .replace("：", ":")
                .replace("；", ";")
                .replace("（", "(")
                .replace("）", ")")
            )
            rest = self._rest_re.search(s)
            if rest is None:
                return s  # no key left and nothing astral: the usual simplified post
            if self._bmp_re is not None and self._bmp_re.search(s, rest.start()):
                s = s.translate(self._bmp)
        # Astral characters (emoji, math alphanumerics, CJK extension B) are rare; a
        # class of scattered astral ranges is slow in ``re``, so find them with one range.
        if _ASTRAL_ANY.search(s) and not self._astral_keys.isdisjoint(_ASTRAL_ANY.findall(s)):
            s = s.translate(self._astral)
        return s


def _char_class(cps: Iterable[int]) -> str:
    """A regex character class for the given code points, written as ranges."""
    ordered = sorted(set(cps))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        a, b = ordered[i], ordered[j]
        parts.append(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}")
        i = j + 1
    return "[" + "".join(parts) + "]"
