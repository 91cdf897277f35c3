"""Gang clusters over HTTP, matching ``qinglang cluster build|accounts|list|show|explain|export|act``.

Everything is the key's tenant's: a cluster id of another tenant is 404 ``QL-9006``
(or ``QL-9010`` when the tenant has never built clusters: no id exists for it).
Writes are audited with the key as actor: ``cluster.build`` and ``cluster.accounts``
(what the request stored) here, ``cluster.act``/``cluster.review`` by
``cluster.act.propose``. Building is CPU-bound graph work and runs in the thread pool,
off the event loop; it reads only verdicts stored since the tenant's last run.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, Response

from qinglang import errors
from qinglang.cluster.export import BLOCKLIST_FORMATS
from qinglang.service.auth import require
from qinglang.service.body import read_json, validated
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, NO_NUL, JSONBytes, body_doc, in_session, json_response, state
from qinglang.service.schemas_clusters import (
    AccountRowsIn,
    AccountsImportOut,
    ActIn,
    ActOut,
    BlocklistOut,
    BuildOut,
    ClusterList,
    ClusterOut,
    DossierOut,
    ExplainOut,
)

router = APIRouter(prefix="/v1/clusters", tags=["clusters"])

ClusterId = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="e.g. C-000001")]
AccountRef = Annotated[str, Query(min_length=1, max_length=330, pattern=NO_NUL,
                                  description="Account id (platform:id when it exists on several platforms)")]
#: column widths of ``accounts`` (tables.py): longer values are bad rows, not failed transactions
_ACCOUNT_LIMITS = {"account": 256, "account_id": 256, "platform": 64}


def _settings() -> Any:
    from qinglang.cluster.settings import default_settings

    return default_settings()


@router.post("/build", response_class=JSONBytes, responses={200: {"model": BuildOut}, **ERRORS})
async def build(request: Request, caller: Principal = Depends(require("clusters.build"))) -> Response:  # noqa: B008
    """Read the verdicts stored since the last run, update the link graph, re-cluster; ids stay stable."""
    from qinglang.cluster import store
    from qinglang.store import audit

    def run(session: Session) -> dict[str, Any]:
        now = datetime.now(UTC)
        report = store.build(session, caller.tenant, _settings(), now=now).to_dict()
        audit.append(session, actor=caller.actor, action="cluster.build", subject=f"cluster_run:{report['run_id']}",
                     tenant=caller.tenant, at=now,
                     payload={k: report[k] for k in ("run_id", "watermark", "verdicts_read", "links_added",
                                                     "clusters", "new", "retired")})
        return report

    return json_response(await in_session(state(request), run, write=True))


def _checked(line: int, rec: Any) -> Any:
    """A row the store can keep, else its problem (NUL or over-long account and platform values)."""
    from qinglang.cluster.accounts import RowProblem

    if not isinstance(rec, dict):
        return RowProblem(line, errors.CLUSTER_BAD_ROW, "not a JSON object")
    for name, limit in _ACCOUNT_LIMITS.items():
        value = rec.get(name)
        if isinstance(value, str) and ("\x00" in value or len(value) > limit):
            return RowProblem(line, errors.CLUSTER_BAD_ROW, f"{name} holds a NUL or is longer than {limit}")
    return rec


async def _account_rows(request: Request) -> list[tuple[int, Any]]:
    """(line, row) from a JSON ``{"rows": [...]}`` body (line = position), CSV or JSON Lines."""
    from qinglang.cluster.accounts import RowProblem

    main = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if main in ("text/csv", "application/x-ndjson", "application/jsonl"):
        text = (await request.body()).decode("utf-8", errors="replace")
        if main == "text/csv":
            reader = csv.DictReader(io.StringIO(text, newline=""))
            return [(reader.line_num, _checked(reader.line_num, dict(row))) for row in reader]
        out: list[tuple[int, Any]] = []
        for n, raw in enumerate(text.splitlines(), start=1):
            if raw.strip():
                try:
                    out.append((n, _checked(n, orjson.loads(raw))))
                except orjson.JSONDecodeError as exc:
                    out.append((n, RowProblem(n, errors.CLUSTER_BAD_ROW, f"not JSON: {exc}")))
        return out
    spec = validated(AccountRowsIn, await read_json(request))
    return [(n, _checked(n, row)) for n, row in enumerate(spec.rows, start=1)]


@router.post("/accounts", response_class=JSONBytes, responses={200: {"model": AccountsImportOut}, **ERRORS},
             openapi_extra={"requestBody": {"required": True, "description": "Account data: JSON rows, CSV with a "
                            "header, or JSON Lines", "content": {
                                "application/json": {"schema": AccountRowsIn.model_json_schema()},
                                "text/csv": {"schema": {"type": "string"}},
                                "application/x-ndjson": {"schema": {"type": "string"}}}}})
async def import_accounts(request: Request,
                          caller: Principal = Depends(require("clusters.build"))) -> Response:  # noqa: B008
    """Add account-level identifiers (device, IP, payment account, registration phone); bad values are
    reported with their line and code, the rest imported."""
    from qinglang.cluster import store
    from qinglang.store import audit

    rows = await _account_rows(request)

    def run(session: Session) -> dict[str, Any]:
        now = datetime.now(UTC)
        report = store.import_account_rows(session, caller.tenant, rows, _settings(), now=now).to_dict()
        audit.append(session, actor=caller.actor, action="cluster.accounts", subject="cluster:accounts",
                     tenant=caller.tenant, at=now, payload={"rows": report["rows"], "accounts": report["accounts"],
                                                            "links_added": report["links_added"],
                                                            "problems": len(report["problems"])})
        return report

    return json_response(await in_session(state(request), run, write=True))


@router.get("", response_class=JSONBytes, responses={200: {"model": ClusterList}, **ERRORS})
async def list_clusters(
    request: Request,
    min_size: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    retired: bool = False,
    caller: Principal = Depends(require("clusters.read")),  # noqa: B008
) -> Response:
    """The tenant's clusters, riskiest first (empty, ``built: false``, before the first build)."""
    from qinglang.cluster import store

    def run(session: Session) -> dict[str, Any]:
        if store.last_run(session, caller.tenant) is None:
            return {"clusters": [], "built": False}
        return {"clusters": store.list_clusters(session, caller.tenant, min_size=min_size, limit=limit,
                                                include_retired=retired), "built": True}

    return json_response(await in_session(state(request), run))


@router.get("/explain", response_class=JSONBytes, responses={200: {"model": ExplainOut}, **ERRORS})
async def explain(request: Request, a: AccountRef, b: AccountRef,
                  caller: Principal = Depends(require("clusters.read"))) -> Response:  # noqa: B008
    """Why two accounts share a cluster: the shortest path of shared identifiers, with posts and spans."""
    from qinglang.cluster import store

    return json_response(await in_session(state(request), lambda s: store.explain(
        s, caller.tenant, a, b, _settings())))


@router.get("/blocklist", responses={200: {"model": BlocklistOut, "description": "JSON (format=json), or the "
                                           "list as text (format=text: text/plain; CSV for kind=csv)",
                                           "content": {"text/plain": {"schema": {"type": "string"}},
                                                       "text/csv": {"schema": {"type": "string"}}}}, **ERRORS},
            response_class=JSONBytes)
async def blocklist(
    request: Request,
    kind: Annotated[str, Query(pattern="^(" + "|".join(BLOCKLIST_FORMATS) + ")$",
                               description="domains, hosts, rpz, handles, wallets or csv")],
    format: Annotated[str, Query(pattern="^(text|json)$")] = "text",
    cluster_id: Annotated[str | None, Query(max_length=64, pattern=NO_NUL,
                                            description="One cluster; default every active one")] = None,
    min_risk: Annotated[float, Query(ge=0, le=1, description="Without cluster_id: only this risky")] = 0.0,
    caller: Principal = Depends(require("clusters.read")),  # noqa: B008
) -> Response:
    """Identifier blocklists for hand-over: domains, hosts file, RPZ zone, handles, wallets, CSV."""
    from qinglang.cluster import export, store

    def run(session: Session) -> tuple[list[tuple[str, str]], list[str]]:
        if cluster_id is not None:
            infos = [store.show(session, caller.tenant, cluster_id)]
        elif store.last_run(session, caller.tenant) is None:
            infos = []
        else:
            infos = [store.show(session, caller.tenant, c["cluster_id"])
                     for c in store.list_clusters(session, caller.tenant, limit=10**9) if c["risk"] >= min_risk]
        return [i for info in infos for i in export.cluster_identifiers(info)], [i["cluster_id"] for i in infos]

    idents, clusters = await in_session(state(request), run)
    text = export.blocklist(idents, kind)
    if format == "json":
        return json_response({"kind": kind, "clusters": clusters, "lines": text.splitlines()})
    return Response(text, media_type="text/csv" if kind == "csv" else "text/plain")


@router.get("/{cluster_id}", response_class=JSONBytes, responses={200: {"model": ClusterOut}, **ERRORS})
async def show(request: Request, cluster_id: ClusterId,
               caller: Principal = Depends(require("clusters.read"))) -> Response:  # noqa: B008
    """One cluster: members and roles, shared identifiers, chain, risk terms."""
    from qinglang.cluster import store

    return json_response(await in_session(state(request), lambda s: store.show(s, caller.tenant, cluster_id)))


@router.get("/{cluster_id}/dossier", response_class=JSONBytes,
            responses={200: {"model": DossierOut, "description": "JSON, or the HTML page (Accept: text/html or "
                             "format=html)", "content": {"text/html": {"schema": {"type": "string"}}}}, **ERRORS})
async def dossier(
    request: Request,
    cluster_id: ClusterId,
    format: Annotated[str | None, Query(pattern="^(json|html)$")] = None,
    caller: Principal = Depends(require("clusters.read")),  # noqa: B008
) -> Response:
    """The hand-over dossier with evidence hashes: JSON, or a self-contained HTML page."""
    from qinglang.cluster import export

    doc = await in_session(state(request), lambda s: export.dossier(s, caller.tenant, cluster_id,
                                                                     generated_at=datetime.now(UTC)))
    wants_html = format == "html" or (format is None and _prefers_html(request.headers.get("accept", "")))
    if wants_html:
        return HTMLResponse(export.render_html(doc))
    return json_response(doc)


def _prefers_html(accept: str) -> bool:
    """Whether ``Accept`` names HTML before (or without) JSON; ``*/*`` and no header mean JSON."""
    kinds = [part.split(";", 1)[0].strip().lower() for part in accept.split(",")]
    for kind in kinds:
        if kind in ("text/html", "application/xhtml+xml"):
            return True
        if kind in ("application/json", "*/*"):
            return False
    return False


@router.post("/{cluster_id}/act", response_class=JSONBytes, responses={200: {"model": ActOut}, **ERRORS},
             openapi_extra=body_doc(ActIn, "Optional: {} acts as the cluster's size says"))
async def act(request: Request, cluster_id: ClusterId,
              caller: Principal = Depends(require("clusters.act"))) -> Response:  # noqa: B008
    """One ladder step for the whole cluster: actions per member, or a review case for large clusters."""
    from qinglang.cluster import act as cluster_act

    service = state(request)
    raw = await request.body()
    spec = validated(ActIn, await read_json(request)) if raw.strip() else ActIn()
    result = await in_session(service, lambda s: cluster_act.propose(
        s, caller.tenant, cluster_id, _settings(), now=datetime.now(UTC), policy=service.ladder,
        force_review=spec.review, dry_run=spec.dry_run, actor=caller.actor), write=not spec.dry_run)
    return json_response(result)
