"""Offset maps: every character of normalized text knows where it came from.

Normalization runs as a series of passes. A pass that keeps length (a 1:1
``str.translate``) needs no map. A pass that deletes or rewrites characters
describes itself as *edits* ``(start, end, replacement)`` over its input;
:func:`apply_edits` produces the output text and a :class:`LayerMap`.
:class:`NormalizedText` stacks the layers and maps any span of the final text back
to the exact span of the original, so evidence always points at what the author
wrote.

Mapping is lazy (bisect over a handful of segments) because most posts carry no
evidence at all; building per-character arrays for every post would cost more than
the detection itself.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

Edit = tuple[int, int, str]


@dataclass(slots=True)
class LayerMap:
    """Maps indices of one pass's output back to its input.

    Segments are ``(out_start, out_len, src_start, src_end)``. In an identity segment
    ``out_len == src_end - src_start`` and characters map one to one; in a rewrite
    segment every output character maps to the whole source span.
    """

    out_starts: list[int]
    segments: list[tuple[int, int, int, int, bool]]
    out_len: int
    src_len: int

    def char_span(self, i: int) -> tuple[int, int]:
        """Source span of output character ``i`` (``0 <= i < out_len``)."""
        k = bisect_right(self.out_starts, i) - 1
        out_start, _out_len, src_start, src_end, identity = self.segments[k]
        if identity:
            s = src_start + (i - out_start)
            return s, s + 1
        return src_start, src_end

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Source span covering output span ``[start, end)``."""
        if end <= start:
            if start >= self.out_len:
                return self.src_len, self.src_len
            s = self.char_span(start)[0]
            return s, s
        return self.char_span(start)[0], self.char_span(end - 1)[1]


def apply_edits(src: str, edits: Iterable[Edit]) -> tuple[str, LayerMap | None]:
    """Apply sorted, non-overlapping edits; return the new text and its map.

    Returns ``(src, None)`` when there are no edits, so callers can skip a layer for
    free. An edit with an empty replacement deletes; replacing an empty span is not
    allowed (inserted text would have no source).
    """
    parts: list[str] = []
    out_starts: list[int] = []
    segments: list[tuple[int, int, int, int, bool]] = []
    pos = 0
    out_pos = 0
    any_edit = False
    for start, end, repl in edits:
        if start < pos or end <= start:
            raise ValueError(f"edits must be sorted, non-overlapping and non-empty: {start}-{end}")
        any_edit = True
        if start > pos:
            n = start - pos
            parts.append(src[pos:start])
            out_starts.append(out_pos)
            segments.append((out_pos, n, pos, start, True))
            out_pos += n
        if repl:
            parts.append(repl)
            out_starts.append(out_pos)
            identity = len(repl) == end - start
            segments.append((out_pos, len(repl), start, end, identity))
            out_pos += len(repl)
        pos = end
    if not any_edit:
        return src, None
    if pos < len(src):
        n = len(src) - pos
        parts.append(src[pos:])
        out_starts.append(out_pos)
        segments.append((out_pos, n, pos, len(src), True))
        out_pos += n
    if not segments:  # everything deleted
        out_starts.append(0)
        segments.append((0, 0, len(src), len(src), True))
    return "".join(parts), LayerMap(out_starts, segments, out_pos, len(src))


@dataclass(slots=True)
class NormalizedText:
    """Normalized text plus the way back to the original.

    ``text`` is what detectors read; ``to_original(start, end)`` returns the span of
    ``original`` that produced ``text[start:end]``.
    """

    original: str
    text: str
    layers: list[LayerMap] = field(default_factory=list)

    @classmethod
    def identity(cls, text: str) -> NormalizedText:
        return cls(text, text, [])

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        for layer in reversed(self.layers):
            start, end = layer.span(start, end)
        return start, end

    def original_text(self, start: int, end: int) -> str:
        s, e = self.to_original(start, end)
        return self.original[s:e]
