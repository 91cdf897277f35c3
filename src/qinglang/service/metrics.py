"""Prometheus metrics: requests and latency by route and status, verdicts by category, errors by code.

Each application gets its own registry (tests build many apps in one process);
``GET /metrics`` serves it in the text exposition format. The route label is the
route's template (``/v1/keys/{key_id}``), never the raw path, so label values stay
few; unmatched paths share one label.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the "_created" timestamp series double the output and tell a scraper nothing it needs
disable_created_metrics()

UNMATCHED = "<unmatched>"
#: latency buckets (seconds): fine below 50 ms, where single-post moderation lives
BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's collectors on a private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("qinglang_http_requests", "HTTP requests by method, route and status",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("qinglang_http_request_duration_seconds", "HTTP request latency by route",
                                 ("method", "route"), buckets=BUCKETS, registry=self.registry)
        self.verdicts = Counter("qinglang_verdicts", "Verdicts by category ('none' for a clean post)",
                                ("category",), registry=self.registry)
        self.errors = Counter("qinglang_errors", "Coded errors answered or recorded, by code",
                              ("code",), registry=self.registry)
        self.degraded = Counter("qinglang_degraded_verdicts", "Verdicts marked degraded (a regex timed out)",
                                registry=self.registry)

    def error(self, code: str) -> None:
        self.errors.labels(code).inc()

    def verdict(self, categories: Iterable[str], degraded: bool = False) -> None:
        seen = False
        for code in categories:
            self.verdicts.labels(code).inc()
            seen = True
        if not seen:
            self.verdicts.labels("none").inc()
        if degraded:
            self.degraded.inc()

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Count every request and time it, whatever the outcome (a fault is counted as 500)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or UNMATCHED
            method = scope.get("method", "")
            self.metrics.requests.labels(method, label, str(status)).inc()
            self.metrics.latency.labels(method, label).observe(time.perf_counter() - started)
