"""The packaged migrations: they run on both backends and agree with the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

from qinglang.store import db
from qinglang.store.tables import Base

TABLES = {
    "accounts", "posts", "verdicts", "registry_entities", "registry_aliases", "actions",
    "strikes", "cases", "case_verdicts", "reviews", "appeals", "audit_log",
    "api_keys",
    "account_identifiers", "cluster_runs", "clusters", "cluster_members",
}  # fmt: skip


def test_upgrade_creates_every_table(engine: Engine) -> None:
    assert set(Base.metadata.tables) == TABLES
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    assert db.current_revision(engine) == db.head_revision() == "0005"


def test_models_and_migrations_agree(engine: Engine) -> None:
    """Like ``alembic check``: autogenerate finds nothing to do after upgrade head."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    db.upgrade(engine)
    assert db.current_revision(engine) == "0005"


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    cfg = db.alembic_config(engine.url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}


def test_upgrade_from_a_url(blank_url: URL) -> None:
    db.upgrade(blank_url)
    engine = db.make_engine(blank_url)
    try:
        assert db.current_revision(engine) == "0005"
    finally:
        engine.dispose()
