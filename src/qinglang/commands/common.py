"""What every command shares: exit statuses, the ``--db`` option, coded-error printing.

Errors reach people as ``error QL-xxxx: message`` (plus a hint line) on stderr, never as
a traceback; :func:`reported` turns a :class:`~qinglang.errors.QLError` into that and an
exit status. See docs/cli.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import orjson
import typer

from qinglang import errors
from qinglang.errors import QLError

#: exit statuses
EXIT_OK, EXIT_RECORD_ERRORS, EXIT_USAGE = 0, 1, 2

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL. Default: QINGLANG_DB_URL, else the SQLite file in the "
                 "user data directory (docs/store.md).", show_default=False),
]

TenantOption = Annotated[
    str,
    typer.Option("--tenant", help="The platform (tenant) whose data this reads or writes."),
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@contextmanager
def db_session(db: str | None) -> Iterator[Any]:
    """A session on the migrated database at ``db``; coded errors for a bad URL or an unreachable server."""
    from qinglang.store.db import make_engine as make_db_engine
    from qinglang.store.db import session_factory, upgrade

    engine = make_db_engine(db)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def print_error(exc: QLError) -> None:
    msg = f"error {exc.code.code}: {exc.message}"
    if exc.hint:
        msg += f"\n  hint: {exc.hint}"
    typer.echo(msg, err=True)


@contextmanager
def reported(status: int = EXIT_USAGE) -> Iterator[None]:
    """Turn a QLError into its one-line message and an exit status; no traceback."""
    try:
        yield
    except QLError as exc:
        print_error(exc)
        raise typer.Exit(status) from None


def fail(code: errors.ErrorCode, message: str, status: int = EXIT_USAGE) -> NoReturn:
    print_error(QLError(code, message))
    raise typer.Exit(status)


def stdout_gone() -> NoReturn:
    """The reader of our stdout went away (``| head``): stop quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    raise typer.Exit(EXIT_RECORD_ERRORS)


def print_json(value: Any) -> None:
    """Indented JSON on stdout (datetimes as ISO 8601), for ``--json`` output."""
    sys.stdout.buffer.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    sys.stdout.flush()
