"""``cluster build`` through the database, beside the in-memory core on the same graph.

Usage: python benchmarks/cluster_store.py [--scale 0.1] [--seed 1] [--change 0.01]
                                          [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-pg]

The graph is ``cluster_scale.generate`` at ``--scale`` (0.1: 100,000 accounts, ~500,000
links, planted gangs, hubs, families, victims and bridges). It enters the store the way
a platform's account data does: rows for ``import_account_rows`` (one per account,
identifiers as ``device_id``, ``ip``, ``registration_phone`` and ``payment_account``
values that the importer normalises), because that path carries every link of the
generated graph; verdict rows would carry only the identifiers a post names. Each
generated identifier keeps one kind (that of its first link) so it maps to one
canonical value; domains become phones (account data has no domain field, and a
payment name's hub bar is higher than a domain's). Account data alone flags no one, so the build runs with
``require_flagged: false``: otherwise every cluster would be dropped and no cluster or
member row written, which is the part under test.

Per database (a fresh SQLite file; a fresh PostgreSQL schema, dropped afterwards):
import, first ``build``, then an import that adds ``--change`` x links (new links to
existing identifiers of other accounts) and a second ``build``. Each step is one
transaction. The core figure is ``build_graph`` + ``find_clusters`` in this process on
the same (account, identifier) pairs the store holds, before and after the change.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import json
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster_scale import KINDS, generate

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def canonical(kinds: np.ndarray, idents: np.ndarray) -> tuple[dict[int, tuple[str, str]], np.ndarray]:
    """Per generated identifier: (account-data field, raw value), and the canonical string per link."""
    uniq, first = np.unique(idents, return_index=True)
    field_of: dict[int, tuple[str, str]] = {}
    canon: dict[int, str] = {}
    for ident, kind in zip(uniq.tolist(), kinds[first].tolist(), strict=True):
        name = KINDS[kind]
        if name in ("phone", "domain"):  # hubs are phones and domains: keep them under a phone's hub bar
            raw = f"+86 138{ident % 10**8:08d}"
            field_of[ident], canon[ident] = ("registration_phone", raw), f"phone:+86138{ident % 10**8:08d}"
        elif name == "ip":
            raw = str(ipaddress.IPv4Address(0x0A000000 + ident))
            field_of[ident], canon[ident] = ("ip", raw), f"ip:{raw}"
        elif name == "device":
            field_of[ident], canon[ident] = ("device_id", f"dev-{ident}"), f"device:dev-{ident}"
        else:
            field_of[ident], canon[ident] = ("payment_account", f"acct.{ident}"), f"pay:acct.{ident}"
    return field_of, np.array([canon[i] for i in idents.tolist()], dtype=object)


def account_rows(accounts: np.ndarray, idents: np.ndarray, field_of: dict[int, tuple[str, str]]) -> list[dict]:
    """One account-data row per account holding its links."""
    held: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for acc, ident in zip(accounts.tolist(), idents.tolist(), strict=True):
        name, raw = field_of[ident]
        held[acc][name].append(raw)
    return [{"account": f"u{acc}", "platform": "bench", **fields} for acc, fields in sorted(held.items())]


def core(accounts: np.ndarray, canon: np.ndarray, settings) -> tuple[float, int]:
    from qinglang.cluster.clusters import find_clusters
    from qinglang.cluster.graph import build_graph

    t0 = time.perf_counter()
    graph = build_graph(accounts, canon, settings)
    result = find_clusters(graph, settings.clusters)
    return time.perf_counter() - t0, len(result.members)


def through_store(url: Any, rows: list[dict], delta: list[dict], settings) -> dict[str, Any]:
    from qinglang.cluster.store import build, import_account_rows
    from qinglang.store.db import make_engine, session_factory, upgrade

    db = make_engine(url)
    upgrade(db)
    make = session_factory(db)
    out: dict[str, Any] = {}
    for step, data in (("import", rows), ("build", None), ("import_change", delta), ("rebuild", None)):
        t0 = time.perf_counter()
        with make.begin() as session:
            if data is not None:
                rep = import_account_rows(session, "bench", enumerate(data, start=1), settings, now=NOW)
                assert not rep.problems, rep.problems[:3]
                info = {"links_added": rep.links_added}
            else:
                rep = build(session, "bench", settings, now=NOW)
                info = {"clusters": rep.clusters, "new": len(rep.new_ids), "kept": len(rep.kept_ids),
                        "retired": len(rep.retired_ids)}
        out[step] = {"s": round(time.perf_counter() - t0, 2), **info}
    db.dispose()
    return out


def pg_schema(admin, schema: str, create: bool) -> None:
    from sqlalchemy import text

    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"' if create else f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1, help="0.1 = 100,000 accounts, ~500,000 links")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--change", type=float, default=0.01, help="share of links added before the second build")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    from sqlalchemy import create_engine

    from qinglang.cluster.settings import default_settings
    from qinglang.store.db import parse_url

    base = default_settings()
    settings = dataclasses.replace(base, clusters=base.clusters.model_copy(update={"require_flagged": False}))
    data = generate(args.scale, args.seed)
    accounts, idents = data["accounts"], data["identifiers"]
    # one link per (account, identifier), as the store keeps them
    pairs = np.unique(np.stack([accounts, idents], axis=1), axis=0)
    accounts, idents = pairs[:, 0], pairs[:, 1]
    kind_of = dict(zip(data["identifiers"].tolist(), data["kinds"].tolist(), strict=True))
    kinds = np.array([kind_of[i] for i in idents.tolist()], dtype=np.int8)
    field_of, canon = canonical(kinds, idents)
    rows = account_rows(accounts, idents, field_of)

    # the change: new links from random accounts to identifiers other accounts hold
    rng = np.random.default_rng(args.seed + 1)
    n_new = max(1, int(args.change * len(accounts)))
    new_acc = rng.integers(0, int(accounts.max()) + 1, size=n_new)
    new_ident = idents[rng.integers(0, len(idents), size=n_new)]
    delta = account_rows(new_acc, new_ident, field_of)
    acc2 = np.concatenate([accounts, new_acc])
    canon_new = np.array([_canon_of(field_of, i) for i in new_ident.tolist()], dtype=object)
    canon2 = np.concatenate([canon, canon_new])
    dedup = {(a, c) for a, c in zip(acc2.tolist(), canon2.tolist(), strict=True)}
    acc2 = np.array([a for a, _ in dedup], dtype=np.int64)
    canon2 = np.array([c for _, c in dedup], dtype=object)

    result: dict[str, Any] = {"scale": args.scale, "accounts": len(rows), "links": len(accounts),
                              "changed_links": n_new}
    t_core, n_clusters = core(accounts, canon, settings)
    t_core2, _ = core(acc2, canon2, settings)
    result["core"] = {"build_s": round(t_core, 2), "rebuild_s": round(t_core2, 2), "clusters": n_clusters}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            result["sqlite"] = through_store(f"sqlite:///{Path(tmp) / 'bench.db'}", rows, delta, settings)
    if not args.no_pg:
        try:
            admin = create_engine(args.pg, connect_args={"connect_timeout": 3})
            schema = f"qinglang_bench_{uuid.uuid4().hex[:8]}"
            pg_schema(admin, schema, True)
        except Exception as exc:  # the server is optional for this benchmark
            result["postgresql"] = f"skipped: {exc.__class__.__name__}"
        else:
            try:
                url = parse_url(args.pg).update_query_dict({"options": f"-csearch_path={schema}"})
                result["postgresql"] = through_store(url, rows, delta, settings)
            finally:
                pg_schema(admin, schema, False)
                admin.dispose()
    for name in ("sqlite", "postgresql"):
        if isinstance(result.get(name), dict):
            r = result[name]
            r["build_vs_core"] = round(r["build"]["s"] / t_core, 1)
            r["rebuild_vs_core"] = round(r["rebuild"]["s"] / t_core2, 1)
    print(json.dumps(result, indent=2))
    return 0


def _canon_of(field_of: dict[int, tuple[str, str]], ident: int) -> str:
    name, raw = field_of[ident]
    return {"registration_phone": f"phone:+86{raw[4:]}", "ip": f"ip:{raw}", "device_id": f"device:{raw}",
            "payment_account": f"pay:{raw}"}[name]


if __name__ == "__main__":
    raise SystemExit(main())
