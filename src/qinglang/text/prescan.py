"""The fold and every normalization guard in one pass, in C where it is built.

Why: on a ~120-character post, :meth:`Normalizer.normalize` spent most of its time in
the fold and in half a dozen ``re`` guard searches ("is there anything for pass N to
do?"), each a walk over every character. The optional extension
``qinglang.text._prescan`` does the fold with one table lookup a character and
answers every guard in one more walk; the Python passes then run only on texts that
need them, exactly as before.

The extension holds no policy. :class:`Prescan` builds its tables here, from the same
fold mapping and the same character classes the guard regexes are written with, so
both paths read one source. Where the extension is missing (no C compiler when the
package was installed) or ``QINGLANG_PURE_PYTHON=1`` is set, :func:`load` returns
None and the normalizer uses its regex guards; tests run both and compare.

Each flag is the answer of one guard regex of :mod:`qinglang.text.normalize` (or, for
``REWRITE``, a necessary condition for the contact/pinyin rewriter to match):

========== =================================================================
ASCII      ``text.isascii()``
HAN        ``[HAN]`` (lexicon.HAN)
STRIP      ``_strip_guard``: a deletable, multi-digit, separator or astral
           character that is not a separator or follows a Han character
SYMBOL     ``_symbol_guard``: a deletable, multi-digit or astral character
DIGIT      ``_digit_guard``: ``[N0-9](?:[N0-9]|[SP]+[0-9])``
SPACED     ``_spaced_guard``: ``[0-9][SP]+[0-9](?![0-9])[SP]``
NUMERAL    ``_numeral_guard``: two numerals/digits in a row, one a numeral
REPEAT     ``_repeat``: ``(.)\\1\\1+``
REPEAT_HAN the same, of a Han character that is not a numeral: the only repeats
           the repeat pass edits, so the C path runs it only then
REWRITE    a rewrite's first character; a letter only after a boundary
========== =================================================================
"""

from __future__ import annotations

import importlib
import os
import re
from array import array
from collections.abc import Callable, Iterable
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qinglang.text.normalize import Normalizer

# class bits (kept in step with _prescan.c)
CL_HAN = 0x0001
CL_DELE = 0x0002
CL_MULTI = 0x0004
CL_SEP = 0x0008
CL_NUMERAL = 0x0010
CL_DIGIT = 0x0020
CL_SPACER = 0x0040
CL_RW_LEAD = 0x0080
CL_RW_LETTER = 0x0100
CL_LEFT_BAD = 0x0200
CL_NEWLINE = 0x0400

# flag bits (kept in step with _prescan.c)
ASCII = 0x001
HAN = 0x002
STRIP = 0x004
SYMBOL = 0x008
DIGIT = 0x010
SPACED = 0x020
NUMERAL = 0x040
REPEAT = 0x080
REWRITE = 0x100
REPEAT_HAN = 0x200

#: every BMP code point once, to read a character class's members off a compiled
#: regex (``finditer``): exact by construction, whatever the class is written with
_BMP = "".join(map(chr, range(0x10000)))


def _members(body: str) -> list[int]:
    """BMP code points in the regex character class ``[body]``."""
    return [m.start() for m in re.finditer(f"[{body}]", _BMP)]


def _astral_ranges(chars: str) -> list[tuple[int, int]]:
    """Astral ranges written literally in a class body of characters and ``a-b`` ranges."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(chars):
        lo = hi = ord(chars[i])
        if i + 2 < len(chars) and chars[i + 1] == "-":
            hi = ord(chars[i + 2])
            i += 3
        else:
            i += 1
        if hi >= 0x10000:
            out.append((max(lo, 0x10000), hi))
    return out


def _pairs(items: Iterable[tuple[int, int]]) -> bytes:
    flat = array("I")
    for a, b in items:
        flat.extend((a, b))
    return flat.tobytes()


class Prescan:
    """The C prescan bound to one normalizer's tables."""

    def __init__(self, ext: ModuleType, normalizer: Normalizer) -> None:
        from qinglang.text.lexicon import HAN as HAN_CLASS
        from qinglang.text.normalize import _NUMERALS

        bodies = normalizer.class_bodies
        fold = array("I", range(0x10000))
        astral: list[tuple[int, int]] = []
        for cp, out in normalizer.fold.mapping.items():
            if cp < 0x10000:
                fold[cp] = ord(out)
            else:
                astral.append((cp, ord(out)))
        classes = array("H", bytes(0x20000))
        spec = (
            (CL_HAN, HAN_CLASS),
            (CL_DELE, bodies["deletable"]),
            (CL_MULTI, bodies["multi"]),
            (CL_SEP, bodies["separators"]),
            (CL_NUMERAL, _NUMERALS),
            (CL_DIGIT, "0-9"),
            (CL_SPACER, r" \t\r\n.·_\-"),
            (CL_LEFT_BAD, "a-z0-9_@/."),
            (CL_NEWLINE, r"\n"),
        )
        for bit, body in spec:
            for cp in _members(body):
                classes[cp] |= bit
        for lead in {alt.lead for alt in normalizer.rewriter.alternatives}:
            cp = ord(lead)
            if cp >= 0x10000:
                raise ValueError(f"rewrite lead {lead!r} is astral; _prescan.c reads BMP leads only")
            classes[cp] |= CL_RW_LETTER if "a" <= lead <= "z" else CL_RW_LEAD
        self._ext = ext
        self._tables = (
            fold.tobytes(),
            classes.tobytes(),
            _pairs(sorted(astral)),
            _pairs(_astral_ranges(HAN_CLASS)),
        )

        #: the C functions with their tables bound once (a partial's call is C, with
        #: no Python frame and no argument unpacking per text)
        self.prescan: Callable[[str], tuple[str, int]] = partial(ext.prescan, *self._tables)
        self.guards: Callable[[str], int] = partial(ext.guards, *self._tables)


def compiled_module(name: str) -> ModuleType | None:
    """The optional C extension ``name``, or None where it is not built or ``QINGLANG_PURE_PYTHON=1``.

    The one switch for every C speed-up of the package (see setup.py), so a user can
    rule them out when comparing, and tests can run the pure-Python paths.
    """
    if os.environ.get("QINGLANG_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


#: every optional C extension of the package (setup.py), by a short name
SPEEDUPS = {"prescan": "qinglang.text._prescan", "spans": "qinglang.detect._spans"}


def speedups() -> dict[str, bool]:
    """Which C speed-ups this process uses (``qinglang version`` shows it)."""
    return {short: compiled_module(name) is not None for short, name in SPEEDUPS.items()}


def extension() -> ModuleType | None:
    """The compiled prescan, or None (see :func:`compiled_module`)."""
    return compiled_module("qinglang.text._prescan")


def load(normalizer: Normalizer) -> Prescan | None:
    """A :class:`Prescan` for ``normalizer``, or None to use the pure-Python guards."""
    ext = extension()
    return Prescan(ext, normalizer) if ext is not None else None
