"""The store's tables: SQLAlchemy 2 typed declarative models.

The same models run on SQLite (the default) and PostgreSQL (production), so only
portable types are used: ``JSON`` (JSONB on PostgreSQL, through a variant),
``UTCDateTime`` (timezone-aware, stored in UTC on both) and plain strings/integers.
Constraint names follow one naming convention so that Alembic migrations are
deterministic on every backend.

The first migration (``migrations/versions/0001_initial.py``) creates exactly these
tables; ``tests/store/test_migrations.py`` fails when the two drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON everywhere; JSONB on PostgreSQL (indexable, compared by value).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC; naive datetimes are refused.

    PostgreSQL keeps ``timestamp with time zone``; SQLite keeps the UTC wall time
    as text, and values read back get ``tzinfo=UTC`` again.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps timezone-aware datetimes only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        datetime: UTCDateTime(),
    }


# --- licensed-entity registry ---


class RegistryEntity(Base):
    """A licensed institution or registered professional (``qinglang.registry.RegistryEntry``).

    ``entry_id`` is the registry's own id for the entry; ``valid_from``/``valid_to``
    are inclusive dates, ``None`` open on that side.
    """

    __tablename__ = "registry_entities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32), default="institution")
    licence_type: Mapped[str] = mapped_column(String(64))
    licence_number: Mapped[str] = mapped_column(String(128), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(256), default="")
    affiliation: Mapped[str] = mapped_column(String(512), default="")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: set when a ``--replace`` import no longer lists the entry (kept for history and bound accounts)
    retired_at: Mapped[datetime | None]


class RegistryAlias(Base):
    """Another name an entity goes by: a short name, a brand, a domain, a handle."""

    __tablename__ = "registry_aliases"
    __table_args__ = (UniqueConstraint("entity_id", "kind", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("registry_entities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32), default="name")
    alias: Mapped[str] = mapped_column(String(512), index=True)


# --- accounts, posts, verdicts ---


class Account(Base):
    """A posting account, one per (tenant, platform, external id).

    ``platform`` is ``""`` when the post named none, so the unique key holds (NULLs
    never collide in a unique constraint).
    """

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant", "platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(64), default="")
    external_id: Mapped[str] = mapped_column(String(256))
    followers: Mapped[int | None]
    registry_entity_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_entities.id", ondelete="SET NULL"), index=True
    )
    #: how ``registry_entity_id`` was set: ``declared`` (a person, wins) or ``matched`` (by name at ingest)
    binding_source: Mapped[str | None] = mapped_column(String(16))
    bound_at: Mapped[datetime | None]
    bound_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PostVersion(Base):
    """One version of a post: a post whose text fields changed is a new version.

    ``content_hash`` is SHA-256 over the text fields (see ``repo.content_hash``);
    ``fields`` holds the whole post as it arrived.
    """

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("tenant", "post_id", "version"),
        Index("ix_posts_tenant_post_id_content_hash", "tenant", "post_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[str] = mapped_column(String(256))
    version: Mapped[int]
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    platform: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]]
    posted_at: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class VerdictRow(Base):
    """A verdict on one post version by one set of engine/pack/model versions.

    ``versions_key`` is SHA-256 over ``versions`` (stable JSON): re-detecting the same
    version with the same engine finds the stored verdict instead of adding one.
    """

    __tablename__ = "verdicts"
    __table_args__ = (UniqueConstraint("post_version_id", "versions_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # no index of its own: the unique key (post_version_id, versions_key) leads with it
    post_version_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    tenant: Mapped[str] = mapped_column(String(64))
    flagged: Mapped[bool] = mapped_column(Boolean)
    categories: Mapped[list[Any]]
    severity: Mapped[str] = mapped_column(String(16))
    review_only: Mapped[bool] = mapped_column(Boolean)
    hits: Mapped[list[Any]]
    entities: Mapped[list[Any]]
    versions: Mapped[dict[str, Any]]
    versions_key: Mapped[str] = mapped_column(String(64))
    degraded: Mapped[list[Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- actions, cases, reviews, appeals ---


class Strike(Base):
    """Points an account earned from one verdict in one category (the ladder's input).

    One strike per (verdict, category): ingesting a post again cannot add points.
    """

    __tablename__ = "strikes"
    __table_args__ = (UniqueConstraint("verdict_id", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    points: Mapped[int]
    at: Mapped[datetime]
    rule_ids: Mapped[list[Any]] = mapped_column(default=list)
    reversed_at: Mapped[datetime | None]


class ActionRow(Base):
    """An action on an account or a post (``qinglang.decide.Action``), with its causes.

    ``target`` is ``account`` or ``content`` (``subject``: the post id); ``rule_ids``
    are the ladder rules, ``detection_rule_ids`` the detection rules behind the
    verdicts in ``cause_verdict_ids``; ``policy`` names the ladder and its version.
    ``idem_key`` (unique per tenant when set; the decide layer's action id) records an
    action at most once for the same cause, however often a post is ingested.
    """

    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("tenant", "idem_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(16), default="account")
    subject: Mapped[str] = mapped_column(String(256), default="")
    category: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="active")
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    cause_verdict_ids: Mapped[list[Any]] = mapped_column(default=list)
    rule_ids: Mapped[list[Any]] = mapped_column(default=list)
    detection_rule_ids: Mapped[list[Any]] = mapped_column(default=list)
    policy: Mapped[str] = mapped_column(String(128), default="")
    points: Mapped[int] = mapped_column(default=0)
    step: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    idem_key: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """A unit of analyst work: verdicts (and their account) gathered for review.

    ``reasons`` are the decide layer's stable codes for why a person must look
    (``review_only_category``, ``low_confidence``, ...). ``status`` is ``open``,
    ``claimed`` (``assignee`` holds it since ``claimed_at``) or ``closed``; the review
    queue (``store.reviews``) claims with a conditional update on these columns.
    ``idem_key`` is unique per tenant (several ``NULL`` keys are allowed).
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_tenant_status_priority", "tenant", "status", "priority"),
                      UniqueConstraint("tenant", "idem_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(512), default="")
    status: Mapped[str] = mapped_column(String(32), default="open")
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    detail: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(default=0)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    assignee: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    opened_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]
    #: what opened it, once: ``<post id>#<version>/case`` for ingest (a second writer deciding
    #: the same post version finds the first one's case); ``None`` for cases opened by hand
    idem_key: Mapped[str | None] = mapped_column(String(256))


class CaseVerdict(Base):
    """Which verdicts a case holds."""

    __tablename__ = "case_verdicts"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    """An analyst's decision on a verdict: ``confirm``, ``overturn`` or ``recategorize``.

    ``categories`` are the categories the reviewer says are right (empty for an
    overturn), ``previous_categories`` what the verdict said: the pair is a labeled
    training example (``store.training_export``).
    """

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    reviewer: Mapped[str] = mapped_column(String(128))
    decision: Mapped[str] = mapped_column(String(32))
    categories: Mapped[list[Any] | None]
    previous_categories: Mapped[list[Any] | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Appeal(Base):
    """An account's appeal against an action, and its outcome.

    ``status`` is ``open``, ``upheld`` or ``rejected``; ``changes`` lists what an
    upheld appeal's reversal changed (action key, change, note), for the record.
    """

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    appellant: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decision_note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[list[Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


# --- audit log ---


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit log.

    ``hash`` covers ``prev_hash`` and the entry's own fields, so an edited or removed
    entry breaks the chain from there on (the audit layer computes and verifies it).
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(256), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


import qinglang.cluster.tables  # noqa: E402  (gang clusters, migration 0004)
import qinglang.service.tables  # noqa: E402, F401  (HTTP service API keys, migration 0005)
