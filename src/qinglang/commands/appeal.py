"""``qinglang appeal``: file an appeal against an action, list appeals, decide one (docs/review.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from qinglang.commands.common import DbOption, JsonFlag, TenantOption, db_session, print_json, reported

app = typer.Typer(help="Appeals against actions: file, list, decide (an upheld appeal reverses the action).",
                  no_args_is_help=True)

AsOption = Annotated[
    str,
    typer.Option("--as", help="Who is acting: the appellant when filing, the person deciding when deciding "
                 "(recorded in the audit log).", show_default=False),
]


def _print(view: Any) -> None:
    decided = f" by {view.decided_by}" if view.decided_by else ""
    typer.echo(f"appeal {view.id}  {view.status}{decided}  against action {view.action_id} "
               f"({view.action_kind}, {view.action_status}) of account {view.account}  filed by {view.appellant}")
    for c in view.changes:
        typer.echo(f"  {c['change']}: {c['action_key']} ({c['note']})")


@app.command("file")
def appeal_file(
    action: Annotated[str, typer.Argument(help="The action: its id, or its key (POST#VERSION/KIND).")],
    appellant: AsOption,
    db: DbOption = None,
    tenant: TenantOption = "default",
    reason: Annotated[str, typer.Option("--reason", help="Why the action is wrong.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Appeal an active or expired action (one open appeal per action)."""
    from qinglang.store import appeals

    with reported(), db_session(db) as session, session.begin():
        view = appeals.file_appeal(session, tenant, action, appellant, reason, now=datetime.now(UTC))
    if as_json:
        print_json(view.to_dict())
    else:
        _print(view)


@app.command("list")
def appeal_list(
    db: DbOption = None,
    tenant: TenantOption = "default",
    status: Annotated[str, typer.Option("--status", help="open, upheld, rejected or all.")] = "open",
    account: Annotated[str | None, typer.Option("--account", help="Only appeals against this account's actions.",
                                                show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many appeals.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Appeals, oldest first."""
    from qinglang.store import appeals

    with reported(), db_session(db) as session:
        views = appeals.list_appeals(session, tenant, status=status, account=account, limit=limit)
    if as_json:
        print_json([v.to_dict() for v in views])
        return
    for v in views:
        _print(v)
    typer.echo(f"{len(views)} appeal(s)", err=True)


@app.command("decide")
def appeal_decide(
    appeal_id: Annotated[int, typer.Argument(help="The appeal.")],
    outcome: Annotated[str, typer.Argument(help="upheld (reverse the action) or rejected.")],
    decider: AsOption,
    db: DbOption = None,
    tenant: TenantOption = "default",
    note: Annotated[str, typer.Option("--note", help="Why; kept with the appeal and in the audit log.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Uphold or reject an open appeal. Whoever filed it or took the decision behind the action may not."""
    from qinglang.decide import default_ladder
    from qinglang.store import appeals

    with reported(), db_session(db) as session, session.begin():
        view = appeals.decide_appeal(session, tenant, appeal_id, decider, outcome, note, now=datetime.now(UTC),
                                     policy=default_ladder())
    if as_json:
        print_json(view.to_dict())
    else:
        _print(view)
