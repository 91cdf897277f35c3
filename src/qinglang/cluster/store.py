"""The cluster layer on the store: links from verdicts and account data, builds, reads, explain.

* :func:`collect_links` reads the verdicts stored since the last run's watermark
  (verdict row id) and upserts ``account_identifiers``: every entity of a linking
  kind in a **flagged** verdict on a post that names an account. Identifiers in
  benign posts (a customer quoting the bank's hotline) are no evidence of a gang.
* :func:`import_accounts` adds account-level identifiers a platform supplies
  (:mod:`qinglang.cluster.accounts` validates them).
* :func:`build` collects, builds the graph over every link of the tenant, clusters it,
  gives clusters their stable ids, and writes each cluster's summary, roles, chain and
  risk. Functions flush, never commit: the caller owns the transaction.

Writes are set-based: links, accounts and members go in as multi-row statements (on
PostgreSQL as one JSON document, :func:`qinglang.store.bulk.pg_insert_rows`), reads in
chunks of ids. Row by row through the ORM, a build took 3-5x the in-memory core and an
import of 10,000 accounts half a minute (docs/benchmarks.md, "through the database").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import ARRAY, ColumnElement, Table, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from qinglang.cluster.clusters import find_clusters
from qinglang.cluster.explain import shortest_path
from qinglang.cluster.graph import LinkGraph, build_graph
from qinglang.cluster.risk import risk_breakdown
from qinglang.cluster.roles import AccountProfile, assign_roles, build_chain
from qinglang.cluster.settings import BUCKETS, Settings, identifier_kind
from qinglang.cluster.stable_ids import assign_ids, id_number
from qinglang.cluster.tables import AccountIdentifier, ClusterMember, ClusterRow, ClusterRun
from qinglang.errors import (
    CLUSTER_ACCOUNT_NOT_FOUND,
    CLUSTER_NO_PATH,
    CLUSTER_NOT_BUILT,
    CLUSTER_NOT_FOUND,
    QLError,
)
from qinglang.store.bulk import pg_insert_rows
from qinglang.store.tables import Account, PostVersion, VerdictRow

SOURCE_VERDICT = "verdict"
SOURCE_ACCOUNT = "account_meta"
_CHUNK = 5000  # ids per IN list: SQLite and psycopg cap the parameters of one statement

_IDENTS: Table = AccountIdentifier.__table__  # type: ignore[assignment]
_MEMBERS: Table = ClusterMember.__table__  # type: ignore[assignment]
_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]


def _chunks(values: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


# --- set-based writes and reads ---


def _in(session: Session, col: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``col IN values``; on PostgreSQL ``col = ANY(:array)``: one parameter rather than thousands of
    placeholders for psycopg to convert and the server to parse."""
    if session.get_bind().dialect.name == "postgresql":
        return col == any_(bindparam(None, list(values), type_=ARRAY(col.type)))
    return col.in_(list(values))


def _aware(t: datetime) -> datetime:
    """``t`` in UTC; naive datetimes are refused as ``UTCDateTime`` refuses them (the JSON path skips its check)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t!r}: the store keeps timezone-aware datetimes only")
    return t.astimezone(UTC)


def _insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in as few statements as the dialect allows."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        pg_insert_rows(conn, table, rows)
    else:
        conn.execute(insert(table), rows)


# --- links ---


def _merge_evidence(old: list[Any], new: list[dict[str, Any]], cap: int) -> list[Any]:
    """Evidence without duplicates (same post version, field and span), newest ``cap`` kept."""
    seen = {(e.get("post_id"), e.get("version"), e.get("field"), e.get("start"), e.get("end")) for e in old}
    out = list(old)
    for e in new:
        key = (e.get("post_id"), e.get("version"), e.get("field"), e.get("start"), e.get("end"))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out[-cap:]


def upsert_links(session: Session, tenant: str, links: Mapping[tuple[int, str], tuple[datetime, list[dict[str, Any]]]],
                 source: str, settings: Settings) -> int:
    """Insert or update ``account_identifiers`` rows for (account row id, identifier) -> (seen at, evidence).

    One multi-row insert for the new links and one executemany update for the changed ones."""
    session.flush()
    t = _IDENTS
    existing: dict[tuple[int, str], Any] = {}
    for chunk in _chunks(sorted({acc for acc, _ in links})):
        rows = session.execute(select(t.c.id, t.c.account_id, t.c.identifier, t.c.first_seen, t.c.last_seen,
                                      t.c.evidence).where(_in(session, t.c.account_id, chunk), t.c.source == source))
        for row in rows:
            existing[(row.account_id, row.identifier)] = row
    cap = settings.clusters.max_evidence
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for (acc, ident), (seen, evidence) in sorted(links.items()):
        row = existing.get((acc, ident))
        if row is None:
            seen = _aware(seen)
            new.append({"tenant": tenant, "account_id": acc, "identifier": ident, "kind": identifier_kind(ident),
                        "source": source, "first_seen": seen, "last_seen": seen,
                        "evidence": _merge_evidence([], evidence, cap)})
            continue
        first, last = min(row.first_seen, seen), max(row.last_seen, seen)
        merged = _merge_evidence(list(row.evidence), evidence, cap)
        if (first, last, merged) != (row.first_seen, row.last_seen, list(row.evidence)):
            changed.append({"b_id": row.id, "b_first": first, "b_last": last, "b_evidence": merged})
    _insert_rows(session, t, new)
    if changed:
        session.connection().execute(update(t).where(t.c.id == bindparam("b_id"))
                                     .values(first_seen=bindparam("b_first", type_=t.c.first_seen.type),
                                             last_seen=bindparam("b_last", type_=t.c.last_seen.type),
                                             evidence=bindparam("b_evidence", type_=t.c.evidence.type)), changed)
        for obj in list(session.identity_map.values()):  # loaded rows must not shadow what was just written
            if isinstance(obj, AccountIdentifier):
                session.expire(obj)
    return len(new)


@dataclass(slots=True)
class Collected:
    verdicts: int = 0
    links: int = 0
    watermark: int = 0


def collect_links(session: Session, tenant: str, settings: Settings, *, after: int = 0) -> Collected:
    """Links from the tenant's verdicts with row id above ``after`` (see the module docstring)."""
    out = Collected(watermark=after)
    top = session.scalar(select(func.max(VerdictRow.id)).where(VerdictRow.tenant == tenant, VerdictRow.id > after))
    if top is None:
        return out
    out.watermark = int(top)
    stmt = (select(VerdictRow.id, VerdictRow.entities, PostVersion.account_id, PostVersion.post_id,
                   PostVersion.version, PostVersion.first_seen, PostVersion.posted_at)
            .join(PostVersion, VerdictRow.post_version_id == PostVersion.id)
            .where(VerdictRow.tenant == tenant, VerdictRow.id > after, VerdictRow.id <= top,
                   VerdictRow.flagged.is_(True), PostVersion.account_id.is_not(None))
            .order_by(VerdictRow.id))
    links: dict[tuple[int, str], tuple[datetime, list[dict[str, Any]]]] = {}
    for vid, entities, account_id, post_id, version, stored_at, posted_at in session.execute(stmt):
        out.verdicts += 1
        seen = _parse_time(posted_at, stored_at)  # the post's own time: who showed a site first
        for ent in entities or []:
            value = ent.get("value") if isinstance(ent, dict) else None
            if not isinstance(value, str) or identifier_kind(value) not in settings.kinds:
                continue
            ev = {"verdict_id": vid, "post_id": post_id, "version": version, "field": ent.get("field"),
                  "start": ent.get("start"), "end": ent.get("end"), "text": ent.get("text")}
            key = (account_id, value)
            if key in links:
                first, evs = links[key]
                links[key] = (min(first, seen), [*evs, ev])
            else:
                links[key] = (seen, [ev])
    out.links = upsert_links(session, tenant, links, SOURCE_VERDICT, settings)
    return out


# --- graph ---


def load_graph(session: Session, tenant: str, settings: Settings) -> LinkGraph:
    """The tenant's whole link graph; accounts are keyed by account row id."""
    session.flush()
    t = _IDENTS  # a Core read: ORM row processing cost more than the fetch itself
    rows = session.connection().execute(select(t.c.account_id, t.c.identifier).where(t.c.tenant == tenant)).all()
    accounts = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    identifiers = np.array([r[1] for r in rows], dtype=object)
    return build_graph(accounts, identifiers, settings)


# --- build ---


@dataclass(slots=True)
class BuildReport:
    run_id: int
    watermark: int
    verdicts_read: int
    links_added: int
    clusters: int
    new_ids: list[str] = field(default_factory=list)
    kept_ids: list[str] = field(default_factory=list)
    retired_ids: list[str] = field(default_factory=list)
    hubs: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "watermark": self.watermark, "verdicts_read": self.verdicts_read,
                "links_added": self.links_added, "clusters": self.clusters, "new": self.new_ids,
                "kept": self.kept_ids, "retired": self.retired_ids, "hubs": self.hubs, "stats": self.stats}


def _parse_time(value: str | None, fallback: datetime) -> datetime:
    if value:
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return t if t.tzinfo else t.replace(tzinfo=UTC)
        except ValueError:
            pass
    return fallback


@dataclass(slots=True)
class _Activity:
    profile: AccountProfile
    severities: set[str] = field(default_factory=set)
    times: list[datetime] = field(default_factory=list)


def _activity(session: Session, tenant: str, account_ids: list[int]) -> dict[int, _Activity]:
    """Per account: flagged categories, severities and post times, and every identifier it holds."""
    ext = {}
    for chunk in _chunks(account_ids):
        for aid, external in session.execute(select(Account.id, Account.external_id)
                                             .where(_in(session, Account.id, chunk))):
            ext[aid] = external
    out = {aid: _Activity(AccountProfile(ext.get(aid, str(aid)))) for aid in account_ids}
    for chunk in _chunks(account_ids):
        stmt = (select(PostVersion.account_id, VerdictRow.categories, PostVersion.posted_at, PostVersion.first_seen)
                .join(VerdictRow, VerdictRow.post_version_id == PostVersion.id)
                .where(_in(session, PostVersion.account_id, chunk), VerdictRow.flagged.is_(True)))
        for aid, categories, posted_at, first_seen in session.execute(stmt):
            act = out[aid]
            act.profile.flagged += 1
            act.times.append(_parse_time(posted_at, first_seen))
            for c in categories or []:
                act.profile.categories[c.get("code", "")] += 1
                act.severities.add(c.get("severity", ""))
        for aid, ident, first_seen in session.execute(
                select(AccountIdentifier.account_id, AccountIdentifier.identifier, AccountIdentifier.first_seen)
                .where(_in(session, AccountIdentifier.account_id, chunk))):
            held = out[aid].profile.identifiers
            prev = held.get(ident)
            held[ident] = first_seen if prev is None else min(prev, first_seen)
    return out


def _platforms(session: Session, account_ids: list[int]) -> dict[int, str]:
    out = {}
    for chunk in _chunks(account_ids):
        for aid, platform in session.execute(select(Account.id, Account.platform)
                                             .where(_in(session, Account.id, chunk))):
            out[aid] = platform
    return out


def previous_clusters(session: Session, tenant: str) -> dict[str, set[int]]:
    """Active cluster id -> member account row ids."""
    out: dict[str, set[int]] = {}
    rows = session.execute(select(ClusterRow.cluster_id, ClusterMember.account_id)
                           .join(ClusterMember, ClusterMember.cluster_row_id == ClusterRow.id)
                           .where(ClusterRow.tenant == tenant, ClusterRow.status == "active"))
    for cid, aid in rows:
        out.setdefault(cid, set()).add(aid)
    return out


def last_run(session: Session, tenant: str) -> ClusterRun | None:
    return session.scalars(select(ClusterRun).where(ClusterRun.tenant == tenant, ClusterRun.finished_at.is_not(None))
                           .order_by(ClusterRun.id.desc()).limit(1)).first()


def build(session: Session, tenant: str, settings: Settings, *, now: datetime | None = None) -> BuildReport:
    """Collect new links, re-cluster the tenant, and store clusters under stable ids."""
    now = now or datetime.now(UTC)
    prev_run = last_run(session, tenant)
    collected = collect_links(session, tenant, settings, after=prev_run.watermark if prev_run else 0)
    run = ClusterRun(tenant=tenant, started_at=now, watermark=collected.watermark,
                     settings=settings.clusters.model_dump(), stats={})
    session.add(run)
    session.flush()

    graph = load_graph(session, tenant, settings)
    result = find_clusters(graph, settings.clusters)
    groups = [[int(a) for a in graph.account_keys[m].tolist()] for m in result.members]
    activity = _activity(session, tenant, sorted({a for g in groups for a in g}))
    if settings.clusters.require_flagged:
        groups = [g for g in groups if any(activity[a].profile.flagged for a in g)]

    previous = previous_clusters(session, tenant)
    issued = session.scalars(select(ClusterRow.cluster_id).where(ClusterRow.tenant == tenant)).all()
    next_number = max((id_number(c) for c in issued), default=0) + 1
    assignment = assign_ids(groups, previous, next_number=next_number, min_jaccard=settings.clusters.min_jaccard)

    linking = graph.linking
    ident_of = graph.identifier_keys
    a2i, _ = graph.adjacency()
    index = graph.account_index()
    platforms = _platforms(session, sorted({a for g in groups for a in g}))
    rows = {r.cluster_id: r for r in session.scalars(select(ClusterRow).where(ClusterRow.tenant == tenant))}
    active_rows = [r.id for r in rows.values() if r.status == "active"]
    for chunk in _chunks(active_rows):
        session.execute(delete(ClusterMember).where(_in(session, ClusterMember.cluster_row_id, chunk)))

    new_members: list[tuple[ClusterRow, list[dict[str, Any]]]] = []
    for cid, members in zip(assignment.ids, groups, strict=True):
        held: Counter[str] = Counter()
        for a in members:
            idx = a2i.indices[a2i.indptr[index[a]]:a2i.indptr[index[a] + 1]]
            held.update(str(ident_of[i]) for i in idx.tolist() if linking[i])
        shared = {i: n for i, n in held.items() if n >= 2}
        profiles = [activity[a].profile for a in members]
        roles = assign_roles(profiles, settings)
        chain = build_chain(profiles, roles, settings, shared)
        cats: Counter[str] = Counter()
        sev: set[str] = set()
        times: list[datetime] = []
        for a in members:
            cats.update(activity[a].profile.categories)
            sev |= activity[a].severities
            times.extend(activity[a].times)
        all_idents = {i for p in profiles for i in p.identifiers}
        risk = risk_breakdown(sev, cats, len(members), all_idents, settings.risk)
        row = rows.get(cid)
        if row is None:
            row = ClusterRow(tenant=tenant, cluster_id=cid, created_at=now)
            session.add(row)
        row.run_id, row.status, row.size, row.updated_at = run.id, "active", len(members), now
        row.categories = dict(sorted(cats.items(), key=lambda kv: (-kv[1], kv[0])))
        row.platforms = sorted({platforms.get(a, "") for a in members} - {""})
        row.first_activity = min(times) if times else None
        row.last_activity = max(times) if times else None
        row.risk = risk["risk"]
        row.detail = {"risk": risk, "chain": chain,
                      "roles": dict(Counter(roles[p.account][0] for p in profiles).most_common()),
                      "identifiers": [{"identifier": i, "kind": identifier_kind(i), "accounts": n}
                                      for i, n in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))]}
        new_members.append((row, [{"account_id": a, "role": roles[p.account][0], "roles": roles[p.account]}
                                  for a, p in zip(members, profiles, strict=True)]))
    session.flush()  # one flush: new cluster rows get their ids in batched inserts
    _insert_rows(session, _MEMBERS, [{"cluster_row_id": row.id, **m} for row, ms in new_members for m in ms])
    for cid in assignment.retired:
        if cid in rows:
            rows[cid].status, rows[cid].updated_at, rows[cid].run_id = "retired", now, run.id
    hubs = [{"identifier": str(i), "kind": k, "accounts": d} for i, k, d in graph.hubs()[:50]]
    stats = {**result.stats(), "stored_clusters": len(groups), "accounts": graph.n_accounts,
             "identifiers": graph.n_identifiers, "links": len(graph.edge_account), "hubs": int(graph.hub.sum()),
             "allow_listed": int(graph.allowed.sum())}
    run.stats, run.finished_at = stats, now
    session.flush()
    return BuildReport(run.id, collected.watermark, collected.verdicts, collected.links, len(groups),
                       new_ids=[c for c in assignment.ids if c not in assignment.kept],
                       kept_ids=sorted(assignment.kept, key=id_number), retired_ids=assignment.retired,
                       hubs=hubs, stats=stats)


# --- reading ---


def _require_run(session: Session, tenant: str) -> None:
    if last_run(session, tenant) is None:
        raise QLError(CLUSTER_NOT_BUILT, f"tenant {tenant!r} has no cluster run yet",
                      hint="run 'qinglang cluster build' first")


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def _by_count(counts: Mapping[str, int]) -> dict[str, int]:
    """Most first, then by name: JSONB keeps no key order, so order is restored on reading."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def summary(row: ClusterRow) -> dict[str, Any]:
    return {"cluster_id": row.cluster_id, "status": row.status, "size": row.size, "risk": row.risk,
            "categories": _by_count(row.categories), "platforms": row.platforms,
            "first_activity": _iso(row.first_activity), "last_activity": _iso(row.last_activity),
            "roles": _by_count(row.detail.get("roles", {}))}


def list_clusters(session: Session, tenant: str, *, min_size: int = 0, limit: int = 100,
                  include_retired: bool = False) -> list[dict[str, Any]]:
    """Clusters of the tenant, riskiest first."""
    _require_run(session, tenant)
    stmt = select(ClusterRow).where(ClusterRow.tenant == tenant, ClusterRow.size >= min_size)
    if not include_retired:
        stmt = stmt.where(ClusterRow.status == "active")
    stmt = stmt.order_by(ClusterRow.risk.desc(), ClusterRow.size.desc(), ClusterRow.cluster_id).limit(limit)
    return [summary(r) for r in session.scalars(stmt)]


def get_cluster(session: Session, tenant: str, cluster_id: str) -> ClusterRow:
    _require_run(session, tenant)
    row = session.scalars(select(ClusterRow).where(ClusterRow.tenant == tenant,
                                                   ClusterRow.cluster_id == cluster_id)).first()
    if row is None or row.status != "active":
        state = "retired" if row is not None else "unknown"
        raise QLError(CLUSTER_NOT_FOUND, f"no active cluster {cluster_id!r} in tenant {tenant!r} ({state})")
    return row


def members(session: Session, row: ClusterRow) -> list[tuple[Account, ClusterMember]]:
    stmt = (select(Account, ClusterMember).join(ClusterMember, ClusterMember.account_id == Account.id)
            .where(ClusterMember.cluster_row_id == row.id).order_by(Account.platform, Account.external_id))
    return [(a, m) for a, m in session.execute(stmt)]


def show(session: Session, tenant: str, cluster_id: str) -> dict[str, Any]:
    """Everything about one cluster: summary, members with roles, shared identifiers, chain, risk terms."""
    row = get_cluster(session, tenant, cluster_id)
    out = summary(row)
    out["members"] = [{"account": a.external_id, "platform": a.platform, "role": m.role, "roles": list(m.roles)}
                      for a, m in members(session, row)]
    out["identifiers"] = row.detail.get("identifiers", [])
    chain = row.detail.get("chain", {})
    out["chain"] = {}
    for bucket in BUCKETS:
        if bucket in chain:
            entry = dict(chain[bucket])
            if "categories" in entry:
                entry["categories"] = _by_count(entry["categories"])
            out["chain"][bucket] = {k: entry[k] for k in ("accounts", "identifiers", "categories") if k in entry}
    terms = row.detail.get("risk", {})
    out["risk_terms"] = {k: terms[k] for k in ("severity", "breadth", "size", "funds", "risk") if k in terms}
    return out


def find_account(session: Session, tenant: str, name: str) -> Account:
    """An account by external id, or ``platform:external_id`` when the id exists on several platforms."""
    stmt = select(Account).where(Account.tenant == tenant, Account.external_id == name)
    found = list(session.scalars(stmt))
    if not found and ":" in name:
        platform, external = name.split(":", 1)
        found = list(session.scalars(select(Account).where(Account.tenant == tenant, Account.platform == platform,
                                                           Account.external_id == external)))
    clustered = [a for a in found if session.scalar(select(ClusterMember.id).where(ClusterMember.account_id == a.id))]
    if not clustered:
        raise QLError(CLUSTER_ACCOUNT_NOT_FOUND, f"account {name!r} is in no current cluster of tenant {tenant!r}")
    return clustered[0]


def explain(session: Session, tenant: str, account_a: str, account_b: str, settings: Settings) -> dict[str, Any]:
    """Why two accounts share a cluster: the shortest path of shared identifiers, with the evidence of each."""
    _require_run(session, tenant)
    a, b = find_account(session, tenant, account_a), find_account(session, tenant, account_b)
    ca = session.scalars(select(ClusterMember).where(ClusterMember.account_id == a.id)).first()
    cb = session.scalars(select(ClusterMember).where(ClusterMember.account_id == b.id)).first()
    assert ca is not None and cb is not None
    if ca.cluster_row_id != cb.cluster_row_id:
        raise QLError(CLUSTER_NO_PATH, f"{account_a} and {account_b} are in different clusters")
    row = session.get(ClusterRow, ca.cluster_row_id)
    assert row is not None
    graph = load_graph(session, tenant, settings)
    index = graph.account_index()
    member_ids = set(session.scalars(select(ClusterMember.account_id)
                                     .where(ClusterMember.cluster_row_id == row.id)))
    within = np.array([int(k) in member_ids for k in graph.account_keys.tolist()], dtype=bool)
    hops = shortest_path(graph, index[a.id], index[b.id], within)
    if hops is None:
        raise QLError(CLUSTER_NO_PATH, f"no path of shared identifiers joins {account_a} and {account_b}")
    on_path = {int(graph.account_keys[x]) for h in hops for x in (h.from_account, h.to_account)}
    ext = {acc.id: acc for acc in session.scalars(select(Account).where(Account.id.in_(sorted(on_path))))}
    path = []
    for h in hops:
        ids = [int(graph.account_keys[h.from_account]), int(graph.account_keys[h.to_account])]
        evidence = {}
        for aid in ids:
            rows_ = session.scalars(select(AccountIdentifier).where(AccountIdentifier.account_id == aid,
                                                                    AccountIdentifier.identifier == h.identifier)
                                    .order_by(AccountIdentifier.source))
            evidence[ext[aid].external_id] = [{"source": r.source, "first_seen": _iso(r.first_seen),
                                               "last_seen": _iso(r.last_seen), "evidence": list(r.evidence)}
                                              for r in rows_]
        path.append({"from": ext[ids[0]].external_id, "identifier": h.identifier, "kind": h.kind,
                     "to": ext[ids[1]].external_id, "evidence": evidence})
    return {"cluster_id": row.cluster_id, "from": a.external_id, "to": b.external_id, "length": len(path),
            "path": path}


def iter_member_ids(session: Session, row: ClusterRow) -> Iterable[int]:
    return session.scalars(select(ClusterMember.account_id).where(ClusterMember.cluster_row_id == row.id))


# --- account data ---


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    accounts: int = 0
    links_added: int = 0
    problems: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "accounts": self.accounts, "links_added": self.links_added,
                "problems": [p.to_dict() for p in self.problems]}


def _select_accounts(session: Session, tenant: str, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    t = _ACCOUNTS
    out: dict[tuple[str, str], int] = {}
    if session.get_bind().dialect.name == "postgresql":  # key by key: see ``store.bulk.pg_lookup``
        from qinglang.store.bulk import pg_lookup

        conn = session.connection()
        for chunk in _chunks(sorted(keys)):
            for aid, platform, external in pg_lookup(conn, t, ("id", "platform", "external_id"), tenant,
                                                      ("platform", "external_id"), list(zip(*chunk, strict=True))):
                out[(platform, external)] = aid
        return out
    platforms = sorted({p for p, _ in keys})
    for chunk in _chunks(sorted({e for _, e in keys})):
        for aid, platform, external in session.execute(
                select(t.c.id, t.c.platform, t.c.external_id)
                .where(t.c.tenant == tenant, _in(session, t.c.platform, platforms),
                       _in(session, t.c.external_id, chunk))):
            if (platform, external) in keys:
                out[(platform, external)] = aid
    return out


def _account_ids(session: Session, tenant: str, keys: list[tuple[str, str]],
                 now: datetime) -> dict[tuple[str, str], int]:
    """Row ids of the (platform, external id) accounts, created in first-seen order when new.

    ``INSERT ... ON CONFLICT DO NOTHING`` then a second read: a writer that adds the same
    account meanwhile wins, and its row is used (as ``repo.upsert_account`` does one by one)."""
    session.flush()
    wanted = set(keys)
    found = _select_accounts(session, tenant, wanted)
    missing = [k for k in dict.fromkeys(keys) if k not in found]
    if not missing:
        return found
    conn = session.connection()
    if conn.dialect.name not in ("postgresql", "sqlite"):  # no ON CONFLICT: one by one
        from qinglang.store.repo import upsert_account

        for platform, external in missing:
            found[(platform, external)] = upsert_account(session, tenant, platform, external, now=now).id
        return found
    now = _aware(now)
    rows = [{"tenant": tenant, "platform": p, "external_id": e, "created_at": now, "updated_at": now}
            for p, e in missing]
    if conn.dialect.name == "postgresql":
        added = pg_insert_rows(conn, _ACCOUNTS, rows, conflict_keys=("tenant", "platform", "external_id"),
                               returning=("id", "platform", "external_id"))
        found.update({(p, e): aid for aid, p, e in added})
        missing = [k for k in missing if k not in found]  # added meanwhile by another writer
        if missing:
            found.update(_select_accounts(session, tenant, set(missing)))
        return found
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    conn.execute(sqlite_insert(_ACCOUNTS).on_conflict_do_nothing(index_elements=["tenant", "platform", "external_id"]),
                 rows)
    found.update(_select_accounts(session, tenant, set(missing)))
    return found


def import_accounts(session: Session, tenant: str, path: str, settings: Settings, *,
                    now: datetime | None = None) -> ImportReport:
    """Add the account-level identifiers of a file; bad values are reported, never fatal."""
    from qinglang.cluster.accounts import read_rows

    return import_account_rows(session, tenant, read_rows(path), settings, now=now)


def import_account_rows(session: Session, tenant: str, rows: Iterable[tuple[int, Mapping[str, Any] | Any]],
                        settings: Settings, *, now: datetime | None = None) -> ImportReport:
    """:func:`import_accounts` over (line, mapping or ``RowProblem``) pairs already read (the HTTP service's
    JSON or CSV body); bad values are reported with their line, never fatal."""
    from qinglang.cluster.accounts import AccountRow, RowProblem, parse_row

    now = now or datetime.now(UTC)
    report = ImportReport()
    parsed: list[AccountRow] = []
    for line, rec in rows:
        report.rows += 1
        if isinstance(rec, RowProblem):
            report.problems.append(rec)
            continue
        row, problems = parse_row(line, rec)
        report.problems.extend(problems)
        if row is not None:
            parsed.append(row)
    ids = _account_ids(session, tenant, [(row.platform or "", row.account) for row in parsed], now)
    links: dict[tuple[int, str], tuple[datetime, list[dict[str, Any]]]] = {}
    accounts: set[int] = set()
    for row in parsed:
        account_id = ids[(row.platform or "", row.account)]
        accounts.add(account_id)
        seen = row.seen_at or now
        for name, ident in row.identifiers:
            if identifier_kind(ident) not in settings.kinds:
                continue
            ev = {"field": name, "line": row.line}
            key = (account_id, ident)
            if key in links:
                links[key] = (min(links[key][0], seen), [*links[key][1], ev])
            else:
                links[key] = (seen, [ev])
    report.accounts = len(accounts)
    report.links_added = upsert_links(session, tenant, links, SOURCE_ACCOUNT, settings)
    return report
