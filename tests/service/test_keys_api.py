"""Key management over the API: the token is shown once, keys are listed without secrets, revoked."""

from __future__ import annotations

from service_util import Service


def test_create_shows_the_token_once_and_it_works(service: Service) -> None:
    c, admin = service.client, service.headers("admin")
    r = c.post("/v1/keys", json={"role": "reviewer", "name": "alice"}, headers=admin)
    assert r.status_code == 201
    created = r.json()
    assert created["token"].startswith(f"qlk_{created['key_id']}_")
    assert (created["role"], created["tenant"], created["name"]) == ("reviewer", "acme", "alice")
    listed = c.get("/v1/keys", headers=admin).json()["keys"]
    mine = next(k for k in listed if k["key_id"] == created["key_id"])
    assert "token" not in mine and "secret_hash" not in mine
    assert created["token"] not in c.get("/v1/keys", headers=admin).text
    assert c.post("/v1/moderate", json={"id": "p", "text": "x"},
                  headers={"X-API-Key": created["token"]}).status_code == 200


def test_revoke_is_idempotent_and_listed(service: Service) -> None:
    c, admin = service.client, service.headers("admin")
    key_id = c.post("/v1/keys", json={"role": "ingest"}, headers=admin).json()["key_id"]
    first = c.delete(f"/v1/keys/{key_id}", headers=admin).json()
    second = c.delete(f"/v1/keys/{key_id}", headers=admin).json()
    assert first["revoked_at"] == second["revoked_at"] and first["revoked_by"] == f"key:{service.key_id('admin')}"
    listed = {k["key_id"]: k for k in c.get("/v1/keys", headers=admin).json()["keys"]}
    assert listed[key_id]["revoked_at"] is not None
