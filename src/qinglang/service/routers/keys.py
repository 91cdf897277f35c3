"""API key management for admins: create (the token is shown once), list, revoke — within their tenant."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from qinglang import errors
from qinglang.service import keys as api_keys
from qinglang.service.auth import require
from qinglang.service.body import read_json, validated
from qinglang.service.handlers import ServiceError
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, JSONBytes, body_doc, json_response, state
from qinglang.service.schemas import KeyCreatedOut, KeyCreateIn, KeyList, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.post("", status_code=201, response_class=JSONBytes,
             responses={201: {"model": KeyCreatedOut}, **ERRORS}, openapi_extra=body_doc(KeyCreateIn))
async def create_key(request: Request, caller: Principal = Depends(require("keys.manage"))) -> Response:  # noqa: B008
    """Create a key in the admin's tenant; the answer holds the token, which is never shown again."""
    service = state(request)
    spec = validated(KeyCreateIn, await read_json(request))
    if spec.tenant is not None and spec.tenant != caller.tenant:
        raise ServiceError(errors.AUTH_FORBIDDEN, "an admin key creates keys in its own tenant only")

    def run() -> dict[str, Any]:
        with service.sessions() as session, session.begin():
            row, token = api_keys.create_key(session, secret=service.secret, role=spec.role, tenant=caller.tenant,
                                             name=spec.name, actor=caller.actor)
            return {**api_keys.key_dict(row), "token": token}

    return json_response(await run_in_threadpool(run), status=201)


@router.get("", response_class=JSONBytes, responses={200: {"model": KeyList}, **ERRORS})
async def list_keys(request: Request, caller: Principal = Depends(require("keys.manage"))) -> Response:  # noqa: B008
    """Every key of the admin's tenant, revoked ones included (never a token or a hash)."""
    service = state(request)

    def run() -> list[dict[str, Any]]:
        with service.sessions() as session:
            return [api_keys.key_dict(row) for row in api_keys.list_keys(session, caller.tenant)]

    return json_response({"keys": await run_in_threadpool(run)})


@router.delete("/{key_id}", response_class=JSONBytes, responses={200: {"model": KeyOut}, **ERRORS})
async def revoke_key(
    request: Request,
    key_id: Annotated[str, Path(max_length=64)],
    caller: Principal = Depends(require("keys.manage")),  # noqa: B008
) -> Response:
    """Revoke a key of the admin's tenant (404 for any other); it stops working at once in this process."""
    service = state(request)
    if not api_keys.KEY_ID.fullmatch(key_id):  # cannot exist (and a NUL would upset PostgreSQL)
        raise ServiceError(errors.HTTP_NOT_FOUND, f"no API key {key_id!r} in this tenant")

    def run() -> dict[str, Any]:
        with service.sessions() as session, session.begin():
            return api_keys.key_dict(api_keys.revoke_key(session, key_id, tenant=caller.tenant, actor=caller.actor))

    result = await run_in_threadpool(run)
    service.key_cache.forget(key_id)
    return json_response(result)
