"""What a running service holds, built once at start-up and kept on ``app.state.service``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from qinglang.decide import LadderPolicy
from qinglang.service.detection import Detection
from qinglang.service.keys import KeyCache
from qinglang.service.metrics import Metrics
from qinglang.service.ratelimit import TokenBuckets
from qinglang.service.registry_cache import RegistryCache
from qinglang.service.settings import Settings


@dataclass(slots=True)
class ServiceState:
    settings: Settings
    #: the secret in force (the development default when none is set in development)
    secret: str
    db: DbEngine
    sessions: sessionmaker[Session]
    detection: Detection
    metrics: Metrics
    buckets: TokenBuckets
    key_cache: KeyCache
    ladder: LadderPolicy
    versions: dict[str, Any]
    #: the stored licence registry ingest decides with (reloaded when the table changes)
    registry: RegistryCache = field(default_factory=RegistryCache)
