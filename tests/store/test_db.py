"""URLs, engines and the SQLite settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from qinglang.errors import QLError
from qinglang.store import db


def test_default_url_is_a_sqlite_file_under_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    monkeypatch.setattr(db, "user_data_dir", lambda app: f"/data/{app}")
    assert db.database_url() == "sqlite:////data/qinglang/qinglang.db"


def test_env_var_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.ENV_VAR, "postgresql://u@db.example:5432/ql")
    assert db.database_url() == "postgresql://u@db.example:5432/ql"
    assert db.parse_url().drivername == "postgresql+psycopg"


def test_blank_env_var_means_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.ENV_VAR, "  ")
    assert db.database_url().startswith("sqlite:///")


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://x/y"])
def test_bad_url_is_ql6001(url: str) -> None:
    with pytest.raises(QLError) as info:
        db.make_engine(url)
    assert info.value.code.code == "QL-6001"


def test_unreachable_database_is_ql6002() -> None:
    with pytest.raises(QLError) as info:
        db.upgrade("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert info.value.code.code == "QL-6002"


def test_sqlite_file_gets_its_folder_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "q.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_in_memory_sqlite_works() -> None:
    engine = db.make_engine("sqlite://")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_session_factory_keeps_objects_after_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    db.upgrade(url)
    factory = db.session_factory(url)
    from qinglang.store.tables import Account

    with factory() as session, session.begin():
        account = Account(tenant="t", platform="x", external_id="a")
        session.add(account)
    assert account.id is not None and account.created_at.tzinfo is not None
    factory.kw["bind"].dispose()


def test_upgrade_without_a_url_uses_the_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "from-env.db"
    monkeypatch.setenv(db.ENV_VAR, f"sqlite:///{path}")
    db.upgrade()
    engine = db.make_engine()
    try:
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()
    assert path.is_file()
