"""API keys: how they are presented, stored and revoked; the roles matrix; tenant isolation."""

from __future__ import annotations

import pytest
from service_util import Service
from sqlalchemy import select

from qinglang.service import keys
from qinglang.service.roles import PERMISSIONS, ROLES
from qinglang.service.tables import ApiKey

POST = {"id": "p1", "text": "今天天气很好"}

#: one call per permission the routes use: (permission, method, path, json body)
CALLS = [
    ("moderate", "POST", "/v1/moderate", POST),
    ("moderate", "POST", "/v1/moderate/batch", {"posts": [POST]}),
    ("ingest", "POST", "/v1/ingest", {"posts": [POST]}),
    ("audit.read", "GET", "/v1/audit", None),
    ("audit.read", "GET", "/v1/audit/verify", None),
    ("audit.read", "GET", "/v1/audit/export", None),
    ("versions.read", "GET", "/v1/versions", None),
    ("keys.manage", "GET", "/v1/keys", None),
    ("keys.manage", "POST", "/v1/keys", {"role": "ingest"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("permission", "method", "path", "body"), CALLS, ids=[f"{c[1]} {c[2]}" for c in CALLS])
def test_roles_matrix(sqlite_service: Service, role: str, permission: str, method: str, path: str,
                      body: dict | None) -> None:
    r = sqlite_service.client.request(method, path, json=body, headers=sqlite_service.headers(role))
    if role in PERMISSIONS[permission]:
        assert r.status_code in (200, 201), r.text
    else:
        assert r.status_code == 403
        assert r.json()["code"] == "QL-9504"


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic dXNlcjpwdw=="},
    {"Authorization": "Bearer not-a-key"},
    {"X-API-Key": "qlk_000000000000_" + "a" * 43},                # well-formed, unknown
])
def test_missing_malformed_or_unknown_keys_are_401(sqlite_service: Service, headers: dict[str, str]) -> None:
    r = sqlite_service.client.get("/v1/versions", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "QL-9503"
    assert r.headers["www-authenticate"] == "Bearer"


def test_right_id_wrong_secret_is_401(sqlite_service: Service) -> None:
    token = sqlite_service.token("admin")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert sqlite_service.client.get("/v1/versions", headers={"X-API-Key": forged}).status_code == 401


def test_both_headers_work(sqlite_service: Service) -> None:
    token = sqlite_service.token("auditor")
    assert sqlite_service.client.get("/v1/versions", headers={"X-API-Key": token}).status_code == 200
    assert sqlite_service.client.get("/v1/versions", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_only_a_keyed_hash_is_stored(sqlite_service: Service) -> None:
    token = sqlite_service.token("ingest")
    state = sqlite_service.app.state.service
    with state.sessions() as session:
        rows = session.scalars(select(ApiKey)).all()
    stored = {getattr(row, col.name) for row in rows for col in ApiKey.__table__.columns}
    assert token not in {str(v) for v in stored}
    row = next(r for r in rows if r.key_id == keys.parse_token(token))
    assert row.secret_hash == keys.hash_token(state.secret, token)
    assert row.secret_hash != keys.hash_token("another secret", token)


def test_a_revoked_key_stops_working(service: Service) -> None:
    admin = service.headers("admin")
    victim = service.headers("ingest")
    assert service.client.get("/v1/versions", headers=victim).status_code == 200
    r = service.client.delete(f"/v1/keys/{service.key_id('ingest')}", headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = service.client.get("/v1/versions", headers=victim)
    assert r.status_code == 401 and "revoked" in r.json()["message"]


def test_tenants_are_isolated(service: Service) -> None:
    c = service.client
    # acme's admin creates a key; globex's admin sees none of acme's keys or audit entries
    created = c.post("/v1/keys", json={"role": "reviewer", "name": "acme reviewer"},
                     headers=service.headers("admin", "acme")).json()
    globex_keys = c.get("/v1/keys", headers=service.headers("admin", "globex")).json()["keys"]
    assert created["key_id"] not in {k["key_id"] for k in globex_keys}
    assert all(k["tenant"] == "globex" for k in globex_keys)
    # globex cannot revoke acme's key: it does not exist for globex
    r = c.delete(f"/v1/keys/{created['key_id']}", headers=service.headers("admin", "globex"))
    assert r.status_code == 404 and r.json()["code"] == "QL-9505"
    # nor create keys in acme
    r = c.post("/v1/keys", json={"role": "admin", "tenant": "acme"}, headers=service.headers("admin", "globex"))
    assert r.status_code == 403
    entries = c.get("/v1/audit", headers=service.headers("auditor", "globex")).json()["entries"]
    assert entries and all(e["tenant"] == "globex" for e in entries)
    export = c.get("/v1/audit/export", headers=service.headers("auditor", "globex")).text
    assert "acme" not in export


def test_ingest_stores_under_the_keys_tenant(service: Service) -> None:
    from qinglang.store.tables import PostVersion

    body = {"posts": [{"id": "shared-id", "text": "hello", "account_id": "u1"}]}
    assert service.client.post("/v1/ingest", json=body, headers=service.headers("ingest", "acme")).status_code == 200
    assert service.client.post("/v1/ingest", json=body, headers=service.headers("ingest", "globex")).status_code == 200
    with service.app.state.service.sessions() as session:
        tenants = sorted(session.scalars(select(PostVersion.tenant).where(PostVersion.post_id == "shared-id")))
    assert tenants == ["acme", "globex"]
