"""Ingest: scan, store and decide a batch of posts for the key's tenant (``qinglang.ingest``).

The whole batch is one transaction (as one batch of ``qinglang ingest``) and is
idempotent: sending it again stores and decides nothing new. Ingest runs in the
detection thread with no time budget, since stopping it half-way would leave the
request's outcome unknown; its size is bounded by ``max_batch`` instead. Licence
checks use the stored registry when it holds an entry in force, as ``qinglang ingest``
does (:mod:`qinglang.service.registry_cache`). The ladder's decisions are audited by
ingest itself (actor ``ingest``); the request adds one entry, ``ingest.batch`` by
``key:<key_id>``, with what was stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from qinglang import errors
from qinglang.errors import QLError
from qinglang.ingest import IngestStats, ingest_records
from qinglang.model import ErrorRecord, Verdict
from qinglang.service.auth import require
from qinglang.service.body import read_json
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, JSONBytes, body_doc, count, json_response, state
from qinglang.service.routers.moderate import batch_posts
from qinglang.service.schemas import BatchIn, IngestOut
from qinglang.service.state import ServiceState
from qinglang.store.tables import Account, PostVersion

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])


def _column_length(column: Any) -> int | None:
    return getattr(column.property.columns[0].type, "length", None)


#: metadata fields the store keeps in bounded columns (or JSONB), with their limits in characters
_STORED_META = {"id": _column_length(PostVersion.post_id), "account_id": _column_length(Account.external_id),
                "platform": _column_length(Account.platform), "timestamp": _column_length(PostVersion.posted_at),
                "lang": None}


def storable(item: Any, no: int) -> Mapping[str, Any] | QLError:
    """The post, or why the store cannot keep it (checked here, so a bad post is its error record, not a 500).

    Record validation checks text fields; the store also needs the metadata fields
    free of NUL (PostgreSQL refuses it in text and JSONB) and within its column sizes.
    """
    if not isinstance(item, dict):
        return QLError(errors.MALFORMED_RECORD, f"post {no} is not a JSON object", record=no)
    for name, limit in _STORED_META.items():
        value = item.get(name)
        if type(value) is not str:
            continue
        if "\x00" in value:
            return QLError(errors.CONTROL_CHARACTER, f"field '{name}' holds a NUL character", record=no)
        if limit is not None and len(value) > limit:
            return QLError(errors.MALFORMED_RECORD, f"field '{name}' is longer than {limit} characters",
                           record=no)
    return item


def _ingest(service: ServiceState, posts: list[Any], caller: Principal) -> tuple[list[Verdict | ErrorRecord], dict]:
    from qinglang.store import audit

    records = [(no, storable(item, no)) for no, item in enumerate(posts, start=1)]
    stats = IngestStats()
    with service.sessions() as session:
        registry = service.registry.get(session)  # as 'qinglang ingest': the stored one, when it has entries
    outs = list(ingest_records(service.detection.engine, records, service.sessions, tenant=caller.tenant,
                               now=datetime.now(UTC), policy=service.ladder, registry=registry,
                               batch_size=max(1, len(records)),
                               max_text_chars=service.settings.max_text_chars, stats=stats))
    summary = stats.to_dict()
    with service.sessions() as session, session.begin():
        audit.append(session, actor=caller.actor, action="ingest.batch", subject=f"ingest:{uuid.uuid4().hex}",
                     tenant=caller.tenant, payload=summary)
    return outs, summary


@router.post("", response_class=JSONBytes, responses={200: {"model": IngestOut}, **ERRORS},
             openapi_extra=body_doc(BatchIn, "Up to max_batch posts (default 1000)"))
async def ingest(request: Request, caller: Principal = Depends(require("ingest"))) -> Response:  # noqa: B008
    """Scan, store and decide posts for the key's tenant; one result per post, and what was stored."""
    service = state(request)
    posts = batch_posts(await read_json(request), service.settings.max_batch)
    outs, summary = await service.detection.call(_ingest, service, posts, caller)
    count(request, outs)
    return json_response({"results": [out.to_dict() for out in outs], "stats": summary})
