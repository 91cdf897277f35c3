"""The stored licence registry for ``POST /v1/ingest``, decided as ``qinglang ingest`` decides it.

``qinglang ingest`` without ``--registry``/``--no-registry`` decides with the stored
registry only when it holds an entry in force (``commands.registry.registry_for_ingest``:
an empty registry would call every account unlicensed). The service does the same with
the same store functions (:func:`~qinglang.store.registry_store.has_entries`,
:func:`~qinglang.store.registry_store.load_registry`), but loading every entry per
request would cost more than the ingest itself for a large registry, so the loaded
registry is kept until the table changes: each request reads one cheap stamp (row
count, highest id, latest ``updated_at``; imports, changes and retirements all move it,
in any worker process) and reloads only when it differs.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qinglang.registry import Registry
from qinglang.store.tables import RegistryEntity


class RegistryCache:
    """The registry in force as of the last stamp read; thread-safe (ingest runs in a worker thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._registry: Registry | None = None

    @staticmethod
    def _stamp_of(session: Session) -> tuple[Any, ...]:
        row = session.execute(select(func.count(), func.max(RegistryEntity.id),
                                     func.max(RegistryEntity.updated_at))).one()
        return tuple(row)

    def get(self, session: Session) -> Registry | None:
        """The stored registry, or ``None`` when it holds no entry in force (decide without licence checks)."""
        from qinglang.store import registry_store

        stamp = self._stamp_of(session)
        with self._lock:
            if stamp == self._stamp:
                return self._registry
        registry = registry_store.load_registry(session) if registry_store.has_entries(session) else None
        with self._lock:
            self._stamp, self._registry = stamp, registry
        return registry
