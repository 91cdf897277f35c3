"""Schema for review queue and appeals (claims, review outcomes, appeal decisions).

- ``cases.claimed_at``: when the assignee claimed the case, so that a claim older than
  the lease can be taken over (a reviewer who walks away does not block a case);
- index (``tenant``, ``status``, ``priority``) on ``cases``: the queue's lookup;
- ``reviews.previous_categories``: what the verdict said before the reviewer decided
  (with ``reviews.categories`` it is a labeled training example);
- ``appeals.changes``: what an upheld appeal's reversal changed;
- ``cases.idem_key``, unique per tenant: what opened the case (``<post id>#<version>/case``
  for ingest), so two writers deciding one post version open one case;
- index on ``case_verdicts.verdict_id``: "does a case already hold this post version?"
  (asked for every flagged post at ingest) joins on it;
- the index on ``verdicts.post_version_id`` goes: the unique key (``post_version_id``,
  ``versions_key``) starts with that column and serves the same lookups, and ingest
  paid for maintaining both on every verdict.

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
        batch.add_column(sa.Column("idem_key", sa.String(length=256), nullable=True))
        batch.create_unique_constraint("uq_cases_tenant_idem_key", ["tenant", "idem_key"])
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("previous_categories", JSON, nullable=True))
    with op.batch_alter_table("appeals") as batch:
        batch.add_column(sa.Column("changes", JSON, nullable=True))
    op.create_index("ix_case_verdicts_verdict_id", "case_verdicts", ["verdict_id"], unique=False)
    op.drop_index("ix_verdicts_post_version_id", table_name="verdicts")


def downgrade() -> None:
    op.create_index("ix_verdicts_post_version_id", "verdicts", ["post_version_id"], unique=False)
    op.drop_index("ix_case_verdicts_verdict_id", table_name="case_verdicts")
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("changes")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("previous_categories")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_tenant_idem_key", type_="unique")
        batch.drop_column("idem_key")
        batch.drop_index("ix_cases_tenant_status_priority")
        batch.drop_column("claimed_at")
