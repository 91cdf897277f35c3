"""The licence registry: list and show entries, import a CSV (or JSON rows) as an upsert.

The registry is the regulator's public list of licensed entities, so it is **one for
every tenant**: every key with ``registry.read`` sees the same entries, and an import
by a supervisor or admin of any tenant changes them for all (as ``qinglang registry
import`` does). What stays per tenant: ``GET /v1/registry/{id}`` lists only the key's
tenant's accounts bound to the entry.

An import goes through ``store.registry_store.import_registry``: bad rows are reported
with their line, field, code and reason and the rest imported; with ``replace`` the
body is the whole registry and entries it no longer lists are retired (not when rows
were bad: ``replace_skipped``). Each added, changed or retired entry is one audit
entry by ``key:<key id>`` (tenant-less, like the registry); the request adds one
``registry.import`` entry in the key's tenant with the counts, so the tenant's own
audit log shows who changed the shared registry.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from qinglang import errors
from qinglang.service.auth import require
from qinglang.service.body import read_json, validated
from qinglang.service.handlers import ServiceError
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, NO_NUL, JSONBytes, in_session, json_response, state
from qinglang.service.schemas_accounts import EntityDetailOut, EntityList, RegistryImportOut, RegistryRowsIn

router = APIRouter(prefix="/v1/registry", tags=["registry"])

#: the CSV columns a JSON row may use, in the order they are written (others follow as extra columns)
_COLUMNS = ("id", "name", "kind", "licence_type", "licence_number", "aliases", "valid_from", "valid_to",
            "source", "affiliation")


@router.get("", response_class=JSONBytes, responses={200: {"model": EntityList}, **ERRORS})
async def list_entries(
    request: Request,
    licence_type: Annotated[str | None, Query(max_length=64, pattern=NO_NUL,
                                              description="e.g. securities_advisory (QL-8002 when unknown)")] = None,
    valid_on: Annotated[date | None, Query(description="Only licences in force on this day")] = None,
    include_retired: bool = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    caller: Principal = Depends(require("registry.read")),  # noqa: B008
) -> Response:
    """Registry entries by id, filtered by licence type and the day their licence is in force."""
    from qinglang.store import registry_store

    rows = await in_session(state(request), lambda s: registry_store.list_entities(
        s, licence_type=licence_type, valid_on=valid_on, include_retired=include_retired, limit=limit))
    return json_response({"entries": rows})


@router.get("/{entry_id}", response_class=JSONBytes, responses={200: {"model": EntityDetailOut}, **ERRORS})
async def get_entry(
    request: Request,
    entry_id: Annotated[str, Path(min_length=1, max_length=128, pattern=NO_NUL)],
    caller: Principal = Depends(require("registry.read")),  # noqa: B008
) -> Response:
    """One entry, the key's tenant's accounts bound to it, and its change history (404 ``QL-6202``)."""
    from qinglang.store import registry_store

    def run(session: Session) -> dict[str, Any]:
        body = registry_store.entity_detail(session, entry_id)
        body["accounts"] = [a for a in body["accounts"] if a.pop("tenant") == caller.tenant]
        return body

    return json_response(await in_session(state(request), run))


def _cell(value: Any) -> str:
    """A JSON value as the CSV cell the importer reads (a list of aliases joins with ';')."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    return orjson.dumps(value).decode()  # a number, or something the importer will report as bad


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """JSON rows as CSV text: row N is line N + 1, so problems name the row's position + 1."""
    extra = list(dict.fromkeys(k for row in rows for k in row if k not in _COLUMNS))
    header = [c for c in _COLUMNS if any(c in row for row in rows)] + extra
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        # a cell with a line break would span CSV lines and shift every later line number
        writer.writerow([_cell(row.get(c)).replace("\r", " ").replace("\n", " ") for c in header])
    return buf.getvalue()


async def _import_body(request: Request) -> tuple[bytes | str, bool | None]:
    """The CSV to import (``text/csv`` as sent, JSON rows converted) and the body's ``replace``, if any."""
    content_type = request.headers.get("content-type", "")
    main = content_type.split(";", 1)[0].strip().lower()
    if main in ("text/csv", "text/plain", "application/csv"):
        data = await request.body()
        if not data.strip():
            raise ServiceError(errors.HTTP_VALIDATION, "the CSV body is empty", hint="send a header and rows")
        return data, None
    spec = validated(RegistryRowsIn, await read_json(request))
    if not spec.rows:
        raise ServiceError(errors.HTTP_VALIDATION, "'rows' is empty")
    return rows_to_csv(spec.rows), spec.replace


@router.post("/import", response_class=JSONBytes, responses={200: {"model": RegistryImportOut}, **ERRORS},
             openapi_extra={"requestBody": {"required": True, "description": "The registry as CSV (header and "
                            "rows, docs/registry.md), or JSON rows", "content": {
                                "text/csv": {"schema": {"type": "string"}},
                                "application/json": {"schema": RegistryRowsIn.model_json_schema()}}}})
async def import_entries(
    request: Request,
    replace: Annotated[bool, Query(description="The body is the whole registry: retire entries it does not "
                                   "list")] = False,
    caller: Principal = Depends(require("registry.write")),  # noqa: B008
) -> Response:
    """Upsert registry entries; bad rows are reported with line and reason, the rest imported; audited."""
    from qinglang.store import audit, registry_store

    data, body_replace = await _import_body(request)
    full = replace or bool(body_replace)

    def run(session: Session) -> dict[str, Any]:
        now = datetime.now(UTC)
        summary = registry_store.import_registry(session, data, actor=caller.actor, now=now, replace=full)
        result = {"ok": summary.ok, **summary.to_dict()}
        counts = {k: result[k] for k in ("rows_read", "added", "changed", "unchanged", "retired", "bad_rows",
                                         "replace", "replace_skipped")}
        audit.append(session, actor=caller.actor, action="registry.import", subject="registry", tenant=caller.tenant,
                     at=now, payload=counts)
        return result

    return json_response(await in_session(state(request), run, write=True))
