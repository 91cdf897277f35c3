"""Per-key rate limits: a token bucket per API key, in this process's memory.

Each key may make ``rate`` requests per second on average and ``burst`` at once; an
empty bucket answers 429 (``QL-9512``) with ``Retry-After`` (whole seconds, rounded
up) telling the client when one request will fit again. Buckets live in memory, so
with several workers each worker allows the rate (docs/service.md, "Limits").
All calls come from the event loop's thread, so no lock is needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class TokenBuckets:
    """One bucket per key id; ``rate`` 0 disables limiting."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)

    def take(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; returns 0 when allowed, else the seconds until they would be there."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (cost - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
