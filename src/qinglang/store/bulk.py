"""Multi-row inserts on PostgreSQL with the rows as one JSON document.

``INSERT ... SELECT ... FROM jsonb_to_recordset(:rows)`` sends a whole batch as one
parameter: encoding it is one C call (orjson) and the server parses it on its own core.
Both other ways cost more in this process than the database spends on the rows:
SQLAlchemy's multi-row ``VALUES`` makes statements with thousands of placeholders that
psycopg converts in Python, and arrays per column (``unnest``) cost psycopg a
Python-level dump per element. Used by ingest's set-based writes (``store.batch``), the
audit log's bulk appends and the cluster store. :func:`pg_lookup` reads rows back by a
composite key, key by key. See docs/benchmarks.md, "Ingest".
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


def pg_lookup(conn: Connection, table: Table, columns: Sequence[str], tenant: str, keys: Sequence[str],
              values: Sequence[Sequence[Any]]) -> Any:
    """The tenant's rows whose ``keys`` columns equal one of the given tuples (``values``: one sequence per
    key column), looked up key by key through the (tenant, keys...) unique index.

    A plain ``tenant = :t AND key = ANY(:keys)`` is planned, on tables whose statistics
    lag behind a bulk load, as a scan of the tenant's whole index range with the key as a
    filter: a cost that grows with the table, batch after batch. The ``LATERAL ... OFFSET
    0`` subquery keeps the lookup per key.
    """
    quote = conn.dialect.identifier_preparer.quote
    name = quote(table.name)
    arrays = ", ".join(f"CAST(%(k{i})b AS {table.c[k].type.compile(dialect=conn.dialect)}[])"
                       for i, k in enumerate(keys))
    match = " AND ".join(f"{name}.{quote(k)} = k.{quote(k)}" for k in keys)
    sql = (f"SELECT r.* FROM unnest({arrays}) AS k({', '.join(quote(k) for k in keys)}) "
           f"CROSS JOIN LATERAL (SELECT {', '.join(f'{name}.{quote(c)}' for c in columns)} FROM {name} "
           f"WHERE {name}.{quote('tenant')} = %(tenant)s AND {match} OFFSET 0) AS r")
    params: dict[str, Any] = {f"k{i}": list(v) for i, v in enumerate(values)}
    params["tenant"] = tenant
    return conn.exec_driver_sql(sql, params).fetchall()
