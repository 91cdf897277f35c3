"""Helpers for the service tests: a running app with its client, and keys made per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from qinglang.scan import Detector
from qinglang.service import keys
from qinglang.service.app import create_app
from qinglang.service.settings import Settings, load_settings


@dataclass
class Service:
    """A running app, its test client, and API keys made for it."""

    app: FastAPI
    client: TestClient
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def token(self, role: str, tenant: str = "acme") -> str:
        """A token for ``role`` in ``tenant`` (created once, directly in the store)."""
        if (role, tenant) not in self.tokens:
            state = self.app.state.service
            with state.sessions() as session, session.begin():
                _, token = keys.create_key(session, secret=state.secret, role=role, tenant=tenant,
                                           name=f"test {role}", actor="test")
            self.tokens[(role, tenant)] = token
        return self.tokens[(role, tenant)]

    def headers(self, role: str, tenant: str = "acme") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, tenant)}"}

    def key_id(self, role: str, tenant: str = "acme") -> str:
        key_id = keys.parse_token(self.token(role, tenant))
        assert key_id is not None
        return key_id


def settings_for(db_url: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"db_url": db_url, "rate_per_s": 0, "key_cache_s": 0}
    base.update(overrides)
    return load_settings(environ={}, **base)


def make_service(db_url: str, detector: Detector, **overrides: Any) -> Iterator[Service]:
    app = create_app(settings_for(db_url, **overrides), detector=detector)
    with TestClient(app) as client:
        yield Service(app, client)
