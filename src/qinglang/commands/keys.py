"""``qinglang keys``: create the first admin key, list keys, revoke one (docs/service.md).

The token is printed once, on stdout, and only its HMAC under the server secret is
stored: run these with the same settings (``--config`` / ``QINGLANG_SECRET``) as the
server, or the server will not recognise the key. Each change is audited with the
actor ``cli:<user>``.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from qinglang.commands.common import DbOption, JsonFlag, db_session, print_json, reported
from qinglang.commands.serve import ConfigOption

app = typer.Typer(help="HTTP service API keys: create (the token is shown once), list, revoke.",
                  no_args_is_help=True)


def _actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (some containers)
        user = "unknown"
    return f"cli:{user}"[:128]


def _settings(config: str | None, db: str | None):  # type: ignore[no-untyped-def]
    from qinglang.service.settings import load_settings

    settings = load_settings(config, db_url=db)
    settings.check_startable()
    return settings


@app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="ingest, reviewer, supervisor, auditor or admin.")],
    tenant: Annotated[str, typer.Option("--tenant", help="The platform (tenant) the key works for.")],
    name: Annotated[str, typer.Option("--name", help="A label for people (who holds the key).")] = "",
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a key and print its token once (only a hash is stored)."""
    from qinglang.service import keys

    with reported():
        settings = _settings(config, db)
        with db_session(settings.db_url) as session, session.begin():
            row, token = keys.create_key(session, secret=settings.secret_value, role=role, tenant=tenant,
                                         name=name, actor=_actor())
            info = keys.key_dict(row)
    if as_json:
        print_json({**info, "token": token})
        return
    typer.echo(token)
    typer.echo(f"created key {info['key_id']} ({info['role']}, tenant {info['tenant']}); "
               "the token above is shown only now", err=True)


@app.command("list")
def keys_list(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's keys.",
                                               show_default=False)] = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List keys (id, role, tenant, name, created, revoked); never tokens or hashes."""
    from qinglang.service import keys

    with reported():
        settings = _settings(config, db)
        with db_session(settings.db_url) as session:
            rows = [keys.key_dict(row) for row in keys.list_keys(session, tenant)]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = f"revoked {r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "active"
        typer.echo(f"{r['key_id']}  {r['role']:<10}  {r['tenant']:<16}  {state:<24}  {r['name']}")


@app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the 12 hex digits after 'qlk_').")],
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Revoke a key; servers stop accepting it within key_cache_s seconds (at once in the one that revoked it)."""
    from qinglang.service import keys

    with reported():
        settings = _settings(config, db)
        with db_session(settings.db_url) as session, session.begin():
            keys.revoke_key(session, key_id, tenant=None, actor=_actor())
    typer.echo(f"revoked key {key_id}", err=True)
