"""Shapes of the cluster routes (``qinglang.cluster``), as ``qinglang cluster ... --json`` prints them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BuildOut(BaseModel):
    run_id: int
    watermark: int = Field(description="The highest verdict row id read; the next build reads past it")
    verdicts_read: int
    links_added: int
    clusters: int
    new: list[str]
    kept: list[str]
    retired: list[str]
    hubs: list[dict[str, Any]] = Field(description="Identifiers held by too many accounts to link them")
    stats: dict[str, Any]


class ClusterSummary(BaseModel):
    cluster_id: str
    status: str
    size: int
    risk: float
    categories: dict[str, int]
    platforms: list[str]
    first_activity: str | None
    last_activity: str | None
    roles: dict[str, int]


class ClusterList(BaseModel):
    clusters: list[ClusterSummary]
    built: bool = Field(description="Whether the tenant has a cluster run at all")


class MemberOut(BaseModel):
    account: str
    platform: str
    role: str
    roles: list[str]


class SharedIdentifier(BaseModel):
    identifier: str
    kind: str
    accounts: int


class ClusterOut(ClusterSummary):
    members: list[MemberOut]
    identifiers: list[SharedIdentifier]
    chain: dict[str, dict[str, Any]] = Field(description="information, funds, technology, people")
    risk_terms: dict[str, float]


class DossierOut(ClusterOut):
    model_config = ConfigDict(extra="allow")

    dossier: str
    tenant: str
    generated_at: str
    timeline: list[dict[str, Any]]
    evidence_hashes: list[str]
    dossier_sha256: str


class Hop(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    identifier: str
    kind: str
    to: str
    evidence: dict[str, list[dict[str, Any]]]


class ExplainOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    cluster_id: str
    from_: str = Field(alias="from")
    to: str
    length: int
    path: list[Hop]


class BlocklistOut(BaseModel):
    kind: str
    clusters: list[str]
    lines: list[str] = Field(description="The list, one entry per line (CSV: rows)")


class ActIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review: bool = Field(False, description="Open a review case whatever the cluster's size")
    dry_run: bool = Field(False, description="Answer the proposal, record nothing")


class ActAccount(BaseModel):
    account: str
    platform: str
    role: str
    points: int
    own_step: str | None
    verdict_ids: list[int]


class ActOut(BaseModel):
    cluster_id: str
    outcome: str = Field(description="act, or review (a case was opened)")
    action: str
    policy: str
    reasons: list[str]
    size: int
    accounts: list[ActAccount]
    recorded: list[str]
    case_id: int | None
    existing_case: bool = Field(False, description="true: a case for this cluster and action was already "
                                "waiting for a person; case_id names it and nothing new was opened")


class AccountRowsIn(BaseModel):
    rows: list[dict[str, Any]] = Field(description="One per account: account, platform, device_id, ip, "
                                       "payment_account, registration_phone, seen_at")


class AccountProblem(BaseModel):
    line: int
    code: str
    message: str


class AccountsImportOut(BaseModel):
    rows: int
    accounts: int
    links_added: int
    problems: list[AccountProblem]
