"""The audit log, read by auditors: the tenant's entries, the chain's integrity, an export.

Entries are the key's tenant's only. The hash chain, though, runs through every
tenant's entries in one sequence, so ``verify`` checks the whole chain and answers
only counts, sequence numbers and hashes (no entry content of another tenant); a
tenant's export has gaps in ``seq`` where other tenants' entries sit, so check the
chain with ``verify`` (or ``qinglang audit verify`` on the database), not the export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from qinglang import errors
from qinglang.service.auth import require
from qinglang.service.handlers import ServiceError
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, JSONBytes, json_response, state
from qinglang.service.schemas import AuditPage, AuditVerifyOut
from qinglang.store.tables import AuditEntry

router = APIRouter(prefix="/v1/audit", tags=["audit"])

#: largest ``after`` accepted (both backends' integers hold it)
MAX_SEQ = 2**62
After = Annotated[int, Query(ge=0, le=MAX_SEQ, description="Only entries with a larger seq")]


def _record(entry: AuditEntry) -> dict[str, Any]:
    from qinglang.store.audit import canonical_at

    return {"seq": entry.seq, "at": canonical_at(entry.at), "tenant": entry.tenant, "actor": entry.actor,
            "action": entry.action, "subject": entry.subject, "payload": entry.payload,
            "prev_hash": entry.prev_hash, "hash": entry.hash}


def _page(session: Any, tenant: str, after: int, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.tenant == tenant, AuditEntry.seq > after)
                           .order_by(AuditEntry.seq).limit(limit))
    return [_record(e) for e in rows]


@router.get("", response_class=JSONBytes, responses={200: {"model": AuditPage}, **ERRORS})
async def audit_entries(
    request: Request,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=100_000, description="Entries per page (at most max_page)")] = 100,
    caller: Principal = Depends(require("audit.read")),  # noqa: B008
) -> Response:
    """The tenant's audit entries after ``after``, oldest first, a page at a time."""
    service = state(request)
    if limit > service.settings.max_page:
        raise ServiceError(errors.HTTP_VALIDATION, f"limit {limit} is over the page size of "
                           f"{service.settings.max_page}")

    def read() -> list[dict[str, Any]]:
        with service.sessions() as session:
            return _page(session, caller.tenant, after, limit + 1)

    rows = await run_in_threadpool(read)
    more = len(rows) > limit
    rows = rows[:limit]
    return json_response({"entries": rows, "next_after": rows[-1]["seq"] if more else None})


@router.get("/verify", response_class=JSONBytes, responses={200: {"model": AuditVerifyOut}, **ERRORS})
async def audit_verify(
    request: Request,
    anchor: Annotated[str | None, Query(max_length=200, description="SEQ:HASH recorded earlier "
                                        "(qinglang audit head); also catches a deleted tail")] = None,
    caller: Principal = Depends(require("audit.read")),  # noqa: B008
) -> Response:
    """Walk the whole hash chain and name every changed, relinked or missing entry (by seq)."""
    from qinglang.store import audit

    service = state(request)
    pin = audit.Anchor.parse(anchor) if anchor is not None else None

    def run() -> dict[str, Any]:
        with service.sessions() as session:
            return audit.verify(session, anchor=pin).to_dict()

    return json_response(await run_in_threadpool(run))


@router.get("/export", responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                                        "description": "One entry per line (JSON Lines)"}, **ERRORS},
            response_class=StreamingResponse)
async def audit_export(
    request: Request,
    after: After = 0,
    caller: Principal = Depends(require("audit.read")),  # noqa: B008
) -> Response:
    """The tenant's entries after ``after`` as JSON Lines, streamed a page at a time."""
    service = state(request)

    def lines() -> Iterator[bytes]:
        last = after
        while True:
            with service.sessions() as session:
                rows = _page(session, caller.tenant, last, 1000)
            for row in rows:
                yield orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
            if len(rows) < 1000:
                return
            last = rows[-1]["seq"]

    return StreamingResponse(lines(), media_type="application/x-ndjson")
