"""Accounts and the licence registry over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

from service_util import Service
from work_util import GANG_A, audit_entries, call, coded, ingest

CSV = ("name,licence_type,licence_number,aliases,valid_from\n"
       "华泰证券股份有限公司,securities_advisory,Z1001,华泰证券,2020-01-01\n"
       "Broken,no_such_type,Z1002,,\n"
       "国信证券股份有限公司,securities_advisory,Z1003,国信证券,2020-01-01\n")


def test_accounts_list_view_and_errors(service: Service) -> None:
    ingest(service)
    listed = call(service, "GET", "/v1/accounts", "auditor").json()["accounts"]
    assert {a["account_id"] for a in listed} == {"gangA", "gangB"}  # the rumour has no strike or action
    view = call(service, "GET", "/v1/accounts/gangA?history=5", "reviewer").json()
    assert view["account"]["account_id"] == "gangA" and view["points"]["in_window"] > 0
    assert view["strikes"][0]["cause"]["post_id"] == "g1" and view["history"][0]["verdict"]["flagged"]
    assert call(service, "GET", "/v1/accounts/gossip", "reviewer").json()["open_cases"][0]["reasons"] \
        == ["review_only_category"]
    assert coded(call(service, "GET", "/v1/accounts/nobody", "reviewer")) == (404, "QL-6106")
    assert coded(call(service, "GET", "/v1/accounts/gangA", "reviewer", "globex")) == (404, "QL-6106")
    assert call(service, "GET", "/v1/accounts", "reviewer", "globex").json() == {"accounts": []}
    assert coded(call(service, "GET", "/v1/accounts/gangA", "ingest")) == (403, "QL-9504")
    ingest(service, [{**GANG_A, "id": "g9", "platform": "douyin"}])
    assert coded(call(service, "GET", "/v1/accounts/gangA", "reviewer")) == (422, "QL-6201")
    assert call(service, "GET", "/v1/accounts/gangA?platform=douyin", "reviewer").status_code == 200


def test_registry_import_list_show_and_audit(service: Service) -> None:
    r = call(service, "POST", "/v1/registry/import", "supervisor", content=CSV.encode(),
             headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["ok"], body["added"], body["bad_rows"]) == (False, 2, 1)
    assert [(p["line"], p["code"]) for p in body["problems"]] == [(3, "QL-8002")]
    entries = call(service, "GET", "/v1/registry", "ingest").json()["entries"]
    assert [e["licence_number"] for e in entries] == ["Z1001", "Z1003"]
    assert call(service, "GET", "/v1/registry?licence_type=securities_advisory&valid_on=2019-06-01",
                "auditor").json()["entries"] == []
    assert coded(call(service, "GET", "/v1/registry?licence_type=bogus", "auditor"))[1] == "QL-8002"
    entry_id = entries[0]["id"]
    detail = call(service, "GET", f"/v1/registry/{entry_id}", "reviewer").json()
    sup = f"key:{service.key_id('supervisor')}"
    assert detail["history"][0]["actor"] == sup and detail["history"][0]["action"] == "registry.add"
    assert coded(call(service, "GET", "/v1/registry/nope", "reviewer")) == (404, "QL-6202")
    for role in ("ingest", "reviewer", "auditor"):
        assert coded(call(service, "POST", "/v1/registry/import", role, json={"rows": [{}]})) == (403, "QL-9504")
    # JSON rows, as the whole registry: the entry it leaves out is retired
    rows = [{"name": "华泰证券股份有限公司", "licence_type": "securities_advisory", "licence_number": "Z1001",
             "aliases": ["华泰证券"], "valid_from": "2020-01-01"}]
    replaced = call(service, "POST", "/v1/registry/import?replace=true", "admin", json={"rows": rows}).json()
    assert (replaced["retired"], replaced["ids"]["retired"], replaced["problems"]) == (1, [entries[1]["id"]], [])
    assert len(call(service, "GET", "/v1/registry?include_retired=true", "auditor").json()["entries"]) == 2
    bad = call(service, "POST", "/v1/registry/import", "admin",
               json={"rows": [{"name": "A\u0000B", "licence_type": "securities_advisory", "licence_number": "Z9"}]})
    assert bad.json()["problems"][0]["line"] == 2 and bad.json()["added"] == 0
    imports = [e for e in audit_entries(service) if e["action"] == "registry.import"]
    assert [e["actor"] for e in imports] == [sup, f"key:{service.key_id('admin')}", f"key:{service.key_id('admin')}"]


def test_bindings_and_ingest_uses_the_stored_registry(service: Service) -> None:
    licensed = {"id": "h1", "account_id": "华泰证券", "platform": "weibo",
                "text": "免费荐股，每天一只牛股，加微信 niugu_8899 进VIP群，明天必涨停"}
    assert ingest(service, [licensed])["stats"]["accounts_bound"] == 0  # no registry yet: no licence checks
    call(service, "POST", "/v1/registry/import", "supervisor", content=CSV.encode(),
         headers={"Content-Type": "text/csv"})
    stats = ingest(service, [{**licensed, "id": "h2"}])["stats"]
    assert stats["accounts_bound"] == 1  # the stored registry is used, as 'qinglang ingest' does
    entry = call(service, "GET", "/v1/registry?licence_type=securities_advisory", "auditor").json()["entries"][1]
    ingest(service, [GANG_A])
    put = call(service, "PUT", "/v1/accounts/gangA/binding", "supervisor", json={"entry_id": entry["id"]})
    assert put.status_code == 200, put.text
    assert put.json()["changed"] and put.json()["binding"]["source"] == "declared"
    assert call(service, "PUT", "/v1/accounts/gangA/binding", "supervisor",
                json={"entry_id": entry["id"]}).json()["changed"] is False
    detail = call(service, "GET", f"/v1/registry/{entry['id']}", "reviewer").json()
    assert [a["account_id"] for a in detail["accounts"]] == ["gangA"]
    assert call(service, "GET", f"/v1/registry/{entry['id']}", "reviewer", "globex").json()["accounts"] == []
    assert coded(call(service, "PUT", "/v1/accounts/gangA/binding", "reviewer",
                      json={"entry_id": entry["id"]})) == (403, "QL-9504")
    assert coded(call(service, "PUT", "/v1/accounts/gangA/binding", "supervisor",
                      json={"entry_id": "nope"})) == (404, "QL-6202")
    assert coded(call(service, "PUT", "/v1/accounts/gangA/binding", "supervisor", "globex",
                      json={"entry_id": entry["id"]})) == (404, "QL-6106")
    removed = call(service, "DELETE", "/v1/accounts/gangA/binding", "admin").json()
    assert removed == {"changed": True, "binding": None}
    sup, adm = (f"key:{service.key_id(r)}" for r in ("supervisor", "admin"))
    actions = [(e["action"], e["actor"]) for e in audit_entries(service) if e["action"].startswith("account.")
               and e["payload"]["account_id"] == "gangA"]
    assert actions == [("account.bind", sup), ("account.unbind", adm)]
