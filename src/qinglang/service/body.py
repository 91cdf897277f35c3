"""Request bodies: a size cap enforced while reading, and JSON parsed with coded errors.

The cap does not trust ``Content-Length``: a declared length over the cap is refused
at once, and the bytes actually received are counted too (a chunked body, or a
client that lies), so no body over ``max_body_bytes`` is ever held in memory whole.

Routes read their JSON through :func:`read_json` rather than FastAPI's body
parameters so that malformed JSON, bad UTF-8 and a wrong content type each get
their own code, and so that posts are validated by the one function every front
uses (:func:`qinglang.io.records.post_from_mapping`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qinglang import errors
from qinglang.service.handlers import ServiceError, error_body

M = TypeVar("M", bound=BaseModel)


def _too_large(limit: int) -> ServiceError:
    return ServiceError(errors.HTTP_BODY_TOO_LARGE, f"request body is larger than {limit} bytes",
                        hint="split the batch, or raise max_body_bytes")


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (413, ``QL-9510``), counting the bytes as they arrive."""

    def __init__(self, app: ASGIApp, max_bytes: int, on_error: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    await self._refuse(send, limit if value.isdigit() else None)
                    return
                break
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, send: Send, limit: int | None) -> None:
        if limit is None:
            code, message, status = errors.HTTP_VALIDATION.code, "Content-Length is not a number", 400
        else:
            code, message, status = errors.HTTP_BODY_TOO_LARGE.code, f"request body is larger than {limit} bytes", 413
        if self.on_error is not None:
            self.on_error(code)
        body = error_body(code, message)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _is_json(content_type: str) -> bool:
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


async def read_json(request: Request) -> Any:
    """The body as JSON: 415 for another content type, 400 for bad UTF-8 or bad JSON (coded)."""
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json(content_type):
        raise ServiceError(errors.HTTP_UNSUPPORTED_MEDIA, f"content type {content_type!r} is not JSON",
                           hint="send Content-Type: application/json")
    raw = await request.body()
    if not raw.strip():
        raise ServiceError(errors.HTTP_MALFORMED_JSON, "request body is empty; a JSON object was expected")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise ServiceError(errors.HTTP_BODY_NOT_UTF8,
                               f"request body is not valid UTF-8 (byte {bad.start}: {bad.reason})") from None
        raise ServiceError(errors.HTTP_MALFORMED_JSON, f"request body is not valid JSON: {exc}") from None


def validated(model: type[M], value: Any) -> M:
    """``value`` as ``model``; a mismatch is 422 ``QL-9509`` naming each field at fault."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:10]
        )
        raise ServiceError(errors.HTTP_VALIDATION, problems) from None
