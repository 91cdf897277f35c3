"""Set-based ingest writes: a whole batch stored and decided in a handful of statements.

:func:`store_batch` does for a batch of (post, verdict) pairs what ``store.repo`` and
``store.actions`` do for one pair, with the same results (``tests/store/test_batch.py``
ingests the same input both ways and compares every stored row), but per *table* rather
than per post, because a round trip per row is what bounded ingest (docs/benchmarks.md):

1. accounts: one SELECT for the batch's accounts, one ``INSERT ... ON CONFLICT DO
   NOTHING`` for the missing ones (and a SELECT for those a concurrent writer took);
2. posts: one SELECT of every stored version of the batch's post ids (the stored
   content hashes and the highest version number come from the same snapshot), the
   versions and statuses worked out in Python in input order, new versions inserted with
   ``ON CONFLICT DO NOTHING RETURNING``, ``last_seen`` moved in one UPDATE;
3. verdicts: one SELECT, one insert of the missing ones;
4. with a registry, licences and bindings as ``registry_store.licence_status_for`` gives
   them (a declared binding's licence counts and is kept; a name match is recorded as
   ``matched``): one SELECT for the rows accounts are bound to, one mapping matched entry
   ids to rows, one UPDATE for the accounts whose binding changed, audited;
5. decisions: which post versions a case already holds (one query), the account states
   (``store.actions.load_account_states``, three queries), then :func:`~qinglang.decide.expire`
   and :func:`~qinglang.decide.decide` in Python, in input order, each decision applied
   to the in-memory state the next one sees (as re-loading it would give); then one
   statement each for expiries, strikes, actions, cases and their verdict links, and
   ``audit.append_many`` per audit action.

Concurrent writers (PostgreSQL): every insert is ``ON CONFLICT DO NOTHING`` on the
table's unique key and reports what it inserted (``RETURNING``); a row another writer
won is read back and used. A post version number taken by another writer is resolved
by reading that post's versions again: the same content is ``unchanged`` (the winner's
row), other content gets the next number. New versions of one post within a batch go
in rounds (the first new version of every post, then the second, ...), so a lost race
renumbers them in input order. A writer that inserts a key another open transaction
holds waits for it to commit, so a post version, its verdict and its decision are
never stored twice. Functions flush nothing through the ORM except the audit entries;
the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, Table, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from qinglang.decide import Decision, LadderPolicy, LicenceStatus, apply_decision, decide, expire
from qinglang.errors import BATCH_CONFLICTS, STORE_MISMATCH, QLError
from qinglang.model import Post, Verdict
from qinglang.registry import Binding, BindingStatus, Registry, bind_account
from qinglang.store import audit
from qinglang.store.actions import INGEST_ACTOR, case_key, decision_key, load_account_states
from qinglang.store.bulk import pg_insert_rows, pg_lookup
from qinglang.store.registry_store import AUDIT_BIND, AUDIT_UNBIND, DECLARED, MATCH_ACTOR, MATCHED, binding_ids
from qinglang.store.repo import content_hash, post_fields, versions_key
from qinglang.store.tables import (
    Account,
    ActionRow,
    Case,
    CaseVerdict,
    PostVersion,
    RegistryEntity,
    Strike,
    VerdictRow,
)

#: dialects with ``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` (others use the per-post path)
DIALECTS = ("postgresql", "sqlite")
_RETRIES = 8
_CHUNK = 5000  # ids per IN list: SQLite and psycopg cap the parameters of one statement

_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_POSTS: Table = PostVersion.__table__  # type: ignore[assignment]
_VERDICTS: Table = VerdictRow.__table__  # type: ignore[assignment]
_STRIKES: Table = Strike.__table__  # type: ignore[assignment]
_ACTIONS: Table = ActionRow.__table__  # type: ignore[assignment]
_CASES: Table = Case.__table__  # type: ignore[assignment]
_CASE_VERDICTS: Table = CaseVerdict.__table__  # type: ignore[assignment]
_REGISTRY: Table = RegistryEntity.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class BatchItem:
    """One post to store and decide, and the engine's verdict on it.

    :meth:`prepare` computes what the rows need from the post and verdict alone (the
    content hash, the stored fields, the verdict as a dict); ingest calls it in the
    scanning thread, so that the writer thread, whose time is the bound of an ingest,
    only does what needs the database.
    """

    post: Post
    verdict: Verdict
    digest: str | None = None
    fields: dict[str, Any] | None = None
    verdict_dict: dict[str, Any] | None = None

    def prepare(self) -> BatchItem:
        if self.digest is None:
            self.digest = content_hash(self.post)
            self.fields = post_fields(self.post)
            self.verdict_dict = self.verdict.to_dict()
        return self


@dataclass(slots=True)
class BatchCounts:
    """What a batch added to the store (only rows that are new), as ``IngestStats`` counts them."""

    posts: Counter[str] = field(default_factory=Counter)  # new, unchanged, new_version
    verdicts_created: int = 0
    decisions: Counter[str] = field(default_factory=Counter)  # act, review, none, skipped
    strikes: int = 0
    actions: Counter[str] = field(default_factory=Counter)  # by kind
    cases: Counter[str] = field(default_factory=Counter)  # by reason
    cases_opened: int = 0
    expired: int = 0
    bound: int = 0  # accounts whose registry binding was set or changed


@dataclass(slots=True)
class _Account:
    id: int
    platform: str
    external_id: str
    followers: int | None
    registry_entity_id: int | None
    binding_source: str | None


@dataclass(slots=True, eq=False)
class _Version:
    """A post version: stored (``id`` set) or planned by this batch (``values`` to insert)."""

    post_id: str
    content_hash: str
    version: int
    id: int | None = None
    ours: bool = False  # inserted by this batch
    values: dict[str, Any] | None = None


@dataclass(slots=True)
class _VerdictRef:
    id: int
    severity: str


@dataclass(slots=True)
class _Pending:
    """A decision waiting for its rows; what was new is known once they are inserted."""

    decision: Decision
    account: _Account
    version: _Version
    verdict: _VerdictRef
    strike: tuple[int, str] | None = None
    actions: list[tuple[str, str]] = field(default_factory=list)  # (idem key, kind)
    case: str | None = None  # the idem_key of the case this decision opens


def supported(dialect_name: str) -> bool:
    """Whether :func:`store_batch` runs on this dialect (else use the per-post ``store.repo`` path)."""
    return dialect_name in DIALECTS


def store_batch(session: Session, items: Sequence[BatchItem], *, tenant: str, now: datetime,
                policy: LadderPolicy, registry: Registry | None = None, actor: str = INGEST_ACTOR) -> BatchCounts:
    """Store and decide a batch in the caller's transaction; returns what was new.

    Same rules and results as ``save_post_and_verdict``, ``registry_store.licence_status_for``
    (with a ``registry``) and ``persist_decision`` per item, in input order (see the module
    docstring); a verdict that is not its post's is ``QL-6003`` before anything is
    written. Never commits.
    """
    for it in items:
        if it.verdict.id != it.post.id:
            raise QLError(STORE_MISMATCH, f"verdict {it.verdict.id!r} is not for post {it.post.id!r}",
                          post_id=it.post.id)
    counts = BatchCounts()
    if not items:
        return counts
    conn = session.connection()
    insert = _insert_for(conn.dialect.name)
    accounts = _upsert_accounts(conn, insert, tenant, items, now)
    accts = [accounts.get((it.post.platform or "", it.post.account_id)) if it.post.account_id else None
             for it in items]
    refs, statuses = _save_posts(conn, insert, tenant, items, accts, now)
    counts.posts.update(statuses)
    verdicts, counts.verdicts_created = _save_verdicts(conn, insert, tenant, items, refs, now)
    licences, binding_audits = _licences(session, conn, items, accts, registry, now, counts)
    for action, entries in binding_audits.items():  # bindings first: the decisions below rest on them
        audit.append_many(session, entries, actor=MATCH_ACTOR, action=action, at=now, tenant=tenant)
    _decide_and_record(session, conn, insert, items, accts, refs, verdicts, licences, counts, tenant=tenant,
                       now=now, policy=policy, actor=actor)
    return counts


# --- statements ---


def _insert_for(dialect: str) -> Callable[[Table], Insert]:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert  # type: ignore[return-value]
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert  # type: ignore[return-value]
    raise ValueError(f"set-based writes need {' or '.join(DIALECTS)}, not {dialect}")  # callers check supported()


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _in(conn: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``= ANY(array)``: one parameter instead of one per value
    (psycopg's parsing of a statement with thousands of placeholders cost more than running it)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def _insert_new(conn: Connection, insert: Callable[[Table], Insert], table: Table, keys: Sequence[str],
                rows: list[dict[str, Any]], returning: Sequence[str]) -> list[Any]:
    """Insert ``rows`` (sorted by their unique key, so concurrent writers take keys in one order), skipping
    any whose key is taken; returns the ``returning`` columns of the rows this statement inserted."""
    if not rows:
        return []
    rows.sort(key=itemgetter(*keys))
    if conn.dialect.name == "postgresql":
        return pg_insert_rows(conn, table, rows, conflict_keys=keys, returning=returning)
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(keys))  # type: ignore[attr-defined]
    return conn.execute(stmt.returning(*(table.c[c] for c in returning)), rows).fetchall()


# --- accounts ---


def _select_accounts(conn: Connection, tenant: str, keys: set[tuple[str, str]]) -> dict[tuple[str, str], _Account]:
    t = _ACCOUNTS
    platforms = sorted({p for p, _ in keys})
    ids = sorted({e for _, e in keys})
    out: dict[tuple[str, str], _Account] = {}
    cols = ("id", "platform", "external_id", "followers", "registry_entity_id", "binding_source")
    pg = conn.dialect.name == "postgresql"
    for chunk in (_chunks(sorted(keys)) if pg else _chunks(ids)):
        rows = (pg_lookup(conn, t, cols, tenant, ("platform", "external_id"), list(zip(*chunk, strict=True))) if pg
                else conn.execute(select(*(t.c[c] for c in cols))
                                  .where(t.c.tenant == tenant, t.c.platform.in_(platforms),
                                         t.c.external_id.in_(chunk))))
        for row in rows:
            key = (row.platform, row.external_id)
            if key in keys:
                out[key] = _Account(*row)
    return out


def _upsert_accounts(conn: Connection, insert: Callable[[Table], Insert], tenant: str, items: Sequence[BatchItem],
                     now: datetime) -> dict[tuple[str, str], _Account]:
    keys = {(it.post.platform or "", it.post.account_id) for it in items if it.post.account_id}
    if not keys:
        return {}
    found = _select_accounts(conn, tenant, keys)
    missing = keys - found.keys()
    if missing:
        rows = [dict(tenant=tenant, platform=p, external_id=e, created_at=now, updated_at=now) for p, e in missing]
        _insert_new(conn, insert, _ACCOUNTS, ("tenant", "platform", "external_id"), rows, ("id",))
        found.update(_select_accounts(conn, tenant, missing))  # ours and any a concurrent writer won
    return found


# --- posts ---


def _stored_versions(conn: Connection, tenant: str, post_ids: Sequence[str]
                     ) -> tuple[dict[tuple[str, str], _Version], dict[str, int]]:
    """Every stored version of these posts, read in one statement (one snapshot): the lowest version per
    (post id, content hash), as ``repo.find_post_version`` picks it, and the highest version number."""
    t = _POSTS
    known: dict[tuple[str, str], _Version] = {}
    top: dict[str, int] = {}
    cols = ("id", "post_id", "version", "content_hash")
    for chunk in _chunks(post_ids):
        rows = (pg_lookup(conn, t, cols, tenant, ("post_id",), [chunk]) if conn.dialect.name == "postgresql"
                else conn.execute(select(*(t.c[c] for c in cols)).where(t.c.tenant == tenant, t.c.post_id.in_(chunk))))
        for vid, pid, version, digest in rows:
            have = known.get((pid, digest))
            if have is None or version < have.version:
                known[(pid, digest)] = _Version(pid, digest, version, id=vid)
            if version > top.get(pid, 0):
                top[pid] = version
    return known, top


def _save_posts(conn: Connection, insert: Callable[[Table], Insert], tenant: str, items: Sequence[BatchItem],
                accts: list[_Account | None], now: datetime) -> tuple[list[_Version], list[str]]:
    """Each item's post version and status (``new``, ``unchanged``, ``new_version``), as ``repo.save_post``
    would give them one by one in input order."""
    known, top = _stored_versions(conn, tenant, sorted({it.post.id for it in items}))
    refs: list[_Version] = []
    created: list[bool] = []
    planned: dict[str, list[_Version]] = {}
    for it, acct in zip(items, accts, strict=True):
        post = it.post
        it.prepare()
        digest = it.digest
        ref = known.get((post.id, digest))
        created.append(ref is None)  # the first item naming a new version creates it; later ones find it
        if ref is None:
            number = top.get(post.id, 0) + 1
            top[post.id] = number
            ref = known[(post.id, digest)] = _Version(post.id, digest, number, values=dict(
                tenant=tenant, post_id=post.id, account_id=acct.id if acct is not None else None,
                platform=post.platform, content_hash=digest, fields=it.fields, posted_at=post.timestamp,
                first_seen=now, last_seen=now))
            planned.setdefault(post.id, []).append(ref)
        refs.append(ref)
    _insert_versions(conn, insert, tenant, planned)
    seen = sorted({ref.id for ref in refs if not ref.ours and ref.id is not None})
    for chunk in _chunks(seen):
        t = _POSTS
        conn.execute(update(t).where(_in(conn, t.c.id, chunk), t.c.last_seen < now).values(last_seen=now))
    statuses = [("new" if ref.version == 1 else "new_version") if made and ref.ours else "unchanged"
                for ref, made in zip(refs, created, strict=True)]
    return refs, statuses


def _insert_versions(conn: Connection, insert: Callable[[Table], Insert], tenant: str,
                     planned: dict[str, list[_Version]]) -> None:
    """Insert planned versions in rounds (the n-th new version of each post in round n); a version number
    another writer took is resolved by reading that post's versions again (see the module docstring)."""
    for r in count():
        pending = [versions[r] for versions in planned.values() if len(versions) > r]
        if not pending:
            return
        for _ in range(_RETRIES):
            rows = [{**v.values, "version": v.version} for v in pending]  # type: ignore[dict-item]
            got = {(pid, version): vid for vid, pid, version in _insert_new(
                conn, insert, _POSTS, ("tenant", "post_id", "version"), rows, ("id", "post_id", "version"))}
            lost: list[str] = []
            for v in pending:
                vid = got.get((v.post_id, v.version))
                if vid is None:
                    lost.append(v.post_id)
                else:
                    v.id, v.ours = vid, True
            if not lost:
                break
            pending = _replan(conn, tenant, planned, lost, r)
            if not pending:
                break
        else:
            raise QLError(BATCH_CONFLICTS, f"post versions kept conflicting with other writers after {_RETRIES} tries")


def _replan(conn: Connection, tenant: str, planned: dict[str, list[_Version]], lost: list[str],
            r: int) -> list[_Version]:
    """Renumber the not-yet-inserted versions of posts whose version number was taken, from the posts'
    stored versions as they are now; returns this round's versions to try again."""
    known, top = _stored_versions(conn, tenant, sorted(set(lost)))
    retry: list[_Version] = []
    for pid in sorted(set(lost)):
        keep = planned[pid][:r]
        number = top.get(pid, 0)
        for v in planned[pid][r:]:
            stored = known.get((pid, v.content_hash))
            if stored is not None:  # another writer stored this very content: it is that version
                v.id, v.version, v.ours, v.values = stored.id, stored.version, False, None
            else:
                number += 1
                v.version = number
                keep.append(v)
        planned[pid] = keep
        if len(keep) > r:
            retry.append(keep[r])
    return retry


# --- verdicts ---


def _save_verdicts(conn: Connection, insert: Callable[[Table], Insert], tenant: str, items: Sequence[BatchItem],
                   refs: list[_Version], now: datetime) -> tuple[list[_VerdictRef], int]:
    """Each item's verdict row (one per post version and versions set) and how many rows were added."""
    vkeys: dict[int, str] = {}  # id(versions dict) -> key; the engine hands every verdict the same dict
    keys: list[tuple[int, str]] = []
    for it, ref in zip(items, refs, strict=True):
        versions = it.verdict.versions
        vk = vkeys.get(id(versions))
        if vk is None:
            vk = vkeys[id(versions)] = versions_key(versions)
        keys.append((ref.id, vk))  # type: ignore[arg-type]
    t = _VERDICTS
    found = _select_verdicts(conn, sorted({ref.id for ref in refs if not ref.ours}))  # type: ignore[type-var]
    new: dict[tuple[int, str], dict[str, Any]] = {}
    for it, key in zip(items, keys, strict=True):
        if key not in found and key not in new:
            d = it.prepare().verdict_dict
            new[key] = dict(post_version_id=key[0], tenant=tenant, flagged=d["flagged"], categories=d["categories"],
                            severity=d["severity"], review_only=d["review_only"], hits=d["hits"],
                            entities=d["entities"], versions=d["versions"], versions_key=key[1],
                            degraded=d.get("degraded"), created_at=now)
    inserted = _insert_new(conn, insert, t, ("post_version_id", "versions_key"), list(new.values()),
                           ("id", "post_version_id", "versions_key", "severity"))
    for vid, pvid, vk, severity in inserted:
        found[(pvid, vk)] = _VerdictRef(vid, severity)
    if len(inserted) < len(new):  # a concurrent writer stored some of them: use its rows
        found.update(_select_verdicts(conn, sorted({k[0] for k in new if k not in found})))
    return [found[k] for k in keys], len(inserted)


def _select_verdicts(conn: Connection, version_ids: Sequence[int]) -> dict[tuple[int, str], _VerdictRef]:
    t = _VERDICTS
    out: dict[tuple[int, str], _VerdictRef] = {}
    for chunk in _chunks(version_ids):
        for vid, pvid, vk, severity in conn.execute(
                select(t.c.id, t.c.post_version_id, t.c.versions_key, t.c.severity)
                .where(_in(conn, t.c.post_version_id, chunk))):
            out[(pvid, vk)] = _VerdictRef(vid, severity)
    return out


# --- registry bindings ---


def _licences(session: Session, conn: Connection, items: Sequence[BatchItem], accts: list[_Account | None],
              registry: Registry | None, now: datetime, counts: BatchCounts
              ) -> tuple[list[LicenceStatus | None], dict[str, list[tuple[str, dict[str, Any]]]]]:
    """Each item's licence status and the bindings found, as ``registry_store.licence_status_for`` per item.

    A declared binding's licence counts and is never replaced; otherwise a name match
    (``bound`` or ``lapsed``) is recorded as ``matched`` and anything else clears an
    earlier match. Each change is written (one UPDATE per account, its last state) and
    gets an audit entry (returned, by audit action); re-ingesting changes nothing.
    """
    if registry is None:
        return [None] * len(items), {}
    on = now.date()
    stored = [a for a in accts if a is not None]
    declared = {a.registry_entity_id for a in stored if a.binding_source == DECLARED and a.registry_entity_id}
    licence_numbers: dict[int, str] = {}
    entry_ids: dict[int, str] = {}  # registry row id -> entry id, for the audit's before/after
    known_rows = sorted({a.registry_entity_id for a in stored if a.registry_entity_id is not None})
    r = _REGISTRY
    for chunk in _chunks(known_rows):
        for rid, entry, number in conn.execute(select(r.c.id, r.c.entry_id, r.c.licence_number)
                                               .where(_in(conn, r.c.id, chunk))):
            entry_ids[rid] = entry
            if rid in declared:
                licence_numbers[rid] = number
    bindings: dict[tuple[int, str | None], Binding] = {}
    for it, acct in zip(items, accts, strict=True):
        if acct is not None and (acct.id, it.post.bio) not in bindings:
            lic = licence_numbers.get(acct.registry_entity_id or 0) if acct.binding_source == DECLARED else None
            bindings[(acct.id, it.post.bio)] = bind_account(registry, declared_licence=lic,
                                                            display_name=acct.external_id, bio=it.post.bio, on=on)
    matched = {b.entry.id for b in bindings.values()
               if b.entry is not None and b.status in (BindingStatus.BOUND, BindingStatus.LAPSED)}
    rows = binding_ids(session, matched)
    entry_ids.update({rid: entry for entry, rid in rows.items()})
    out: list[LicenceStatus | None] = []
    changed: dict[int, _Account] = {}
    audits: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for it, acct in zip(items, accts, strict=True):
        if acct is None:
            out.append(None)
            continue
        b = bindings[(acct.id, it.post.bio)]
        out.append(LicenceStatus(licensed=b.status is BindingStatus.BOUND,
                                 claimed=b.status is BindingStatus.CLAIMS_UNHELD_LICENCE,
                                 registry_id=b.entry.id if b.entry is not None else None))
        if acct.binding_source == DECLARED:
            continue
        entry = (b.entry.id if b.entry is not None and b.status in (BindingStatus.BOUND, BindingStatus.LAPSED)
                 else None)
        row = rows.get(entry) if entry else None
        if row == acct.registry_entity_id:
            continue
        before = (None if acct.registry_entity_id is None
                  else {"entry_id": entry_ids.get(acct.registry_entity_id), "source": acct.binding_source})
        after = {"entry_id": entry, "source": MATCHED} if row is not None else None
        acct.registry_entity_id, acct.binding_source = row, (MATCHED if row is not None else None)
        changed[acct.id] = acct
        payload: dict[str, Any] = {"platform": acct.platform, "account_id": acct.external_id,
                                   "before": before, "after": after}
        if b.explanation:
            payload["reason"] = b.explanation
        audits.setdefault(AUDIT_BIND if after else AUDIT_UNBIND, []).append(
            (f"account:{acct.external_id}"[:256], payload))
    if changed:
        a = _ACCOUNTS
        conn.execute(update(a).where(a.c.id == bindparam("b_id")).values(
            registry_entity_id=bindparam("b_entity"), binding_source=bindparam("b_source"), bound_at=now,
            bound_by=MATCH_ACTOR),  # updated_at: the column's onupdate (wall clock), as the ORM path sets it
            [{"b_id": x.id, "b_entity": x.registry_entity_id, "b_source": x.binding_source}
             for x in sorted(changed.values(), key=lambda x: x.id)])
    counts.bound = len(changed)
    return out, audits


# --- decisions ---


def _cased_versions(conn: Connection, version_ids: Sequence[int]) -> set[int]:
    """The post versions a case already holds a verdict on (``actions.case_exists`` for many)."""
    out: set[int] = set()
    cv, v = _CASE_VERDICTS, _VERDICTS
    for chunk in _chunks(version_ids):
        out.update(conn.scalars(select(v.c.post_version_id).join(cv, cv.c.verdict_id == v.c.id)
                                .where(_in(conn, v.c.post_version_id, chunk)).distinct()))
    return out


def _as_stored(decision: Decision, post_id: str) -> Decision:
    """The decision's actions as loading them back gives them: a content action's subject is the post id."""
    return dataclasses.replace(decision, actions=tuple(
        dataclasses.replace(a, subject=post_id) if a.target == "content" else a for a in decision.actions))


def _decide_and_record(session: Session, conn: Connection, insert: Callable[[Table], Insert],
                       items: Sequence[BatchItem], accts: list[_Account | None], refs: list[_Version],
                       verdicts: list[_VerdictRef], licences: list[LicenceStatus | None], counts: BatchCounts, *,
                       tenant: str, now: datetime,
                       policy: LadderPolicy, actor: str) -> None:
    candidates: list[int] = []
    for i, (it, acct) in enumerate(zip(items, accts, strict=True)):
        if acct is None:
            counts.decisions["skipped"] += 1  # no account to sanction
        elif it.verdict.flagged or (licences[i] is not None and licences[i].claimed):  # type: ignore[union-attr]
            candidates.append(i)
        else:
            counts.decisions["none"] += 1  # decide would say "verdict flags nothing"
    if not candidates:
        return
    cased = _cased_versions(conn, sorted({refs[i].id for i in candidates if not refs[i].ours}))  # type: ignore[type-var]
    need = {accts[i].id: accts[i] for i in candidates if refs[i].id not in cased}  # type: ignore[union-attr]
    states = load_account_states(session, need.values())  # type: ignore[arg-type]
    expired: set[int] = set()
    expiries: list[dict[str, Any]] = []
    strikes: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    pending: list[_Pending] = []
    for i in candidates:
        it, acct, ref, vrow = items[i], accts[i], refs[i], verdicts[i]
        assert acct is not None and ref.id is not None
        if ref.id in cased:
            counts.decisions["none"] += 1  # a person already has this post version
            continue
        state = states[acct.id]
        if acct.id not in expired:  # expire once per account: the state now holds the result
            expired.add(acct.id)
            current = expire(state, now)
            was = {a.id: a.status for a in state.actions}
            for a in current.actions:
                if a.status == "expired" and was.get(a.id) == "active":
                    counts.expired += 1
                    expiries.append({"x_key": a.id, "x_end": a.ended_at})
            state = states[acct.id] = current
        key = decision_key(ref.post_id, ref.version)
        decision = decide(state, dataclasses.replace(it.verdict, id=key), now=now, licensed=licences[i],
                          policy=policy)
        counts.decisions[decision.outcome] += 1
        p = _Pending(decision, acct, ref, vrow)
        if decision.outcome == "act":
            if decision.strike is not None:
                s = decision.strike
                strikes.append(dict(tenant=tenant, account_id=acct.id, verdict_id=vrow.id, category=s.category,
                                    severity=s.severity, points=s.points, at=s.at, rule_ids=list(s.rules),
                                    reversed_at=s.reversed_at))
                p.strike = (vrow.id, s.category)
            for a in decision.actions:
                actions.append(dict(
                    tenant=tenant, account_id=acct.id, kind=a.kind, target=a.target,
                    subject=ref.post_id if a.target == "content" else a.subject, category=a.category or None,
                    status=a.status, starts_at=a.issued_at, expires_at=a.expires_at, ended_at=a.ended_at,
                    cause_verdict_ids=[vrow.id], rule_ids=list(a.rules), detection_rule_ids=list(a.detection_rules),
                    policy=a.policy, points=a.points, step=a.step, note=a.note, idem_key=a.id, created_by=actor,
                    created_at=a.issued_at))
                p.actions.append((a.id, a.kind))
            states[acct.id] = apply_decision(state, _as_stored(decision, ref.post_id))
        elif decision.outcome == "review" and decision.case is not None:
            case = decision.case
            detail = case.detail
            if decision.actions:
                detail += "; proposed: " + ", ".join(a.kind for a in decision.actions)
            p.case = case_key(ref.post_id, ref.version)
            cases.append(dict(tenant=tenant, title=f"review post {ref.post_id} v{ref.version}", status="open",
                              reasons=list(case.reasons), categories=list(case.categories), detail=detail,
                              priority=_PRIORITY.get(vrow.severity, 0), account_id=acct.id, opened_by=actor,
                              created_at=decision.decided_at, updated_at=decision.decided_at, idem_key=p.case))
            cased.add(ref.id)
        pending.append(p)
    _record(session, conn, insert, pending, expiries, strikes, actions, cases, counts, tenant=tenant, now=now,
            actor=actor)


_PRIORITY = {"high": 3, "medium": 2, "low": 1}  # as actions._priority: a case's priority from the verdict's severity


def _record(session: Session, conn: Connection, insert: Callable[[Table], Insert], pending: list[_Pending],
            expiries: list[dict[str, Any]], strikes: list[dict[str, Any]], actions: list[dict[str, Any]],
            cases: list[dict[str, Any]], counts: BatchCounts, *, tenant: str, now: datetime, actor: str) -> None:
    """Write what the decisions recorded, then one audit entry per decision that recorded something new."""
    if expiries:
        a = _ACTIONS
        conn.execute(update(a).where(a.c.tenant == tenant, a.c.idem_key == bindparam("x_key"), a.c.status == "active")
                     .values(status="expired", ended_at=bindparam("x_end")), expiries)
    new_strikes = {(vid, cat) for vid, cat in _insert_new(conn, insert, _STRIKES, ("verdict_id", "category"),
                                                           strikes, ("verdict_id", "category"))}
    new_actions = {k for (k,) in _insert_new(conn, insert, _ACTIONS, ("tenant", "idem_key"), actions, ("idem_key",))}
    # a case another writer opened a moment ago for the same post version is its, not ours
    case_ids = {key: cid for cid, key in _insert_new(conn, insert, _CASES, ("tenant", "idem_key"), cases,
                                                     ("id", "idem_key"))}
    links = [dict(case_id=case_ids[p.case], verdict_id=p.verdict.id, added_at=p.decision.decided_at)
             for p in pending if p.case in case_ids]
    if links:
        conn.execute(_CASE_VERDICTS.insert(), links)
    entries: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for p in pending:
        struck = int(p.strike is not None and p.strike in new_strikes)
        kinds = [kind for key, kind in p.actions if key in new_actions]
        case_id = case_ids.get(p.case) if p.case is not None else None
        counts.strikes += struck
        counts.actions.update(kinds)
        if case_id is not None:
            counts.cases_opened += 1
            counts.cases.update(p.decision.case.reasons if p.decision.case else ())
        if struck or kinds or case_id is not None:
            payload = {**p.decision.to_dict(), "verdict_row_id": p.verdict.id, "case_id": case_id,
                       "recorded_actions": kinds, "recorded_strikes": struck}
            entries.setdefault(f"decide.{p.decision.outcome}", []).append(
                (f"account:{p.account.external_id}"[:256], payload))
    for action, items in entries.items():  # one chained run per audit action, in decision order within it
        audit.append_many(session, items, actor=actor, action=action, at=now, tenant=tenant)


__all__ = ["DIALECTS", "BatchCounts", "BatchItem", "store_batch", "supported"]
