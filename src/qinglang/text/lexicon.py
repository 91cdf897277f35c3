"""Contact words and pinyin key words: the rewrite that runs last.

Detectors look for one spelling of each contact channel, so every variant is
rewritten to it: WeChat -> ``微信``, QQ -> ``qq``, Telegram -> ``telegram``
(``data/contact_words.tsv`` documents the rule kinds). Key words spelled in pinyin
("jia wei xin", "dai-kuan") are rewritten to the Chinese word
(``data/pinyin_keywords.txt``).

ASCII boundaries: a form never fires inside a longer ASCII word, after a digit, or
inside a domain, URL path or e-mail address (``wx.qq.com``, ``t.me/tg_bot``,
``vx123@qq.com``): entity extractors read the same text and must find those intact.
It may be followed by digits ("vx123456" is "微信 123456" written together).

Speed. Every alternative is written as a literal first character plus a body, and
the whole match is what gets rewritten (context is expressed with look-arounds).
Alternatives are compiled twice, built once:

* for text with Han characters, one pattern whose top-level branches each
  start with a literal (Han-led rules, then one branch per first ASCII letter, with
  the left word boundary written after that letter as a two-character look-behind);
  ``re`` then skips in C every position whose character cannot start a match;
* for text without Han (English, Italian posts), a pattern led by the boundary
  character itself, run on ``" " + text``: it only stops at word starts instead of
  at every letter, which is 2-3x faster on Latin-script prose. (Every Han-led rule
  needs a Han character, so nothing is lost.)

Both run only where a Hyperscan prefilter (:attr:`Rewriter.prefilter`) reports one of
the alternatives' ``prefilter`` patterns: each alternative with its negative
look-arounds dropped and its positive ones consumed, so it matches wherever the
alternative does. Two posts in five carry a Latin letter and so pass the C prescan's
rewrite guard; the prefilter then clears all but a few in a hundred of those, at
about 0.7 µs a text where the alternation cost 2.4 µs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from qinglang.text.fold import read_data
from qinglang.text.offsets import Edit

try:  # pragma: no cover - exercised by whichever is installed
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

#: Characters that may not precede an ASCII-led form.
_LEFT_BAD = "a-z0-9_@/."
_LEFT_BOUND_AFTER_FIRST = f"(?<![{_LEFT_BAD}].)"
#: After an ASCII-ending form: no letter or underscore, not the rest of a domain, URL
#: host or e-mail address, and not a URL scheme ("tg://resolve", "weixin://").
RIGHT_BOUND = r"(?![a-z_])(?![a-z0-9_-]*[.@][a-z0-9])(?!:/)"
#: Han ideographs (BMP blocks and the supplementary planes) plus 〇.
HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
#: Separators allowed where a contact form has a space, and between pinyin syllables.
_FORM_SEP = r"[ ._-]{0,2}"
_PINYIN_SEP = r"[ ._'-]{0,2}"
#: 加 or + and what may sit between it and the contact token ("加我v", "加个 v", "+ v").
_ADD_HEADS = ("加", "加 ", "加我", "加个", "加我 ", "加个 ", "+", "+ ")
#: An ASCII handle after a colon: 3+ characters together, or 4+ single characters
#: spaced out ("v: a b c 1 2 3"), but not a couple of words ("小薇: hi there").
_HANDLE = r"(?=\s*:\s*(?:[a-z0-9][a-z0-9_-]{2,}|[a-z0-9](?:[ ._-][a-z0-9]){3,}(?![a-z0-9])))"
_NUMBER = r"(?=\s*:\s*[0-9]{5,})"

#: What ``\s`` matches in a ``re`` str pattern (every character ``str.isspace`` accepts),
#: in Hyperscan's syntax: its own ``\s`` differs (tests check this list is complete).
SPACE_CLASS = (
    "[\\x{9}-\\x{d}\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}"
    "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"
)
#: the prefilter's forms of _HANDLE and _NUMBER: the look-ahead consumed, up to the
#: first character of the handle or the first five digits of the number
_HANDLE_PF = f"{SPACE_CLASS}*:{SPACE_CLASS}*[a-z0-9]"
_NUMBER_PF = f"{SPACE_CLASS}*:{SPACE_CLASS}*[0-9]{{5}}"


def _is_ascii_letter(c: str) -> bool:
    return "a" <= c <= "z"


@dataclass(frozen=True, slots=True)
class Alternative:
    """One way to find a word: ``lead`` (first character, literal) then ``body`` (regex).

    The whole match is rewritten to ``canonical``. When ``lead`` is an ASCII letter
    the left word boundary is added by the compiler, not written in ``body``.
    """

    lead: str
    body: str
    canonical: str
    source: str  # the data row it came from, for error messages and tests
    #: a Hyperscan pattern that matches somewhere in every text where ``lead + body``
    #: matches (a necessary condition, see :attr:`Rewriter.prefilter`): the body with
    #: negative look-arounds and bounds dropped, which only widens it, and positive
    #: ones consumed (a look-behind for 加 as the heads written before the form)
    prefilter: str = ""


def _form_pattern(form: str) -> str:
    """A whole form, first character included: spaces become optional separators."""
    return _FORM_SEP.join(re.escape(t) for t in form.split(" "))


def _form_body(form: str) -> str:
    """Body of a form after its first character: spaces become optional separators."""
    pat = _form_pattern(form)[len(re.escape(form[0])) :]
    if _is_ascii_letter(form[-1]):
        pat += RIGHT_BOUND
    return pat


def _single_guard(form: str) -> str:
    """A one-character token (v, q, 薇) must not run on into a word."""
    if len(form) > 1:
        return RIGHT_BOUND if _is_ascii_letter(form[-1]) else ""
    return RIGHT_BOUND if _is_ascii_letter(form) else f"(?![{HAN}a-z])"


def load_contact_alternatives() -> list[Alternative]:
    """Alternatives from ``data/contact_words.tsv``, in file order."""
    out: list[Alternative] = []
    for row in read_data("contact_words.tsv"):
        canonical, kind, form = row[0], row[1], row[2]
        context = row[3] if len(row) > 3 else ""
        src = "\t".join(row)
        lead, rest = form[0], form[1:]
        whole = _form_pattern(form)
        if kind == "form":
            body = _form_body(form)
            pf = whole
        elif kind == "before":
            alts = "|".join(re.escape(c) for c in context.split("|"))
            body = f"{_form_body(form)}(?={alts})"
            pf = f"{whole}(?:{alts})"
        elif kind == "after_add":
            behind = "|".join(f"(?<={re.escape(h + form)})" for h in _ADD_HEADS)
            body = f"{re.escape(rest)}(?:{behind}){_single_guard(form)}"
            pf = f"(?:{'|'.join(re.escape(h) for h in _ADD_HEADS)}){re.escape(form)}"
        elif kind in ("before_handle", "before_number"):
            tail = _HANDLE if kind == "before_handle" else _NUMBER
            # A lone letter after an English word is a label, not a contact word:
            # "Chapter V: results", "FAQ Q: 12345 users".
            label = f"(?<![a-z] {re.escape(form)})" if len(form) == 1 and _is_ascii_letter(form) else ""
            body = f"{label}{_form_body(form)}{tail}"
            pf = whole + (_HANDLE_PF if kind == "before_handle" else _NUMBER_PF)
        else:
            raise ValueError(f"contact_words.tsv: unknown kind {kind!r} in {src!r}")
        out.append(Alternative(lead, body, canonical, src, pf))
    return out


@dataclass(frozen=True, slots=True)
class PinyinWord:
    """A key word and how its pinyin may be written."""

    word: str
    syllables: tuple[str, ...]
    joined_ok: bool
    spaced_ok: bool


def load_stopwords() -> frozenset[str]:
    return frozenset(row[0].strip().lower() for row in read_data("pinyin_stopwords.txt"))


def load_pinyin_words(stop: frozenset[str] | None = None) -> list[PinyinWord]:
    """Key words with their syllables, minus forms that collide with Latin-script words.

    A joined form equal to a stop word ("tie" for 提额) is not matched joined; a
    keyword whose every syllable is a stop word ("fan li" for 返利) is not matched
    spaced; a keyword that loses both is dropped.
    """
    from pypinyin import Style, lazy_pinyin  # ~0.2 s to import: only when building

    stop = load_stopwords() if stop is None else stop
    out: list[PinyinWord] = []
    seen: set[str] = set()
    for row in read_data("pinyin_keywords.txt"):
        word = row[0].strip()
        if len(row) > 1 and row[1].strip():
            syl = tuple(row[1].split())
        else:
            syl = tuple(lazy_pinyin(word, style=Style.NORMAL))
        if len(syl) < 2 or word in seen or not all(s.isascii() and s.isalpha() for s in syl):
            continue
        seen.add(word)
        joined_ok = "".join(syl) not in stop
        spaced_ok = not all(s in stop for s in syl)
        if joined_ok or spaced_ok:
            out.append(PinyinWord(word, syl, joined_ok, spaced_ok))
    return out


def _syllable(s: str) -> str:
    """ü is typed as v or u: accept both."""
    return re.escape(s).replace("v", "[vu]")


def pinyin_alternatives(words: Iterable[PinyinWord]) -> list[Alternative]:
    """One alternative per word, longest first (so 加微信 wins over a shorter word)."""
    alts: list[tuple[int, Alternative]] = []
    for w in words:
        if w.joined_ok and w.spaced_ok:
            sep = _PINYIN_SEP
        elif w.joined_ok:
            sep = r"[._'-]?"
        else:
            sep = r"[ ._'-]{1,2}"
        whole = sep.join(_syllable(s) for s in w.syllables)
        alts.append((len("".join(w.syllables)),
                     Alternative(w.syllables[0][0], whole[1:] + RIGHT_BOUND, w.word, w.word, whole)))
    alts.sort(key=lambda t: -t[0])
    return [a for _, a in alts]


def _fired(_id: int, _from: int, _to: int, _flags: int, acc: list[int]) -> None:
    acc.append(_id)


def _compile_prefilter(alternatives: list[Alternative]) -> Callable[[str], bool] | None:
    """One Hyperscan database of every alternative's ``prefilter`` pattern; see
    :attr:`Rewriter.prefilter`. Each pattern reports once at most (most texts report
    nothing, and one report is enough)."""
    if hyperscan is None or not alternatives:
        return None
    db: Any = hyperscan.Database()
    flags = hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_SINGLEMATCH
    db.compile(
        expressions=[a.prefilter.encode("utf-8") for a in alternatives],
        ids=list(range(len(alternatives))),
        elements=len(alternatives),
        flags=[flags] * len(alternatives),
    )
    scan = db.scan
    in_use = hyperscan.ScratchInUseError

    def fires(text: str) -> bool:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the patterns decide
            return True
        acc: list[int] = []
        try:
            scan(data, _fired, 0, acc)  # positional: keywords cost a third of the call
        except in_use:  # pragma: no cover - a concurrent scan
            return True
        return bool(acc)

    return fires


def looks_like_a_name(original: str) -> bool:
    """ "Dai Kuan", "Zhang-Ting": Title-Cased pinyin syllables are a person's name.

    Chinese names are written in pinyin in English text; evasion writes key words in
    lowercase or capitals ("dai kuan", "DAI KUAN"). Only spaced or hyphenated
    Title Case counts: one capitalized word ("Daikuan") is still rewritten.
    """
    words = [w for w in re.split(r"[\s._'-]+", original) if w]  # \s: also U+3000 and other wide spaces
    return len(words) >= 2 and all(w[0].isupper() and (w[1:].islower() or not w[1:]) for w in words)


class Rewriter:
    """The compiled contact-word and pinyin rewrite (see the module docstring)."""

    def __init__(self) -> None:
        self.words = load_pinyin_words()
        contact = load_contact_alternatives()
        self.alternatives = contact + pinyin_alternatives(self.words)
        self._canonical: dict[str, str] = {}
        #: groups of pinyin alternatives (the ones a Title-Cased name may veto)
        self._pinyin_groups: frozenset[str] = frozenset(f"a{i}" for i in range(len(contact), len(self.alternatives)))
        # Alternatives are grouped by their first character: ``re`` tries the branches of
        # an alternation one by one, so one branch per first character keeps that short
        # where a first character occurs (微 in 微博, letters in URLs). Order within a
        # group is kept; branches with different first characters never match at the
        # same position, so the grouping changes no match.
        by_han: dict[str, list[str]] = {}
        by_letter: dict[str, list[str]] = {}
        for i, alt in enumerate(self.alternatives):
            g = f"a{i}"
            self._canonical[g] = alt.canonical
            body = f"{alt.body}(?P<{g}>)"  # empty marker: names the alternative
            (by_letter if _is_ascii_letter(alt.lead) else by_han).setdefault(alt.lead, []).append(body)
        letter_groups = [(k, "|".join(v)) for k, v in by_letter.items()]
        han_groups = [f"{re.escape(k)}(?:{'|'.join(v)})" for k, v in by_han.items()]
        self._han = re.compile(f"[{HAN}]")
        #: ``prefilter(text)`` is False only where neither pattern below can match
        #: (None without Hyperscan): one pass over the text for every alternative at
        #: once. It exists for speed: the ``re`` alternation costs ~2 µs on a post with
        #: a Latin letter (two in five posts) and finds something in few of them.
        self.prefilter = _compile_prefilter(self.alternatives)
        #: for text with non-ASCII characters
        self.pattern = re.compile(
            "|".join(han_groups + [f"{k}{_LEFT_BOUND_AFTER_FIRST}(?:{v})" for k, v in letter_groups])
        )
        #: for text without Han, run on " " + text; the boundary character is matched
        self.ascii_pattern = re.compile(f"[^{_LEFT_BAD}](?:" + "|".join(f"{k}(?:{v})" for k, v in letter_groups) + ")")

    def edits(
        self, text: str, original_of: Callable[[int, int], str] | None = None, has_han: bool | None = None
    ) -> list[Edit]:
        """Edits that rewrite every contact word and pinyin key word in ``text``.

        ``original_of(start, end)`` gives the original text behind a span of ``text``
        (before lowercasing); with it, pinyin written as a Title-Cased name is left
        alone ("Zhang Ting wrote" is a person, "zhang ting" is 涨停). ``has_han`` saves
        a search when the caller knows (either pattern is correct on any text; the
        boundary-led one is only faster where Han is absent).
        """
        out: list[Edit] = []
        if self.prefilter is not None and not self.prefilter(text):
            return out
        canonical = self._canonical
        pinyin = self._pinyin_groups
        if has_han is None:
            has_han = not text.isascii() and self._han.search(text) is not None
        if not has_han:
            # Latin-script text (accents and £ included): the boundary-led pattern
            matches = [(m.start(), m.end() - 1, m.lastgroup) for m in self.ascii_pattern.finditer(" " + text)]
        else:
            matches = [(m.start(), m.end(), m.lastgroup) for m in self.pattern.finditer(text)]
        for s, e, g in matches:
            repl = canonical[g]  # type: ignore[index]
            if text[s:e] == repl:
                continue
            if g in pinyin and original_of is not None and looks_like_a_name(original_of(s, e)):
                continue
            out.append((s, e, repl))
        return out
