"""The cluster tables (migration ``0004_clusters``), on the store's declarative base.

Imported at the end of ``qinglang.store.tables`` so Alembic and the migration test
see them with the rest of the schema.

* ``account_identifiers``: one row per (account, identifier, source): the links of
  the graph, with when they were first and last seen and their evidence (post ids,
  versions, fields and spans; capped, newest kept).
* ``cluster_runs``: each ``cluster build``: the verdict-id watermark it read up to,
  its settings and its statistics.
* ``clusters``: the current state of each stable cluster id (``C-000123``) in a
  tenant; ids of clusters that no longer exist are ``retired``, never deleted.
* ``cluster_members``: who is in an active cluster now, with their role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qinglang.store.tables import Base, utcnow


class AccountIdentifier(Base):
    """An identifier an account showed: in a flagged post (``verdict``) or its metadata (``account_meta``)."""

    __tablename__ = "account_identifiers"
    __table_args__ = (
        UniqueConstraint("account_id", "identifier", "source"),
        Index("ix_account_identifiers_tenant_identifier", "tenant", "identifier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    identifier: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    evidence: Mapped[list[Any]] = mapped_column(default=list)


class ClusterRun(Base):
    """One ``cluster build``: what it read (``watermark``: the last verdict row id) and found."""

    __tablename__ = "cluster_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    watermark: Mapped[int] = mapped_column(default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ClusterRow(Base):
    """The current state of one stable cluster id in a tenant."""

    __tablename__ = "clusters"
    __table_args__ = (UniqueConstraint("tenant", "cluster_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    cluster_id: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("cluster_runs.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    size: Mapped[int] = mapped_column(default=0)
    categories: Mapped[dict[str, Any]] = mapped_column(default=dict)
    platforms: Mapped[list[Any]] = mapped_column(default=list)
    first_activity: Mapped[datetime | None]
    last_activity: Mapped[datetime | None]
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ClusterMember(Base):
    """An account in an active cluster, with its primary role and every role it matched."""

    __tablename__ = "cluster_members"
    __table_args__ = (UniqueConstraint("cluster_row_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_row_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list[Any]] = mapped_column(default=list)
