"""Accounts of the key's tenant: the ranked list, one account's whole record, its declared binding.

Reads go through ``qinglang.store.accounts_view`` (what ``qinglang accounts`` shows):
strikes and whether each still counts, points in the ladder's window, actions with
their causes, latest posts and verdicts, open cases, appeals, the registry binding.
An account id the tenant does not have is 404 ``QL-6106``; an id on several
platforms without ``platform`` is 422 ``QL-6201`` naming them.

A declared binding (``PUT``/``DELETE .../binding``) says which registry entry an
account is; it wins over name matches at ingest. It needs ``registry.write`` and is
audited by the store with the key as actor (``account.bind``/``account.unbind``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from qinglang.service.auth import require
from qinglang.service.body import read_json, validated
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, NO_NUL, JSONBytes, body_doc, in_session, json_response, state
from qinglang.service.schemas_accounts import AccountList, AccountView, BindingChangeOut, BindingIn

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

AccountId = Annotated[str, Path(min_length=1, max_length=256, pattern=NO_NUL,
                                description="The platform's account id")]
Platform = Annotated[str | None, Query(max_length=64, pattern=NO_NUL,
                                       description="The account's platform; needed when the id exists on several")]


@router.get("", response_class=JSONBytes, responses={200: {"model": AccountList}, **ERRORS})
async def list_accounts(
    request: Request,
    sort: Annotated[str, Query(pattern="^(points|recent)$", description="points in the window, or latest action")]
    = "points",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    caller: Principal = Depends(require("accounts.read")),  # noqa: B008
) -> Response:
    """The tenant's accounts with a strike or an action, by points in the ladder's window or latest action."""
    from qinglang.store import accounts_view

    service = state(request)
    rows = await in_session(service, lambda s: accounts_view.list_accounts(
        s, caller.tenant, now=datetime.now(UTC), policy=service.ladder, sort=sort, limit=limit))  # type: ignore[arg-type]
    return json_response({"accounts": rows})


@router.get("/{account_id}", response_class=JSONBytes, responses={200: {"model": AccountView}, **ERRORS})
async def get_account(
    request: Request,
    account_id: AccountId,
    platform: Platform = None,
    history: Annotated[int, Query(ge=0, le=500, description="Latest post versions to include")] = 20,
    caller: Principal = Depends(require("accounts.read")),  # noqa: B008
) -> Response:
    """One account: binding, strikes, points, actions with causes, posts and verdicts, open cases, appeals."""
    from qinglang.store import accounts_view

    service = state(request)

    def run(session: Session) -> dict[str, Any]:
        account = accounts_view.find_account(session, caller.tenant, account_id, platform)
        return accounts_view.account_view(session, account, now=datetime.now(UTC), policy=service.ladder,
                                          history=history)

    return json_response(await in_session(service, run))


def _binding(session: Session, account: Any, now: datetime, ladder: Any) -> dict[str, Any] | None:
    """The account's binding as ``GET /v1/accounts/{id}`` shows it."""
    from qinglang.store import accounts_view

    return accounts_view.account_view(session, account, now=now, policy=ladder, history=0)["binding"]


@router.put("/{account_id}/binding", response_class=JSONBytes, responses={200: {"model": BindingChangeOut}, **ERRORS},
            openapi_extra=body_doc(BindingIn, "The registry entry the account is"))
async def declare_binding(
    request: Request,
    account_id: AccountId,
    platform: Platform = None,
    caller: Principal = Depends(require("registry.write")),  # noqa: B008
) -> Response:
    """Declare which registry entry the account is (wins over name matches); audited with the key."""
    from qinglang.store import accounts_view, registry_store

    service = state(request)
    spec = validated(BindingIn, await read_json(request))

    def run(session: Session) -> dict[str, Any]:
        now = datetime.now(UTC)
        account = accounts_view.find_account(session, caller.tenant, account_id, platform)
        changed = registry_store.declare_binding(session, account, spec.entry_id, actor=caller.actor, now=now)
        return {"changed": changed, "binding": _binding(session, account, now, service.ladder)}

    return json_response(await in_session(service, run, write=True))


@router.delete("/{account_id}/binding", response_class=JSONBytes,
               responses={200: {"model": BindingChangeOut}, **ERRORS})
async def remove_binding(
    request: Request,
    account_id: AccountId,
    platform: Platform = None,
    caller: Principal = Depends(require("registry.write")),  # noqa: B008
) -> Response:
    """Remove the account's binding (declared or matched); the next ingest may match it by name again."""
    from qinglang.store import accounts_view, registry_store

    def run(session: Session) -> dict[str, Any]:
        now = datetime.now(UTC)
        account = accounts_view.find_account(session, caller.tenant, account_id, platform)
        changed = registry_store.remove_binding(session, account, actor=caller.actor, now=now)
        return {"changed": changed, "binding": None}

    return json_response(await in_session(state(request), run, write=True))
