"""The HTTP service's table: API keys (migration ``0005_api_keys``).

Only a keyed hash of each token is stored (``secret_hash``: HMAC-SHA256 under the
server secret), so a copy of the database gives no usable key; ``key_id`` is the
public part of the token, used to find the row without scanning. Revoking sets
``revoked_at``; the row stays, so the audit log's ``key:<key_id>`` actors keep
naming a known key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from qinglang.store.tables import Base, utcnow


class ApiKey(Base):
    """One API key: a role within one tenant (platform)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(128))
