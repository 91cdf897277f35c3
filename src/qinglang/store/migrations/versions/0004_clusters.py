"""Schema for gang clusters: account identifiers (the link graph), cluster runs, clusters, members.

- ``account_identifiers``: an identifier an account showed, from a flagged post or
  from its metadata, with first/last seen and evidence (post spans);
- ``cluster_runs``: each ``cluster build`` with its verdict-id watermark;
- ``clusters``: the current state of each stable cluster id (``C-000123``) per tenant;
- ``cluster_members``: the accounts of active clusters, with their roles.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Portable types, spelled out here so that the migration never changes with the models.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("first_seen", TIMESTAMP, nullable=False),
        sa.Column("last_seen", TIMESTAMP, nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_identifiers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_identifiers")),
        sa.UniqueConstraint("account_id", "identifier", "source",
                            name=op.f("uq_account_identifiers_account_id_identifier_source")),
    )
    op.create_index(op.f("ix_account_identifiers_account_id"), "account_identifiers", ["account_id"], unique=False)
    op.create_index("ix_account_identifiers_tenant_identifier", "account_identifiers", ["tenant", "identifier"],
                    unique=False)

    op.create_table(
        "cluster_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("watermark", sa.Integer(), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("stats", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_runs")),
    )
    op.create_index(op.f("ix_cluster_runs_tenant"), "cluster_runs", ["tenant"], unique=False)

    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("cluster_id", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("platforms", JSON, nullable=False),
        sa.Column("first_activity", TIMESTAMP, nullable=True),
        sa.Column("last_activity", TIMESTAMP, nullable=True),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["cluster_runs.id"], name=op.f("fk_clusters_run_id_cluster_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
        sa.UniqueConstraint("tenant", "cluster_id", name=op.f("uq_clusters_tenant_cluster_id")),
    )
    op.create_index(op.f("ix_clusters_run_id"), "clusters", ["run_id"], unique=False)

    op.create_table(
        "cluster_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_row_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("roles", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cluster_members_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cluster_row_id"], ["clusters.id"], name=op.f("fk_cluster_members_cluster_row_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_members")),
        sa.UniqueConstraint("cluster_row_id", "account_id", name=op.f("uq_cluster_members_cluster_row_id_account_id")),
    )
    op.create_index(op.f("ix_cluster_members_account_id"), "cluster_members", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cluster_members_account_id"), table_name="cluster_members")
    op.drop_table("cluster_members")
    op.drop_index(op.f("ix_clusters_run_id"), table_name="clusters")
    op.drop_table("clusters")
    op.drop_index(op.f("ix_cluster_runs_tenant"), table_name="cluster_runs")
    op.drop_table("cluster_runs")
    op.drop_index("ix_account_identifiers_tenant_identifier", table_name="account_identifiers")
    op.drop_index(op.f("ix_account_identifiers_account_id"), table_name="account_identifiers")
    op.drop_table("account_identifiers")
