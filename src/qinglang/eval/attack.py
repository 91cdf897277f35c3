"""Recall under evasion: the normalizer's transforms applied in reverse (``qinglang eval --attack``).

The normalizer (:mod:`qinglang.text.normalize`) undoes the tricks scammers use to
slip past keyword filters: traditional characters, full-width letters, zero-width
and emoji separators, homophones of contact words, pinyin, spaced and fancy digits,
capitals. Clean recall says nothing about whether it really does. Here every trick
is a deterministic transform ``(text, rng) -> text`` that *does* the evasion, built
from the normalizer's own data files (the fold table with ``t2s_chars.tsv``,
``contact_words.tsv``, ``pinyin_keywords.txt``), so the two stay inverse as the data
grows. :func:`evaluate_attacks` applies each transform to the positives of a labeled
file and reports recall per transform next to clean recall from the same run: the
drop is what an evader gains.

Exact transforms (``normalize(t(x)).text == normalize(x).text`` for every text; a
property test checks it): ``traditional``, ``fullwidth``, ``case`` and
``fancy_digits`` replace characters 1:1 by characters the fold maps to the same
target; ``zero_width`` and ``symbols`` insert characters the strip pass deletes
where it deletes them; ``spaced_digits`` spaces out only runs the spaced-digit pass
restores. Each leaves text alone where it could not be undone (see its docstring).

Not promised exact: ``homophones`` and ``pinyin`` write a variant only where the
normalizer's own rewrite (:meth:`qinglang.text.lexicon.Rewriter.edits`) turns it back
into the word in place (``加v`` before a non-letter, ``飞机`` before 号/群/频道, pinyin
between non-letters), but they check that on the folded text without symbols, while
the rewrite runs after the strip and numeral passes, which can still change the
context ("加薇 加微信": the space between two Han goes, and 薇 is then followed by Han);
``numerals`` (digits -> 一二三) can merge with numerals or lose a space next to Han.
``combined`` chains the others. How often a transform was not undone on a corpus is
the report's "norm. same" column.

Every transform draws its choices from the ``random.Random`` it is given, and the
evaluation seeds one per (seed, transform, record), so a report is reproducible and
independent of batch size.
"""

from __future__ import annotations

import dataclasses
import difflib
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from qinglang import errors
from qinglang.errors import QLError
from qinglang.eval.labels import Gold, LabelMap, load_label_map
from qinglang.eval.metrics import PostLevel, verdict_codes
from qinglang.eval.run import (
    DetectEngine,
    LabeledRows,
    SkipStats,
    _sort_keys,
)
from qinglang.model import ErrorRecord, Post, Verdict
from qinglang.text.fold import load_t2s
from qinglang.text.lexicon import HAN, RIGHT_BOUND, Alternative, load_contact_alternatives, load_pinyin_words
from qinglang.text.lexicon import pinyin_alternatives as _pinyin_alternatives
from qinglang.text.normalize import _SEPARATORS as _HAN_SEPARATORS
from qinglang.text.normalize import Normalizer, default_normalizer

#: A transform: deterministic given the ``rng`` state.
Transform = Callable[[str, random.Random], str]

#: name -> transform, in the order reports list them
TRANSFORMS: dict[str, Transform] = {}
#: transforms whose output normalizes to exactly what the input normalizes to
EXACT: set[str] = set()

#: the drop in recall (percentage points) the project accepts under any transform
MAX_DROP_POINTS = 5.0
#: lost positives listed per transform (ids only: reports must not quote data)
LOST_EXAMPLES = 5
#: text fields a transform is applied to (links and metadata are left alone)
ATTACKED_FIELDS = ("text", "title", "transcript", "ocr", "bio")

_ZERO_WIDTH = ("\u200b", "\u200c", "\ufeff")
#: Symbols (Unicode So and emoji): the strip pass deletes them anywhere.
SYMBOLS_ANYWHERE = ("❤", "❤️", "★", "☆", "♥", "✨", "🔥", "💰", "👉")
#: Deleted only between two Han characters: separator punctuation and spaces.
SEPARATORS_BETWEEN_HAN = ("·", "•", " ", "*", "|", "~", ".", "-", "/")
_HAN_RE = re.compile(f"[{HAN}]")
_HAN_PAIR = re.compile(f"(?<=[{HAN}])(?=[{HAN}])")
_DIGIT_RUN = re.compile("[0-9]+")
#: separators the spaced-digit pass deletes between single digits
_DIGIT_SEP_CHARS = frozenset(" \t\r\n.·_-")
_LONG_DIGIT_RUN = re.compile("(?<![0-9])[0-9]{4,}(?![0-9])")
_ASCII_WORD = re.compile("[A-Za-z]+")
_TOKEN = re.compile("[!-~]+")
#: a digit, "/" or "@", or a dot between two letters or digits: a wallet, a URL, an e-mail
_IDENTIFIER_LIKE = re.compile("[0-9/@]|[A-Za-z0-9][.][A-Za-z0-9]")


def register(name: str, *, exact: bool) -> Callable[[Transform], Transform]:
    """Add a transform to :data:`TRANSFORMS` (and to :data:`EXACT` when it is an exact inverse)."""

    def deco(fn: Transform) -> Transform:
        TRANSFORMS[name] = fn
        if exact:
            EXACT.add(name)
        return fn

    return deco


# --- tables, built once from the normalizer's data -------------------------------------


@dataclass(frozen=True, slots=True)
class _Variant:
    """One way to write a word (a contact variant or a pinyin spelling) and the word
    the normalizer's rewrite must turn it back into."""

    surface: str
    canonical: str
    ascii_lead: bool


def _variant(surface: str, alt: Alternative) -> _Variant:
    return _Variant(surface, alt.canonical, "a" <= alt.lead <= "z")


@dataclass(slots=True)
class _Tables:
    """Everything the transforms read, derived from the normalizer's tables."""

    normalizer: Normalizer
    traditional: dict[int, str]
    fullwidth: dict[int, str]
    digit_styles: list[dict[str, str]]
    contact: dict[str, list[_Variant]]
    contact_re: re.Pattern[str]
    contact_ascii_re: re.Pattern[str]
    pinyin: dict[str, list[_Variant]]
    pinyin_re: re.Pattern[str]

    def fold(self, s: str) -> str:
        """The normalizer's 1:1 fold: positions in it are positions in ``s``."""
        return self.normalizer.fold(s)


def _traditional_table(norm: Normalizer) -> dict[int, str]:
    """Simplified -> one traditional character, the reverse of ``t2s_chars.tsv``.

    Several traditional characters often fold to one simplified one (發 髮 -> 发);
    the choice is fixed, not random: a character of the main CJK block before the
    extensions, then the lowest code point, so the same text always gives the same
    attack. Only candidates the fold really maps back are used.
    """
    fold = norm.fold.mapping
    candidates: dict[str, list[str]] = {}
    for trad, simp in load_t2s().items():
        target = fold.get(ord(trad))
        # only where the whole fold lands on the table's simplified character (貳 folds
        # on to the digit 2: writing "2" as 貳 is fancy_digits' business, not this one's)
        # and not CJK compatibility ideographs (老 U+F934 is 老 written again, not traditional)
        if target is None or target != simp or ord(target) in fold or unicodedata.normalize("NFKC", trad) != trad:
            continue
        candidates.setdefault(target, []).append(trad)
    out: dict[int, str] = {}
    for simp, trads in candidates.items():
        best = min(trads, key=lambda c: (not 0x4E00 <= ord(c) <= 0x9FFF, ord(c)))
        out[ord(simp)] = best
    return out


def _fullwidth_table(norm: Normalizer) -> dict[int, str]:
    """ASCII ``!``..``~`` -> U+FF01..U+FF5E, where the fold maps them back.

    The space stays: the ideographic space U+3000 folds to a space, but the check that
    keeps a Title-Cased pinyin name ("Zhang Ting") from becoming 涨停 splits words on
    ASCII separators only, so "Ｚｈａｎｇ\u3000Ｔｉｎｇ" is rewritten where "Zhang Ting" is not.
    """
    out: dict[int, str] = {}
    for a, wide in [(chr(cp), chr(cp + 0xFEE0)) for cp in range(0x21, 0x7F)]:
        if norm.fold(wide) == a.lower():
            out[ord(a)] = wide
    return out


#: Digit styles, each 0-9 (a missing or unfolding character falls back to full-width).
_DIGIT_STYLE_SOURCES = (
    "⓪①②③④⑤⑥⑦⑧⑨",  # circled
    "⓿❶❷❸❹❺❻❼❽❾",  # negative circled
    "?⑴⑵⑶⑷⑸⑹⑺⑻⑼",  # parenthesized (no zero)
    "🄀⒈⒉⒊⒋⒌⒍⒎⒏⒐",  # full stop
    "?➀➁➂➃➄➅➆➇➈",  # dingbat circled sans-serif
    "０１２３４５６７８９",  # full-width
    "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",  # mathematical bold
    "?壹贰叁???柒捌玖",  # financial numerals the fold maps anywhere (肆伍陆零 only in runs)
)


def _digit_styles(norm: Normalizer) -> list[dict[str, str]]:
    styles = []
    for src in _DIGIT_STYLE_SOURCES:
        style: dict[str, str] = {}
        for d, c in zip("0123456789", src, strict=True):
            style[d] = c if c != "?" and norm.fold(c) == d else chr(ord(d) + 0xFEE0)
        styles.append(style)
    return styles


def _form_of(alt: Alternative) -> str:
    return alt.source.split("\t")[2]


def _contact_variants(norm: Normalizer) -> dict[str, list[_Variant]]:
    """canonical -> every form of ``contact_words.tsv`` that folds to itself, in file order."""
    out: dict[str, list[_Variant]] = {}
    for alt in load_contact_alternatives():
        form = _form_of(alt)
        forms = out.setdefault(alt.canonical, [])
        if norm.fold(form) == form and all(v.surface != form for v in forms):
            forms.append(_variant(form, alt))
    return out


def _word_re(words: Iterable[str]) -> re.Pattern[str]:
    """Alternation, longest first; ASCII words get the lexicon's word boundaries."""
    parts = []
    for w in sorted(set(words), key=lambda w: (-len(w), w)):
        p = re.escape(w)
        if w[0].isascii():
            p = f"(?<![a-z0-9_@/.]){p}"
        if w[-1].isascii():
            p += RIGHT_BOUND
        parts.append(p)
    return re.compile("|".join(parts))


@cache
def _tables() -> _Tables:
    norm = default_normalizer()
    contact = _contact_variants(norm)
    words = load_pinyin_words()
    alts = {a.canonical: a for a in _pinyin_alternatives(words)}
    pinyin: dict[str, list[_Variant]] = {}
    for w in words:
        surface = " ".join(w.syllables) if w.spaced_ok else "".join(w.syllables)
        pinyin[w.word] = [_variant(surface, alts[w.word])]
    return _Tables(
        normalizer=norm,
        traditional=_traditional_table(norm),
        fullwidth=_fullwidth_table(norm),
        digit_styles=_digit_styles(norm),
        contact=contact,
        contact_re=_word_re(contact),
        contact_ascii_re=_word_re(
            [v.surface for vs in contact.values() for v in vs if v.surface.isalpha() and len(v.surface) > 1]
            + [c for c in contact if c.isascii()]
        ),
        pinyin=pinyin,
        pinyin_re=_word_re(pinyin),
    )


# --- helpers ---------------------------------------------------------------------------


def _fits(v: _Variant, folded: str, start: int) -> bool:
    """Would the normalizer's rewrite turn exactly ``v.surface`` at ``start`` of ``folded``
    back into its word? (Its own patterns decide, context and overlaps included:
    "加v信用卡" reads as v信 + 用卡, so ``v`` does not fit before 信用卡.)"""
    edits = _tables().normalizer.rewriter.edits(folded)
    return (start, start + len(v.surface), v.canonical) in edits


def _rewrite_words(
    text: str, rng: random.Random, pattern: re.Pattern[str], variants: dict[str, list[_Variant]], prefer_ascii: bool
) -> str:
    """Replace each match of ``pattern`` (in folded space) by a variant that fits in place.

    Left to right: the text before a match is final when the match is considered,
    the text after it still original. The fit is checked on the text as the
    rewrite will see it, without the characters the strip pass deletes anywhere
    ("微信❤微信" reads "微信微信" there). A variant that would touch the ASCII letters of
    the previous replacement gets a space in between, where both words are Han (the
    normalizer removes the space once both sides are Han again).
    """
    t = _tables()
    folded = t.fold(text)
    out_raw: list[str] = []
    out_fold: list[str] = []
    pos = 0
    prev_end = -1
    prev_han = False
    for m in pattern.finditer(folded):
        s, e = m.span()
        options = variants.get(m.group())
        if not options:
            continue
        han_word = _HAN_RE.match(m.group()) is not None
        prefix = _visible("".join(out_fold) + folded[pos:s])
        suffix = _visible(folded[e:])
        touches_prev = prev_end >= 0 and not _visible(folded[prev_end:s])
        after_ascii = bool(prefix) and prefix[-1].isascii() and prefix[-1].isalnum()
        # A Han edge where the word had an ASCII one (qq -> 扣扣) turns a space before or
        # after it into a space between two Han characters, which the strip pass deletes.
        sep_before = _han_beyond_separators(reversed(prefix))
        sep_after = _han_beyond_separators(suffix)
        fitting = []
        for v in options:
            if (sep_before and not han_word and _HAN_RE.match(v.surface)) or (
                sep_after and not _HAN_RE.match(m.group()[-1]) and _HAN_RE.match(v.surface[-1])
            ):
                continue
            pad = ""
            if touches_prev and v.ascii_lead and after_ascii:
                if not (prev_han and han_word):
                    continue  # the space would stay between two ASCII words
                pad = " "
            if _fits(v, prefix + pad + v.surface + suffix, len(prefix) + len(pad)):
                fitting.append(pad + v.surface)
        if not fitting:
            continue
        if prefer_ascii and any(f.strip().isascii() for f in fitting):
            fitting = [f for f in fitting if f.strip().isascii()]
        choice = rng.choice(fitting)
        out_raw.append(text[pos:s])
        out_fold.append(folded[pos:s])
        out_raw.append(choice)
        out_fold.append(choice)
        pos = prev_end = e
        prev_han = _HAN_RE.fullmatch(m.group()[-1]) is not None
    if not out_raw:
        return text
    out_raw.append(text[pos:])
    return "".join(out_raw)


def _han_beyond_separators(chars: Iterable[str]) -> bool:
    """Do ``chars`` start with one or more separators (whitespace, separator punctuation)
    followed by a Han character?"""
    seen_sep = False
    for c in chars:
        if c.isspace() or c in _HAN_SEPARATORS:
            seen_sep = True
            continue
        return seen_sep and _HAN_RE.match(c) is not None
    return False


def _visible(s: str) -> str:
    """``s`` without the characters the strip pass deletes anywhere."""
    return s if s.isascii() else "".join(c for c in s if not _deleted_anywhere(c))


def _deleted_anywhere(c: str) -> bool:
    """Characters the strip pass deletes wherever they stand, by the normalizer's rules:
    format characters, enclosing marks, private use, symbols and emoji (So, Sk),
    variation selectors and combining marks for symbols, and the astral emoji blocks."""
    if c.isascii():
        return False
    cp = ord(c)
    return (
        unicodedata.category(c) in ("Cf", "Me", "Co", "So", "Sk")
        or 0xFE00 <= cp <= 0xFE0F
        or 0x20D0 <= cp <= 0x20FF
        or 0xFE20 <= cp <= 0xFE2F
        or 0x1F000 <= cp <= 0x1FBFF
        or 0xE0000 <= cp <= 0xE0FFF
    )


def _free_digit_runs(folded: str) -> list[re.Match[str]]:
    """Runs of >= 4 digits that stay one run of their own once the normalizer has
    deleted separators and symbols: not joined to other digits through separators
    ("138 0013 8000", "3.14159") or deleted characters ("12❤1380"). Spacing such a
    run out would merge it with its neighbours for good."""
    out = []
    for m in _LONG_DIGIT_RUN.finditer(folded):
        i = m.start() - 1
        while i >= 0 and (folded[i] in _DIGIT_SEP_CHARS or _deleted_anywhere(folded[i])):
            i -= 1
        j = m.end()
        while j < len(folded) and (folded[j] in _DIGIT_SEP_CHARS or _deleted_anywhere(folded[j])):
            j += 1
        if (i >= 0 and "0" <= folded[i] <= "9") or (j < len(folded) and "0" <= folded[j] <= "9"):
            continue
        out.append(m)
    return out


def _insert_at(text: str, positions: Iterable[int], pick: Callable[[], str]) -> str:
    """Insert ``pick()`` before each index in ``positions`` (ascending)."""
    out: list[str] = []
    pos = 0
    for p in positions:
        out.append(text[pos:p])
        out.append(pick())
        pos = p
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# --- the transforms --------------------------------------------------------------------


@register("traditional", exact=True)
def traditional(text: str, rng: random.Random) -> str:
    """Simplified -> traditional (发 -> 發), the reverse of ``t2s_chars.tsv``.

    Exact: each character becomes one the fold maps back to it. Characters the
    table maps many-to-one get one fixed traditional form (see ``_traditional_table``),
    which may read oddly (台 -> 檯) but folds back all the same. ``rng`` is unused.
    """
    return text.translate(_tables().traditional)


@register("fullwidth", exact=True)
def fullwidth(text: str, rng: random.Random) -> str:
    """Every printable ASCII character -> its full-width form (vx -> ｖｘ, 138 -> １３８).

    Exact: the fold's NFKC step maps them back one to one. Spaces stay (see
    ``_fullwidth_table``). ``rng`` is unused.
    """
    return text.translate(_tables().fullwidth)


@register("zero_width", exact=True)
def zero_width(text: str, rng: random.Random) -> str:
    """U+200B / U+200C / U+FEFF between every two adjacent non-space characters.

    Exact: the strip pass deletes format characters anywhere. (Splitting a
    character from a following combining mark changes how it looks, not what it
    normalizes to.)
    """
    positions = [i for i in range(1, len(text)) if not text[i - 1].isspace() and not text[i].isspace()]
    return _insert_at(text, positions, lambda: rng.choice(_ZERO_WIDTH))


@register("symbols", exact=True)
def symbols(text: str, rng: random.Random) -> str:
    """Emoji and symbol separators: between every two Han characters (加❤微·信) and
    between the letters of ASCII contact words (v★x, t❤g, q☆q).

    Between Han any of :data:`SYMBOLS_ANYWHERE` or :data:`SEPARATORS_BETWEEN_HAN`;
    inside ASCII words only symbols, since the strip pass keeps punctuation between
    Latin letters. Exact for the same reason as ``zero_width``.
    """
    t = _tables()
    folded = t.fold(text)
    han_pos = {m.start() for m in _HAN_PAIR.finditer(folded)}
    positions = set(han_pos)
    for m in t.contact_ascii_re.finditer(folded):
        positions.update(range(m.start() + 1, m.end()))
    between_han = SYMBOLS_ANYWHERE + SEPARATORS_BETWEEN_HAN
    order = sorted(positions)
    picks = iter([rng.choice(between_han if p in han_pos else SYMBOLS_ANYWHERE) for p in order])
    return _insert_at(text, order, lambda: next(picks))


@register("homophones", exact=False)
def homophones(text: str, rng: random.Random) -> str:
    """Contact words -> their variants from ``contact_words.tsv`` (微信 -> 薇信/威信/vx/加v, qq -> 扣扣,
    telegram -> 纸飞机/tg/飞机号), each only where the normalizer's rewrite reads it back
    in place: ``加v`` before a non-letter, ``飞机`` before 号/群/频道, ``v`` before ``: handle``,
    ASCII forms between non-letters; and no Han form for qq/telegram next to a space
    before Han, which the strip pass would delete. Text without Han gets ASCII forms
    when one fits (an English post says "tg", not 纸飞机).

    Not promised exact: see the module docstring.
    """
    t = _tables()
    folded = t.fold(text)
    return _rewrite_words(text, rng, t.contact_re, t.contact, prefer_ascii=_HAN_RE.search(folded) is None)


@register("pinyin", exact=False)
def pinyin(text: str, rng: random.Random) -> str:
    """Key words of ``pinyin_keywords.txt`` -> their pinyin (贷款 -> "dai kuan", 加微信 -> "jia wei xin"),
    longest word first, spaced unless the spaced form is all stop words (then joined).

    Written in lowercase (Title Case reads as a person's name and is left alone by the
    normalizer) and only where the normalizer's rewrite reads it back: not right after
    a letter, digit or ``@/.``, not before a letter. Adjacent words get a space between.
    Not promised exact for the same reason as ``homophones``.
    """
    t = _tables()
    return _rewrite_words(text, rng, t.pinyin_re, t.pinyin, prefer_ascii=False)


@register("spaced_digits", exact=True)
def spaced_digits(text: str, rng: random.Random) -> str:
    """Runs of >= 4 digits -> digits separated by spaces (13800138000 -> 1 3 8 0 0 1 3 8 0 0 0).

    Exact, because a run is left alone when a separator joins it to another digit
    ("138 0013 8000", "3.14159"): spaced out, the groups would merge into one run
    the normalizer cannot split again. ``rng`` is unused.
    """
    folded = _tables().fold(text)
    positions = [i for m in _free_digit_runs(folded) for i in range(m.start() + 1, m.end())]
    return _insert_at(text, positions, lambda: " ")


@register("fancy_digits", exact=True)
def fancy_digits(text: str, rng: random.Random) -> str:
    """Digits -> one style per run: ①②③, ❶❷❸, ⑴⑵⑶, ⒈⒉⒊, ➀➁➂, １２３, 𝟏𝟐𝟑 or 壹贰叁.

    A style lacking a digit (no parenthesized zero; 肆伍陆零 become digits only inside
    a run of numerals, so they are not used) writes it full-width. Exact: every
    character folds to its digit.
    """
    t = _tables()
    folded = t.fold(text)
    out: list[str] = []
    pos = 0
    for m in _DIGIT_RUN.finditer(folded):
        style = rng.choice(t.digit_styles)
        out.append(text[pos : m.start()])
        out.append("".join(style[d] for d in m.group()))
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


#: digit -> Chinese numerals the numeral pass reads inside a run (幺 and 两 are the phone-number readings)
_CN_NUMERALS = {"0": "零〇", "1": "一幺", "2": "二两", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七"}
_CN_NUMERALS |= {"8": "八", "9": "九"}


@register("numerals", exact=False)
def numerals(text: str, rng: random.Random) -> str:
    """Runs of >= 4 digits -> Chinese numerals (13800138000 -> 一三八零零幺三八零零零).

    The numeral pass turns them back only inside a run of >= 4, so runs joined to other
    digits by a separator are left alone (as in ``spaced_digits``). Not exact: a run
    that touches a numeral already there ("第一1234" reads as one run 一1234), or that
    a space separates from a Han character (the strip pass deletes a space between two
    Han, so "1234 元" comes back as "1234元").
    """
    folded = _tables().fold(text)
    out: list[str] = []
    pos = 0
    for m in _free_digit_runs(folded):
        out.append(text[pos : m.start()])
        out.append("".join(rng.choice(_CN_NUMERALS[d]) for d in m.group()))
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


@register("case", exact=True)
def case(text: str, rng: random.Random) -> str:
    """Random upper-casing of ASCII letters in words (vx -> Vx, telegram -> TeLEgRAM).

    Identifiers are left alone: a run of printable ASCII with a digit, ``/``, ``@`` or a
    dot inside, since case is part of what base58 and bech32 wallets, EIP-55 checksums
    and URL paths mean; re-cased they are other or invalid addresses (the extractors
    rightly reject a mixed-case bech32 address), which no evader would post.

    Exact because the one place the normalizer reads case is kept: pinyin written in
    Title Case ("Zhang Ting") is a person's name, not 涨停. So a Title-Cased word stays
    as it is, and no other word of two or more letters is made Title Case.
    """

    def word(m: re.Match[str]) -> str:
        w = m.group()
        if len(w) > 1 and w[0].isupper() and w[1:].islower():
            return w
        out = "".join(c.upper() if rng.random() < 0.5 else c for c in w)
        if len(out) > 1 and out[0].isupper() and out[1:].islower():
            out = out[:-1] + out[-1].upper()
        return out

    def token(m: re.Match[str]) -> str:
        tok = m.group()
        if _IDENTIFIER_LIKE.search(tok):
            return tok
        return _ASCII_WORD.sub(word, tok)

    return _TOKEN.sub(token, text)


#: the order ``combined`` applies its parts: word rewrites first, then characters, insertions last
COMBINED_ORDER = (
    "homophones",
    "pinyin",
    "traditional",
    "spaced_digits",
    "fancy_digits",
    "case",
    "fullwidth",
    "symbols",
    "zero_width",
)


@register("combined", exact=False)
def combined(text: str, rng: random.Random) -> str:
    """Every transform above, one after the other (:data:`COMBINED_ORDER`): the worst case."""
    for name in COMBINED_ORDER:
        text = TRANSFORMS[name](text, rng)
    return text


def parse_attack_names(spec: str) -> list[str]:
    """``all`` or comma-separated names -> transform names in report order; QL-4003 for an unknown one."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise QLError(errors.BAD_OPTION, "--attack needs 'all' or transform names separated by commas")
    if "all" in names:
        return list(TRANSFORMS)
    for n in names:
        if n not in TRANSFORMS:
            close = difflib.get_close_matches(n, list(TRANSFORMS), n=1)
            raise QLError(
                errors.BAD_OPTION,
                f"--attack: unknown transform '{n}' (known: all, {', '.join(TRANSFORMS)})",
                hint=f"did you mean '{close[0]}'?" if close else None,
            )
    return [n for n in TRANSFORMS if n in names]


def attack_post(post: Post, name: str, rng: random.Random) -> Post:
    """``post`` with transform ``name`` applied to each of its text fields."""
    fn = TRANSFORMS[name]
    changes = {f: fn(v, rng) for f in ATTACKED_FIELDS if isinstance(v := getattr(post, f), str) and v}
    return dataclasses.replace(post, **changes)


# --- evaluation ------------------------------------------------------------------------


@dataclass(slots=True)
class AttackResult:
    """Recall of the positives under one transform (or clean, for ``name == "clean"``)."""

    name: str
    exact: bool
    post: PostLevel = field(default_factory=PostLevel)
    changed: int = 0
    same_normalized: int = 0
    lost: int = 0
    lost_category: int = 0
    errors: int = 0
    lost_examples: list[str] = field(default_factory=list)

    @property
    def attacked(self) -> int:
        return self.post.positives

    def drop(self, clean: PostLevel) -> float | None:
        """Clean recall minus recall under this transform, in percentage points."""
        if clean.recall is None or self.post.recall is None:
            return None
        return 100 * (clean.recall - self.post.recall)

    def category_drop(self, clean: PostLevel) -> float | None:
        if clean.category_recall is None or self.post.category_recall is None:
            return None
        return 100 * (clean.category_recall - self.post.category_recall)

    def to_dict(self, clean: PostLevel) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 6)

        drop = self.drop(clean)
        return {
            "attacked": self.attacked,
            "category_drop_points": r(self.category_drop(clean)),
            "category_recall": r(self.post.category_recall),
            "changed": self.changed,
            "drop_points": r(drop),
            "errors": self.errors,
            "exact": self.exact,
            "flagged": self.post.tp,
            "gold_hits": self.post.gold_hits,
            "lost": self.lost,
            "lost_category": self.lost_category,
            "lost_examples": self.lost_examples,
            "recall": r(self.post.recall),
            "same_normalized": self.same_normalized,
            "within_limit": None if drop is None else drop <= MAX_DROP_POINTS,
        }


@dataclass(slots=True)
class AttackReport:
    """Clean and per-transform recall of one file's positives, measured in one run."""

    file: str
    path: str
    rows_in_file: int
    rows_read: int
    limit: int | None
    seed: int
    label_map: dict[str, Any]
    versions: dict[str, Any]
    not_positive: int
    skipped: dict[str, SkipStats]
    clean: AttackResult
    results: list[AttackResult]
    seconds: float = 0.0

    @property
    def positives(self) -> int:
        return self.clean.attacked

    def to_dict(self) -> dict[str, Any]:
        """The ``--attack --json`` output; keys sorted."""
        clean = self.clean.post
        return _sort_keys(
            {
                "attacks": {r.name: r.to_dict(clean) for r in self.results},
                "clean": {
                    "category_recall": None if clean.category_recall is None else round(clean.category_recall, 6),
                    "flagged": clean.tp,
                    "gold_hits": clean.gold_hits,
                    "positives": clean.positives,
                    "recall": None if clean.recall is None else round(clean.recall, 6),
                },
                "file": self.file,
                "label_map": self.label_map,
                "max_drop_points": MAX_DROP_POINTS,
                "path": self.path,
                "rows": {
                    "in_file": self.rows_in_file,
                    "limit": self.limit,
                    "not_positive": self.not_positive,
                    "positives": self.positives,
                    "read": self.rows_read,
                    "skipped": sum(s.count for s in self.skipped.values()),
                },
                "seed": self.seed,
                "skipped": {k: v.to_dict() for k, v in self.skipped.items()},
                "versions": self.versions,
            }
        )


def _score(result: AttackResult, gold: Gold, verdict: Verdict | ErrorRecord) -> tuple[bool, bool]:
    """Add one positive to ``result``; returns (flagged, flagged with an expected code)."""
    if isinstance(verdict, ErrorRecord):
        result.errors += 1
        result.post.fn += 1
        return False, False
    predicted = verdict_codes(verdict)
    hit = bool(set(gold.codes).intersection(predicted))
    if predicted:
        result.post.tp += 1
    else:
        result.post.fn += 1
    if hit:
        result.post.gold_hits += 1
    return bool(predicted), hit


def _rng(seed: int, name: str, record: int) -> random.Random:
    """One generator per (seed, transform, record): reproducible whatever the batch size."""
    return random.Random(f"{seed}\0{name}\0{record}")


def _same_normalized(normalizer: Normalizer, a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    return a is not None and b is not None and normalizer.normalize(a).text == normalizer.normalize(b).text


def _texts(post: Post) -> tuple[str | None, ...]:
    return tuple(getattr(post, f) for f in ATTACKED_FIELDS)


def evaluate_attacks(
    engine: DetectEngine,
    path: str | Path,
    transforms: Sequence[str] | None = None,
    *,
    label_map: LabelMap | str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    batch_size: int = 1024,
) -> AttackReport:
    """Recall of the positives of ``path``, clean and under each transform, in one run.

    Positives are rows whose gold is in scope (``is_positive: true`` or non-empty
    ``labels``), read and labeled exactly as :func:`qinglang.eval.run.evaluate` reads
    them. Each batch is detected clean and once per transform, so every recall has
    the same denominator; a row whose clean detection fails is skipped for all. A
    transform's engine error counts as a miss. ``transforms`` defaults to all.
    """
    started = time.perf_counter()
    p = Path(path)
    if limit is not None and limit < 1:
        raise QLError(errors.BAD_OPTION, f"--limit must be at least 1, not {limit}")
    names = list(TRANSFORMS) if transforms is None else list(transforms)
    for n in names:
        if n not in TRANSFORMS:
            parse_attack_names(n)  # raises with a hint
    known = list(engine.taxonomy)
    lm = label_map if isinstance(label_map, LabelMap) else load_label_map(label_map, known_codes=known)
    rows_in = LabeledRows(p, lm, known, limit)
    normalizer: Normalizer = getattr(engine, "normalizer", None) or default_normalizer()
    clean = AttackResult("clean", exact=True)
    results = [AttackResult(n, exact=n in EXACT) for n in names]
    batch: list[tuple[int, Post, Gold]] = []

    def flush() -> None:
        if not batch:
            return
        verdicts = engine.detect([post for _, post, _ in batch])
        if len(verdicts) != len(batch):
            raise QLError(errors.RECORD_FAILED, f"engine returned {len(verdicts)} verdicts for {len(batch)} posts")
        rows: list[tuple[int, Post, Gold, bool, bool]] = []
        for (record, post, gold), verdict in zip(batch, verdicts, strict=True):
            if isinstance(verdict, ErrorRecord):
                rows_in.skipped.add(verdict.code, record, verdict.message)
                continue
            flagged, hit = _score(clean, gold, verdict)
            rows.append((record, post, gold, flagged, hit))
        batch.clear()
        for res in results:
            attacked = [attack_post(post, res.name, _rng(seed, res.name, record)) for record, post, *_ in rows]
            out = engine.detect(attacked) if attacked else []
            if len(out) != len(attacked):
                raise QLError(errors.RECORD_FAILED, f"engine returned {len(out)} verdicts for {len(attacked)} posts")
            for (_, post, gold, was_flagged, was_hit), new, verdict in zip(rows, attacked, out, strict=True):
                before, after = _texts(post), _texts(new)
                if before != after:
                    res.changed += 1
                if all(_same_normalized(normalizer, a, b) for a, b in zip(before, after, strict=True)):
                    res.same_normalized += 1
                flagged, hit = _score(res, gold, verdict)
                if was_flagged and not flagged:
                    res.lost += 1
                    if len(res.lost_examples) < LOST_EXAMPLES:
                        res.lost_examples.append(post.id)
                if was_hit and not hit:
                    res.lost_category += 1

    not_positive = 0
    for record, post, gold in rows_in:
        if not gold.positive:
            not_positive += 1
            continue
        batch.append((record, post, gold))
        if len(batch) >= batch_size:
            flush()
    flush()

    return AttackReport(
        file=p.name,
        path=str(p),
        rows_in_file=rows_in.rows_in_file,
        rows_read=rows_in.rows_read,
        limit=limit,
        seed=seed,
        label_map=lm.info(),
        versions=dict(engine.versions),
        not_positive=not_positive,
        skipped=dict(sorted(rows_in.skipped.items())),
        clean=clean,
        results=results,
        seconds=time.perf_counter() - started,
    )


# --- rendering -------------------------------------------------------------------------


def _attack_table(report: AttackReport) -> Any:
    from qinglang.eval.report import _int, _num, _Table

    clean = report.clean.post

    def pts(x: float | None) -> str:
        return "-" if x is None else f"{x + 0.0:.1f}"  # + 0.0: no "-0.0"

    headers = ["transform", "exact", "attacked", "changed", "norm. same", "recall", "drop", "cat. recall"]
    headers += ["cat. drop", "lost", f"within {MAX_DROP_POINTS:g} pts"]
    rows = [
        ["clean", "", _int(clean.positives), "", "", _num(clean.recall), "", _num(clean.category_recall), "", "", ""]
    ]
    for r in report.results:
        drop = r.drop(clean)
        rows.append(
            [
                r.name,
                "yes" if r.exact else "no",
                _int(r.attacked),
                _int(r.changed),
                _int(r.same_normalized),
                _num(r.post.recall),
                pts(drop),
                _num(r.post.category_recall),
                pts(r.category_drop(clean)),
                _int(r.lost),
                "-" if drop is None else ("yes" if drop <= MAX_DROP_POINTS else "NO"),
            ]
        )
    return _Table(headers, rows, frozenset({0, 1, 10}))


def _attack_header(report: AttackReport) -> list[str]:
    from qinglang.eval.report import _int

    lm = report.label_map
    packs = report.versions.get("packs") or {}
    pack_s = ", ".join(f"{k} {v}" for k, v in sorted(packs.items())) or "-"
    size = f"{_int(report.rows_in_file)} rows"
    if report.rows_read < report.rows_in_file:
        size += f", first {_int(report.rows_read)} read (--limit {report.limit})"
    skipped = sum(s.count for s in report.skipped.values())
    return [
        f"file: {report.file} ({size})",
        f"engine: {report.versions.get('engine', '-')}; packs: {pack_s}",
        f"label map: {lm.get('source')} v{lm.get('version')} (sha256 {lm.get('sha256')})",
        f"positives attacked: {_int(report.positives)} (not positive {_int(report.not_positive)},"
        f" skipped {_int(skipped)}); seed {report.seed}",
    ]


def render_attack_text(report: AttackReport) -> str:
    """Plain-text table: one row per transform after the clean row; drops in percentage points."""
    from qinglang.eval.report import _text_table

    parts = ["qinglang eval --attack", *_attack_header(report), "", "Recall of the positives under evasion"]
    parts.append(_text_table(_attack_table(report)))
    lost = [(r.name, r.lost_examples) for r in report.results if r.lost_examples]
    if lost:
        parts += ["", f"Positives lost (flagged clean, not under the transform; first {LOST_EXAMPLES} ids)"]
        parts += [f"  {name}: {', '.join(ids)}" for name, ids in lost]
    return "\n".join(parts) + "\n"


def render_attack_markdown(report: AttackReport, *, heading_level: int = 3) -> str:
    """A Markdown section for docs/quality.md (no ids or texts: the data stays out of the docs)."""
    from qinglang.eval.report import _int, _md_table

    h = "#" * heading_level
    parts = [f"{h} Attacks: `{report.file}` ({_int(report.rows_in_file)} rows)", ""]
    parts += [f"- {line}" for line in _attack_header(report)]
    parts += ["", _md_table(_attack_table(report))]
    return "\n".join(parts) + "\n"
