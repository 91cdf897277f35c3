"""What is running: service, engine, packs, model and ladder versions, database schema revision."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from qinglang.service.auth import require
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, JSONBytes, json_response, state
from qinglang.service.schemas import VersionsOut

router = APIRouter(prefix="/v1/versions", tags=["versions"])


@router.get("", response_class=JSONBytes, responses={200: {"model": VersionsOut}, **ERRORS})
async def versions(request: Request, caller: Principal = Depends(require("versions.read"))) -> Response:  # noqa: B008
    """The versions every verdict of this service is stamped with, and the ladder it decides by."""
    return json_response(state(request).versions)
