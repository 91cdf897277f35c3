"""Who is calling, and may they: API key resolution, rate limits, role checks.

A route declares ``Depends(require("permission"))``. The dependency reads the token
from ``Authorization: Bearer`` or ``X-API-Key``, finds the key by its public id
(remembered for ``key_cache_s`` seconds, so most requests touch no database),
checks the HMAC in constant time, takes a token from the key's rate bucket, then
checks the role against ``data/roles.yaml``. Order: 401, then 429, then 403.
Tenant scoping is the routes' part: every query filters on ``principal.tenant``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from qinglang import errors
from qinglang.service import keys
from qinglang.service.handlers import ServiceError
from qinglang.service.keys import KnownKey, Principal
from qinglang.service.roles import PERMISSIONS, allowed
from qinglang.service.state import ServiceState

#: the OpenAPI security schemes (both carry the same key)
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer qlk_...`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key: `X-API-Key: qlk_...`"},
}


def security_schemes(openapi: dict[str, Any], paths_prefix: str = "/v1/") -> dict[str, Any]:
    """Add the security schemes to an OpenAPI document, and require one on every ``/v1/`` operation."""
    openapi.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in openapi.get("paths", {}).items():
        if path.startswith(paths_prefix):
            for operation in operations.values():
                operation["security"] = [{"bearer": []}, {"apiKey": []}]
    return openapi


def _unauthorized(message: str) -> ServiceError:
    return ServiceError(errors.AUTH_REQUIRED, message, headers={"WWW-Authenticate": "Bearer"})


def _load(state: ServiceState, key_id: str) -> KnownKey:
    with state.sessions() as session:
        row = keys.lookup(session, key_id)
        if row is None:
            return KnownKey(None, None, False)
        return KnownKey(row.secret_hash, Principal(row.key_id, row.role, row.tenant, row.name),
                      row.revoked_at is not None)


def _token(request: Request) -> str | None:
    """The presented key: ``X-API-Key``, else ``Authorization: Bearer``."""
    headers = request.headers
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


async def principal(request: Request) -> Principal:
    """The calling key (401 ``QL-9503`` when missing, malformed, unknown or revoked; 429 when over its rate).

    Reads the headers itself rather than through FastAPI's security classes: every
    sub-dependency costs tens of microseconds per request on the hot path; the
    schemes are documented in the OpenAPI document by :func:`security_schemes`.
    """
    token = _token(request)
    if not token:
        raise _unauthorized("no API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    key_id = keys.parse_token(token)
    if key_id is None:
        raise _unauthorized("the API key is malformed")
    state: ServiceState = request.app.state.service
    known = state.key_cache.get(key_id)
    if known is None:
        known = await run_in_threadpool(_load, state, key_id)
        state.key_cache.put(key_id, known)
    if known.secret_hash is None or known.principal is None:
        raise _unauthorized("unknown API key")
    if not keys.matches_hash(state.secret, token, known.secret_hash):
        raise _unauthorized("unknown API key")
    if known.revoked:
        raise _unauthorized("the API key was revoked")
    wait = state.buckets.take(key_id)
    if wait > 0:
        raise ServiceError(errors.HTTP_RATE_LIMITED, f"rate limit of {state.buckets.rate:g} requests/s exceeded",
                           headers={"Retry-After": state.buckets.retry_after(wait)})
    request.state.principal = known.principal
    return known.principal


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, if their role holds ``permission`` (403 ``QL-9504`` otherwise)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r} (data/roles.yaml)")

    async def dependency(request: Request) -> Principal:
        caller = await principal(request)
        if not allowed(caller.role, permission):
            raise ServiceError(errors.AUTH_FORBIDDEN, f"role {caller.role!r} may not {permission}")
        return caller

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency
