"""Shapes of the accounts and registry routes, for the OpenAPI document.

The routes answer what ``qinglang.store.accounts_view`` and ``store.registry_store``
return (the same values ``qinglang accounts``/``qinglang registry --json`` print);
these models document them and ``tests/service/test_schema_fuzz.py`` checks real
answers against them. Request bodies are validated with these models too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: text the store can keep (no NUL: PostgreSQL refuses it)
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


class EntityOut(BaseModel):
    """A licence registry entry with its validity today (``valid``, ``expired``, ``not_yet_valid``, ``retired``)."""

    id: str
    name: str
    kind: str
    licence_type: str
    licence_number: str
    aliases: list[str]
    valid_from: str | None
    valid_to: str | None
    source: str
    affiliation: str
    extra: dict[str, Any]
    validity: str
    retired_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None


class EntityList(BaseModel):
    entries: list[EntityOut]


class BoundAccountOut(BaseModel):
    platform: str
    account_id: str
    binding_source: str | None
    bound_at: datetime | None
    bound_by: str | None


class HistoryEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    payload: dict[str, Any]


class EntityDetailOut(EntityOut):
    accounts: list[BoundAccountOut] = Field(description="The key's tenant's accounts bound to the entry")
    history: list[HistoryEntryOut] = Field(description="The entry's changes, from the audit log")


class RegistryRowsIn(BaseModel):
    """Registry rows as JSON objects, one per CSV row (the CSV columns, docs/registry.md)."""

    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, Any]] = Field(description="Each row: name, licence_type, licence_number, and optional "
                                       "id, kind, aliases (a list or ';'-separated), valid_from, valid_to, "
                                       "source, affiliation")
    replace: bool | None = Field(None, description="The rows are the whole registry: retire entries they "
                                 "do not list (also the 'replace' query flag)")


class RowProblemOut(BaseModel):
    line: int = Field(description="CSV line (JSON rows: the row's position + 1, the header being line 1)")
    field: str
    code: str
    reason: str
    hint: str | None = None


class ImportIds(BaseModel):
    added: list[str]
    changed: list[str]
    retired: list[str]


class RegistryImportOut(BaseModel):
    """What an import did; bad rows are reported, the rest imported."""

    ok: bool
    rows_read: int
    added: int
    changed: int
    unchanged: int
    retired: int
    bad_rows: int
    replace: bool
    replace_skipped: bool = Field(description="'replace' was asked for but not done: rows were bad (QL-6204)")
    ids: ImportIds
    problems: list[RowProblemOut]


class AccountSummaryOut(BaseModel):
    platform: str
    account_id: str
    points: int
    step: str | None
    active_actions: int
    actions: int
    last_action_at: datetime | None
    entity: dict[str, str] | None
    binding_source: str | None


class AccountList(BaseModel):
    accounts: list[AccountSummaryOut]


class AccountCore(BaseModel):
    tenant: str
    platform: str
    account_id: str
    followers: int | None
    created_at: datetime | None
    updated_at: datetime | None


class BindingOut(BaseModel):
    entity: EntityOut
    source: str = Field(description="declared (a person said so) or matched (the name matched at ingest)")
    bound_at: datetime | None
    bound_by: str | None


class PointsOut(BaseModel):
    in_window: int
    window_days: int
    step: str | None
    policy: str
    now: datetime


class PostRef(BaseModel):
    verdict_id: int
    post_id: str | None = None
    version: int | None = None


class StrikeOut(BaseModel):
    id: int
    category: str
    severity: str
    points: int
    at: datetime
    counts: bool
    rule_ids: list[Any]
    reversed_at: datetime | None
    cause: PostRef | None


class ActionOut(BaseModel):
    id: int
    key: str | None
    kind: str
    target: str
    subject: str
    category: str | None
    status: str
    expiry_due: bool
    starts_at: datetime
    expires_at: datetime | None
    ended_at: datetime | None
    causes: list[PostRef]
    rule_ids: list[Any]
    detection_rule_ids: list[Any]
    points: int
    policy: str
    created_by: str
    note: str


class HistoryVerdict(BaseModel):
    id: int
    flagged: bool
    severity: str
    review_only: bool
    categories: list[dict[str, Any]]


class PostHistoryOut(BaseModel):
    post_id: str
    version: int
    first_seen: datetime
    posted_at: str | None
    verdict: HistoryVerdict | None


class OpenCaseOut(BaseModel):
    id: int
    status: str
    title: str
    reasons: list[str]
    categories: list[str]
    priority: int
    assignee: str | None
    created_at: datetime


class AccountAppealOut(BaseModel):
    id: int
    action_id: int
    status: str
    appellant: str
    reason: str
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None


class AccountView(BaseModel):
    """Everything the store knows about one account of the key's tenant."""

    account: AccountCore
    binding: BindingOut | None
    points: PointsOut
    strikes: list[StrikeOut]
    actions: list[ActionOut]
    history: list[PostHistoryOut] = Field(description="Latest post versions with their latest verdict")
    open_cases: list[OpenCaseOut]
    appeals: list[AccountAppealOut]


class BindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_id: Annotated[Text, Field(min_length=1, max_length=128, description="The registry entry's id")]


class BindingChangeOut(BaseModel):
    changed: bool = Field(description="False when the binding already was what was asked")
    binding: BindingOut | None
