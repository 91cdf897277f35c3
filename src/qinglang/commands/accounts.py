"""``qinglang accounts``: one account's record for a reviewer, a ranked list, registry bindings.

Thin: queries live in :mod:`qinglang.store.accounts_view` (shared with the HTTP
service) and bindings in :mod:`qinglang.store.registry_store`. An unknown account is
``QL-6106`` and an id on several platforms without ``--platform`` ``QL-6201`` (exit 2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from qinglang import errors
from qinglang.commands.common import DbOption, JsonFlag, TenantOption, db_session, print_json, reported
from qinglang.commands.registry import ActorOption, actor_name

app = typer.Typer(help="Accounts: history, strikes, actions and linked registry entity; bind them to the registry.",
                  no_args_is_help=True)

PlatformOption = Annotated[
    str | None,
    typer.Option("--platform", help="The account's platform; needed when the id exists on several.",
                 show_default=False),
]


@app.command("show")
def accounts_show(
    account: Annotated[str, typer.Argument(help="The account id (as posts give it in account_id).")],
    tenant: TenantOption = "default",
    platform: PlatformOption = None,
    db: DbOption = None,
    history: Annotated[int, typer.Option("--history", min=0, help="How many latest posts to list.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The account, its registry entity and binding, strikes and points, actions, posts, open cases, appeals."""
    from qinglang.decide import default_ladder
    from qinglang.store.accounts_view import account_view, find_account

    with reported(), db_session(db) as session:
        row = find_account(session, tenant, account, platform)
        view = account_view(session, row, now=datetime.now(UTC), policy=default_ladder(), history=history)
    if as_json:
        print_json(view)
        return
    _print_view(view)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _print_view(view: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    a, pts, b = view["account"], view["points"], view["binding"]
    followers = a["followers"] if a["followers"] is not None else "-"
    console.print(f"[bold]{escape(a['account_id'])}[/bold]  tenant {escape(a['tenant'])}, "
                  f"platform {escape(a['platform'] or '-')}, followers {followers}, "
                  f"first seen {_when(a['created_at'])}", highlight=False)
    if b is None:
        console.print("registry: not bound", markup=False, highlight=False)
    else:
        e = b["entity"]
        console.print(f"registry: {e['id']} {e['name']} ({e['licence_type']} {e['licence_number']}, "
                      f"{e['validity']}) — {b['source']} {_when(b['bound_at'])} by {b['bound_by'] or '-'}",
                      markup=False, highlight=False)
    console.print(f"points: {pts['in_window']} in the last {pts['window_days']} days "
                  f"(ladder step {pts['step'] or 'none'}, {pts['policy']})", markup=False, highlight=False)

    def table(title: str, columns: tuple[str, ...], rows: list[list[str]]) -> None:
        if not rows:
            console.print(f"{title}: none", markup=False, highlight=False)
            return
        t = Table(title=f"{title} ({len(rows)})", title_justify="left")
        for c in columns:
            t.add_column(c, overflow="fold")
        for r in rows:
            t.add_row(*(escape(c) for c in r))
        console.print(t)

    def cause(c: dict[str, Any] | None) -> str:
        if not c:
            return "-"
        return f"{c['post_id']}#{c['version']}" if "post_id" in c else f"verdict {c['verdict_id']}"

    table("strikes", ("at", "category", "severity", "points", "counts", "post", "rules"),
          [[_when(s["at"]), s["category"], s["severity"], str(s["points"]),
            "reversed" if s["reversed_at"] else ("yes" if s["counts"] else "no"), cause(s["cause"]),
            ", ".join(s["rule_ids"])] for s in view["strikes"]])
    table("actions", ("id", "kind", "target", "status", "starts", "expires", "cause", "ladder rules",
                      "detection rules"),
          [[str(x["id"]), x["kind"], f"{x['target']} {x['subject']}".strip(),
            x["status"] + (" (expiry due)" if x["expiry_due"] else ""), _when(x["starts_at"]),
            _when(x["expires_at"]) if x["expires_at"] else "never", ", ".join(cause(c) for c in x["causes"]),
            ", ".join(x["rule_ids"]), ", ".join(x["detection_rule_ids"])] for x in view["actions"]])
    table("posts", ("post", "first seen", "flagged", "categories", "severity"),
          [[f"{p['post_id']}#{p['version']}", _when(p["first_seen"]),
            "-" if p["verdict"] is None else ("yes" if p["verdict"]["flagged"] else "no"),
            "" if p["verdict"] is None else ", ".join(f"{c['code']} {c['score']:.2f}" for c in
                                                      p["verdict"]["categories"] if c["score"] is not None),
            "" if p["verdict"] is None else p["verdict"]["severity"]] for p in view["history"]])
    table("open cases", ("id", "status", "reasons", "categories", "assignee", "opened"),
          [[str(c["id"]), c["status"], ", ".join(c["reasons"]), ", ".join(c["categories"]), c["assignee"] or "-",
            _when(c["created_at"])] for c in view["open_cases"]])
    table("appeals", ("id", "action", "status", "appellant", "filed", "decided"),
          [[str(p["id"]), str(p["action_id"]), p["status"], p["appellant"], _when(p["created_at"]),
            _when(p["decided_at"])] for p in view["appeals"]])


@app.command("list")
def accounts_list(
    tenant: TenantOption = "default",
    db: DbOption = None,
    sort: Annotated[str, typer.Option("--sort", help="'points' (in the ladder window) or 'recent' (latest action).")
                    ] = "points",
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many accounts.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Accounts with strikes or actions, by points in the window or by latest action: a reviewer's starting list."""
    from qinglang.decide import default_ladder
    from qinglang.store.accounts_view import list_accounts

    with reported(), db_session(db) as session:
        items = list_accounts(session, tenant, now=datetime.now(UTC), policy=default_ladder(),
                              sort=sort, limit=limit)  # type: ignore[arg-type]
    if as_json:
        print_json(items)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"{len(items)} accounts in {tenant} by {sort}", title_justify="left")
    for c in ("account", "platform", "points", "step", "active actions", "last action", "registry"):
        t.add_column(c, overflow="fold")
    for x in items:
        entity = f"{x['entity']['entry_id']} ({x['binding_source']})" if x["entity"] else "-"
        t.add_row(*(escape(c) for c in (x["account_id"], x["platform"] or "-", str(x["points"]), x["step"] or "-",
                                         f"{x['active_actions']}/{x['actions']}", _when(x["last_action_at"]), entity)))
    Console().print(t)


@app.command("bind")
def accounts_bind(
    account: Annotated[str, typer.Argument(help="The account id.")],
    entry_id: Annotated[str, typer.Argument(help="The registry entry id it belongs to.")],
    tenant: TenantOption = "default",
    platform: PlatformOption = None,
    create: Annotated[bool, typer.Option("--create", help="Create the account if the tenant has not seen it yet "
                                         "(on --platform, or none).")] = False,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Declare the account's registry entity (wins over name matches at ingest); audited."""
    from qinglang.errors import QLError
    from qinglang.store import registry_store
    from qinglang.store.accounts_view import find_account
    from qinglang.store.repo import upsert_account

    who = actor_name(actor)
    now = datetime.now(UTC)
    with reported(), db_session(db) as session, session.begin():
        try:
            row = find_account(session, tenant, account, platform)
        except QLError as exc:
            if not create or exc.code != errors.ACCOUNT_NOT_FOUND:
                raise
            row = upsert_account(session, tenant, platform, account, now=now)
        changed = registry_store.declare_binding(session, row, entry_id, actor=who, now=now)
    typer.echo(f"{account} {'bound to' if changed else 'already bound to'} {entry_id} (declared)")


@app.command("unbind")
def accounts_unbind(
    account: Annotated[str, typer.Argument(help="The account id.")],
    tenant: TenantOption = "default",
    platform: PlatformOption = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Remove the account's registry binding (declared or matched); audited. Ingest may match it by name again."""
    from qinglang.store import registry_store
    from qinglang.store.accounts_view import find_account

    who = actor_name(actor)
    with reported(), db_session(db) as session, session.begin():
        row = find_account(session, tenant, account, platform)
        changed = registry_store.remove_binding(session, row, actor=who, now=datetime.now(UTC))
    typer.echo(f"{account} {'unbound' if changed else 'was not bound'}")
