"""Request and response shapes, for the OpenAPI document (and request validation where used).

Responses are written with orjson straight from ``Verdict.to_dict()`` and friends
(no per-request model building on the hot path), so these models document the
shapes those functions produce; ``tests/service/test_schema_fuzz.py`` checks real
responses against them. Posts are validated by ``qinglang.io.records`` (the same
coded errors as the CLI), so :class:`PostIn` only documents the input fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code, QL-xxxx (docs/verdict-schema.md)")
    message: str
    hint: str | None = None


class PostIn(BaseModel):
    """A post, as in a line of a JSONL input file (docs/verdict-schema.md, "Input"); other keys are ignored."""

    model_config = ConfigDict(extra="allow")

    id: str | int
    text: str | None = None
    title: str | None = None
    transcript: str | None = None
    ocr: str | None = None
    bio: str | None = None
    links: list[str] | None = None
    account_id: str | int | None = None
    platform: str | None = None
    timestamp: str | None = None
    lang: str | None = None


class BatchIn(BaseModel):
    posts: list[dict[str, Any]] = Field(description="Posts (each as PostIn); a bad one becomes an error record")


class CategoryOut(BaseModel):
    code: str
    score: float
    severity: str
    review_only: bool
    rules: list[str]


class HitOut(BaseModel):
    kind: str
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
    detail: dict[str, Any] | None = None


class EntityOut(BaseModel):
    type: str
    value: str
    field: str
    start: int
    end: int
    text: str
    detail: dict[str, Any] | None = None


class VerdictOut(BaseModel):
    """A verdict, exactly as ``qinglang scan`` writes it (docs/verdict-schema.md, "Verdict")."""

    id: str
    flagged: bool
    categories: list[CategoryOut]
    severity: str
    review_only: bool
    hits: list[HitOut]
    entities: list[EntityOut]
    versions: dict[str, Any]
    account_id: str | None = None
    platform: str | None = None
    degraded: list[str] | None = Field(None, description="Present when a regex rule ran out of time: the "
                                       "verdict is missing that rule's evidence")


class RecordError(BaseModel):
    code: str
    message: str
    record: int


class ErrorRecordOut(BaseModel):
    """A post that got no verdict: its id (when it had one) and the coded reason."""

    id: str | None
    error: RecordError


class BatchOut(BaseModel):
    results: list[VerdictOut | ErrorRecordOut] = Field(description="One per input post, in order")
    verdicts: int
    errors: int


class IngestOut(BaseModel):
    results: list[VerdictOut | ErrorRecordOut]
    stats: dict[str, Any] = Field(description="What was stored and decided (as 'qinglang ingest --json')")


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    tenant: str | None
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_after: int | None = Field(description="Pass as 'after' for the next page; null at the end")


class AuditProblem(BaseModel):
    kind: str
    seq: int
    message: str
    last_seq: int | None = None


class AuditVerifyOut(BaseModel):
    ok: bool
    entries: int
    head: str | None
    anchor: str | None
    problems: list[AuditProblem]


class KeyCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["ingest", "reviewer", "supervisor", "auditor", "admin"]
    name: str = Field("", max_length=128)
    tenant: str | None = Field(None, description="Defaults to the admin key's tenant; no other is allowed")


class KeyOut(BaseModel):
    key_id: str
    role: str
    tenant: str
    name: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


class KeyCreatedOut(KeyOut):
    token: str = Field(description="The API key. Shown this once: only its hash is stored")


class KeyList(BaseModel):
    keys: list[KeyOut]


class VersionsOut(BaseModel):
    service: str
    engine: str
    packs: dict[str, str]
    model: dict[str, Any] | None
    ladder: dict[str, str]
    schema_revision: str | None


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    checks: dict[str, str]
