"""Rate limits (token bucket, 429 + Retry-After) and detection time budgets (503 / partial batches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import ClassVar

import pytest
from service_util import make_service

from qinglang.model import Post, Verdict
from qinglang.scan import Detector
from qinglang.service.ratelimit import TokenBuckets


def test_token_bucket_allows_burst_then_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)
    assert buckets.take("other") == 0.0  # per key
    now[0] += 0.5
    assert buckets.take("k") == 0.0
    assert TokenBuckets.retry_after(0.01) == "1" and TokenBuckets.retry_after(2.2) == "3"
    assert TokenBuckets(rate=0, burst=1).take("k") == 0.0  # disabled


def test_rate_limit_is_429_with_retry_after(sqlite_url: str, detector: Detector) -> None:
    for svc in make_service(sqlite_url, detector, rate_per_s=0.5, rate_burst=2):
        h = svc.headers("auditor")
        codes = [svc.client.get("/v1/versions", headers=h).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = svc.client.get("/v1/versions", headers=h)
        assert r.json()["code"] == "QL-9512" and int(r.headers["retry-after"]) >= 1
        # another key has its own bucket
        assert svc.client.get("/v1/versions", headers=svc.headers("admin")).status_code == 200


class SlowEngine:
    """Takes ``delay`` seconds per post whose text says "slow"; marks "regex" posts degraded."""

    versions: ClassVar[dict] = {"engine": "slow"}

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        self.lock = threading.Lock()

    def detect(self, posts: Sequence[Post]) -> list[Verdict]:
        out = []
        for p in posts:
            with self.lock:
                self.calls += 1
            if "slow" in p.text:
                time.sleep(self.delay)
            v = Verdict(p.id, [], "none", False, [], [], {"engine": "slow"})
            if "regex" in p.text:
                v.degraded = ["regex timeout: rule x"]
            out.append(v)
        return out


def test_single_post_past_its_budget_is_503(sqlite_url: str) -> None:
    for svc in make_service(sqlite_url, SlowEngine(0.5), detect_timeout_s=0.1):  # type: ignore[arg-type]
        started = time.perf_counter()
        r = svc.client.post("/v1/moderate", json={"id": "p", "text": "slow"}, headers=svc.headers("ingest"))
        assert time.perf_counter() - started < 0.45  # it did not wait for the engine
        assert (r.status_code, r.json()["code"]) == (503, "QL-9513")


def test_batch_keeps_finished_steps_and_names_the_rest(sqlite_url: str) -> None:
    engine = SlowEngine(0.3)
    for svc in make_service(sqlite_url, engine, detect_timeout_s=0.2, detect_chunk=2):  # type: ignore[arg-type]
        posts = [{"id": "a", "text": "fast"}, {"id": "b", "text": "fast"},
                 {"id": "c", "text": "slow"}, {"id": "d", "text": "fast"}, {"id": "e", "text": "fast"}]
        r = svc.client.post("/v1/moderate/batch", json={"posts": posts}, headers=svc.headers("ingest"))
        body = r.json()
        assert r.status_code == 200
        assert [("error" in x) for x in body["results"]] == [False, False, True, True, True]
        assert {x["error"]["code"] for x in body["results"][2:]} == {"QL-9513"}
        assert [x["id"] for x in body["results"]] == ["a", "b", "c", "d", "e"]
        assert [x["error"]["record"] for x in body["results"][2:]] == [3, 4, 5]
        time.sleep(0.35)
        assert engine.calls == 4  # the step in flight finished; the step after it never started


def test_engine_degraded_verdicts_pass_through(sqlite_url: str) -> None:
    for svc in make_service(sqlite_url, SlowEngine(0), detect_timeout_s=0):  # type: ignore[arg-type]
        r = svc.client.post("/v1/moderate", json={"id": "p", "text": "regex"}, headers=svc.headers("ingest"))
        assert r.status_code == 200 and r.json()["degraded"] == ["regex timeout: rule x"]
        assert "qinglang_degraded_verdicts_total 1.0" in svc.client.get("/metrics").text
