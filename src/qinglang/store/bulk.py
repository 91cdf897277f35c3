"""Multi-row inserts on PostgreSQL with the rows as one JSON document.

``INSERT ... SELECT ... FROM jsonb_to_recordset(:rows)`` sends a whole batch as one
parameter: encoding it is one C call (orjson) and the server parses it on its own core.
Both other ways cost more in this process than the database spends on the rows:
SQLAlchemy's multi-row ``VALUES`` makes statements with thousands of placeholders that
psycopg converts in Python, and arrays per column (``unnest``) cost psycopg a
Python-level dump per element. Used by ingest's set-based writes (``store.batch``) and
the audit log's bulk appends. See docs/benchmarks.md, "Ingest".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table


def json_text(value: Any) -> str:
    """``value`` as JSON text; ``None`` is JSON null, dates and datetimes ISO 8601 (as orjson writes them)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson does not encode (an int beyond 64 bits), json does
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_iso)


def _iso(value: Any) -> str:
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def pg_insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *,
                   conflict_keys: Sequence[str] = (), returning: Sequence[str] = ()) -> list[Any]:
    """Insert ``rows`` (dicts with the same keys, in that order) in one statement; returns the
    ``returning`` columns of the inserted rows (fetched at once).

    With ``conflict_keys``, a row whose key is taken is skipped (``ON CONFLICT DO NOTHING``).
    A JSON column's ``None`` is stored as JSON ``null``, as the ORM and Core inserts store it.
    """
    if not rows:
        return []
    quote = conn.dialect.identifier_preparer.quote
    cols = list(rows[0])
    defs = ", ".join(f"{quote(c)} {table.c[c].type.compile(dialect=conn.dialect)}" for c in cols)
    picks = ", ".join(f"COALESCE(r.{quote(c)}, 'null'::jsonb)" if isinstance(table.c[c].type, JSON)
                      else f"r.{quote(c)}" for c in cols)
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in cols)}) "
           f"SELECT {picks} FROM jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS r({defs})")
    if conflict_keys:
        sql += f" ON CONFLICT ({', '.join(quote(k) for k in conflict_keys)}) DO NOTHING"
    if not returning:
        conn.exec_driver_sql(sql, {"rows": json_text(list(rows))})
        return []
    sql += f" RETURNING {', '.join(quote(c) for c in returning)}"
    return conn.exec_driver_sql(sql, {"rows": json_text(list(rows))}).fetchall()
