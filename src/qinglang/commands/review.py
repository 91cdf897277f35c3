"""``qinglang review``: the review queue from the command line (docs/review.md).

``list`` shows the queue, ``next`` claims the case at its head, ``claim``/``release`` take
and give back one case, ``decide`` confirms, overturns or re-categorises it, and
``export`` writes the decisions as labeled training data. Each command that changes
something runs in one transaction with its audit entry.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from qinglang import errors
from qinglang.commands.common import DbOption, JsonFlag, TenantOption, db_session, fail, print_json, reported

app = typer.Typer(help="The review queue: list, claim, decide and release cases; export decisions as training data.",
                  no_args_is_help=True)

ReviewerOption = Annotated[
    str,
    typer.Option("--as", "--reviewer", help="Who is reviewing (recorded on the claim, the review, the actions and "
                 "the audit log).", show_default=False),
]
LeaseOption = Annotated[
    float,
    typer.Option("--lease-minutes", min=0.0, help="A claim older than this can be taken over by another reviewer."),
]
CategoryFilter = Annotated[str | None, typer.Option("--category", help="Only cases carrying this category.",
                                                    show_default=False)]
ReasonFilter = Annotated[str | None, typer.Option(
    "--reason", help="Only cases opened for this reason (review_only_category, low_confidence, licensed_account, "
    "high_impact).", show_default=False)]


def _now() -> datetime:
    return datetime.now(UTC)


def _print_case(view: Any, *, full: bool) -> None:
    """One case for a person: a line, then (``full``) the reasons and the posts' text."""
    holder = f" by {view.assignee}" if view.assignee else ""
    typer.echo(f"case {view.id}  priority {view.priority}  {view.status}{holder}  account {view.account or '-'}  "
               f"[{', '.join(view.categories)}]  ({', '.join(view.reasons)})")
    if not full:
        return
    if view.detail:
        typer.echo(f"  why: {view.detail}")
    for post in view.posts:
        cats = ", ".join(f"{c['code']} {c.get('score', 0):.2f}" for c in post.categories)
        typer.echo(f"  post {post.post_id} v{post.version} (verdict {post.verdict_id}): {cats}")
        for name in ("title", "text", "transcript", "ocr", "bio"):
            value = post.fields.get(name)
            if isinstance(value, str) and value.strip():
                typer.echo(f"    {name}: {' '.join(value.split())[:500]}")


@app.command("list")
def review_list(
    db: DbOption = None,
    tenant: TenantOption = "default",
    status: Annotated[str, typer.Option("--status", help="waiting (claimable now), open, claimed, closed or all.")]
    = "waiting",
    category: CategoryFilter = None,
    reason: ReasonFilter = None,
    account: Annotated[str | None, typer.Option("--account", help="Only this account's cases (its id).",
                                                show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many cases.")] = 50,
    lease_minutes: LeaseOption = 30.0,
    as_json: JsonFlag = False,
) -> None:
    """The queue: highest priority first, then oldest."""
    from qinglang.store import reviews

    with reported(), db_session(db) as session:
        views = reviews.list_cases(session, tenant, status=status, category=category, reason=reason,
                                   account=account, limit=limit, now=_now(),
                                   lease=timedelta(minutes=lease_minutes))
    if as_json:
        print_json([v.to_dict() for v in views])
        return
    for v in views:
        _print_case(v, full=False)
    typer.echo(f"{len(views)} case(s)", err=True)


@app.command("next")
def review_next(
    reviewer: ReviewerOption,
    db: DbOption = None,
    tenant: TenantOption = "default",
    category: CategoryFilter = None,
    reason: ReasonFilter = None,
    lease_minutes: LeaseOption = 30.0,
    as_json: JsonFlag = False,
) -> None:
    """Claim the case at the head of the queue and show it (a case you already hold comes first)."""
    from qinglang.store import reviews

    with reported(), db_session(db) as session, session.begin():
        view = reviews.claim_next(session, tenant, reviewer, now=_now(), lease=timedelta(minutes=lease_minutes),
                                  category=category, reason=reason)
    if as_json:
        print_json(view.to_dict() if view else None)
    elif view is None:
        typer.echo("no case waiting")
    else:
        _print_case(view, full=True)


@app.command("claim")
def review_claim(
    case_id: Annotated[int, typer.Argument(help="The case to claim.")],
    reviewer: ReviewerOption,
    db: DbOption = None,
    tenant: TenantOption = "default",
    lease_minutes: LeaseOption = 30.0,
    as_json: JsonFlag = False,
) -> None:
    """Claim one case (no two reviewers hold a case; a lapsed claim can be taken over)."""
    from qinglang.store import reviews

    with reported(), db_session(db) as session, session.begin():
        view = reviews.claim(session, tenant, case_id, reviewer, now=_now(), lease=timedelta(minutes=lease_minutes))
    if as_json:
        print_json(view.to_dict())
    else:
        _print_case(view, full=True)


@app.command("release")
def review_release(
    case_id: Annotated[int, typer.Argument(help="The case to give back.")],
    reviewer: ReviewerOption,
    db: DbOption = None,
    tenant: TenantOption = "default",
    as_json: JsonFlag = False,
) -> None:
    """Give a case you hold back to the queue."""
    from qinglang.store import reviews

    with reported(), db_session(db) as session, session.begin():
        view = reviews.release(session, tenant, case_id, reviewer, now=_now())
    if as_json:
        print_json(view.to_dict())
    else:
        typer.echo(f"case {view.id} is back in the queue")


@app.command("decide")
def review_decide(
    case_id: Annotated[int, typer.Argument(help="The case you hold.")],
    decision: Annotated[str, typer.Argument(help="confirm, overturn or recategorize.")],
    reviewer: ReviewerOption,
    db: DbOption = None,
    tenant: TenantOption = "default",
    category: Annotated[list[str] | None, typer.Option(
        "--category", help="With recategorize: the right category (repeat for several).", show_default=False)] = None,
    note: Annotated[str, typer.Option("--note", help="Why; kept with the review and in the audit log.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Confirm (the ladder acts), overturn (false positive, nothing happens) or re-categorise a claimed case."""
    from qinglang.decide import default_ladder
    from qinglang.store import reviews

    with reported(), db_session(db) as session, session.begin():
        result = reviews.decide_case(session, tenant, case_id, reviewer, decision, now=_now(),
                                     policy=default_ladder(), categories=category, note=note)
    if as_json:
        print_json(result.to_dict())
        return
    for v in result.verdicts:
        acted = ", ".join(v["actions"]) or "no action"
        typer.echo(f"post {v['post_id']} v{v['version']}: {decision} [{', '.join(v['categories'])}] -> {acted}"
                   + (f" ({v['reason']})" if v["reason"] else ""))
    typer.echo(f"case {case_id} closed by {result.reviewer}")


@app.command("export")
def review_export(
    db: DbOption = None,
    tenant: TenantOption = "default",
    output: Annotated[str, typer.Option("-o", "--output", help="JSON Lines file, or - for stdout.")] = "-",
    since: Annotated[str | None, typer.Option(
        "--since", help="Only decisions at or after this ISO 8601 time (UTC when it names no zone).",
        show_default=False)] = None,
) -> None:
    """Write reviewed and appealed posts as labeled training data (the rows 'qinglang train' and 'eval' read)."""
    from qinglang.store import training_export

    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            fail(errors.BAD_OPTION, f"--since: not an ISO 8601 time: {since!r}")
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    with reported(), db_session(db) as session:
        if output == "-":
            stats = training_export.write_jsonl(session, tenant, sys.stdout.buffer, since=start)
            sys.stdout.flush()
        else:
            try:
                fh = open(output, "wb")
            except OSError as exc:
                fail(errors.BAD_OPTION, f"cannot write {output}: {exc.strerror}")
            with fh:
                stats = training_export.write_jsonl(session, tenant, fh, since=start)
    d = stats.to_dict()
    typer.echo(f"exported {d['rows']} labeled rows ({d['positives']} positive, {d['negatives']} negative"
               + (f", {d['no_text']} without text left out" if d["no_text"] else "") + ")", err=True)
