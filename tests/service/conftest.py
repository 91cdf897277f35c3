"""Service fixtures: an app per test on SQLite and PostgreSQL, one engine per session, keys by role.

PostgreSQL comes from the store fixtures' helpers (``tests/store/conftest.py``: a fresh
schema per test, skipped with the reason when the server is absent); they are loaded
by path so that both directories keep their own ``conftest``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_util import Service, make_service

from qinglang.scan import Detector

_spec = importlib.util.spec_from_file_location("qinglang_store_fixtures",
                                               Path(__file__).resolve().parents[1] / "store" / "conftest.py")
assert _spec is not None and _spec.loader is not None
store_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(store_fixtures)

ROLES = ("ingest", "reviewer", "supervisor", "auditor", "admin")


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The real engine with the bundled packs and model, built once (about 2 s)."""
    from qinglang.detect.engine import Engine

    return Engine.from_options(None, model="default", mode=None)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend, as a URL string (what settings hold)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
    else:
        for url in store_fixtures._pg_schema_url():
            yield url.render_as_string(hide_password=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


@pytest.fixture
def service(db_url: str, detector: Detector) -> Iterator[Service]:
    """The app on each backend, real engine, rate limits off."""
    yield from make_service(db_url, detector)


@pytest.fixture
def sqlite_service(sqlite_url: str, detector: Detector) -> Iterator[Service]:
    """The app on SQLite only (for tests about HTTP mechanics rather than storage)."""
    yield from make_service(sqlite_url, detector)
