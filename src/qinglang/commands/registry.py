"""``qinglang registry``: import the licence registry into the database, list it, show one entry.

Thin: the work is in :mod:`qinglang.store.registry_store` (docs/registry.md, "Persistence").
An import reports each bad row as ``line N: QL-xxxx reason`` and imports the rest
(exit 1 when any row was bad); ``--replace`` treats the file as the whole registry.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qinglang import errors
from qinglang.commands.common import (
    EXIT_OK,
    EXIT_RECORD_ERRORS,
    DbOption,
    JsonFlag,
    db_session,
    fail,
    print_json,
    reported,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from qinglang.registry import Registry
    from qinglang.store.registry_store import ImportSummary

app = typer.Typer(help="The licence registry in the database: import a CSV (audited), list entries, show one.",
                  no_args_is_help=True)

ActorOption = Annotated[
    str | None,
    typer.Option("--as", help="Who makes the change, for the audit log. Default: the login name.",
                 show_default=False),
]


def actor_name(value: str | None) -> str:
    """``--as`` or the login name; an empty identity is a usage error (the audit log needs a who)."""
    if value is None:
        try:
            value = getpass.getuser()
        except (OSError, KeyError):  # no login name (containers without a passwd entry)
            value = ""
    value = value.strip()
    if not value:
        fail(errors.BAD_OPTION, "no identity for the audit log: give --as WHO")
    return value


def parse_day(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option value (the registry's other date forms too); ``QL-4003`` otherwise."""
    from qinglang.registry import parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        fail(errors.BAD_OPTION, f"{option} {value!r} is not a date (use YYYY-MM-DD)")


def problem_line(problem: Any) -> str:
    """``line 4: QL-8002 unknown licence type 'brokr' (did you mean 'broker'?)``."""
    text = f"line {problem.line}: {problem.code.code} {problem.reason}"
    return text + (f" ({problem.hint})" if problem.hint else "")


@app.command("import")
def registry_import(
    file: Annotated[str, typer.Argument(help="Registry CSV (docs/registry.md, CSV format).")],
    db: DbOption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="The file is the whole registry: retire stored entries it does not "
                           "list (not when any row is bad).")
    ] = False,
    actor: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Upsert a registry CSV by entry id (added/changed/unchanged/retired), every change audited, in one transaction."""
    from qinglang.store import registry_store

    who = actor_name(actor)
    with reported(), db_session(db) as session, session.begin():
        summary = registry_store.import_registry(session, file, actor=who, now=datetime.now(UTC), replace=replace)
    if as_json:
        print_json(summary.to_dict())
    else:
        for problem in summary.problems:
            typer.echo(problem_line(problem), err=True)
        if summary.replace_skipped:
            typer.echo(f"warning {errors.REGISTRY_REPLACE_SKIPPED.code}: {errors.REGISTRY_REPLACE_SKIPPED.title}; "
                       "nothing retired", err=True)
        d = summary.to_dict()
        typer.echo(f"registry: {d['rows_read']} rows read; added {d['added']}, changed {d['changed']}, "
                   f"unchanged {d['unchanged']}, retired {d['retired']}, bad rows {d['bad_rows']}")
    raise typer.Exit(EXIT_OK if summary.ok else EXIT_RECORD_ERRORS)


@app.command("list")
def registry_list(
    db: DbOption = None,
    licence_type: Annotated[
        str | None, typer.Option("--type", help="Only this licence type (securities_advisory, broker, bank, lender, "
                                 "insurer, payment).", show_default=False)
    ] = None,
    valid_on: Annotated[
        str | None, typer.Option("--valid-on", help="Only entries whose licence is in force on this day "
                                 "(YYYY-MM-DD).", show_default=False)
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Search by name: entries the name matches (full or short name, "
                                 "traditional or simplified, any spacing), best first.", show_default=False)
    ] = None,
    include_retired: Annotated[bool, typer.Option("--retired", help="Include retired entries.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many entries.")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """List registry entries (by id), filtered by type, validity day or a name."""
    from qinglang.store import registry_store

    day = parse_day(valid_on, "--valid-on")
    with reported(), db_session(db) as session:
        if name is None:
            items = registry_store.list_entities(session, licence_type=licence_type, valid_on=day,
                                                 include_retired=include_retired, limit=limit)
        else:
            items = _search(session, name, licence_type=licence_type, day=day, include_retired=include_retired,
                            limit=limit)
    if as_json:
        print_json(items)
        return
    _print_entries(items, scored=name is not None)


def _search(session: Any, name: str, *, licence_type: str | None, day: date | None, include_retired: bool,
            limit: int) -> list[dict[str, Any]]:
    from qinglang.registry import match_name, parse_licence_type
    from qinglang.store import registry_store

    types = [parse_licence_type(licence_type)] if licence_type else None
    registry = registry_store.load_registry(session, include_retired=include_retired)
    matches = match_name(registry, name, on=day, licence_types=types)[:limit]
    out = []
    for m in matches:
        row = registry_store.get_entity(session, m.entry.id)
        out.append({**registry_store.entity_dict(row, m.entry.aliases, on=day), "match": m.to_dict()})
    return out


def _print_entries(items: list[dict[str, Any]], *, scored: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{len(items)} registry entries", title_justify="left")
    for col in ("id", "name", "type", "number", "valid", "status", *(("match",) if scored else ())):
        table.add_column(col, overflow="fold")
    for e in items:
        valid = f"{e['valid_from'] or '…'} – {e['valid_to'] or '…'}"
        row = [e["id"], e["name"] + (f" ({'; '.join(e['aliases'])})" if e["aliases"] else ""), e["licence_type"],
               e["licence_number"], valid, e["validity"]]
        if scored:
            row.append(f"{e['match']['reason']} {e['match']['score']:.2f}")
        table.add_row(*(escape(c) for c in row))
    Console().print(table)


@app.command("show")
def registry_show(
    entry_id: Annotated[str, typer.Argument(help="The entry id (as 'registry list' shows it).")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """One entry: its fields, validity today, the accounts bound to it, its change history (audit log)."""
    from qinglang.store import registry_store

    with reported(), db_session(db) as session:
        body = registry_store.entity_detail(session, entry_id)
    if as_json:
        print_json(body)
        return
    lines = [
        f"{body['id']}  {body['name']}",
        f"  kind {body['kind']}, {body['licence_type']} licence {body['licence_number']}",
        f"  valid {body['valid_from'] or '…'} – {body['valid_to'] or '…'} ({body['validity']} today)",
    ]
    if body["aliases"]:
        lines.append(f"  aliases {'; '.join(body['aliases'])}")
    if body["affiliation"]:
        lines.append(f"  affiliation {body['affiliation']}")
    lines.append(f"  source {body['source'] or '-'}")
    for k, v in body["extra"].items():
        lines.append(f"  {k} {v}")
    lines.append(f"accounts bound: {len(body['accounts'])}")
    for a in body["accounts"]:
        lines.append(f"  {a['tenant']}/{a['platform'] or '-'}/{a['account_id']} ({a['binding_source']}, "
                     f"{_when(a['bound_at'])} by {a['bound_by'] or '-'})")
    lines.append(f"history: {len(body['history'])}")
    for h in body["history"]:
        lines.append(f"  seq {h['seq']} {_when(h['at'])} {h['action']} by {h['actor']}")
    typer.echo("\n".join(lines))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


@dataclass(slots=True)
class IngestRegistry:
    """The registry ``qinglang ingest`` decides with (``None`` when empty), and the import it ran first."""

    registry: Registry | None
    summary: ImportSummary | None = None

    @property
    def ok(self) -> bool:
        return self.summary is None or self.summary.ok


def registry_for_ingest(engine: Engine, file: str | None, *, quiet: bool = False) -> IngestRegistry | None:
    """For ``ingest``: import ``file`` first (its own transaction, audited as the login name), then load.

    Bad rows are printed to stderr as ``registry line N: ...`` (the good ones are imported
    and used). ``None`` when there is no file and the store holds no entry: an empty
    registry would call every account unlicensed.
    """
    from qinglang.store import registry_store
    from qinglang.store.db import session_factory

    factory = session_factory(engine)
    summary = None
    if file is not None:
        with factory() as session, session.begin():
            summary = registry_store.import_registry(session, file, actor=_login_or("ingest"), now=datetime.now(UTC))
        for problem in summary.problems:
            typer.echo(f"registry {problem_line(problem)}", err=True)
    with factory() as session:
        if not registry_store.has_entries(session):
            if summary is not None and not quiet:
                typer.echo("registry  empty: decisions without licence checks", err=True)
            return IngestRegistry(None, summary) if summary is not None else None
        registry = registry_store.load_registry(session)
    if not quiet:
        d = summary.to_dict() if summary is not None else None
        imported = (f" (imported: added {d['added']}, changed {d['changed']}, unchanged {d['unchanged']}, "
                    f"bad rows {d['bad_rows']})") if d else ""
        noun = "entry" if len(registry) == 1 else "entries"
        typer.echo(f"registry  {len(registry):,} {noun} in force{imported}", err=True)
    return IngestRegistry(registry, summary)


def _login_or(default: str) -> str:
    try:
        return getpass.getuser().strip() or default
    except (OSError, KeyError):
        return default
