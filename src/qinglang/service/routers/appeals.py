"""Appeals over HTTP: file one against an action of the tenant, list, show, decide.

**Who files.** The account holder does not hold an API key: the platform relays the
holder's appeal with its ``ingest`` key (the key that sends the posts), or a
supervisor files one by hand; admins may too (``appeals.file``). The filing key is the
appellant (``key:<key id>``) and the holder's grounds are the ``reason``.

**Who decides.** ``appeals.decide`` (reviewers, supervisors, admins), but never the key
that filed the appeal, nor a key that took the decision it contests (confirmed or
re-categorised the case behind the action, or issued it): 403 ``QL-6112``, checked by
``store.appeals.decide_appeal``. Upholding reverses the action and recomputes the
ladder; every filing and decision is audited with the key as actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from qinglang import errors
from qinglang.errors import QLError
from qinglang.service.auth import require
from qinglang.service.body import read_json, validated
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, NO_NUL, JSONBytes, body_doc, in_session, json_response, state
from qinglang.service.schemas_review import AppealDecisionIn, AppealIn, AppealList, AppealOut

router = APIRouter(prefix="/v1/appeals", tags=["appeals"])

AppealId = Annotated[int, Path(ge=1, le=2**62, description="The appeal's id")]
#: the largest row id a reference may name (both backends' integers hold it)
MAX_ID = 2**62


def action_ref(ref: int | str) -> int | str:
    """The action reference as the store takes it; a number no row can have is ``QL-6107`` (404), not an
    integer overflow in the database."""
    text = str(ref).strip()
    if text.isdigit() and int(text) > MAX_ID:
        raise QLError(errors.APPEAL_ACTION_NOT_FOUND, f"no action {text}")
    return ref


@router.post("", status_code=201, response_class=JSONBytes, responses={201: {"model": AppealOut}, **ERRORS},
             openapi_extra=body_doc(AppealIn, "The contested action and the account holder's grounds"))
async def file_appeal(request: Request, caller: Principal = Depends(require("appeals.file"))) -> Response:  # noqa: B008
    """File an appeal against an active or expired action of the tenant; the key is the appellant."""
    from qinglang.store import appeals

    spec = validated(AppealIn, await read_json(request))
    ref = action_ref(spec.action)
    view = await in_session(state(request), lambda s: appeals.file_appeal(
        s, caller.tenant, ref, caller.actor, spec.reason, now=datetime.now(UTC)), write=True)
    return json_response(view.to_dict(), status=201)


@router.get("", response_class=JSONBytes, responses={200: {"model": AppealList}, **ERRORS})
async def list_appeals(
    request: Request,
    status: Annotated[str, Query(pattern="^(open|upheld|rejected|all)$")] = "open",
    account: Annotated[str | None, Query(max_length=256, pattern=NO_NUL, description="An account id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    caller: Principal = Depends(require("appeals.read")),  # noqa: B008
) -> Response:
    """The tenant's appeals, oldest first."""
    from qinglang.store import appeals

    views = await in_session(state(request), lambda s: appeals.list_appeals(
        s, caller.tenant, status=status, account=account, limit=limit))
    return json_response({"appeals": [v.to_dict() for v in views]})


@router.get("/{appeal_id}", response_class=JSONBytes, responses={200: {"model": AppealOut}, **ERRORS})
async def get_appeal(request: Request, appeal_id: AppealId,
                     caller: Principal = Depends(require("appeals.read"))) -> Response:  # noqa: B008
    """One appeal with the action it contests (404 ``QL-6110``)."""
    from qinglang.store import appeals

    view = await in_session(state(request), lambda s: appeals.get_appeal(s, caller.tenant, appeal_id))
    return json_response(view.to_dict())


@router.post("/{appeal_id}/decision", response_class=JSONBytes, responses={200: {"model": AppealOut}, **ERRORS},
             openapi_extra=body_doc(AppealDecisionIn))
async def decide_appeal(request: Request, appeal_id: AppealId,
                        caller: Principal = Depends(require("appeals.decide"))) -> Response:  # noqa: B008
    """Uphold (reverse the action, recompute the ladder) or reject; 403 ``QL-6112`` for the key that filed
    the appeal or took the decision it contests."""
    from qinglang.store import appeals

    service = state(request)
    spec = validated(AppealDecisionIn, await read_json(request))

    def run(session: Session) -> dict[str, Any]:
        return appeals.decide_appeal(session, caller.tenant, appeal_id, caller.actor, spec.outcome, spec.note,
                                     now=datetime.now(UTC), policy=service.ladder).to_dict()

    return json_response(await in_session(service, run, write=True))
