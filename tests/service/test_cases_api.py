"""The review queue over HTTP (SQLite and PostgreSQL): the key is the reviewer; races are coded 409s."""

from __future__ import annotations

import threading

import orjson
from service_util import Service
from work_util import audit_entries, call, coded, ingest


def _case_id(service: Service) -> int:
    ingest(service)
    [case] = call(service, "GET", "/v1/cases", "reviewer").json()["cases"]
    return int(case["id"])


def test_queue_claim_race_decide_and_audit(service: Service) -> None:
    cid = _case_id(service)
    queue = call(service, "GET", "/v1/cases", "auditor").json()["cases"]
    assert [c["reasons"] for c in queue] == [["review_only_category"]] and queue[0]["account"] == "gossip"
    first = call(service, "POST", f"/v1/cases/{cid}/claim", "reviewer")
    me = f"key:{service.key_id('reviewer')}"
    assert first.status_code == 200 and first.json()["assignee"] == me and first.json()["status"] == "claimed"
    # another key is another reviewer: the case is taken
    assert coded(call(service, "POST", f"/v1/cases/{cid}/claim", "supervisor")) == (409, "QL-6103")
    assert call(service, "POST", "/v1/cases/next", "supervisor").json() == {"case": None}
    assert coded(call(service, "POST", f"/v1/cases/{cid}/release", "supervisor")) == (409, "QL-6104")
    assert coded(call(service, "POST", f"/v1/cases/{cid}/decision", "supervisor",
                      json={"decision": "confirm"})) == (409, "QL-6104")
    decided = call(service, "POST", f"/v1/cases/{cid}/decision", "reviewer",
                   json={"decision": "confirm", "note": "real rumour"})
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["reviewer"] == me and body["decision"] == "confirm" and body["actions"]
    assert coded(call(service, "POST", f"/v1/cases/{cid}/decision", "reviewer",
                      json={"decision": "overturn"})) == (409, "QL-6102")
    assert call(service, "GET", f"/v1/cases/{cid}", "reviewer").json()["status"] == "closed"
    view = call(service, "GET", "/v1/accounts/gossip", "reviewer").json()
    assert [a["created_by"] for a in view["actions"]] == [me]
    actions = {(e["action"], e["actor"]) for e in audit_entries(service)}
    assert {("review.claim", me), ("review.confirm", me)} <= actions
    exported = call(service, "GET", "/v1/reviews/export", "auditor")
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    [row] = [orjson.loads(line) for line in exported.content.splitlines()]
    assert row["id"] == "r1#1" and row["labels"] == ["financial_rumor"] and row["meta"]["decided_by"] == me


def test_next_release_overturn_and_recategorize(service: Service) -> None:
    cid = _case_id(service)
    got = call(service, "POST", "/v1/cases/next", "reviewer").json()["case"]
    assert got["id"] == cid
    assert call(service, "POST", f"/v1/cases/{cid}/release", "reviewer").json()["status"] == "open"
    assert call(service, "POST", "/v1/cases/next", "supervisor").json()["case"]["id"] == cid
    bad = call(service, "POST", f"/v1/cases/{cid}/decision", "supervisor",
               json={"decision": "recategorize", "categories": ["financial_rumour"]})
    assert coded(bad) == (422, "QL-6105") and "financial_rumor" in bad.json()["hint"]
    assert coded(call(service, "POST", f"/v1/cases/{cid}/decision", "supervisor",
                      json={"decision": "maybe"})) == (422, "QL-9509")
    done = call(service, "POST", f"/v1/cases/{cid}/decision", "supervisor", json={"decision": "overturn"}).json()
    assert done["actions"] == [] and done["verdicts"][0]["categories"] == []


def test_unknown_ids_filters_and_tenants(service: Service) -> None:
    cid = _case_id(service)
    for method, path in [("GET", "/v1/cases/999999"), ("POST", "/v1/cases/999999/claim"),
                         ("POST", "/v1/cases/999999/release")]:
        assert coded(call(service, method, path, "supervisor")) == (404, "QL-6101"), path
    # a key of another tenant sees nothing of acme's
    assert coded(call(service, "GET", f"/v1/cases/{cid}", "reviewer", "globex")) == (404, "QL-6101")
    assert coded(call(service, "POST", f"/v1/cases/{cid}/claim", "reviewer", "globex")) == (404, "QL-6101")
    assert call(service, "GET", "/v1/cases?status=all", "reviewer", "globex").json() == {"cases": []}
    assert coded(call(service, "GET", "/v1/cases?category=nope", "reviewer")) == (422, "QL-6105")
    assert coded(call(service, "GET", "/v1/cases?account=nobody", "reviewer")) == (404, "QL-6106")
    assert coded(call(service, "GET", "/v1/cases/0", "reviewer")) == (422, "QL-9509")
    assert coded(call(service, "GET", f"/v1/cases/{2**70}", "reviewer")) == (422, "QL-9509")
    assert len(call(service, "GET", "/v1/cases?category=financial_rumor", "reviewer").json()["cases"]) == 1
    assert call(service, "GET", "/v1/cases?status=closed", "reviewer").json()["cases"] == []


def test_two_keys_racing_for_one_case(service: Service) -> None:
    cid = _case_id(service)
    for role in ("reviewer", "supervisor"):
        service.token(role)  # keys made before the race
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def race(role: str) -> None:
        barrier.wait()
        results[role] = call(service, "POST", f"/v1/cases/{cid}/claim", role).status_code

    threads = [threading.Thread(target=race, args=(r,)) for r in ("reviewer", "supervisor")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    claims = [e for e in audit_entries(service) if e["action"] == "review.claim"]
    winner = next(r for r, status in results.items() if status == 200)
    assert [e["actor"] for e in claims] == [f"key:{service.key_id(winner)}"]
