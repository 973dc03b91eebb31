"""The embedded sink: a bounded in-process buffer flushed to the store in batches.

Flushes at `max_rows`, every `max_seconds`, and on close. When the store
fails, the batch stays at the head of the buffer and is retried with backoff;
new rows are refused (backpressure, HTTP 503) once `max_buffer_rows` are held,
so nothing accepted is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pipeline.store import Store, StoreError

log = logging.getLogger(__name__)
Row = dict[str, Any]


class FlushHooks:
    """Observers of flushes (metrics); the default does nothing."""

    def flushed(self, rows: int, seconds: float) -> None:
        """A batch of `rows` was written in `seconds`."""

    def failed(self, rows: int, error: str) -> None:
        """A batch of `rows` could not be written (it will be retried)."""

    def depth(self, rows: int) -> None:
        """The buffer now holds `rows` rows."""


class Batcher:
    """Bounded buffer of normalized events, written to `table` in batches."""

    def __init__(
        self,
        store: Store,
        table: str = "rum.events",
        max_rows: int = 5000,
        max_seconds: float = 1.0,
        max_buffer_rows: int = 200_000,
        hooks: FlushHooks | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_backoff: float = 30.0,
    ) -> None:
        self.store = store
        self.table = table
        self.max_rows = max_rows
        self.max_seconds = max_seconds
        self.max_buffer_rows = max_buffer_rows
        self.hooks = hooks or FlushHooks()
        self.clock = clock
        self.max_backoff = max_backoff
        self._buffer: deque[list[Row]] = deque()
        self._rows = 0
        self._full = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Rows accepted and not yet written."""
        return self._rows

    def submit(self, rows: list[Row]) -> bool:
        """Queue rows; False (nothing queued) when the buffer is full or closing."""
        if self._closing or self._rows + len(rows) > self.max_buffer_rows:
            return False
        if rows:
            self._buffer.append(rows)
            self._rows += len(rows)
            if self._rows >= self.max_rows:
                self._full.set()
        return True

    def start(self) -> None:
        """Start the background flush loop."""
        self._task = asyncio.create_task(self._run(), name="batcher")

    async def _run(self) -> None:
        backoff = 0.0
        while not self._closing:
            try:
                await asyncio.wait_for(self._full.wait(), timeout=backoff or self.max_seconds)
            except TimeoutError:
                pass
            if self._closing:
                break
            self._full.clear()
            ok = await self.flush_once()
            backoff = 0.0 if ok else min(self.max_backoff, max(0.1, backoff * 2 or 0.25))
            if ok and self._rows >= self.max_rows:
                self._full.set()

    def _take(self) -> list[Row]:
        batch: list[Row] = []
        while self._buffer and len(batch) < self.max_rows:
            batch.extend(self._buffer.popleft())
        return batch

    async def flush_once(self) -> bool:
        """Write up to max_rows buffered rows; on failure put them back and return False."""
        batch = self._take()
        if not batch:
            return True
        started = self.clock()
        try:
            await asyncio.to_thread(self.store.insert, self.table, batch)
        except StoreError as exc:
            self._buffer.appendleft(batch)
            self.hooks.failed(len(batch), str(exc))
            log.warning("flush failed, will retry", extra={"rows": len(batch), "error": str(exc)})
            return False
        self._rows -= len(batch)
        self.hooks.flushed(len(batch), self.clock() - started)
        self.hooks.depth(self._rows)
        return True

    async def close(self, deadline_seconds: float = 15.0) -> int:
        """Stop accepting, flush everything (retrying until the deadline); return rows left."""
        self._closing = True
        self._full.set()
        if self._task is not None:
            await self._task
        end = self.clock() + deadline_seconds
        delay = 0.1
        while self._rows and self.clock() < end:
            if not await self.flush_once():
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        if self._rows:
            log.error("rows not written at shutdown", extra={"rows": self._rows})
        return self._rows
