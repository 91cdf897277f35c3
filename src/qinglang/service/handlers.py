"""Coded error bodies: every failure leaves as ``{"code", "message"}`` with a 4xx/5xx status.

The status for a code comes from ``data/http_status.yaml``; Starlette's own errors
(unknown route, wrong method) and request validation get codes of their own, and a
fault in the service itself is ``QL-9516`` (500, logged with its traceback), never
a bare traceback or an uncoded body. Bad input must never reach that last handler;
``tests/service/test_schema_fuzz.py`` drives generated requests to check it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import orjson
import yaml
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from qinglang import errors
from qinglang.errors import ErrorCode, QLError

log = logging.getLogger(__name__)

#: Starlette's own status codes (routing, body parsing) -> our code for them
_STARLETTE_CODES: dict[int, ErrorCode] = {
    400: errors.HTTP_MALFORMED_JSON,
    404: errors.HTTP_NOT_FOUND,
    405: errors.HTTP_METHOD_NOT_ALLOWED,
    413: errors.HTTP_BODY_TOO_LARGE,
    415: errors.HTTP_UNSUPPORTED_MEDIA,
    422: errors.HTTP_VALIDATION,
    429: errors.HTTP_RATE_LIMITED,
}


@cache
def _status_table() -> tuple[dict[str, int], list[tuple[str, int]], int]:
    text = resources.files("qinglang.service").joinpath("data/http_status.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    prefixes = sorted(((str(k), int(v)) for k, v in doc.get("prefixes", {}).items()), key=lambda kv: -len(kv[0]))
    return {str(k): int(v) for k, v in doc["codes"].items()}, prefixes, int(doc.get("default", 422))


def status_for(code: str) -> int:
    """The HTTP status an error code is answered with (exact code, else longest prefix, else 422)."""
    exact, prefixes, default = _status_table()
    if code in exact:
        return exact[code]
    for prefix, status in prefixes:
        if code.startswith(prefix):
            return status
    return default


class ServiceError(QLError):
    """A coded error with an explicit status or headers (429's ``Retry-After``)."""

    def __init__(self, code: ErrorCode, message: str, *, status: int | None = None,
                 headers: Mapping[str, str] | None = None, hint: str | None = None) -> None:
        super().__init__(code, message, hint=hint)
        self.status = status if status is not None else status_for(code.code)
        self.headers = dict(headers or {})


def error_body(code: str, message: str, hint: str | None = None, **extra: Any) -> bytes:
    body: dict[str, Any] = {"code": code, "message": message}
    if hint:
        body["hint"] = hint
    body.update(extra)
    return orjson.dumps(body)


def error_response(request: Request | None, code: str, message: str, *, status: int | None = None,
                   headers: Mapping[str, str] | None = None, hint: str | None = None, **extra: Any) -> Response:
    """The one way an error leaves the service; counts it in the metrics by code."""
    if request is not None:
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.error(code)
    return Response(error_body(code, message, hint, **extra), status_code=status or status_for(code),
                    media_type="application/json", headers=dict(headers or {}))


async def _ql_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, QLError)
    if isinstance(exc, ServiceError):
        return error_response(request, exc.code.code, exc.message, status=exc.status, headers=exc.headers,
                              hint=exc.hint)
    return error_response(request, exc.code.code, exc.message, hint=exc.hint)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _STARLETTE_CODES.get(exc.status_code)
    if code is None:
        code = errors.HTTP_INTERNAL if exc.status_code >= 500 else errors.HTTP_VALIDATION
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail) if exc.detail else code.title
    return error_response(request, code.code, message, status=exc.status_code, headers=exc.headers)


def _location(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body",)] if isinstance(loc, list | tuple) else [str(loc)]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    if any(p.get("type") == "json_invalid" for p in problems):
        return error_response(request, errors.HTTP_MALFORMED_JSON.code, "request body is not valid JSON")
    message = "; ".join(f"{_location(p.get('loc', ()))}: {p.get('msg', 'invalid')}" for p in problems[:10])
    return error_response(request, errors.HTTP_VALIDATION.code, message or errors.HTTP_VALIDATION.title)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, errors.HTTP_INTERNAL.code, "internal error; the service logged it")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(QLError, _ql_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
