"""The objects that flow through qinglang, in one place.

These are plain slotted dataclasses rather than pydantic models on purpose: a scan
creates several per post at tens of thousands of posts per second, and validation
happens once at the edge (``qinglang.io.records``), not on every construction.
``to_dict`` gives the documented JSON shape (docs/verdict-schema.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Text fields of a post that detection reads, in the order evidence lists them.
TEXT_FIELDS: tuple[str, ...] = ("text", "title", "transcript", "ocr", "bio", "links")

SEVERITY_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}

#: float -> round(float, 4), for :func:`round4`
_ROUND4: dict[float, float] = {}
#: entries kept before the cache starts again (model probabilities vary freely)
_ROUND4_SIZE = 4096


def round4(x: float) -> float:
    """``round(x, 4)``, remembered: output rounds every score, and ``round`` with
    digits costs ~0.3 µs (a correctly rounded decimal conversion), while a flagged
    post's ~20 hits repeat a handful of rule scores. Only non-zero floats are kept:
    an int would come back for an equal float, and -0.0 for 0.0."""
    if type(x) is not float or not x:
        return round(x, 4)
    r = _ROUND4.get(x)
    if r is None:
        if len(_ROUND4) >= _ROUND4_SIZE:
            _ROUND4.clear()
        r = _ROUND4[x] = round(x, 4)
    return r


@dataclass(slots=True)
class Post:
    """One post. ``links`` is joined into one text field (one link a line) for detection."""

    id: str
    text: str
    account_id: str | None = None
    platform: str | None = None
    timestamp: str | None = None
    title: str | None = None
    transcript: str | None = None
    ocr: str | None = None
    links: list[str] | None = None
    bio: str | None = None
    lang: str | None = None

    def fields(self) -> list[tuple[str, str]]:
        """(field name, text) for every non-empty text field."""
        out = [("text", self.text)] if self.text else []
        # spelled out, not a getattr loop: this runs once per post on the hot path
        if self.title:
            out.append(("title", self.title))
        if self.transcript:
            out.append(("transcript", self.transcript))
        if self.ocr:
            out.append(("ocr", self.ocr))
        if self.bio:
            out.append(("bio", self.bio))
        if self.links:
            out.append(("links", "\n".join(self.links)))
        return out


@dataclass(slots=True)
class Entity:
    """An identifier or claim found in a post.

    ``value`` is the canonical form (``wechat:abc123``, ``phone:+8613800138000``,
    ``domain:example.com``); ``start``/``end`` index the field's original text.
    """

    type: str
    value: str
    field: str
    start: int
    end: int
    text: str
    detail: dict[str, Any] | None = None
    #: span in the field's normalized text (internal: used by "near" conditions)
    nstart: int = -1
    nend: int = -1

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "value": self.value,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }
        if self.detail:
            d["detail"] = self.detail
        return d


@dataclass(slots=True)
class Hit:
    """One piece of evidence: a rule (or model) that fired, and where."""

    category: str
    rule: str
    pack: str
    pack_version: str
    field: str | None
    match: str
    start: int | None
    end: int | None
    text: str | None
    score: float
    kind: str = "rule"
    detail: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind,
            "category": self.category,
            "rule": self.rule,
            "pack": self.pack,
            "pack_version": self.pack_version,
            "field": self.field,
            "match": self.match,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round4(self.score),
        }
        if self.detail:
            d["detail"] = self.detail
        return d


@dataclass(slots=True)
class CategoryScore:
    code: str
    score: float
    severity: str
    review_only: bool
    rules: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "score": round4(self.score),
            "severity": self.severity,
            "review_only": self.review_only,
            "rules": self.rules,
        }


@dataclass(slots=True)
class Verdict:
    id: str
    categories: list[CategoryScore]
    severity: str
    review_only: bool
    hits: list[Hit]
    entities: list[Entity]
    versions: dict[str, Any]
    account_id: str | None = None
    platform: str | None = None
    degraded: list[str] | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.categories)

    def codes(self) -> list[str]:
        return [c.code for c in self.categories]

    def to_dict(self) -> dict[str, Any]:
        # empty lists are built without a comprehension: most verdicts have no category
        # and no hit, and this runs once per output record
        cats, hits, ents = self.categories, self.hits, self.entities
        d: dict[str, Any] = {
            "id": self.id,
            "flagged": bool(cats),
            "categories": [c.to_dict() for c in cats] if cats else [],
            "severity": self.severity,
            "review_only": self.review_only,
            "hits": [h.to_dict() for h in hits] if hits else [],
            "entities": [e.to_dict() for e in ents] if ents else [],
            "versions": self.versions,
        }
        if self.account_id is not None:
            d["account_id"] = self.account_id
        if self.platform is not None:
            d["platform"] = self.platform
        if self.degraded:
            d["degraded"] = self.degraded
        return d


@dataclass(slots=True)
class ErrorRecord:
    """The output for an input record that could not be scanned."""

    id: str | None
    code: str
    message: str
    record: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "error": {"code": self.code, "message": self.message, "record": self.record},
        }
