"""Shapes of the cases/reviews and appeals routes, for the OpenAPI document and request validation.

Answers are ``CaseView.to_dict()``, ``ReviewResult.to_dict()`` and ``AppealView.to_dict()``
from ``qinglang.store.reviews``/``store.appeals`` (as ``qinglang review``/``qinglang appeal
--json`` print them).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qinglang.service.schemas_accounts import Text


class CasePostOut(BaseModel):
    verdict_id: int
    post_id: str
    version: int
    categories: list[dict[str, Any]] = Field(description="The verdict's categories, with scores")
    text: str | None = None
    title: str | None = None
    transcript: str | None = None
    ocr: str | None = None
    bio: str | None = None
    links: list[str] | None = None


class CaseOut(BaseModel):
    id: int
    tenant: str
    title: str
    status: Literal["open", "claimed", "closed"]
    priority: int
    reasons: list[str]
    categories: list[str]
    detail: str = Field(description="The ladder's detail, with its proposal (e.g. 'proposed: remove_content')")
    account: str | None
    assignee: str | None = Field(description="Who holds the claim: key:<key id>")
    claimed_at: str | None
    created_at: str
    closed_at: str | None
    posts: list[CasePostOut]


class CaseList(BaseModel):
    cases: list[CaseOut]


class NextCaseOut(BaseModel):
    case: CaseOut | None = Field(description="The claimed case; null when nothing waits")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "overturn", "recategorize"]
    categories: list[Annotated[Text, Field(max_length=64)]] = Field(
        default_factory=list, max_length=32, description="recategorize only: taxonomy codes")
    note: Annotated[Text, Field(max_length=4000)] = ""


class ReviewedVerdict(BaseModel):
    model_config = ConfigDict(extra="allow")

    verdict_row_id: int
    post_id: str
    version: int
    previous_categories: list[str]
    categories: list[str]
    outcome: str
    reason: str
    actions: list[str]
    strikes: int
    decision: dict[str, Any] | None = Field(None, description="The ladder's decision, when it acted")


class ReviewOut(BaseModel):
    case_id: int
    reviewer: str
    decision: str
    note: str
    actions: list[str]
    verdicts: list[ReviewedVerdict]


class AppealIn(BaseModel):
    """An account holder's appeal, relayed by the platform (or filed by a supervisor)."""

    model_config = ConfigDict(extra="forbid")

    action: Annotated[int, Field(ge=1, le=2**62)] | Annotated[Text, Field(min_length=1, max_length=256)] = Field(
        description="The contested action: its id, or its key ('<post id>#<version>/<kind>')")
    reason: Annotated[Text, Field(max_length=4000)] = Field("", description="The account holder's grounds")


class AppealChange(BaseModel):
    action_key: str
    change: str
    note: str


class AppealOut(BaseModel):
    id: int
    tenant: str
    action_id: int
    action_key: str | None
    action_kind: str
    action_status: str
    account: str
    appellant: str = Field(description="Who filed it: key:<key id>")
    reason: str
    status: Literal["open", "upheld", "rejected"]
    decided_by: str | None
    decision_note: str | None
    changes: list[AppealChange]
    created_at: str
    decided_at: str | None


class AppealList(BaseModel):
    appeals: list[AppealOut]


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["upheld", "rejected"]
    note: Annotated[Text, Field(max_length=4000)] = ""
