"""Shared by the accounts, registry, cases, appeals and cluster API tests: project-written posts, sent in
through ``POST /v1/ingest`` so every test starts from what the service itself stored."""

from __future__ import annotations

from typing import Any

from service_util import Service

#: a review-only rumor (opens a case), and two tipsters naming one WeChat handle (acted on; one cluster)
RUMOR = {"id": "r1", "account_id": "gossip", "platform": "weibo",
         "text": "听说某某银行要倒闭了，大家赶紧去取钱，内部消息"}
GANG_A = {"id": "g1", "account_id": "gangA", "platform": "weibo",
          "text": "免费荐股，每天一只牛股，加微信 niugu_8899 进VIP群，明天必涨停"}
GANG_B = {"id": "g2", "account_id": "gangB", "platform": "weibo",
          "text": "老师带单，今天必涨停！加微信 niugu_8899 进VIP群"}
POSTS = [RUMOR, GANG_A, GANG_B]


def ingest(service: Service, posts: list[dict[str, Any]] | None = None, tenant: str = "acme") -> dict[str, Any]:
    r = service.client.post("/v1/ingest", json={"posts": posts or POSTS}, headers=service.headers("ingest", tenant))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def call(service: Service, method: str, path: str, role: str, tenant: str = "acme", **kw: Any) -> Any:
    """A request with ``role``'s key of ``tenant``."""
    return service.client.request(method, path, headers={**service.headers(role, tenant), **kw.pop("headers", {})},
                                  **kw)


def coded(response: Any) -> tuple[int, str]:
    """(status, error code) of an error answer."""
    return response.status_code, response.json()["code"]


def audit_entries(service: Service, tenant: str = "acme") -> list[dict[str, Any]]:
    r = call(service, "GET", "/v1/audit?limit=1000", "auditor", tenant)
    assert r.status_code == 200
    entries: list[dict[str, Any]] = r.json()["entries"]
    return entries
