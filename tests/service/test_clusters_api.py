"""Gang clusters over HTTP (SQLite and PostgreSQL), as ``qinglang cluster`` does them."""

from __future__ import annotations

from service_util import Service
from work_util import audit_entries, call, coded, ingest


def _built(service: Service) -> str:
    ingest(service)
    built = call(service, "POST", "/v1/clusters/build", "supervisor")
    assert built.status_code == 200, built.text
    [cid] = built.json()["new"]
    return str(cid)


def test_build_list_show_explain_dossier_blocklist(service: Service) -> None:
    assert call(service, "GET", "/v1/clusters", "reviewer").json() == {"clusters": [], "built": False}
    cid = _built(service)
    listed = call(service, "GET", "/v1/clusters", "auditor").json()
    assert listed["built"] and [c["cluster_id"] for c in listed["clusters"]] == [cid]
    shown = call(service, "GET", f"/v1/clusters/{cid}", "reviewer").json()
    assert {m["account"] for m in shown["members"]} == {"gangA", "gangB"}
    assert [i["identifier"] for i in shown["identifiers"]] == ["wechat:niugu_8899"]
    path = call(service, "GET", "/v1/clusters/explain?a=gangA&b=gangB", "reviewer").json()
    assert path["length"] == 1 and path["path"][0]["identifier"] == "wechat:niugu_8899"
    assert coded(call(service, "GET", "/v1/clusters/explain?a=gangA&b=gossip", "reviewer")) == (404, "QL-9007")
    doc = call(service, "GET", f"/v1/clusters/{cid}/dossier", "reviewer").json()
    assert doc["cluster_id"] == cid and len(doc["dossier_sha256"]) == 64 and doc["timeline"]
    for kw in ({"headers": {"Accept": "text/html"}}, {"params": {"format": "html"}}):
        page = call(service, "GET", f"/v1/clusters/{cid}/dossier", "reviewer", **kw)
        assert page.headers["content-type"].startswith("text/html") and cid in page.text
    text = call(service, "GET", "/v1/clusters/blocklist?kind=handles", "reviewer")
    assert text.headers["content-type"].startswith("text/plain") and text.text == "wechat:niugu_8899\n"
    as_json = call(service, "GET", f"/v1/clusters/blocklist?kind=csv&format=json&cluster_id={cid}", "auditor").json()
    assert as_json["clusters"] == [cid] and as_json["lines"][0].startswith("identifier,")
    build = [e for e in audit_entries(service) if e["action"] == "cluster.build"]
    assert [e["actor"] for e in build] == [f"key:{service.key_id('supervisor')}"]


def test_act_account_data_and_errors(service: Service) -> None:
    cid = _built(service)
    dry = call(service, "POST", f"/v1/clusters/{cid}/act", "supervisor", json={"dry_run": True}).json()
    assert dry["outcome"] == "act" and dry["recorded"] == [] and dry["size"] == 2
    acted = call(service, "POST", f"/v1/clusters/{cid}/act", "supervisor", json={})
    assert acted.status_code == 200 and sorted(acted.json()["recorded"]) == ["gangA", "gangB"]
    review = call(service, "POST", f"/v1/clusters/{cid}/act", "admin", json={"review": True}).json()
    assert review["outcome"] == "review" and review["case_id"] is not None
    sup = f"key:{service.key_id('supervisor')}"
    assert ("cluster.act", sup) in {(e["action"], e["actor"]) for e in audit_entries(service)}
    assert coded(call(service, "POST", f"/v1/clusters/{cid}/act", "reviewer", json={})) == (403, "QL-9504")
    rows = [{"account": "gangA", "platform": "weibo", "device_id": "DEV-0001"},
            {"account": "gangC", "platform": "weibo", "device_id": "DEV-0001", "ip": "999.1.1.1"},
            {"platform": "weibo"}]
    imported = call(service, "POST", "/v1/clusters/accounts", "ingest", json={"rows": rows}).json()
    assert imported["accounts"] == 2 and [(p["line"], p["code"]) for p in imported["problems"]] \
        == [(2, "QL-9003"), (3, "QL-9001")]
    csv_body = "account,platform,registration_phone\ngangB,weibo,13800138000\ngangD,weibo,12\n"
    from_csv = call(service, "POST", "/v1/clusters/accounts", "ingest", content=csv_body.encode(),
                    headers={"Content-Type": "text/csv"}).json()
    assert from_csv["links_added"] == 1 and [p["line"] for p in from_csv["problems"]] == [3]
    # unknown ids, another tenant, a tenant that never built
    assert coded(call(service, "GET", "/v1/clusters/C-999999", "reviewer")) == (404, "QL-9006")
    assert coded(call(service, "GET", f"/v1/clusters/{cid}", "reviewer", "globex")) == (404, "QL-9010")
    assert coded(call(service, "POST", f"/v1/clusters/{cid}/act", "supervisor", "globex", json={})) == (404, "QL-9010")
    call(service, "POST", "/v1/clusters/build", "supervisor", "globex")
    assert coded(call(service, "GET", f"/v1/clusters/{cid}/dossier", "reviewer", "globex")) == (404, "QL-9006")
    assert call(service, "GET", "/v1/clusters/blocklist?kind=domains", "reviewer", "globex").text == ""
