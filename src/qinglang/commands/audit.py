"""``qinglang audit``: verify the hash chain, export it, show its head (docs/store.md)."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from qinglang.commands.common import EXIT_OK, EXIT_RECORD_ERRORS, DbOption, db_session, reported

app = typer.Typer(help="The tamper-evident audit log: verify the hash chain, export it, show its head.",
                        no_args_is_help=True)


@app.command("verify")
def audit_verify(
    db: DbOption = None,
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", help="SEQ:HASH recorded earlier with 'qinglang audit head'; also catches a "
                     "deleted tail or a rewritten history.", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Walk the hash chain; name every changed, relinked or missing entry. Exit 1 when any is found."""
    from qinglang.store import audit

    with reported(), db_session(db) as session:
        result = audit.verify(session, anchor=audit.Anchor.parse(anchor) if anchor else None)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        for problem in result.problems:
            typer.echo(f"{problem.kind} at seq {problem.seq}: {problem.message}")
        state = "intact" if result.ok else f"{len(result.problems)} problem(s)"
        typer.echo(f"audit log: {result.entries} entries, {state}; head {result.head or '-'}")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_RECORD_ERRORS)


@app.command("export")
def audit_export(
    db: DbOption = None,
    output: Annotated[str, typer.Option("-o", "--output", help="JSON Lines file, or - for stdout.")] = "-",
    after: Annotated[int, typer.Option("--after", min=0, help="Only entries after this seq.")] = 0,
) -> None:
    """Write the audit log as JSON Lines (every column, hashes included), for hand-over or offline checks."""
    from qinglang.store import audit

    with reported(), db_session(db) as session:
        if output == "-":
            n = audit.export(session, sys.stdout, after=after)
        else:
            with open(output, "w", encoding="utf-8") as fh:
                n = audit.export(session, fh, after=after)
    typer.echo(f"exported {n} audit entries", err=True)


@app.command("head")
def audit_head(db: DbOption = None) -> None:
    """Print the chain's head as SEQ:HASH; record it outside the database as an anchor for 'verify'."""
    from qinglang.store import audit

    with reported(), db_session(db) as session:
        head = audit.head(session)
    typer.echo(str(head) if head else "-")
