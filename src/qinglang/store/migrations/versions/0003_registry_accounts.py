"""Schema for licence registry persistence and account bindings.

``registry_entities.retired_at``: a ``--replace`` import retires the entries its
snapshot no longer lists instead of deleting them (accounts stay bound, history stays
readable). ``accounts.binding_source`` (``declared`` | ``matched``), ``bound_at`` and
``bound_by`` say how ``registry_entity_id`` was set, so a declared binding is never
overwritten by a name match at ingest.

Only nullable columns without constraints are added, so on SQLite both directions run
as plain ``ALTER TABLE`` (``recreate="never"``): recreating ``accounts`` would drop a
table that posts, strikes and actions reference, with foreign keys enforced.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here so that the migration never changes with the models (UTCDateTime).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("registry_entities", recreate="never") as batch:
        batch.add_column(sa.Column("retired_at", TIMESTAMP, nullable=True))
    with op.batch_alter_table("accounts", recreate="never") as batch:
        batch.add_column(sa.Column("binding_source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("bound_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("bound_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", recreate="never") as batch:
        batch.drop_column("bound_by")
        batch.drop_column("bound_at")
        batch.drop_column("binding_source")
    with op.batch_alter_table("registry_entities", recreate="never") as batch:
        batch.drop_column("retired_at")
