"""Schema for review queue and appeals (claims, review outcomes, appeal decisions).

- ``cases.claimed_at``: when the assignee claimed the case, so that a claim older than
  the lease can be taken over (a reviewer who walks away does not block a case);
- index (``tenant``, ``status``, ``priority``) on ``cases``: the queue's lookup;
- ``reviews.previous_categories``: what the verdict said before the reviewer decided
  (with ``reviews.categories`` it is a labeled training example);
- ``appeals.changes``: what an upheld appeal's reversal changed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Portable types, spelled out here so that the migration never changes with the models.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("claimed_at", TIMESTAMP, nullable=True))
        batch.create_index("ix_cases_tenant_status_priority", ["tenant", "status", "priority"], unique=False)
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("previous_categories", JSON, nullable=True))
    with op.batch_alter_table("appeals") as batch:
        batch.add_column(sa.Column("changes", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("changes")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("previous_categories")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_tenant_status_priority")
        batch.drop_column("claimed_at")
