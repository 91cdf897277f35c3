"""One multi-pattern automaton over every term of every loaded pack.

Terms are normalized with the same normalizer as posts, de-duplicated and compiled
once; each post field is scanned once for all packs together and rules look
occurrences up by term id.

Backend: Hyperscan (pure-literal compiler) when the ``hyperscan`` wheel is
installed — it is on Linux and macOS x86-64/arm64 — else pyahocorasick. Measured
here on Weibo-length Chinese posts (117 characters) against the bundled packs'
~2,500 terms: Hyperscan 1.7 µs per post, pyahocorasick 14 µs (its trie walk slows
down on a large CJK alphabet). Hyperscan reports byte offsets of the UTF-8 text;
they are turned into character offsets only for the few occurrences a post has, in
one C walk over the text where ``qinglang.detect._spans`` is built (setup.py), which
also decides word boundaries and fills the post's occurrence index; else by
decoding each match's prefix, in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:  # pragma: no cover - exercised by whichever backend is installed
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

import ahocorasick

from qinglang.text.prescan import compiled_module

#: the C conversion of byte offsets to character offsets, where it is built
_spans = compiled_module("qinglang.detect._spans")


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


@dataclass(frozen=True, slots=True)
class Term:
    id: int
    text: str
    #: the term begins / ends with an ASCII word character, so a word-boundary
    #: pack must check the neighbour on that side
    bound_start: bool
    bound_end: bool


#: one occurrence: (term id, start, end, on word boundaries)
Occurrence = tuple[int, int, int, bool]

BACKENDS = ("hyperscan", "pyahocorasick")


def default_backend() -> str:
    return "hyperscan" if hyperscan is not None else "pyahocorasick"


class TermMatcher:
    """Maps normalized terms to ids and finds every occurrence in a text."""

    def __init__(self, backend: str | None = None) -> None:
        self.backend = backend or default_backend()
        if self.backend not in BACKENDS or (self.backend == "hyperscan" and hyperscan is None):
            raise ValueError(f"matcher backend {self.backend!r} is not available")
        self._ids: dict[str, int] = {}
        self.terms: list[Term] = []
        self._built: Any = None
        self._nbytes: list[int] = []
        self._lengths: list[int] = []
        #: per term id: bit 1 = bound_start, bit 2 = bound_end (for _spans.index_into)
        self._bounds = b""
        #: the prescan compiled into the same database (see :meth:`attach_prescan`)
        self._prescan: Callable[[int], list[tuple[int, bytes, int]]] | None = None

    def add(self, normalized_term: str) -> int:
        """Register a term (already normalized); returns its id. Idempotent."""
        tid = self._ids.get(normalized_term)
        if tid is None:
            tid = len(self.terms)
            self._ids[normalized_term] = tid
            t = normalized_term
            self.terms.append(Term(tid, t, _is_word_char(t[0]), _is_word_char(t[-1])))
            self._built = None
        return tid

    def build(self) -> None:
        if self.backend == "hyperscan":
            self._nbytes = [len(t.text.encode("utf-8")) for t in self.terms]
            self._lengths = [len(t.text) for t in self.terms]
            self._bounds = bytes(t.bound_start | t.bound_end << 1 for t in self.terms)
            if self.terms and self._prescan is not None:
                # one database, so terms become expressions: each byte escaped, which
                # matches exactly what the literal compiler below matches
                items = [(t.id, "".join(f"\\x{b:02x}" for b in t.text.encode("utf-8")).encode("ascii"), 0)
                         for t in self.terms]
                items += self._prescan(len(self.terms))
                db = hyperscan.Database()
                db.compile(
                    expressions=[e for _, e, _ in items],
                    ids=[i for i, _, _ in items],
                    elements=len(items),
                    flags=[f for _, _, f in items],
                )
                self._built = db
            elif self.terms:
                db = hyperscan.Database()
                db.compile(
                    expressions=[t.text.encode("utf-8") for t in self.terms],
                    ids=list(range(len(self.terms))),
                    elements=len(self.terms),
                    flags=0,
                    literal=True,
                )
                self._built = db
            else:
                self._built = False
            return
        a = ahocorasick.Automaton()
        for term in self.terms:
            a.add_word(term.text, term.id)
        if self.terms:
            a.make_automaton()
        self._built = a

    def attach_prescan(self, items: Callable[[int], list[tuple[int, bytes, int]]]) -> bool:
        """Compile a prescan's patterns into the term database, so that one pass over
        a text finds both; :meth:`find_into` then returns the prescan's mask.

        ``items(base)`` gives Hyperscan ``(id, expression, flags)`` items whose reporting
        ids are ``base + k`` for bit ``k`` of the mask (``k < 64``), ``base`` being the
        number of terms (e.g. :func:`qinglang.entities.gate.hyperscan_items`). Two
        scans of every text cost their fixed part twice (the call, the encoding, the
        scratch); one costs it once. Returns whether the prescan is attached: only
        with the Hyperscan backend and the C indexing built, and where the text has
        terms at all; otherwise :meth:`find_into` returns ``None`` and the caller
        runs the prescan itself.
        """
        if self.backend != "hyperscan" or _spans is None or not self.terms:
            return False
        self._prescan = items
        self._built = None  # compiled again, with the prescan, on the next build or scan
        return True

    def find(self, text: str) -> list[Occurrence]:
        """Every occurrence of every term in ``text``, overlapping ones included (in text order)."""
        occ: dict[int, list[tuple[int, int, int, bool]]] = {}
        self.find_into(text, 0, occ)
        return sorted(((tid, s, e, b) for tid, lst in occ.items() for _, s, e, b in lst), key=lambda o: (o[1], o[2]))

    def find_into(self, text: str, field: int, occ: dict[int, list[tuple[int, int, int, bool]]]) -> int | None:
        """Add every occurrence in ``text`` to ``occ`` as ``term id -> [(field, start, end, bounded)]``.

        The engine's hot path: one loop from the backend's matches straight into the
        per-post index, instead of building an occurrence list first. Returns the
        mask of an attached prescan (:meth:`attach_prescan`) for ``text``, else None.
        """
        if self._built is None:
            self.build()
        if not self.terms:
            return None
        if not text:
            return 0 if self._prescan is not None else None
        if self.backend == "hyperscan":
            if _spans is not None:
                found: list[tuple[int, int]] = []
                # positional arguments: the binding's keyword parsing costs a third of the call
                self._built.scan(text.encode("utf-8"), _spans.collect, 0, found)
                mask = _spans.index_into(text, found, self._lengths, self._bounds, field, occ) if found else 0
                return mask if self._prescan is not None else None
            spans = self._find_hyperscan(text)
        else:
            spans = [(tid, end + 1 - len(self.terms[tid].text), end + 1) for end, tid in self._built.iter(text)]
        if not spans:
            return None
        n = len(text)
        terms = self.terms
        for tid, start, end in spans:
            term = terms[tid]
            bounded = not (
                (term.bound_start and start > 0 and _is_word_char(text[start - 1]))
                or (term.bound_end and end < n and _is_word_char(text[end]))
            )
            lst = occ.get(tid)
            if lst is None:
                occ[tid] = [(field, start, end, bounded)]
            else:
                lst.append((field, start, end, bounded))
        return None

    def _find_hyperscan(self, text: str) -> list[tuple[int, int, int]]:
        data = text.encode("utf-8")
        found: list[tuple[int, int]] = []
        self._built.scan(data, _collect if _spans is None else _spans.collect, 0, found)
        if not found:
            return []
        nbytes = self._nbytes
        if len(data) == len(text):  # ASCII: bytes are characters
            return [(tid, end - nbytes[tid], end) for tid, end in found]
        if _spans is not None:
            return _spans.char_spans(text, found, self._lengths)
        out = []
        cache: dict[int, int] = {}
        for tid, end in found:
            bstart = end - nbytes[tid]
            s = cache.get(bstart)
            if s is None:
                s = cache[bstart] = len(data[:bstart].decode("utf-8"))
            out.append((tid, s, s + len(self.terms[tid].text)))
        return out


def _collect(tid: int, _from: int, to: int, _flags: int, found: list[tuple[int, int]]) -> None:
    found.append((tid, to))
