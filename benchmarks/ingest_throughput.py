"""Ingest throughput (scan + store + decide) beside scan-only, on SQLite and PostgreSQL.

Usage: python benchmarks/ingest_throughput.py [--posts 100000] [--repeat 3] [--suspicious 0.05]
                                              [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--per-post]

One process, pinned to one CPU: the same generated JSONL (``scan_throughput.generate``,
accounts shared by ~10 posts each so the ladder has histories to read) is scanned to a
file (scan-only baseline, rules only) and then ingested into a fresh SQLite file and,
when reachable, a fresh PostgreSQL schema (dropped afterwards), then ingested a second
time into the same database (the idempotent re-run: every post unchanged, nothing
decided again). Each round does all of that; the figures are medians over ``--repeat``
rounds. Every database write of a batch happens in one transaction. The figure that
matters is ingest posts/s as a fraction of scan-only posts/s measured in the same run.
``--per-post`` measures the row-by-row reference path instead of the set-based one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def ingest(path: Path, engine, url, *, per_post: bool, overlap: bool) -> tuple[float, float, dict]:
    """Seconds for a first ingest into an empty database and for a re-run of the same input."""
    from qinglang.decide import default_ladder
    from qinglang.ingest import IngestStats, ingest_records
    from qinglang.io.readers import read_records
    from qinglang.store.db import make_engine, session_factory, upgrade

    db = make_engine(url)
    upgrade(db)
    times = []
    infos = []
    for _ in range(2):
        stats = IngestStats()
        t0 = time.perf_counter()
        for _ in ingest_records(engine, read_records(str(path)), session_factory(db), tenant="bench",
                                now=datetime(2026, 11, 21, tzinfo=UTC), policy=default_ladder(), stats=stats,
                                per_post=per_post, overlap=overlap):
            pass
        times.append(time.perf_counter() - t0)
        infos.append({"actions": sum(stats.actions.values()), "cases": stats.cases_opened, "strikes": stats.strikes,
                      "unchanged": stats.posts["unchanged"]})
    db.dispose()
    first, rerun = infos
    assert rerun["actions"] == rerun["strikes"] == rerun["cases"] == 0, rerun  # the re-run adds nothing
    return times[0], times[1], first


def pg_schema(admin, schema: str, create: bool) -> None:
    from sqlalchemy import text

    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"' if create else f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--suspicious", type=float, default=0.05)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--per-post", action="store_true", help="the row-by-row reference path")
    ap.add_argument("--no-overlap", action="store_true", help="scan only while no batch is being written")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from sqlalchemy import create_engine

    from qinglang.detect.engine import Engine
    from qinglang.scan import tune_gc_for_batch
    from qinglang.store.db import parse_url

    engine = Engine()
    engine.detect_text("warm up")
    tune_gc_for_batch()
    result: dict = {"posts": args.posts, "suspicious": args.suspicious, "repeat": args.repeat,
                    "path": "per-post" if args.per_post else "set-based",
                    "overlap": not args.no_overlap}
    try:
        admin = create_engine(args.pg, connect_args={"connect_timeout": 3})
        pg_schema(admin, "qinglang_bench_probe", True)
        pg_schema(admin, "qinglang_bench_probe", False)
    except Exception as exc:  # the server is optional for this benchmark
        admin = None
        result["postgresql"] = f"skipped: {exc.__class__.__name__}"
    runs: dict[str, list[float]] = {"scan": [], "sqlite": [], "sqlite_rerun": [], "postgresql": [],
                                    "postgresql_rerun": []}
    info: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "posts.jsonl"
        with src.open("wb") as fh:
            for r in generate(args.posts, args.suspicious):
                fh.write(orjson.dumps(r) + b"\n")
        for i in range(args.repeat):
            runs["scan"].append(scan_only(src, engine))
            first, again, info["sqlite"] = ingest(src, engine, f"sqlite:///{Path(tmp) / f'bench{i}.db'}",
                                                  per_post=args.per_post, overlap=not args.no_overlap)
            runs["sqlite"].append(first)
            runs["sqlite_rerun"].append(again)
            if admin is not None:
                schema = f"qinglang_bench_{uuid.uuid4().hex[:8]}"
                pg_schema(admin, schema, True)
                try:
                    url = parse_url(args.pg).update_query_dict({"options": f"-csearch_path={schema}"})
                    first, again, info["postgresql"] = ingest(src, engine, url, per_post=args.per_post,
                                                              overlap=not args.no_overlap)
                    runs["postgresql"].append(first)
                    runs["postgresql_rerun"].append(again)
                finally:
                    pg_schema(admin, schema, False)
    t_scan = statistics.median(runs["scan"])
    result["scan_posts_per_s"] = round(args.posts / t_scan)
    for name in ("sqlite", "postgresql"):
        if not runs[name]:
            continue
        t, t_again = statistics.median(runs[name]), statistics.median(runs[f"{name}_rerun"])
        result[name] = {"posts_per_s": round(args.posts / t), "vs_scan": round(t_scan / t, 2),
                        "rerun_posts_per_s": round(args.posts / t_again), "rerun_vs_scan": round(t_scan / t_again, 2),
                        "rounds_s": [round(x, 2) for x in runs[name]], **info[name]}
    result["scan_rounds_s"] = [round(x, 2) for x in runs["scan"]]
    if admin is not None:
        admin.dispose()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
