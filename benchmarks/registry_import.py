"""Registry import into the database: new, unchanged and partly changed snapshots, then loading it back.

Usage: python benchmarks/registry_import.py [--entries 20000] [--changed 1000]
                                           [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

A synthetic registry of lenders (each with one alias) is imported into a fresh SQLite
file and, when reachable, a fresh PostgreSQL schema (dropped afterwards): first all new,
then the same file again (all unchanged: nothing written or logged), then with
``--changed`` entries renewed (updated in place, one audit entry each); then
``load_registry`` rebuilds the in-memory registry. Each import is one transaction with
its audit entries. Wall and process CPU seconds are printed as JSON: on a shared
machine the CPU figure is the steadier one (it leaves out the database server's time).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text


def registry_csv(entries: int, changed: int = 0) -> str:
    rows = ["id,name,aliases,licence_type,licence_number,valid_from,valid_to"]
    for i in range(entries):
        end = "2031-12-31" if i < changed else "2030-12-31"
        rows.append(f"e{i},测试小额贷款有限公司{i:05d},测试贷{i:05d},lender,LND-{i:06d},2016-01-01,{end}")
    return "\n".join(rows) + "\n"


def timed(fn: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2)}


def run(url: Any, entries: int, changed: int) -> dict[str, Any]:
    from qinglang.store import registry_store
    from qinglang.store.db import make_engine, session_factory, upgrade

    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    now = datetime.now(UTC)

    def load(csv_text: str, step: int) -> registry_store.ImportSummary:
        with factory() as session, session.begin():
            return registry_store.import_registry(session, csv_text, actor="bench", now=now + timedelta(seconds=step))

    def reload() -> int:
        with factory() as session:
            return len(registry_store.load_registry(session))

    out: dict[str, Any] = {}
    try:
        first, out["import_new"] = timed(lambda: load(registry_csv(entries), 0))
        again, out["import_unchanged"] = timed(lambda: load(registry_csv(entries), 1))
        renewed, out["import_changed"] = timed(lambda: load(registry_csv(entries, changed), 2))
        loaded, out["load_registry"] = timed(reload)
        assert len(first.added) == len(again.unchanged) == loaded == entries
        assert len(renewed.changed) == changed
    finally:
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--changed", type=int, default=1000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    from qinglang.store.db import make_engine, parse_url

    report: dict[str, Any] = {"entries": args.entries, "changed": args.changed}
    with tempfile.TemporaryDirectory() as tmp:
        report["sqlite"] = run(f"sqlite:///{Path(tmp) / 'registry.db'}", args.entries, args.changed)
    schema = f"qinglang_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.pg, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server: report SQLite alone, saying why
        report["postgresql"] = f"skipped: {' '.join(str(exc).split())[:200]}"
    else:
        try:
            url = parse_url(args.pg).update_query_dict({"options": f"-csearch_path={schema}"})
            report["postgresql"] = run(url, args.entries, args.changed)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
