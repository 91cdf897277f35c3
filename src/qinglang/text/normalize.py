"""Offset-preserving normalization: the text every detector reads.

Evasion turns "加微信" into "加 薇❤信", "ＶＸ", "jia wei xin" or "威 信"; phone numbers
into "1 3 8 0 0 ...", "①③⑧" or "一三八零". Detectors should not each re-learn those
tricks, so posts and policy terms are brought into one canonical space here, and
every character of that space remembers where it came from, so evidence quotes
exactly what the author wrote.

Passes, in order (each described by :mod:`qinglang.text.offsets` edits unless 1:1):

0. **fold** (1:1, no layer, :mod:`qinglang.text.fold`): traditional -> simplified,
   full-width -> ASCII, lowercase, NFKC single-character folds, fancy digits,
   financial numerals 壹贰叁柒捌玖, Cyrillic/Greek homoglyphs.
1. **strip**: delete invisible and format characters (Cf: zero-width, bidi controls,
   soft hyphen, BOM, tags), variation selectors, combining marks for symbols
   (keycaps), Hangul fillers, private-use characters, and symbols (So, Sk: emoji,
   skin tones, dingbats, ❤ ★) anywhere; delete whitespace and separator punctuation
   between two Han characters ("加 微 信", "稳.赚"); rewrite multi-digit enclosed
   numbers (⑩ -> 10, ⒇ -> 20, ㉑ -> 21). Sentence punctuation (。，！？；：、 and the
   ASCII forms they fold to) and spaces between ASCII words stay.
2. **spaced digits**: separators between single digits in a run of >= 4 are deleted
   ("1 3 8 0" -> "1380"); grouped numbers ("138 0013 8000", "2024-12-11") stay. A run
   separated only by dots needs >= 5 digits, so IPv4-like "1.2.3.4" stays, and dots
   mixed with other separators mean decimals ("1.5 2.5 3.5"), which stay.
3. **Chinese numerals**: runs of >= 4 of 零〇一二三四五六七八九幺两肆伍陆 (digits may be
   mixed in) become digits 1:1. A run with a single Han numeral at its edge
   ("陆2024" in "大陆2024") is left: that numeral belongs to the word before it.
4. **repeats**: >= 3 identical Han characters collapse to one ("稳稳稳赚" -> "稳赚");
   numerals, digits and ASCII never collapse (phone numbers, URLs, wallets).
5. **contact words and pinyin** (:mod:`qinglang.text.lexicon`): WeChat -> ``微信``,
   QQ -> ``qq``, Telegram -> ``telegram``; pinyin key words -> Chinese. When this
   rewrote anything, passes 1 and 4 run again, since the new Han may now sit beside
   a separator or a twin ("请 jia wei xin" -> "请加微信", as if typed in Han).

Every pass has a cheap guard (``str.isascii``, a compiled search) so a typical post
with nothing to rewrite costs a few microseconds.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from qinglang.text import prescan
from qinglang.text.fold import FoldTable, _char_class
from qinglang.text.lexicon import HAN, Rewriter
from qinglang.text.offsets import Edit, LayerMap, NormalizedText, apply_edits

#: Separator punctuation deleted between two Han characters (besides whitespace).
_SEPARATORS = "-_.·•*|/\\~^`'\"・‧∙⋅‐‑‒–—―−"
#: Whitespace, spelled out so the class stays one BMP bitmap (``\s`` is a slower test).
_WHITESPACE = (
    " \\t\\n\\r\\x0b\\x0c\\x1c\\x1d\\x1e\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
#: Chinese numerals that become digits inside a run (after the fold, so traditional
#: forms are already simplified and 壹贰叁柒捌玖 are already digits).
_NUMERALS = "零〇一二三四五六七八九幺两肆伍陆"
_NUMERAL_DIGIT = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {
    "〇": "0",
    "幺": "1",
    "两": "2",
    "肆": "4",
    "伍": "5",
    "陆": "6",
}
#: Invisible characters outside the Cf category that are used as separators.
_INVISIBLE_EXTRA = (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0)
#: Symbols kept although they are So: CJK radical supplement forms look like Han.
_KEEP_SO = range(0x2E80, 0x2F00)


#: Astral blocks deleted wholesale: emoji, pictographs, mahjong/domino/cards, regional
#: indicators, legacy-computing symbols; musical and Tai Xuan Jing symbols; tags and
#: variation selectors supplement. (Astral *letters and digits* in these blocks, such
#: as 🅐 or 🯱, are folded to ASCII before this pass runs.) Written as a few ranges
#: because ``re`` checks astral ranges one by one for every character.
_ASTRAL_DELETABLE = (
    (0x1D000, 0x1D24F),
    (0x1D300, 0x1D35F),
    (0x1F000, 0x1FBFF),
    (0xE0000, 0xE0FFF),
)


def _deletable_codepoints() -> list[int]:
    """BMP code points deleted anywhere: format, symbols, variation selectors, private use.

    Categories rather than hand lists, so new emoji and symbols are covered: Cf
    (zero-width, bidi controls, soft hyphen, BOM), Me (enclosing keycap), Co (private
    use), So/Sk outside ASCII (emoji, dingbats, ❤ ★, skin tones, modifier symbols),
    plus variation selectors and combining marks for symbols.
    """
    cps: list[int] = []
    for cp in range(0x80, 0x10000):
        cat = unicodedata.category(chr(cp))
        if (
            cat in ("Cf", "Me", "Co")
            or (cat in ("So", "Sk") and cp not in _KEEP_SO)
            or 0xFE00 <= cp <= 0xFE0F
            or 0x20D0 <= cp <= 0x20FF
            or 0xFE20 <= cp <= 0xFE2F
        ):
            cps.append(cp)
    cps.extend(_INVISIBLE_EXTRA)
    return cps


def _deletable_class_body() -> str:
    """Inside of a regex character class for every deletable character."""
    astral = "".join(f"{chr(a)}-{chr(b)}" for a, b in _ASTRAL_DELETABLE)
    return _char_class(_deletable_codepoints())[1:-1] + astral


def _multi_digit_numbers() -> dict[str, str]:
    """Enclosed numbers 10-50 (⑩ ⒇ ⒑ ㉑ ❿ ➓ ⓫): NFKC gives several characters or none."""
    out: dict[str, str] = {}
    for cp in [*range(0x2460, 0x2800), *range(0x3248, 0x32C0), *range(0x1F100, 0x1F110)]:
        c = chr(cp)
        if unicodedata.category(c) != "No":
            continue
        value = unicodedata.numeric(c, None)
        if value is None or value != int(value) or not 10 <= value <= 99:
            continue
        name = unicodedata.name(c, "")
        if "CIRCLED" in name or "PARENTHESIZED" in name or "FULL STOP" in name:
            out[c] = str(int(value))
    return out


_NON_DIGITS = re.compile("[^0-9]+")


class Normalizer:
    """Turns raw post text into the canonical text detectors read.

    ``normalize(s)`` returns a :class:`NormalizedText` whose ``to_original`` maps any
    span back to ``s``. ``normalize_term`` applies the same steps to a policy term so
    terms and posts meet in one space. Build once (see :func:`default_normalizer`):
    construction compiles every table and pattern (~0.3 s).
    """

    def __init__(self) -> None:
        self.fold = FoldTable()
        self.rewriter = Rewriter()
        self.multi_numbers = _multi_digit_numbers()
        dele = _deletable_class_body()
        dele_bmp = _char_class(_deletable_codepoints())[1:-1]
        seps = re.escape(_SEPARATORS) + _WHITESPACE
        multi = _char_class(ord(c) for c in self.multi_numbers)[1:-1]
        # Guard for pass 1: a deletable or multi-digit character, or a separator right
        # after a Han character. One BMP class plus one astral range leads it (a class
        # with many astral ranges is checked range by range in ``re``, at every position).
        lead = f"[{dele_bmp}{multi}{seps}\\U00010000-\\U0010ffff]"
        self._symbol_guard = re.compile(f"[{dele_bmp}{multi}\\U00010000-\\U0010ffff]")
        self._strip_guard = re.compile(f"{lead}(?:(?<=[{HAN}].)|(?<![{seps}]))", re.DOTALL)
        # The same lead, then: separators between Han | deletable runs | ⑩-like numbers.
        self._strip = re.compile(
            f"{lead}(?:(?<=[{HAN}][{seps}{dele}])[{seps}{dele}]*(?=[{HAN}])|(?<=[{dele}])[{dele}]*|(?<=[{multi}]))"
        )
        self._spaced_digits = re.compile(r"[0-9](?<![0-9][0-9])(?:[ \t\r\n.·_-]+[0-9](?![0-9])){3,}")
        # A run of 4+ numerals and digits holding at least one numeral (checked at its
        # first character, so digit-only runs like "8000" fail inside ``re``).
        self._numeral_run = re.compile(
            f"[{_NUMERALS}0-9](?:(?<=[{_NUMERALS}])|(?=[0-9]*[{_NUMERALS}]))[{_NUMERALS}0-9]{{3,}}"
        )
        # Any character three times; Han and not a numeral is checked per match (rare),
        # which is cheaper than a Han class tested at every position.
        self._repeat = re.compile(r"(.)\1\1+")
        # Two digit-like characters in a row, or digits around a separator: anything
        # passes 2-3 could change.
        self._digit_guard = re.compile(f"[{_NUMERALS}0-9](?:[{_NUMERALS}0-9]|[ \\t\\r\\n.·_-]+[0-9])")
        # Once that holds (any two-digit number does), each pass has a sharper guard
        # that stops far less often than its own pattern: a single digit between
        # separators after another digit (pass 2), a numeral next to a digit-like
        # character (pass 3).
        self._spaced_guard = re.compile(r"[0-9][ \t\r\n.·_-]+[0-9](?![0-9])[ \t\r\n.·_-]")
        self._numeral_guard = re.compile(f"[{_NUMERALS}0-9](?:(?<=[{_NUMERALS}])[{_NUMERALS}0-9]|[{_NUMERALS}])")
        self._han = re.compile(f"[{HAN}]")
        self._numeral_set = frozenset(_NUMERALS)
        #: the guard classes as written above, for the C prescan's tables
        self.class_bodies = {"deletable": dele_bmp, "multi": multi, "separators": seps}
        self._prescan = prescan.load(self)
        if self._prescan is not None:
            # the bound method of the C path shadows the class's ``normalize`` (one call less)
            self.normalize = self._normalize_prescan  # type: ignore[method-assign]

    # -- passes ---------------------------------------------------------------

    def _strip_edits(self, text: str) -> list[Edit]:
        out: list[Edit] = []
        multi = self.multi_numbers
        for m in self._strip.finditer(text):
            s, e = m.span()
            out.append((s, e, multi.get(m.group(), "")))
        return out

    def _spaced_digit_edits(self, text: str) -> list[Edit]:
        out: list[Edit] = []
        for m in self._spaced_digits.finditer(text):
            run = m.group()
            gaps = list(_NON_DIGITS.finditer(run))
            kinds = {g.group() for g in gaps}
            if "." in kinds and (len(kinds) > 1 or len(gaps) < 4):
                # "1.2.3.4" (an address, a version) or "1.5 2.5" (decimals), not a
                # phone number: obfuscation spaces digits out with one separator
                continue
            base = m.start()
            out.extend((base + g.start(), base + g.end(), "") for g in gaps)
        return out

    def _numeral_edits(self, text: str) -> list[Edit]:
        out: list[Edit] = []
        numerals = self._numeral_set
        for m in self._numeral_run.finditer(text):
            run = m.group()
            han = [i for i, c in enumerate(run) if c in numerals]
            if not han or (len(han) == 1 and han[0] in (0, len(run) - 1) and len(run) > 1):
                continue
            digits = "".join(_NUMERAL_DIGIT.get(c, c) for c in run)
            out.append((m.start(), m.end(), digits))
        return out

    def _repeat_edits(self, text: str) -> list[Edit]:
        out: list[Edit] = []
        han = self._han
        for m in self._repeat.finditer(text):
            c = m.group(1)
            if c in self._numeral_set or not han.match(c):
                continue
            out.append((m.start(), m.end(), c))
        return out

    def _spaced_pass(self, text: str, layers: list[LayerMap]) -> str:
        """Pass 2 behind its own guard (the digit guard already holds)."""
        if self._spaced_guard.search(text):
            text = self._apply(text, self._spaced_digit_edits(text), layers)
        return text

    @staticmethod
    def _apply(text: str, edits: list[Edit], layers: list[LayerMap]) -> str:
        if not edits:
            return text
        new, layer = apply_edits(text, edits)
        if layer is not None:
            layers.append(layer)
        return new

    # -- public API -------------------------------------------------------------

    @property
    def compiled(self) -> bool:
        """True when the C prescan answers the fold and the guards (:mod:`qinglang.text.prescan`)."""
        return self._prescan is not None

    def normalize(self, s: str) -> NormalizedText:
        """Normalize ``s``; the result maps every span back to ``s``.

        Each pass runs only when its guard finds something it could change, and only
        passes that made edits add a layer. The guards are the C prescan's flags where
        it is built (:meth:`_normalize_prescan`, which replaces this method on the
        instance), else one compiled ``search`` each (:meth:`normalize_regex`).
        """
        return self.normalize_regex(s)

    def _normalize_prescan(self, s: str) -> NormalizedText:
        """:meth:`normalize_regex` with the fold and every guard answered by the C prescan.

        Same passes, same order, same output; after a pass changes the text its flags
        are computed again, as each regex guard would search the changed text.
        """
        pre = self._prescan
        assert pre is not None
        text, fl = pre.prescan(s)
        layers: list[LayerMap] = []
        apply = self._apply
        has_han = False
        if fl & prescan.ASCII:
            if fl & prescan.DIGIT and fl & prescan.SPACED:
                new = apply(text, self._spaced_digit_edits(text), layers)
                if new is not text:
                    text, fl = new, pre.guards(new)
        elif fl & prescan.HAN:
            has_han = True
            if fl & prescan.STRIP:
                new = apply(text, self._strip_edits(text), layers)
                if new is not text:
                    text, fl = new, pre.guards(new)
            if fl & prescan.DIGIT:
                if fl & prescan.SPACED:
                    new = apply(text, self._spaced_digit_edits(text), layers)
                    if new is not text:
                        text, fl = new, pre.guards(new)
                if fl & prescan.NUMERAL:
                    new = apply(text, self._numeral_edits(text), layers)
                    if new is not text:
                        text, fl = new, pre.guards(new)
            if fl & prescan.REPEAT_HAN:
                new = apply(text, self._repeat_edits(text), layers)
                if new is not text:
                    text, fl = new, pre.guards(new)
        else:
            if fl & prescan.SYMBOL:
                new = apply(text, self._strip_edits(text), layers)
                if new is not text:
                    text, fl = new, pre.guards(new)
            if fl & prescan.DIGIT and fl & prescan.SPACED:
                new = apply(text, self._spaced_digit_edits(text), layers)
                if new is not text:
                    text, fl = new, pre.guards(new)
        if not fl & prescan.REWRITE:
            return NormalizedText(s, text, layers)
        before = text
        rewrites = self.rewriter.edits(
            text, lambda a, b: NormalizedText(s, before, layers).original_text(a, b), has_han
        )
        if rewrites:
            text = apply(text, rewrites, layers)
            fl = pre.guards(text)
            if fl & prescan.STRIP:
                new = apply(text, self._strip_edits(text), layers)
                if new is not text:
                    text, fl = new, pre.guards(new)
            if fl & prescan.REPEAT_HAN:
                text = apply(text, self._repeat_edits(text), layers)
        return NormalizedText(s, text, layers)

    def normalize_regex(self, s: str) -> NormalizedText:
        """The pure-Python path: every guard is one compiled ``search``.

        The reference the C prescan is tested against, and what runs where the
        extension is not built.
        """
        text = self.fold(s)
        layers: list[LayerMap] = []
        has_han = False
        if text.isascii():
            # no Han, no symbols to strip, no numerals: digits and ASCII rewrites only
            if self._digit_guard.search(text):
                text = self._spaced_pass(text, layers)
        elif has_han := self._han.search(text) is not None:
            if self._strip_guard.search(text):
                text = self._apply(text, self._strip_edits(text), layers)
            if self._digit_guard.search(text):
                text = self._spaced_pass(text, layers)
                if self._numeral_guard.search(text):
                    text = self._apply(text, self._numeral_edits(text), layers)
            if self._repeat.search(text):
                text = self._apply(text, self._repeat_edits(text), layers)
        else:
            # Latin-script text with accents, £, emoji...: no Han, so only symbols to
            # strip (no separator sits between two Han) and spaced digits
            if self._symbol_guard.search(text):
                text = self._apply(text, self._strip_edits(text), layers)
            if self._digit_guard.search(text):
                text = self._spaced_pass(text, layers)
        # original spans are only needed to veto a pinyin match, so build them lazily
        before = text
        rewrites = self.rewriter.edits(
            text, lambda a, b: NormalizedText(s, before, layers).original_text(a, b), has_han
        )
        if rewrites:
            text = self._apply(text, rewrites, layers)
            # A rewrite can put Han next to a separator or a twin ("jia wei xin 哦" ->
            # "加微信 哦"): clean those up too, so the output is what text typed in Han
            # gives, and normalizing twice changes nothing.
            if self._strip_guard.search(text):
                text = self._apply(text, self._strip_edits(text), layers)
            if self._repeat.search(text):
                text = self._apply(text, self._repeat_edits(text), layers)
        return NormalizedText(s, text, layers)

    def normalize_term(self, term: str) -> str:
        """The same pipeline for a policy term, so "薇信" in a policy meets "威❤信" in a post."""
        return self.normalize(term).text


@cache
def default_normalizer() -> Normalizer:
    """The process-wide normalizer (building one compiles every table once)."""
    return Normalizer()
