"""Liveness, readiness and metrics: no API key needed (keep these on the internal network)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from qinglang import errors
from qinglang.model import Post
from qinglang.service.handlers import error_response
from qinglang.service.routers.common import JSONBytes, json_response, state
from qinglang.service.schemas import ErrorBody, HealthOut, ReadyOut

router = APIRouter(tags=["health"])

#: seconds readiness waits for each check
READY_TIMEOUT_S = 5.0


@router.get("/healthz", response_class=JSONBytes, responses={200: {"model": HealthOut}})
async def healthz() -> Response:
    """Liveness: the process answers. Never touches the database or the engine."""
    return json_response({"status": "ok"})


@router.get("/readyz", response_class=JSONBytes,
            responses={200: {"model": ReadyOut}, 503: {"model": ErrorBody, "description": "Not ready (QL-9514)"}})
async def readyz(request: Request) -> Response:
    """Readiness: the database answers a query and the engine detects a probe post."""
    service = state(request)
    checks: dict[str, str] = {}

    def ping_db() -> None:
        with service.db.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping_db)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"failed: {type(exc).__name__}"
    try:
        probe = [Post(id="readyz", text="ready")]
        await service.detection.call(service.detection.engine.detect, probe, timeout=READY_TIMEOUT_S)
        checks["engine"] = "ok"
    except TimeoutError:
        checks["engine"] = f"busy: no answer within {READY_TIMEOUT_S:g} s"
    except Exception as exc:
        checks["engine"] = f"failed: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        return json_response({"status": "ready", "checks": checks})
    return error_response(request, errors.SERVICE_NOT_READY.code, "not ready: " + ", ".join(
        f"{k} {v}" for k, v in checks.items() if v != "ok"), checks=checks)


@router.get("/metrics", responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                                         "description": "Prometheus text exposition format"}},
            response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (requests, latency, verdicts by category, errors by code)."""
    body, content_type = state(request).metrics.exposition()
    return Response(body, media_type=content_type)
