"""Appeals over HTTP (SQLite and PostgreSQL): relayed by the platform's key, decided by another person."""

from __future__ import annotations

from service_util import Service
from work_util import GANG_A, RUMOR, audit_entries, call, coded, ingest


def _confirmed_action(service: Service) -> int:
    """The rumour's case confirmed by the reviewer key: the action it caused."""
    ingest(service, [RUMOR])
    case = call(service, "POST", "/v1/cases/next", "reviewer").json()["case"]
    assert call(service, "POST", f"/v1/cases/{case['id']}/decision", "reviewer",
                json={"decision": "confirm"}).status_code == 200
    [action] = call(service, "GET", "/v1/accounts/gossip", "reviewer").json()["actions"]
    return int(action["id"])


def test_file_and_decide_with_the_conflict_rules(service: Service) -> None:
    action_id = _confirmed_action(service)
    filed = call(service, "POST", "/v1/appeals", "ingest", json={"action": action_id, "reason": "my own opinion"})
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    relay, reviewer, boss = (f"key:{service.key_id(r)}" for r in ("ingest", "reviewer", "supervisor"))
    assert appeal["appellant"] == relay and appeal["status"] == "open" and appeal["account"] == "gossip"
    assert coded(call(service, "POST", "/v1/appeals", "ingest", json={"action": action_id})) == (409, "QL-6109")
    # the reviewer who confirmed the case behind the action may not decide its appeal
    own = call(service, "POST", f"/v1/appeals/{appeal['id']}/decision", "reviewer", json={"outcome": "upheld"})
    assert coded(own) == (403, "QL-6112")
    assert coded(call(service, "POST", f"/v1/appeals/{appeal['id']}/decision", "ingest",
                      json={"outcome": "upheld"})) == (403, "QL-9504")
    upheld = call(service, "POST", f"/v1/appeals/{appeal['id']}/decision", "supervisor",
                  json={"outcome": "upheld", "note": "fair"})
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["decided_by"] == boss and upheld.json()["changes"]
    assert coded(call(service, "POST", f"/v1/appeals/{appeal['id']}/decision", "admin",
                      json={"outcome": "rejected"})) == (409, "QL-6111")
    [action] = call(service, "GET", "/v1/accounts/gossip", "reviewer").json()["actions"]
    assert action["status"] == "reversed"
    assert [a["id"] for a in call(service, "GET", "/v1/appeals?status=upheld", "auditor").json()["appeals"]] \
        == [appeal["id"]]
    assert call(service, "GET", f"/v1/appeals/{appeal['id']}", "ingest").json()["status"] == "upheld"
    done = {(e["action"], e["actor"]) for e in audit_entries(service)}
    assert {("appeal.file", relay), ("appeal.upheld", boss), ("review.confirm", reviewer)} <= done


def test_the_filer_cannot_decide_its_own_appeal(service: Service) -> None:
    ingest(service, [GANG_A])  # acted on at ingest: issued by the ladder, not a person
    [action] = call(service, "GET", "/v1/accounts/gangA", "reviewer").json()["actions"]
    appeal = call(service, "POST", "/v1/appeals", "supervisor", json={"action": action["key"]}).json()
    assert coded(call(service, "POST", f"/v1/appeals/{appeal['id']}/decision", "supervisor",
                      json={"outcome": "upheld"})) == (403, "QL-6112")
    rejected = call(service, "POST", f"/v1/appeals/{appeal['id']}/decision", "reviewer", json={"outcome": "rejected"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_unknown_ids_and_tenants(service: Service) -> None:
    action_id = _confirmed_action(service)
    appeal = call(service, "POST", "/v1/appeals", "ingest", json={"action": action_id}).json()
    for body in ({"action": 999999}, {"action": "nope#1/mute"}, {"action": str(2**80)}):
        assert coded(call(service, "POST", "/v1/appeals", "ingest", json=body)) == (404, "QL-6107"), body
    assert coded(call(service, "GET", "/v1/appeals/999999", "auditor")) == (404, "QL-6110")
    assert coded(call(service, "POST", "/v1/appeals/999999/decision", "supervisor",
                      json={"outcome": "upheld"})) == (404, "QL-6110")
    # another tenant's key: neither the appeal nor the action exists for it
    assert coded(call(service, "GET", f"/v1/appeals/{appeal['id']}", "auditor", "globex")) == (404, "QL-6110")
    assert coded(call(service, "POST", f"/v1/appeals/{appeal['id']}/decision", "supervisor", "globex",
                      json={"outcome": "upheld"})) == (404, "QL-6110")
    assert coded(call(service, "POST", "/v1/appeals", "ingest", "globex", json={"action": action_id})) \
        == (404, "QL-6107")
    assert call(service, "GET", "/v1/appeals?status=all", "auditor", "globex").json() == {"appeals": []}
    assert coded(call(service, "POST", "/v1/appeals", "ingest", json={"action": action_id, "x": 1})) \
        == (422, "QL-9509")
