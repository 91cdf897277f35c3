"""What the routers share: JSON responses written with orjson, error documentation, state access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from qinglang.errors import ErrorCode
from qinglang.model import ErrorRecord, Verdict
from qinglang.service.handlers import ServiceError, status_for
from qinglang.service.schemas import ErrorBody
from qinglang.service.state import ServiceState

T = TypeVar("T")


class JSONBytes(JSONResponse):
    """``application/json`` written by orjson (datetimes as RFC 3339).

    A JSONResponse subclass so that FastAPI documents the route's model as the body.
    """

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else orjson.dumps(content)


def json_response(content: Any, status: int = 200) -> JSONBytes:
    return JSONBytes(orjson.dumps(content), status_code=status)


def state(request: Request) -> ServiceState:
    service: ServiceState = request.app.state.service
    return service


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


#: every error a route may answer, documented for OpenAPI (all share ErrorBody)
ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Malformed JSON or bad UTF-8 (QL-9507, QL-9508)"),
    401: _error("API key missing, unknown or revoked (QL-9503)"),
    403: _error("The key's role lacks the permission (QL-9504)"),
    404: _error("Unknown id in the key's tenant (QL-9505, QL-6101, QL-6106, QL-6110, QL-6202, QL-9006, ...)"),
    409: _error("The state forbids it: a case claimed by another key, decided, an appeal open (QL-61xx)"),
    413: _error("Body or batch too large (QL-9510, QL-9511)"),
    415: _error("Body is not application/json (QL-9515)"),
    422: _error("Wrong types or an invalid post (QL-9509, QL-1xxx)"),
    429: _error("Rate limit exceeded; see Retry-After (QL-9512)"),
    503: _error("Detection out of time, or the database unavailable (QL-9513, QL-6002)"),
}


def body_doc(model: type[BaseModel], description: str = "") -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body that the route reads itself (see service.body)."""
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": model.model_json_schema()}}}}


def record_error(out: ErrorRecord) -> ServiceError:
    """A post's error record as the error of a one-post request."""
    return ServiceError(ErrorCode(out.code, ""), out.message, status=status_for(out.code))


def count(request: Request, outs: list[Verdict | ErrorRecord]) -> None:
    metrics = state(request).metrics
    for out in outs:
        if isinstance(out, ErrorRecord):
            metrics.error(out.code)
        else:
            metrics.verdict((c.code for c in out.categories), bool(out.degraded))


#: a string the store can keep: PostgreSQL refuses NUL in text and JSONB, so it is refused up front (422)
NO_NUL = r"^[^\x00]*$"


async def in_session(service: ServiceState, work: Callable[[Session], T], *, write: bool = False) -> T:
    """Run ``work(session)`` in the thread pool; ``write`` wraps it in one transaction (the change and
    its audit entry commit together, or neither does)."""

    def run() -> T:
        with service.sessions() as session:
            if not write:
                return work(session)
            with session.begin():
                return work(session)

    return await run_in_threadpool(run)
