"""Detection for requests: one worker thread, a time budget, partial batches.

Detection is CPU-bound and the engine is not built for concurrent calls (the
Hyperscan database has one scratch space), so every call goes through one worker
thread per process; the event loop stays free to accept, parse and answer other
requests meanwhile. Scale across cores with ``workers`` (processes).

**Time budget.** A request waits at most ``detect_timeout_s`` for its detection.
The engine has no partial result for one post: a verdict is either computed or
not, and a regex rule that runs out of time is already reported inside the verdict
as ``degraded`` by the engine itself. So, honestly: a single post past the budget is
a 503 (``QL-9513``), never a verdict pretending to be complete; a batch is detected
in steps of ``detect_chunk`` posts and keeps the verdicts of the steps that
finished, while each post left over becomes an error record ``QL-9513`` naming it
(a batch never fails whole). Work still queued when the budget runs out is dropped;
a step already running cannot be interrupted and finishes in the background.

With ``detect_timeout_s = 0`` detection runs inline on the event loop (no thread
hop, no budget): measured in docs/benchmarks.md ("HTTP service").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from qinglang import errors
from qinglang.errors import QLError
from qinglang.model import ErrorRecord
from qinglang.scan import Detector, Output, scan_records

T = TypeVar("T")


def _timed_out(record_no: int, item: Any, budget: float) -> ErrorRecord:
    pid = item.get("id") if isinstance(item, Mapping) else None
    return ErrorRecord(str(pid) if isinstance(pid, str | int) and not isinstance(pid, bool) else None,
                       errors.DETECTION_TIMEOUT.code,
                       f"detection did not finish within the request's budget of {budget:g} s", record_no)


class Detection:
    """Runs the engine for requests (see the module docstring)."""

    def __init__(self, engine: Detector, *, timeout_s: float, chunk: int, max_text_chars: int) -> None:
        self.engine = engine
        self.timeout_s = timeout_s
        self.chunk = chunk
        self.max_text_chars = max_text_chars
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="qinglang-detect") if timeout_s > 0 else None

    @property
    def inline(self) -> bool:
        return self._pool is None

    async def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """``fn(*args)`` in the detection thread (inline when there is none); ``TimeoutError`` past ``timeout``."""
        if self._pool is None:
            return fn(*args)
        future = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        if timeout is None:
            return await future
        return await asyncio.wait_for(future, timeout)

    def scan(self, records: Sequence[tuple[int, Any]]) -> list[Output]:
        """Validate and detect records: one verdict or error record each, in order (as ``qinglang scan``)."""
        items = [
            (no, item if isinstance(item, Mapping) else
             QLError(errors.MALFORMED_RECORD, f"post {no} is not a JSON object", record=no))
            for no, item in records
        ]
        return list(scan_records(self.engine, items, max(1, len(items)), max_text_chars=self.max_text_chars))

    async def moderate(self, records: Sequence[tuple[int, Any]]) -> list[Output]:
        """Outputs for ``records`` within the budget; posts left over are ``QL-9513`` error records."""
        if self._pool is None:
            return self.scan(records)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        out: list[Output] = []
        for start in range(0, len(records), self.chunk):
            part = records[start:start + self.chunk]
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                out.extend(await self.call(self.scan, part, timeout=remaining))
            except TimeoutError:
                out.extend(_timed_out(no, item, self.timeout_s) for no, item in records[start:])
                break
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
