"""Ingest through the API, and the audit log read back: every write names the key that made it."""

from __future__ import annotations

import io

import orjson
import pytest
from service_util import Service
from sqlalchemy import select

from qinglang.store import audit
from qinglang.store.tables import ActionRow, PostVersion

TIPPING = "老师带单，今日牛股600519必涨，进VIP群加薇信：abc123456"
POSTS = [
    {"id": "a1", "text": TIPPING, "account_id": "u1"},
    {"id": "a2", "text": "今天天气很好", "account_id": "u2"},
    {"id": "a3", "text": 5},
]


def test_ingest_stores_decides_and_is_idempotent(service: Service) -> None:
    h = service.headers("ingest")
    first = service.client.post("/v1/ingest", json={"posts": POSTS}, headers=h).json()
    assert [("error" in r) for r in first["results"]] == [False, False, True]
    assert first["results"][2]["error"]["code"] == "QL-1004"
    assert first["stats"]["posts"]["new"] == 2 and first["stats"]["strikes"] >= 1
    again = service.client.post("/v1/ingest", json={"posts": POSTS}, headers=h).json()
    assert again["stats"]["posts"] == {"new": 0, "unchanged": 2, "new_version": 0}
    assert again["stats"]["strikes"] == 0
    with service.app.state.service.sessions() as session:
        assert sorted(session.scalars(select(PostVersion.post_id))) == ["a1", "a2"]
        assert session.scalars(select(ActionRow.tenant)).all() == ["acme"] * len(session.scalars(
            select(ActionRow.id)).all())


def test_every_write_is_audited_with_the_keys_identity(service: Service) -> None:
    c = service.client
    ingest_key, admin_key = service.key_id("ingest"), service.key_id("admin")
    c.post("/v1/ingest", json={"posts": POSTS[:1]}, headers=service.headers("ingest"))
    created = c.post("/v1/keys", json={"role": "auditor"}, headers=service.headers("admin")).json()
    c.delete(f"/v1/keys/{created['key_id']}", headers=service.headers("admin"))
    entries = c.get("/v1/audit?limit=1000", headers=service.headers("auditor")).json()["entries"]
    by_action = {(e["action"], e["actor"]) for e in entries}
    assert ("ingest.batch", f"key:{ingest_key}") in by_action
    assert ("key.create", f"key:{admin_key}") in by_action
    assert ("key.revoke", f"key:{admin_key}") in by_action
    batch = next(e for e in entries if e["action"] == "ingest.batch")
    assert batch["payload"]["records"] == 1 and batch["tenant"] == "acme"
    # the ladder's own decisions are there too, in the same tenant
    assert any(e["action"].startswith("decide.") for e in entries)


def test_audit_pages_verify_and_export(service: Service) -> None:
    c, h = service.client, service.headers("auditor")
    for i in range(5):
        c.post("/v1/keys", json={"role": "ingest", "name": f"k{i}"}, headers=service.headers("admin"))
    first = c.get("/v1/audit?limit=3", headers=h).json()
    assert len(first["entries"]) == 3 and first["next_after"] == first["entries"][-1]["seq"]
    rest = c.get(f"/v1/audit?limit=100&after={first['next_after']}", headers=h).json()
    assert rest["next_after"] is None
    seqs = [e["seq"] for e in first["entries"] + rest["entries"]]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    # every entry recomputes to its hash: what the API shows is what was chained
    for entry in first["entries"] + rest["entries"]:
        assert audit.entry_hash(entry) == entry["hash"]
    verified = c.get("/v1/audit/verify", headers=h).json()
    assert verified["ok"] and verified["entries"] >= len(seqs)
    exported = c.get("/v1/audit/export", headers=h)
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in io.BytesIO(exported.content)]
    assert [e["seq"] for e in lines] == seqs
    after = c.get(f"/v1/audit/export?after={seqs[1]}", headers=h).content.splitlines()
    assert len(after) == len(seqs) - 2


def test_verify_reports_a_changed_entry(service: Service) -> None:
    from qinglang.store.tables import AuditEntry

    service.client.post("/v1/keys", json={"role": "ingest"}, headers=service.headers("admin"))
    with service.app.state.service.sessions() as session, session.begin():
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).first()
        entry.actor = "someone else"
    body = service.client.get("/v1/audit/verify", headers=service.headers("auditor")).json()
    assert not body["ok"] and body["problems"][0]["kind"] == "changed"
    anchor = service.client.get("/v1/audit/verify?anchor=1:" + "0" * 64, headers=service.headers("auditor")).json()
    assert any(p["kind"] == "anchor mismatch" for p in anchor["problems"])


@pytest.mark.parametrize(("post", "code"), [
    ({"id": "x" * 300, "text": "hello"}, "QL-1001"),
    ({"id": "p\x00", "text": "hello"}, "QL-1005"),
    ({"id": "p", "text": "hello", "account_id": "u\x00"}, "QL-1005"),
    ({"id": "p", "text": "hello", "platform": "w" * 65}, "QL-1001"),
    ({"id": "p", "text": "hello", "lang": "\x00"}, "QL-1005"),
])
def test_posts_the_store_cannot_keep_are_error_records(service: Service, post: dict, code: str) -> None:
    body = {"posts": [post, {"id": "fine", "text": "hello", "account_id": "u1"}]}
    r = service.client.post("/v1/ingest", json=body, headers=service.headers("ingest"))
    assert r.status_code == 200
    first, second = r.json()["results"]
    assert first["error"]["code"] == code and "error" not in second


def test_revoking_an_impossible_key_id_is_404(service: Service) -> None:
    r = service.client.delete("/v1/keys/ab%00cdef0123", headers=service.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (404, "QL-9505")
