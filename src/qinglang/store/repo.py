"""Repositories: idempotent writes of posts, verdicts and accounts.

The rules (docs/store.md):

- a post is identified by (tenant, post id); its *content hash* is SHA-256 over its
  text fields as stable JSON (:func:`content_hash`);
- the same (tenant, post id, content hash) again is ``unchanged``: the stored version
  is returned (its ``last_seen`` moves), nothing is added; this holds for any stored
  version, so a replayed old edit does not become a third version;
- changed text fields make a new version (``new_version``), numbered from 1;
- one verdict per post version and versions set (engine/pack/model versions): the
  same verdict again finds the stored one; a new engine version adds one;
- accounts are upserted by (tenant, platform, account id).

Functions here flush but never commit: the caller owns the transaction. Concurrent
writers are safe: an insert that loses a race on a unique key is rolled back to a
savepoint and the winner's row is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import orjson
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qinglang.errors import STORE_MISMATCH, QLError
from qinglang.model import TEXT_FIELDS, Post, Verdict
from qinglang.store.tables import Account, PostVersion, VerdictRow

SaveStatus = Literal["new", "unchanged", "new_version"]
T = TypeVar("T")
_RETRIES = 5


def _stable_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def content_hash(post: Post) -> str:
    """SHA-256 (hex) over the post's non-empty text fields as stable JSON.

    Only ``text``, ``title``, ``transcript``, ``ocr``, ``bio`` and ``links`` count:
    metadata (timestamp, language, account) changing does not make a new version.
    An empty field and a missing one hash the same.
    """
    fields = {name: getattr(post, name) for name in TEXT_FIELDS if getattr(post, name)}
    try:  # the same bytes as _stable_json for strings and lists of strings, several times faster
        data = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        data = _stable_json(fields)
    return hashlib.sha256(data).hexdigest()


def versions_key(versions: dict[str, Any]) -> str:
    """SHA-256 (hex) over a verdict's versions as stable JSON."""
    return hashlib.sha256(_stable_json(versions)).hexdigest()


def post_fields(post: Post) -> dict[str, Any]:
    """The post as stored in ``posts.fields``: every field that is set."""
    out: dict[str, Any] = {}
    for name in _POST_FIELD_NAMES:
        value = getattr(post, name)
        if value is not None:
            out[name] = list(value) if isinstance(value, list) else value
    return out


_POST_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Post))  # once: dataclasses.fields() per post adds up


@dataclass(slots=True)
class SaveResult:
    """What :func:`save_post_and_verdict` did.

    ``status`` is about the post (``new``, ``unchanged``, ``new_version``);
    ``verdict_created`` says whether a verdict row was added (an unchanged post
    seen by a new engine version gets one).
    """

    status: SaveStatus
    post: PostVersion
    verdict: VerdictRow
    verdict_created: bool
    account: Account | None


def _insert_or_get(session: Session, make: Callable[[], T], find: Callable[[], T | None]) -> tuple[T, bool]:
    """Insert ``make()`` in a savepoint; on a unique-key race, return ``find()``'s row."""
    for _ in range(_RETRIES):
        found = find()
        if found is not None:
            return found, False
        row = make()
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return row, True
    found = find()
    if found is None:  # pragma: no cover - only under pathological contention
        raise RuntimeError("insert kept conflicting and no row was found")
    return found, False


def upsert_account(
    session: Session, tenant: str, platform: str | None, external_id: str, *, now: datetime | None = None
) -> Account:
    """The account for (tenant, platform, external id), created when new."""
    now = now or datetime.now(UTC)
    plat = platform or ""
    stmt = select(Account).where(Account.tenant == tenant, Account.platform == plat, Account.external_id == external_id)
    account, _ = _insert_or_get(
        session,
        lambda: Account(tenant=tenant, platform=plat, external_id=external_id, created_at=now, updated_at=now),
        lambda: session.scalars(stmt).first(),
    )
    return account


def find_post_version(session: Session, tenant: str, post_id: str, digest: str) -> PostVersion | None:
    stmt = (
        select(PostVersion)
        .where(PostVersion.tenant == tenant, PostVersion.post_id == post_id, PostVersion.content_hash == digest)
        .order_by(PostVersion.version)
        .limit(1)
    )
    return session.scalars(stmt).first()


def latest_post_version(session: Session, tenant: str, post_id: str) -> PostVersion | None:
    stmt = (
        select(PostVersion)
        .where(PostVersion.tenant == tenant, PostVersion.post_id == post_id)
        .order_by(PostVersion.version.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def save_post(
    session: Session, post: Post, tenant: str, *, account: Account | None = None, now: datetime | None = None
) -> tuple[PostVersion, SaveStatus]:
    """Store a post idempotently; returns its version row and what happened."""
    now = now or datetime.now(UTC)
    digest = content_hash(post)
    for _ in range(_RETRIES):
        existing = find_post_version(session, tenant, post.id, digest)
        if existing is not None:
            if existing.last_seen < now:
                existing.last_seen = now
            return existing, "unchanged"
        top = session.scalar(
            select(func.max(PostVersion.version)).where(PostVersion.tenant == tenant, PostVersion.post_id == post.id)
        )
        row = PostVersion(
            tenant=tenant,
            post_id=post.id,
            version=(top or 0) + 1,
            account_id=account.id if account is not None else None,
            platform=post.platform,
            content_hash=digest,
            fields=post_fields(post),
            posted_at=post.timestamp,
            first_seen=now,
            last_seen=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # another writer took this version number: look again
        return row, "new" if row.version == 1 else "new_version"
    raise RuntimeError(f"post {post.id!r}: version kept conflicting")  # pragma: no cover


def save_verdict(
    session: Session, post_version: PostVersion, verdict: Verdict, *, now: datetime | None = None
) -> tuple[VerdictRow, bool]:
    """Store a verdict on a post version once per versions set; returns (row, created)."""
    now = now or datetime.now(UTC)
    key = versions_key(verdict.versions)
    d = verdict.to_dict()
    stmt = select(VerdictRow).where(VerdictRow.post_version_id == post_version.id, VerdictRow.versions_key == key)
    return _insert_or_get(
        session,
        lambda: VerdictRow(
            post_version_id=post_version.id,
            tenant=post_version.tenant,
            flagged=d["flagged"],
            categories=d["categories"],
            severity=d["severity"],
            review_only=d["review_only"],
            hits=d["hits"],
            entities=d["entities"],
            versions=d["versions"],
            versions_key=key,
            degraded=d.get("degraded"),
            created_at=now,
        ),
        lambda: session.scalars(stmt).first(),
    )


def save_post_and_verdict(
    session: Session, post: Post, verdict: Verdict, tenant: str, *, now: datetime | None = None
) -> SaveResult:
    """Store a post and its verdict idempotently (see the module's rules); flushes, never commits."""
    if verdict.id != post.id:
        raise QLError(STORE_MISMATCH, f"verdict {verdict.id!r} is not for post {post.id!r}", post_id=post.id)
    now = now or datetime.now(UTC)
    account = None
    if post.account_id:
        account = upsert_account(session, tenant, post.platform, post.account_id, now=now)
    version, status = save_post(session, post, tenant, account=account, now=now)
    row, created = save_verdict(session, version, verdict, now=now)
    session.flush()
    return SaveResult(status=status, post=version, verdict=row, verdict_created=created, account=account)


def verdict_dict(row: VerdictRow, post_version: PostVersion) -> dict[str, Any]:
    """A stored verdict in the shape of ``Verdict.to_dict()`` (docs/verdict-schema.md)."""
    d: dict[str, Any] = {
        "id": post_version.post_id,
        "flagged": row.flagged,
        "categories": row.categories,
        "severity": row.severity,
        "review_only": row.review_only,
        "hits": row.hits,
        "entities": row.entities,
        "versions": row.versions,
    }
    fields = post_version.fields
    if fields.get("account_id") is not None:
        d["account_id"] = fields["account_id"]
    if fields.get("platform") is not None:
        d["platform"] = fields["platform"]
    if row.degraded:
        d["degraded"] = row.degraded
    return d
