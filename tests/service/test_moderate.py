"""Moderation: the same verdict as the CLI, batches that never fail whole, coded errors for bad input."""

from __future__ import annotations

import pytest
from service_util import Service

from qinglang.model import Post
from qinglang.scan import Detector

TIPPING = "老师带单，今日牛股600519必涨，进VIP群加薇信：abc123456"


def test_single_post_verdict_is_the_cli_verdict(sqlite_service: Service, detector: Detector) -> None:
    post = {"id": "p1", "text": TIPPING, "account_id": 42, "platform": "weibo"}
    r = sqlite_service.client.post("/v1/moderate", json=post, headers=sqlite_service.headers("ingest"))
    assert r.status_code == 200
    expected = detector.detect([Post(id="p1", text=TIPPING, account_id="42", platform="weibo")])[0].to_dict()
    assert r.json() == expected
    assert r.json()["flagged"] and r.json()["hits"]  # evidence comes with it


def test_batch_answers_one_result_per_post_in_order(sqlite_service: Service) -> None:
    posts = [
        {"id": "ok", "text": "今天天气很好"},
        "not an object",
        {"text": "no id"},
        {"id": "bad-type", "text": 12},
        {"id": "ctrl", "text": "a\x00b"},
        {"id": 7, "text": TIPPING},
        {"id": "empty", "text": ""},
    ]
    r = sqlite_service.client.post("/v1/moderate/batch", json={"posts": posts},
                                   headers=sqlite_service.headers("reviewer"))
    assert r.status_code == 200
    body = r.json()
    codes = [res.get("error", {}).get("code") for res in body["results"]]
    assert codes == [None, "QL-1001", "QL-1008", "QL-1004", "QL-1005", None, "QL-1003"]
    assert [res["error"]["record"] for res in body["results"] if "error" in res] == [2, 3, 4, 5, 7]
    assert body["results"][3]["id"] == "bad-type"  # the error record names the post
    assert body["results"][5]["id"] == "7" and body["results"][5]["flagged"]
    assert (body["verdicts"], body["errors"]) == (2, 5)


def test_empty_batch_is_fine(sqlite_service: Service) -> None:
    r = sqlite_service.client.post("/v1/moderate/batch", json={"posts": []}, headers=sqlite_service.headers("ingest"))
    assert r.json() == {"results": [], "verdicts": 0, "errors": 0}


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"id": "p", "text": 5}, 422, "QL-1004"),
    ({"id": "p"}, 422, "QL-1003"),
    ({"id": True, "text": "x"}, 422, "QL-1004"),
    ({"text": "x"}, 422, "QL-1008"),
    ([{"id": "p", "text": "x"}], 422, "QL-9509"),
    ("just a string", 422, "QL-9509"),
])
def test_bad_single_posts_are_coded_4xx(sqlite_service: Service, body: object, status: int, code: str) -> None:
    r = sqlite_service.client.post("/v1/moderate", json=body, headers=sqlite_service.headers("ingest"))
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert set(r.json()) >= {"code", "message"}


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/moderate/batch", {"posts": "x"}),
    ("/v1/moderate/batch", {"items": []}),
    ("/v1/moderate/batch", [1, 2]),
    ("/v1/ingest", {"posts": {"id": 1}}),
])
def test_batches_without_a_posts_list_are_422(sqlite_service: Service, path: str, body: object) -> None:
    r = sqlite_service.client.post(path, json=body, headers=sqlite_service.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (422, "QL-9509")


def test_batch_over_the_limit_is_413(sqlite_url: str, detector: Detector) -> None:
    from service_util import make_service

    for svc in make_service(sqlite_url, detector, max_batch=3):
        posts = [{"id": str(i), "text": "x"} for i in range(4)]
        r = svc.client.post("/v1/moderate/batch", json={"posts": posts}, headers=svc.headers("ingest"))
        assert (r.status_code, r.json()["code"]) == (413, "QL-9511")
        r = svc.client.post("/v1/moderate/batch", json={"posts": posts[:3]}, headers=svc.headers("ingest"))
        assert r.status_code == 200


def test_long_text_over_the_field_limit_is_an_error_record(sqlite_url: str, detector: Detector) -> None:
    from service_util import make_service

    for svc in make_service(sqlite_url, detector, max_text_chars=10):
        r = svc.client.post("/v1/moderate", json={"id": "p", "text": "x" * 11}, headers=svc.headers("ingest"))
        assert (r.status_code, r.json()["code"]) == (422, "QL-1006")
