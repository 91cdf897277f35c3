"""API keys: created with a random token shown once, stored as a keyed hash, revocable.

A token reads ``qlk_<key_id>_<secret>``. ``key_id`` (12 hex digits) is public: it finds
the row, names the key in the audit log (``key:<key_id>``) and in listings. Only
HMAC-SHA256 of the whole token under the server secret is stored, compared in
constant time; the token itself is never stored or logged, so a lost token is
replaced, not recovered. Changing the server secret invalidates every key.

These functions take a session and never commit: each write appends its audit
entry in the caller's transaction, so the key and its record commit together.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qinglang import errors
from qinglang.service.handlers import ServiceError
from qinglang.service.roles import ROLES
from qinglang.service.tables import ApiKey

TOKEN_PREFIX = "qlk"
_TOKEN = re.compile(r"^qlk_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,128})$")
#: a key id: 12 hex digits
KEY_ID = re.compile(r"[0-9a-f]{12}")
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, role and tenant."""

    key_id: str
    role: str
    tenant: str
    name: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"key:{self.key_id}"


def hash_token(secret: str, token: str) -> str:
    return hmac.new(secret.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_token(token: str) -> str | None:
    """The key id of a well-formed token, else None."""
    m = _TOKEN.match(token)
    return m.group(1) if m else None


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ServiceError(errors.HTTP_VALIDATION, f"unknown role {role!r}", hint=f"one of {', '.join(ROLES)}")
    return role


def check_tenant(tenant: str) -> str:
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise ServiceError(errors.HTTP_VALIDATION, f"tenant {tenant!r} must be 1-64 letters, digits, '.', '_', "
                           "':' or '-', starting with a letter or digit")
    return tenant


def key_dict(row: ApiKey) -> dict[str, Any]:
    """A key as listed (never its hash)."""
    return {
        "key_id": row.key_id,
        "role": row.role,
        "tenant": row.tenant,
        "name": row.name,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
        "revoked_by": row.revoked_by,
    }


def create_key(session: Session, *, secret: str, role: str, tenant: str, name: str = "",
               actor: str) -> tuple[ApiKey, str]:
    """A new key and its token (the only time the token exists outside the caller's hands)."""
    from qinglang.store import audit

    check_role(role)
    check_tenant(tenant)
    if len(name) > 128 or any(ord(c) < 32 for c in name):
        raise ServiceError(errors.HTTP_VALIDATION, "name must be at most 128 printable characters")
    key_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(key_id=key_id, secret_hash=hash_token(secret, token), role=role, tenant=tenant, name=name,
                 created_by=actor, created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    audit.append(session, actor=actor, action="key.create", subject=f"key:{key_id}", tenant=tenant,
                 payload={"role": role, "name": name})
    return row, token


def list_keys(session: Session, tenant: str | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if tenant is not None:
        query = query.where(ApiKey.tenant == tenant)
    return list(session.scalars(query))


def revoke_key(session: Session, key_id: str, *, tenant: str | None, actor: str) -> ApiKey:
    """Revoke a key of ``tenant`` (any tenant when None); revoking twice keeps the first time."""
    from qinglang.store import audit

    query = select(ApiKey).where(ApiKey.key_id == key_id)
    if tenant is not None:
        query = query.where(ApiKey.tenant == tenant)
    row = session.scalars(query).first()
    if row is None:
        raise ServiceError(errors.HTTP_NOT_FOUND, f"no API key {key_id!r} in this tenant")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        row.revoked_by = actor
        session.flush()
        audit.append(session, actor=actor, action="key.revoke", subject=f"key:{key_id}", tenant=row.tenant,
                     payload={"role": row.role})
    return row


def lookup(session: Session, key_id: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).first()


def matches_hash(secret: str, token: str, secret_hash: str) -> bool:
    """Constant-time check of a presented token against a stored hash."""
    return hmac.compare_digest(hash_token(secret, token), secret_hash)


@dataclass(frozen=True, slots=True)
class KnownKey:
    """What the cache remembers of a key id (``secret_hash`` None: no such key)."""

    secret_hash: str | None
    principal: Principal | None
    revoked: bool


class KeyCache:
    """Key rows by key id for ``ttl`` seconds (0: always look up); revoking here forgets at once."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, KnownKey]] = {}

    def get(self, key_id: str) -> KnownKey | None:
        hit = self._entries.get(key_id)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key_id: str, known: KnownKey) -> None:
        if self.ttl > 0:
            if len(self._entries) > 100_000:  # garbage ids must not grow memory without bound
                self._entries.clear()
            self._entries[key_id] = (time.monotonic() + self.ttl, known)

    def forget(self, key_id: str) -> None:
        self._entries.pop(key_id, None)
