"""Bad requests are coded 4xx, never 500: bodies, content types, sizes, routes, methods, ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from service_util import Service, make_service

from qinglang.scan import Detector
from qinglang.service.handlers import status_for


def _post(svc: Service, content: bytes, content_type: str | None = "application/json", path: str = "/v1/moderate",
          **headers: str):
    h = dict(svc.headers("ingest"), **headers)
    if content_type is not None:
        h["content-type"] = content_type
    return svc.client.post(path, content=content, headers=h)


@pytest.mark.parametrize(("content", "code"), [
    (b'{"id": "p", "text": "\xff\xfe"}', "QL-9508"),          # bad UTF-8
    (b'{"id": "p", "text": "\xed\xa0\x80"}', "QL-9508"),      # an encoded surrogate is not UTF-8
    (b'{"id": "p", "text": ', "QL-9507"),
    (b"", "QL-9507"),
    (b"   ", "QL-9507"),
    (b'{"id": 1e999999}', "QL-9507"),
    (b"NaN", "QL-9507"),
])
@pytest.mark.parametrize("path", ["/v1/moderate", "/v1/moderate/batch", "/v1/ingest", "/v1/keys"])
def test_malformed_bodies_are_400(sqlite_service: Service, content: bytes, code: str, path: str) -> None:
    h = sqlite_service.headers("admin")
    r = sqlite_service.client.post(path, content=content, headers={**h, "content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (400, code)


def test_huge_numbers_are_a_coded_4xx(sqlite_service: Service) -> None:
    r = _post(sqlite_service, b'{"id": 123456789012345678901234567890, "text": "x"}')
    assert 400 <= r.status_code < 500 and r.json()["code"].startswith("QL-")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_non_json_content_types_are_415(sqlite_service: Service, content_type: str) -> None:
    r = _post(sqlite_service, b'{"id": "p", "text": "x"}', content_type)
    assert (r.status_code, r.json()["code"]) == (415, "QL-9515")


def test_json_without_a_content_type_and_json_suffix_types_are_accepted(sqlite_service: Service) -> None:
    assert _post(sqlite_service, b'{"id": "p", "text": "x"}', None).status_code == 200
    vendor = "application/vnd.x+json; charset=utf-8"
    assert _post(sqlite_service, b'{"id": "p", "text": "x"}', vendor).status_code == 200


@pytest.fixture
def small(sqlite_url: str, detector: Detector) -> Iterator[Service]:
    yield from make_service(sqlite_url, detector, max_body_bytes=2048)


def test_oversized_body_with_honest_length_is_413(small: Service) -> None:
    body = b'{"id": "p", "text": "' + b"x" * 4000 + b'"}'
    r = _post(small, body)
    assert (r.status_code, r.json()["code"]) == (413, "QL-9510")


def test_oversized_body_is_counted_not_trusted(small: Service) -> None:
    """A chunked body (no Content-Length) is counted as it arrives."""
    def chunks() -> Iterator[bytes]:
        yield b'{"id": "p", "text": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    h = {**small.headers("ingest"), "content-type": "application/json"}
    r = small.client.post("/v1/moderate", content=chunks(), headers=h)
    assert (r.status_code, r.json()["code"]) == (413, "QL-9510")
    r = small.client.post("/v1/keys", content=chunks(), headers={**small.headers("admin"), "content-type":
                                                                   "application/json"})
    assert (r.status_code, r.json()["code"]) == (413, "QL-9510")


def test_a_body_under_the_cap_passes(small: Service) -> None:
    assert _post(small, b'{"id": "p", "text": "' + b"x" * 1000 + b'"}').status_code == 200


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/nope", 404, "QL-9505"),
    ("GET", "/v1/moderate/nope", 404, "QL-9505"),
    ("GET", "/v1/moderate", 405, "QL-9506"),
    ("PUT", "/v1/keys", 405, "QL-9506"),
    ("DELETE", "/v1/keys/000000000000", 404, "QL-9505"),
    ("DELETE", "/v1/keys/" + "x" * 65, 422, "QL-9509"),
    ("GET", "/v1/audit?after=-1", 422, "QL-9509"),
    ("GET", "/v1/audit?after=abc", 422, "QL-9509"),
    ("GET", "/v1/audit?after=99999999999999999999999", 422, "QL-9509"),
    ("GET", "/v1/audit?limit=0", 422, "QL-9509"),
    ("GET", "/v1/audit?limit=5000", 422, "QL-9509"),
    ("GET", "/v1/audit/verify?anchor=nope", 422, "QL-6005"),
])
def test_unknown_routes_ids_and_bad_parameters(sqlite_service: Service, method: str, path: str, status: int,
                                               code: str) -> None:
    r = sqlite_service.client.request(method, path, headers=sqlite_service.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


@pytest.mark.parametrize("body", [{"role": "wizard"}, {"role": 5}, {"role": "ingest", "extra": 1},
                                  {"role": "ingest", "name": "x" * 200}, {}, []])
def test_bad_key_requests_are_422(sqlite_service: Service, body: object) -> None:
    r = sqlite_service.client.post("/v1/keys", json=body, headers=sqlite_service.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (422, "QL-9509")


def test_a_fault_is_a_coded_500_not_a_traceback(sqlite_url: str) -> None:
    class Broken:
        versions: ClassVar[dict] = {}

        def detect(self, posts: list) -> list:
            raise AssertionError("boom")

    for svc in make_service(sqlite_url, Broken()):  # type: ignore[arg-type]
        client = TestClient(svc.app, raise_server_exceptions=False)
        # the engine failing on a post is that post's error (as in 'qinglang scan'), not a 500
        r = client.post("/v1/moderate", json={"id": "p", "text": "x"}, headers=svc.headers("ingest"))
        assert (r.status_code, r.json()["code"]) == (422, "QL-1010")
        # a fault outside any post (here: readiness's probe raising) is reported, coded
        svc.app.state.service.db.dispose()
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["code"] == "QL-9514"
        assert r.json()["checks"]["engine"].startswith("failed")


def test_status_table() -> None:
    assert [status_for(c) for c in ("QL-1004", "QL-6002", "QL-9503", "QL-9512", "QL-8001", "QL-6112")] == [
        422, 503, 401, 429, 422, 403]
