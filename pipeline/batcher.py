"""The embedded sink: a bounded in-process buffer flushed to the store in batches.

Flushes at `max_rows`, every `max_seconds`, and on close. When the store
is down, the batch stays at the head of the buffer and is retried with
backoff; new rows are refused (backpressure, HTTP 503) once `max_buffer_rows`
are held. When the store refuses the rows themselves (a parse or type
error), the batch is split until the bad rows are isolated, and those go to
the dead-letter file: nothing accepted is dropped silently, and one bad row
never blocks the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pipeline.deadletter import DeadLetterFile
from pipeline.store import Store, StoreError

log = logging.getLogger(__name__)
Row = dict[str, Any]


class StoreWentDown(Exception):
    """The store failed for a transient reason while bad rows were being isolated."""

    def __init__(self, rows: list[Row], error: StoreError, bad: list[tuple[Row, str]]) -> None:
        super().__init__(str(error))
        self.rows = rows
        self.error = error
        self.bad = bad


def isolate_bad_rows(store: Store, table: str, batch: list[Row],
                     exc: StoreError) -> list[tuple[Row, str]]:
    """Bisect a batch the store refused as bad data: write the good parts, return the bad rows.

    Each bad row comes back with the store's reason. A store that goes down midway
    raises StoreWentDown with the rows not yet written (and the bad rows found so far).
    """
    bad: list[tuple[Row, str]] = []
    pending: list[tuple[list[Row], StoreError]] = [(batch, exc)]
    while pending:
        rows, error = pending.pop()
        if len(rows) == 1:
            bad.append((rows[0], str(error)))
            continue
        middle = len(rows) // 2
        halves = [rows[:middle], rows[middle:]]
        for index, half in enumerate(halves):
            try:
                store.insert(table, half)
            except StoreError as inner:
                if not inner.bad_data:
                    rest = [r for part, _ in pending for r in part]
                    rest += [r for later in halves[index:] for r in later]
                    raise StoreWentDown(rest, inner, bad) from inner
                pending.append((half, inner))
    return bad


class FlushHooks:
    """Observers of flushes (metrics); the default does nothing."""

    def flushed(self, rows: int, seconds: float) -> None:
        """A batch of `rows` was written in `seconds`."""

    def failed(self, rows: int, error: str) -> None:
        """A batch of `rows` could not be written (it will be retried)."""

    def depth(self, rows: int) -> None:
        """The buffer now holds `rows` rows."""

    def dead_lettered(self, rows: int) -> None:
        """`rows` rows were refused as bad data and kept in the dead-letter file."""


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
        dead_letter: DeadLetterFile | None = None,
    ) -> None:
        self.dead_letter = dead_letter
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
            unwritten = batch
            if exc.bad_data and self.dead_letter is not None:
                try:
                    bad = await asyncio.to_thread(isolate_bad_rows, self.store, self.table,
                                                  batch, exc)
                    self._dead_letter(bad)
                    unwritten = []
                except StoreWentDown as down:
                    self._dead_letter(down.bad)
                    unwritten, exc = down.rows, down.error
            if unwritten:
                self._rows -= len(batch) - len(unwritten)
                self._buffer.appendleft(unwritten)
                self.hooks.failed(len(unwritten), str(exc))
                log.warning("flush failed, will retry",
                            extra={"rows": len(unwritten), "error": str(exc)})
                return False
        self._rows -= len(batch)
        self.hooks.flushed(len(batch), self.clock() - started)
        self.hooks.depth(self._rows)
        return True

    def _dead_letter(self, bad: list[tuple[Row, str]]) -> None:
        assert self.dead_letter is not None
        for row, reason in bad:
            self.dead_letter.write(self.table, [row], reason)
            self.hooks.dead_lettered(1)
            log.error("row refused by the store, dead-lettered", extra={"error": reason})

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
