"""Ingest throughput (scan + store + decide) beside scan-only, on SQLite and PostgreSQL.

Usage: python benchmarks/ingest_throughput.py [--posts 100000] [--pg postgresql://127.0.0.1:5432/test]
                                              [--suspicious 0.05] [--json]

One process, pinned to one CPU: the same generated JSONL (``scan_throughput.generate``,
accounts shared by ~10 posts each so the ladder has histories to read) is scanned to
/dev/null (scan-only baseline, rules only) and then ingested into a fresh SQLite file
and, when reachable, a fresh PostgreSQL schema (dropped afterwards). Every database
write of a batch happens in one transaction. The figure that matters is ingest
posts/s as a fraction of scan-only posts/s measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_throughput import generate


def scan_only(path: Path, engine) -> float:
    from qinglang.io.readers import read_records
    from qinglang.io.writers import open_writer
    from qinglang.scan import scan_records

    t0 = time.perf_counter()
    with open_writer(str(Path(tempfile.gettempdir()) / "ql-scan-out.jsonl")) as w:
        for out in scan_records(engine, read_records(str(path))):
            w.write(out)
    return time.perf_counter() - t0


def ingest(path: Path, engine, url) -> tuple[float, dict]:
    from qinglang.decide import default_ladder
    from qinglang.ingest import IngestStats, ingest_records
    from qinglang.io.readers import read_records
    from qinglang.store.db import make_engine, session_factory, upgrade

    db = make_engine(url)
    upgrade(db)
    stats = IngestStats()
    t0 = time.perf_counter()
    n = 0
    for _ in ingest_records(engine, read_records(str(path)), session_factory(db), tenant="bench",
                            now=datetime(2026, 11, 21, tzinfo=UTC), policy=default_ladder(), stats=stats):
        n += 1
    elapsed = time.perf_counter() - t0
    db.dispose()
    return elapsed, {"records": n, "actions": sum(stats.actions.values()), "cases": sum(stats.cases.values()),
                     "strikes": stats.strikes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--suspicious", type=float, default=0.05)
    ap.add_argument("--pg", default="postgresql+psycopg://127.0.0.1:5432/test")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from sqlalchemy import create_engine, text

    from qinglang.detect.engine import Engine
    from qinglang.scan import tune_gc_for_batch

    engine = Engine()
    engine.detect_text("warm up")
    tune_gc_for_batch()
    result: dict = {"posts": args.posts, "suspicious": args.suspicious}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "posts.jsonl"
        with src.open("wb") as fh:
            for r in generate(args.posts, args.suspicious):
                fh.write(orjson.dumps(r) + b"\n")
        t_scan = scan_only(src, engine)
        result["scan_posts_per_s"] = round(args.posts / t_scan)
        t, info = ingest(src, engine, f"sqlite:///{Path(tmp) / 'bench.db'}")
        result["sqlite"] = {"posts_per_s": round(args.posts / t), "vs_scan": round(t_scan / t, 2), **info}
        schema = f"qinglang_bench_{uuid.uuid4().hex[:8]}"
        try:
            admin = create_engine(args.pg, connect_args={"connect_timeout": 3})
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:  # the server is optional for this benchmark
            result["postgresql"] = f"skipped: {exc.__class__.__name__}"
        else:
            try:
                from qinglang.store.db import parse_url

                url = parse_url(args.pg).update_query_dict({"options": f"-csearch_path={schema}"})
                t, info = ingest(src, engine, url)
                result["postgresql"] = {"posts_per_s": round(args.posts / t), "vs_scan": round(t_scan / t, 2), **info}
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
