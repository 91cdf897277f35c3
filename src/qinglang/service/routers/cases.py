"""The review queue over HTTP: list, claim (one or the next), release, decide; reviews as training data.

The reviewer is the key: ``store.reviews`` records ``key:<key id>`` as assignee, as
``reviews.reviewer``, as the creator of the strikes and actions a confirmation writes,
and as the audit actor, so two keys are two reviewers. A claim is one conditional
update in the store, so of two keys racing for a case one gets it and the other a
409 ``QL-6103`` (a claim older than the lease, 30 minutes, can be taken over). Only
the key holding the claim decides (409 ``QL-6104`` otherwise), once (409 ``QL-6102``).
Case ids the tenant does not have are 404 ``QL-6101``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from qinglang.service.auth import require
from qinglang.service.body import read_json, validated
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, NO_NUL, JSONBytes, body_doc, in_session, json_response, state
from qinglang.service.schemas_review import CaseList, CaseOut, DecisionIn, NextCaseOut, ReviewOut

router = APIRouter(tags=["cases"])

CaseId = Annotated[int, Path(ge=1, le=2**62, description="The case's id")]
Category = Annotated[str | None, Query(max_length=64, pattern=NO_NUL, description="A taxonomy code")]
Reason = Annotated[str | None, Query(max_length=64, pattern=NO_NUL,
                                     description="review_only_category, low_confidence, licensed_account or "
                                     "high_impact")]


@router.get("/v1/cases", response_class=JSONBytes, responses={200: {"model": CaseList}, **ERRORS})
async def list_cases(
    request: Request,
    status: Annotated[str, Query(pattern="^(waiting|open|claimed|closed|all)$",
                                 description="waiting: what can be claimed now")] = "waiting",
    category: Category = None,
    reason: Reason = None,
    account: Annotated[str | None, Query(max_length=256, pattern=NO_NUL, description="An account id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    caller: Principal = Depends(require("cases.read")),  # noqa: B008
) -> Response:
    """The tenant's cases, highest priority first, then oldest."""
    from qinglang.store import reviews

    views = await in_session(state(request), lambda s: reviews.list_cases(
        s, caller.tenant, status=status, category=category, reason=reason, account=account, limit=limit,
        now=datetime.now(UTC)))
    return json_response({"cases": [v.to_dict() for v in views]})


@router.post("/v1/cases/next", response_class=JSONBytes, responses={200: {"model": NextCaseOut}, **ERRORS})
async def claim_next(
    request: Request,
    category: Category = None,
    reason: Reason = None,
    caller: Principal = Depends(require("cases.work")),  # noqa: B008
) -> Response:
    """Claim the case at the head of the queue (one the key already holds comes first); null when none waits."""
    from qinglang.store import reviews

    view = await in_session(state(request), lambda s: reviews.claim_next(
        s, caller.tenant, caller.actor, now=datetime.now(UTC), category=category, reason=reason), write=True)
    return json_response({"case": view.to_dict() if view is not None else None})


@router.get("/v1/cases/{case_id}", response_class=JSONBytes, responses={200: {"model": CaseOut}, **ERRORS})
async def get_case(request: Request, case_id: CaseId,
                   caller: Principal = Depends(require("cases.read"))) -> Response:  # noqa: B008
    """One case with its posts."""
    from qinglang.store import reviews

    view = await in_session(state(request), lambda s: reviews.get_case(s, caller.tenant, case_id))
    return json_response(view.to_dict())


@router.post("/v1/cases/{case_id}/claim", response_class=JSONBytes, responses={200: {"model": CaseOut}, **ERRORS})
async def claim_case(request: Request, case_id: CaseId,
                     caller: Principal = Depends(require("cases.work"))) -> Response:  # noqa: B008
    """Claim a case for the key (again: the lease restarts); 409 ``QL-6103`` when another key holds it."""
    from qinglang.store import reviews

    view = await in_session(state(request), lambda s: reviews.claim(
        s, caller.tenant, case_id, caller.actor, now=datetime.now(UTC)), write=True)
    return json_response(view.to_dict())


@router.post("/v1/cases/{case_id}/release", response_class=JSONBytes,
             responses={200: {"model": CaseOut}, **ERRORS})
async def release_case(request: Request, case_id: CaseId,
                       caller: Principal = Depends(require("cases.work"))) -> Response:  # noqa: B008
    """Give a case the key holds back to the queue (409 ``QL-6104`` when it does not hold it)."""
    from qinglang.store import reviews

    view = await in_session(state(request), lambda s: reviews.release(
        s, caller.tenant, case_id, caller.actor, now=datetime.now(UTC)), write=True)
    return json_response(view.to_dict())


@router.post("/v1/cases/{case_id}/decision", response_class=JSONBytes,
             responses={200: {"model": ReviewOut}, **ERRORS}, openapi_extra=body_doc(DecisionIn))
async def decide_case(request: Request, case_id: CaseId,
                      caller: Principal = Depends(require("cases.work"))) -> Response:  # noqa: B008
    """Decide a case the key holds: confirm (the ladder acts), overturn (a false positive), recategorize."""
    from qinglang.store import reviews

    service = state(request)
    spec = validated(DecisionIn, await read_json(request))

    def run(session: Session) -> dict[str, Any]:
        result = reviews.decide_case(session, caller.tenant, case_id, caller.actor, spec.decision,
                                     now=datetime.now(UTC), policy=service.ladder,
                                     categories=spec.categories or None, note=spec.note)
        return result.to_dict()

    return json_response(await in_session(service, run, write=True))


@router.get("/v1/reviews/export", responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                                                   "description": "One labeled row per line (JSON Lines)"}, **ERRORS},
            response_class=Response, tags=["cases"])
async def export_reviews(
    request: Request,
    since: Annotated[datetime | None, Query(description="Only decisions from this time on (ISO 8601)")] = None,
    caller: Principal = Depends(require("cases.read")),  # noqa: B008
) -> Response:
    """People's decisions as labeled training data (the rows ``qinglang train`` reads), as JSON Lines."""
    from qinglang.store import training_export

    service = state(request)
    when = since if since is None or since.tzinfo is not None else since.replace(tzinfo=UTC)

    def rows(session: Session) -> list[bytes]:
        return [orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE)
                for r in training_export.export_rows(session, caller.tenant, since=when)]

    lines = await in_session(service, rows)
    return Response(b"".join(lines), media_type="application/x-ndjson")
