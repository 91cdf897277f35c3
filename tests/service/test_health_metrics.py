"""Liveness, readiness, versions, metrics and the OpenAPI document."""

from __future__ import annotations

from service_util import Service

from qinglang.store.db import head_revision


def test_health_and_readiness(service: Service) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    assert service.client.get("/readyz").json() == {"status": "ready", "checks": {"database": "ok", "engine": "ok"}}


def test_readiness_fails_when_the_database_is_gone(sqlite_service: Service) -> None:
    from qinglang.store.db import make_engine

    state = sqlite_service.app.state.service
    state.db = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")  # nothing listens
    r = sqlite_service.client.get("/readyz")
    assert r.status_code == 503 and r.json()["code"] == "QL-9514"
    assert r.json()["checks"]["database"].startswith("failed")


def test_versions(service: Service) -> None:
    body = service.client.get("/v1/versions", headers=service.headers("reviewer")).json()
    assert set(body["packs"]) == {"zh", "en", "it"}
    assert body["model"]["name"] and body["ladder"]["name"]
    assert body["schema_revision"] == head_revision()


def test_metrics_count_requests_verdicts_and_errors(sqlite_service: Service) -> None:
    c, h = sqlite_service.client, sqlite_service.headers("ingest")
    tipping = "老师带单，今日牛股600519必涨，进VIP群加薇信：abc123456"
    c.post("/v1/moderate", json={"id": "p", "text": tipping}, headers=h)
    c.post("/v1/moderate/batch", json={"posts": [{"id": "q", "text": "hello"}, {"id": 1}]}, headers=h)
    c.get("/v1/versions")
    c.get("/nowhere")
    text = c.get("/metrics").text
    assert 'qinglang_http_requests_total{method="POST",route="/v1/moderate",status="200"} 1.0' in text
    assert 'qinglang_http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0' in text
    assert 'qinglang_verdicts_total{category="stock_tipping"} 1.0' in text
    assert 'qinglang_verdicts_total{category="none"} 1.0' in text
    assert 'qinglang_errors_total{code="QL-1003"} 1.0' in text
    assert 'qinglang_errors_total{code="QL-9503"} 1.0' in text
    assert 'qinglang_http_request_duration_seconds_bucket{le="0.02",method="POST",route="/v1/moderate"}' in text


def test_openapi_documents_every_route_and_error(sqlite_service: Service) -> None:
    doc = sqlite_service.client.get("/openapi.json").json()
    paths = doc["paths"]
    assert {"/v1/moderate", "/v1/moderate/batch", "/v1/ingest", "/v1/audit", "/v1/audit/verify", "/v1/audit/export",
            "/v1/keys", "/v1/keys/{key_id}", "/v1/versions", "/healthz", "/readyz", "/metrics"} <= set(paths)
    moderate = paths["/v1/moderate"]["post"]
    assert {"200", "401", "403", "413", "422", "429", "503"} <= set(moderate["responses"])
    assert moderate["requestBody"]["content"]["application/json"]["schema"]["properties"]["id"]
    assert doc["components"]["securitySchemes"]
