"""Database URL, engines, sessions and migrations.

``database_url()`` is ``QINGLANG_DB_URL`` when set, otherwise a SQLite file under the
user's data directory. ``upgrade(url)`` runs the packaged Alembic migrations to head
(no ``alembic.ini`` on disk); call it before using a database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from qinglang.errors import DB_UNAVAILABLE, DB_URL_INVALID, QLError

ENV_VAR = "QINGLANG_DB_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_sqlite_path() -> Path:
    return Path(user_data_dir("qinglang")) / "qinglang.db"


def database_url() -> str:
    """``QINGLANG_DB_URL`` when set (and not empty), else ``sqlite:///<user data dir>/qinglang.db``."""
    url = os.environ.get(ENV_VAR, "").strip()
    if url:
        return url
    return f"sqlite:///{default_sqlite_path()}"


def parse_url(url: str | URL | None = None) -> URL:
    """Parse a URL; plain ``postgresql://`` means the psycopg (3) driver."""
    raw = database_url() if url is None else url
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise QLError(DB_URL_INVALID, f"cannot parse database URL: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    db = url.database
    if url.get_backend_name() != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Python's sqlite3 defers BEGIN until the first write, so a SAVEPOINT issued before
    # it starts a transaction of its own that RELEASE commits: rows would commit one by
    # one. Take transaction control away from the driver; "begin" below emits BEGIN.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA journal_mode=WAL")  # no-op (stays "memory") for in-memory databases
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default :func:`database_url`).

    SQLite: the file's folder is created, foreign keys are enforced, the journal is
    WAL, and a transaction begins when SQLAlchemy begins one (so a batch written with
    savepoints commits whole or not at all). Extra keyword arguments go to :func:`sqlalchemy.create_engine`.
    """
    parsed = parse_url(url)
    path = _sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise QLError(DB_URL_INVALID, f"unusable database URL {parsed.render_as_string()}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(conn: Any) -> None:
    """Open the real transaction when SQLAlchemy begins one (SQLAlchemy's pysqlite recipe)."""
    conn.exec_driver_sql("BEGIN")


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", parse_url(url).render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(url: str | URL | Engine | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` (or through an engine) to ``revision``."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    cfg = alembic_config(engine.url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise QLError(DB_UNAVAILABLE, f"cannot migrate {engine.url.render_as_string()}: {exc.orig}") from None
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def session_factory(url: str | URL | Engine | None = None, **kwargs: Any) -> sessionmaker[Session]:
    """A ``sessionmaker`` bound to ``url`` (or an engine); objects stay usable after commit."""
    engine = url if isinstance(url, Engine) else make_engine(url, **kwargs)
    return sessionmaker(bind=engine, expire_on_commit=False)
