"""Store fixtures: a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL is the server at ``QINGLANG_TEST_PG_URL`` (default: trust auth on
127.0.0.1:5432, database ``test``). Each test gets its own uniquely named schema,
dropped afterwards; when the server cannot be reached, PostgreSQL tests skip with
the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from qinglang.store.db import make_engine, parse_url, upgrade

PG_URL = os.environ.get("QINGLANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@cache
def pg_unavailable() -> str | None:
    """Why PostgreSQL tests cannot run, or None when they can."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        return f"psycopg is not installed: {exc}"
    url = parse_url(PG_URL)
    try:
        with psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database,
            connect_timeout=3,
        ) as conn:
            conn.execute("select 1")
    except Exception as exc:  # any failure to connect means: skip, saying why
        return f"PostgreSQL at {url.render_as_string()} is not available: {' '.join(str(exc).split())}"
    return None


def _pg_schema_url() -> Iterator[URL]:
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"qinglang_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield parse_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[URL]:
    """An empty PostgreSQL schema (nothing migrated yet)."""
    yield from _pg_schema_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[URL]:
    """An empty database on each backend (nothing migrated yet)."""
    if request.param == "sqlite":
        yield parse_url(f"sqlite:///{tmp_path / 'qinglang.db'}")
    else:
        yield from _pg_schema_url()


@pytest.fixture
def engine(blank_url: URL) -> Iterator[Engine]:
    """A migrated database on each backend."""
    eng = make_engine(blank_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()
