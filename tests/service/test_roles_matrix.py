"""Who may do what, route by route: every role the matrix allows gets past the check, every other is 403."""

from __future__ import annotations

import pytest
from service_util import Service
from work_util import call

from qinglang.service.roles import PERMISSIONS, ROLES

#: one request per new route, with the permission it needs
ROUTES = [
    ("GET", "/v1/accounts", "accounts.read"),
    ("GET", "/v1/accounts/u1", "accounts.read"),
    ("PUT", "/v1/accounts/u1/binding", "registry.write"),
    ("DELETE", "/v1/accounts/u1/binding", "registry.write"),
    ("GET", "/v1/registry", "registry.read"),
    ("GET", "/v1/registry/x", "registry.read"),
    ("POST", "/v1/registry/import", "registry.write"),
    ("GET", "/v1/cases", "cases.read"),
    ("GET", "/v1/cases/1", "cases.read"),
    ("POST", "/v1/cases/next", "cases.work"),
    ("POST", "/v1/cases/1/claim", "cases.work"),
    ("POST", "/v1/cases/1/release", "cases.work"),
    ("POST", "/v1/cases/1/decision", "cases.work"),
    ("GET", "/v1/reviews/export", "cases.read"),
    ("POST", "/v1/appeals", "appeals.file"),
    ("GET", "/v1/appeals", "appeals.read"),
    ("GET", "/v1/appeals/1", "appeals.read"),
    ("POST", "/v1/appeals/1/decision", "appeals.decide"),
    ("POST", "/v1/clusters/build", "clusters.build"),
    ("POST", "/v1/clusters/accounts", "clusters.build"),
    ("GET", "/v1/clusters", "clusters.read"),
    ("GET", "/v1/clusters/C-000001", "clusters.read"),
    ("GET", "/v1/clusters/explain?a=x&b=y", "clusters.read"),
    ("GET", "/v1/clusters/C-000001/dossier", "clusters.read"),
    ("GET", "/v1/clusters/blocklist?kind=domains", "clusters.read"),
    ("POST", "/v1/clusters/C-000001/act", "clusters.act"),
]


def test_matrix_as_documented() -> None:
    assert set(PERMISSIONS["cases.work"]) == {"reviewer", "supervisor", "admin"}
    assert set(PERMISSIONS["appeals.file"]) == {"ingest", "supervisor", "admin"}
    assert set(PERMISSIONS["appeals.decide"]) == {"reviewer", "supervisor", "admin"}
    assert set(PERMISSIONS["registry.write"]) == set(PERMISSIONS["clusters.act"]) == {"supervisor", "admin"}
    assert all("admin" in roles for roles in PERMISSIONS.values())  # admins hold everything
    assert all("auditor" in PERMISSIONS[p] for p in PERMISSIONS if p.endswith(".read"))


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_each_role_allowed_or_denied(sqlite_service: Service, method: str, path: str, permission: str) -> None:
    for role in ROLES:
        r = call(sqlite_service, method, path, role, json={})
        denied = r.status_code == 403 and r.json()["code"] == "QL-9504"
        assert denied == (role not in PERMISSIONS[permission]), (role, r.status_code, r.text)
        assert r.status_code < 500, r.text
