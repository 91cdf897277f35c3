"""Ingest: scan, store and decide in one step, idempotently.

:func:`ingest_records` runs the batch pipeline (:func:`qinglang.scan.scan_records`:
reading, validation, detection, one output per input record), then stores each batch
in **one transaction** with ``store.batch.store_batch``: set-based, a few statements per
table per batch (accounts, post versions, verdicts, registry bindings, account states,
then :func:`~qinglang.decide.expire` and :func:`~qinglang.decide.decide` in Python, and
the strikes, actions, cases and audit entries they produced). Outputs are yielded only
after their batch committed, so whatever was written out is stored. ``per_post=True``
(and databases other than SQLite and PostgreSQL) store post by post through
``store.repo`` and ``store.actions`` instead, with the same results.

Re-running the same input adds nothing: an unchanged post finds its stored version and
verdict, and the decision key (``<post id>#<version>``) finds the strike or action
already recorded for it, or the case already open. A changed post is a new version, gets
a new verdict and is decided again. A process killed mid-run loses at most the batch in
flight (its transaction rolls back) and a re-run completes it. A batch PostgreSQL rolls
back to break a deadlock with a concurrent writer is retried (``QL-6301`` when it keeps
happening). See docs/store.md.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from qinglang import errors
from qinglang.decide import Decision, LadderPolicy, LicenceStatus, decide, expire
from qinglang.errors import QLError
from qinglang.io.records import DEFAULT_MAX_TEXT_CHARS
from qinglang.model import ErrorRecord, Post, Verdict
from qinglang.registry import BindingStatus, Registry, bind_account
from qinglang.scan import DEFAULT_BATCH_SIZE, Detector, Output, ScanStats, scan_records
from qinglang.store import batch as batch_writes
from qinglang.store.actions import (
    INGEST_ACTOR,
    Persisted,
    case_exists,
    decision_key,
    load_account_state,
    persist_decision,
    persist_expiry,
)
from qinglang.store.batch import BatchCounts, BatchItem
from qinglang.store.registry_store import licence_status_for
from qinglang.store.repo import save_post_and_verdict
from qinglang.store.tables import Account

SessionFactory = Callable[[], Session]


@dataclass(slots=True)
class IngestStats:
    """What an ingest run stored and decided (counts only what was *new* in the store).

    ``scan`` holds the scan's own counts (records, verdicts, errors by code, categories).
    """

    scan: ScanStats = field(default_factory=ScanStats)
    posts: Counter[str] = field(default_factory=Counter)  # new, unchanged, new_version
    verdicts_created: int = 0
    decisions: Counter[str] = field(default_factory=Counter)  # act, review, none, skipped
    strikes: int = 0
    actions: Counter[str] = field(default_factory=Counter)  # by kind
    cases: Counter[str] = field(default_factory=Counter)  # by reason (a case with two reasons counts in both)
    cases_opened: int = 0
    expired: int = 0
    bound: int = 0  # accounts whose registry binding was set or changed
    batches: int = 0

    def add(self, done: BatchCounts) -> None:
        """Add one committed batch's counts."""
        self.posts.update(done.posts)
        self.verdicts_created += done.verdicts_created
        self.decisions.update(done.decisions)
        self.strikes += done.strikes
        self.actions.update(done.actions)
        self.cases.update(done.cases)
        self.cases_opened += done.cases_opened
        self.expired += done.expired
        self.bound += done.bound
        self.batches += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.scan.records,
            "verdicts": self.scan.verdicts,
            "errors": self.scan.error_count,
            "errors_by_code": dict(sorted(self.scan.errors.items())),
            "posts": {k: self.posts.get(k, 0) for k in ("new", "unchanged", "new_version")},
            "verdicts_created": self.verdicts_created,
            "decisions": dict(sorted(self.decisions.items())),
            "strikes": self.strikes,
            "actions": dict(sorted(self.actions.items())),
            "cases_opened": self.cases_opened,
            "cases": dict(sorted(self.cases.items())),
            "expired": self.expired,
            "accounts_bound": self.bound,
            "batches": self.batches,
        }


def licence_status(registry: Registry | None, post: Post, now: datetime) -> LicenceStatus | None:
    """What the registry says about the post's account (``None`` when no registry is given).

    The account's display name is its id (posts carry no other name) and its bio the
    post's ``bio``: ``bound`` is licensed, ``claims_unheld_licence`` claims a licence it
    does not hold; ``lapsed`` and ``unbound`` are unlicensed.
    """
    if registry is None or not post.account_id:
        return None
    binding = bind_account(registry, declared_licence=None, display_name=post.account_id, bio=post.bio,
                           on=now.date())
    return LicenceStatus(
        licensed=binding.status is BindingStatus.BOUND,
        claimed=binding.status is BindingStatus.CLAIMS_UNHELD_LICENCE,
        registry_id=binding.entry.id if binding.entry is not None else None,
    )


def ingest_records(
    engine: Detector,
    records: Iterable[tuple[int, Mapping[str, Any] | QLError]],
    session_factory: SessionFactory,
    *,
    tenant: str,
    now: datetime,
    policy: LadderPolicy,
    registry: Registry | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    stats: IngestStats | None = None,
    per_post: bool = False,
    overlap: bool = True,
) -> Iterator[Output]:
    """Scan, store and decide; yield one output per input record, in input order.

    Each batch of ``batch_size`` outputs is stored and decided in one transaction and
    yielded after it commits. Error records are yielded as they are (nothing is stored
    for them). ``now`` (time-zone aware) stamps the stored rows and the decisions.
    ``per_post`` stores post by post through ``store.repo``/``store.actions`` instead of
    the set-based ``store.batch`` (same results, far slower: the reference for tests).
    ``overlap`` stores each batch in a writer thread while the next one is scanned; off,
    scanning waits for every write (same results; for comparison in benchmarks).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise QLError(errors.NAIVE_TIME, f"'now' must be time-zone aware (got {now.isoformat()})")
    if batch_size < 1:
        raise QLError(errors.BAD_OPTION, f"batch size must be at least 1, not {batch_size}")
    stats = stats if stats is not None else IngestStats()
    # the engine wrapper remembers the post behind each verdict (scan yields verdicts only)
    posts: dict[int, tuple[Verdict, Post]] = {}
    store = _InOrder(functools.partial(_store_batch, session_factory=session_factory, tenant=tenant, now=now,
                                       policy=policy, registry=registry, stats=stats, per_post=per_post))
    # One writer thread stores batch N while this thread scans batch N+1: the database's
    # time (a server round trip, or SQLite's C code) overlaps detection, which holds the
    # GIL. Batches are still written one at a time, in order, so each is decided on the
    # state its predecessors committed, and outputs are yielded only after their batch
    # committed. A crash loses at most the two batches in flight; a re-run completes them.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qinglang-ingest-writer") as writer:
        queued: deque[tuple[list[Output], Future[None]]] = deque()  # at most two: one writing, one waiting
        try:
            batch: list[Output] = []
            for out in scan_records(_Remember(engine, posts), records, batch_size,
                                    max_text_chars=max_text_chars, stats=stats.scan):
                batch.append(out)
                if len(batch) >= batch_size:
                    queued.append((batch, writer.submit(store, _take_items(batch, posts))))
                    batch = []
                    if len(queued) > (1 if overlap else 0):
                        yield from _committed(queued.popleft())
            if batch:
                queued.append((batch, writer.submit(store, _take_items(batch, posts))))
            while queued:
                yield from _committed(queued.popleft())
        finally:
            for _, future in queued:
                future.cancel()  # not started: never written; started: ends whole (commit or rollback)


class _InOrder:
    """Runs batch writes in the writer thread; once one fails, the later ones are not written.

    A batch queued behind a failed one would otherwise be decided without the failed
    batch's strikes; left out, a re-run writes both in order.
    """

    def __init__(self, write: Callable[[list[BatchItem]], None]) -> None:
        self._write = write
        self._failed = False

    def __call__(self, items: list[BatchItem]) -> None:
        if self._failed:
            raise QLError(errors.RECORD_FAILED, "not stored: an earlier batch of this run failed")
        try:
            self._write(items)
        except BaseException:
            self._failed = True
            raise


def _committed(in_flight: tuple[list[Output], Future[None]]) -> list[Output]:
    """The batch's outputs once its write has committed (re-raising what the write raised)."""
    batch, future = in_flight
    future.result()
    return batch


def _take_items(batch: list[Output], posts: dict[int, tuple[Verdict, Post]]) -> list[BatchItem]:
    """The (post, verdict) pairs of a scanned batch, taken out of ``posts`` before the next batch is scanned."""
    items = [BatchItem(posts.pop(id(out))[1], out).prepare() for out in batch if not isinstance(out, ErrorRecord)]
    posts.clear()  # verdicts of a failed batch retried post by post leave nothing behind
    return items


class _Remember:
    """Wraps the engine to keep each verdict's post (the store needs the post, scan yields verdicts)."""

    def __init__(self, engine: Detector, posts: dict[int, tuple[Verdict, Post]]) -> None:
        self._engine = engine
        self._posts = posts
        for name in ("taxonomy", "versions", "packs"):
            if hasattr(engine, name):
                setattr(self, name, getattr(engine, name))

    def detect(self, posts: Any) -> list[Verdict]:
        verdicts = self._engine.detect(posts)
        for post, verdict in zip(posts, verdicts, strict=False):
            self._posts[id(verdict)] = (verdict, post)  # holding the verdict keeps its id unique
        return verdicts


def _store_batch(items: list[BatchItem], *, session_factory: SessionFactory, tenant: str, now: datetime,
                 policy: LadderPolicy, registry: Registry | None, stats: IngestStats, per_post: bool = False) -> None:
    if not items:
        return
    for attempt in count(1):
        try:
            with session_factory() as session, session.begin():
                if per_post or not batch_writes.supported(session.get_bind().dialect.name):
                    local = BatchCounts()
                    for item in items:
                        _ingest_one(session, item, tenant=tenant, now=now, policy=policy, registry=registry,
                                    stats=local)
                else:
                    local = batch_writes.store_batch(session, items, tenant=tenant, now=now, policy=policy,
                                                     registry=registry)
            break
        except DBAPIError as exc:
            # PostgreSQL rolled the batch back to break a deadlock with another writer: do it again
            if getattr(exc.orig, "sqlstate", None) not in _RETRY_SQLSTATES:
                raise
            if attempt >= _BATCH_ATTEMPTS:
                raise QLError(errors.BATCH_CONFLICTS, f"batch kept conflicting with other writers: {exc.orig}"
                              ) from None
    stats.add(local)  # count only what committed


#: deadlock detected, serialization failure: the transaction was rolled back and may simply be retried
_RETRY_SQLSTATES = ("40P01", "40001")
_BATCH_ATTEMPTS = 5


def _ingest_one(session: Session, item: BatchItem, *, tenant: str, now: datetime, policy: LadderPolicy,
                registry: Registry | None, stats: BatchCounts) -> None:
    """The per-post path: ``store.repo`` and ``store.actions``, a few statements per post.

    The reference the set-based path (``store.batch``) is tested against, and the path on
    databases other than SQLite and PostgreSQL.
    """
    post, verdict = item.post, item.verdict
    saved = save_post_and_verdict(session, post, verdict, tenant, now=now)
    stats.posts[saved.status] += 1
    stats.verdicts_created += int(saved.verdict_created)
    account = saved.account
    if account is None:
        stats.decisions["skipped"] += 1  # no account to sanction
        return
    bound_to = (account.registry_entity_id, account.binding_source)
    licensed = licence_status_for(session, registry, account, post, now)  # records a name-match binding
    stats.bound += int((account.registry_entity_id, account.binding_source) != bound_to)
    if not verdict.flagged and (licensed is None or not licensed.claimed):
        stats.decisions["none"] += 1  # decide would say "verdict flags nothing"; no state to load
        return
    key = decision_key(saved.post.post_id, saved.post.version)
    if case_exists(session, saved.post):
        stats.decisions["none"] += 1  # a person already has this post version
        return
    state = load_account_state(session, account)
    current = expire(state, now)
    stats.expired += persist_expiry(session, account, state, current)
    decision = decide(current, dataclasses.replace(verdict, id=key), now=now, licensed=licensed, policy=policy)
    stats.decisions[decision.outcome] += 1
    done = persist_decision(session, decision, account=account, post_version=saved.post, verdict_row=saved.verdict)
    if done.strikes or done.actions or done.case_id is not None:
        _audit(session, account, decision, done, verdict_row_id=saved.verdict.id)
    stats.strikes += done.strikes
    stats.actions.update(done.actions)
    if done.case_id is not None:
        stats.cases_opened += 1
        stats.cases.update(done.case_reasons)


def _audit(session: Session, account: Account, decision: Decision, done: Persisted, *, verdict_row_id: int) -> None:
    """The one place ingest writes to the audit log: a decision that recorded something new.

    In the batch's transaction, so the entry commits (or not) with what it records; a
    re-run records nothing new and so logs nothing.
    """
    from qinglang.store import audit

    payload = {**decision.to_dict(), "verdict_row_id": verdict_row_id, "case_id": done.case_id,
               "recorded_actions": done.actions, "recorded_strikes": done.strikes}
    audit.append(session, actor=INGEST_ACTOR, action=f"decide.{decision.outcome}",
                 subject=f"account:{account.external_id}"[:256], payload=payload, at=decision.decided_at,
                 tenant=account.tenant)


__all__ = ["IngestStats", "ingest_records", "licence_status"]
