"""The embedded sink: a bounded buffer of beacon records, flushed to the store in batches.

Each accepted beacon is one record line (collector/record.py); the batcher inserts
the lines into the landing table `rum.beacon_records`, where ClickHouse builds the
event rows. The buffer is the disk spool in `rum serve` (pipeline/buffers.py: a 202
means the record is on disk) or memory. Flushes at `max_rows` (event rows the records
will make), every `max_seconds`, and on close. When the store is down, the batch stays
at the head of the buffer and is retried with backoff; new records are refused
(backpressure, HTTP 503) once `max_buffer_rows` rows are held. When the store refuses
the records themselves (a parse or type error), the batch is split until the bad
records are isolated, and those go to the dead-letter file: nothing accepted is dropped
silently, and one bad record never blocks the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from operator import itemgetter
from typing import Generic, TypeVar

import orjson

from pipeline.buffers import Buffer, MemoryBuffer, SpoolBuffer, Taken
from pipeline.deadletter import DeadLetterFile
from pipeline.store import Store, StoreError

log = logging.getLogger(__name__)
LANDING_TABLE = "rum.beacon_records"
Item = TypeVar("Item")


class StoreWentDown(Exception, Generic[Item]):
    """The store failed for a transient reason while bad items were being isolated."""

    def __init__(self, items: list[Item], error: StoreError, bad: list[tuple[Item, str]]) -> None:
        super().__init__(str(error))
        self.rows = items
        self.error = error
        self.bad = bad


def isolate_bad(write: Callable[[list[Item]], None], batch: list[Item],
                exc: StoreError) -> list[tuple[Item, str]]:
    """Bisect a batch the store refused as bad data: write the good parts, return the bad items.

    Each bad item (a record line, or a legacy row) comes back with the store's reason. A
    store that goes down midway raises StoreWentDown with the items not yet written (and
    the bad items found so far).
    """
    bad: list[tuple[Item, str]] = []
    pending: list[tuple[list[Item], StoreError]] = [(batch, exc)]
    while pending:
        items, error = pending.pop()
        if len(items) == 1:
            bad.append((items[0], str(error)))
            continue
        middle = len(items) // 2
        halves = [items[:middle], items[middle:]]
        for index, half in enumerate(halves):
            try:
                write(half)
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
    """Bounded buffer of beacon records, written to the landing table in batches."""

    def __init__(
        self,
        store: Store,
        table: str = LANDING_TABLE,
        max_rows: int = 5000,
        max_seconds: float = 1.0,
        max_buffer_rows: int = 200_000,
        hooks: FlushHooks | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_backoff: float = 30.0,
        dead_letter: DeadLetterFile | None = None,
        buffer: Buffer | None = None,
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
        self.buffer: Buffer = buffer if buffer is not None else MemoryBuffer(max_buffer_rows)
        self._full = asyncio.Event()
        self._closing = False
        self._no_room = False  # the last record offered did not fit; cleared by a flush
        self._writing = False  # a batch is being written (in a thread)
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Rows accepted and not yet written."""
        return self.buffer.pending

    @property
    def refusing(self) -> bool:
        """Closing, or the buffer was full for the last record and no flush made room since."""
        return self._closing or self._no_room

    def behind(self) -> float:
        """How far the writer falls behind while it writes: the rows waiting past one batch
        (or past half the buffer, when that is less), in those units. 0 while it keeps up,
        and while it is not writing (between batches, or waiting out a store that is down):
        what collector.priority.yield_to_writer gives the writer's threads time by."""
        if not self._writing:
            return 0.0
        allowed = max(1, min(self.max_rows, self.max_buffer_rows // 2))
        return max(0.0, (self.buffer.pending - allowed) / allowed)

    def submit(self, key: bytes, line: bytes, rows: int) -> bool:
        """Hold one record (`key`: its session); False (nothing held) when the buffer is
        full or the batcher closing."""
        if self._closing:
            return False
        if not self.buffer.append(key, line, rows):
            self._no_room = True
            return False
        if self.buffer.pending >= self.max_rows:
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
            self.buffer.tick()
            ok = await self.flush_once()
            backoff = 0.0 if ok else min(self.max_backoff, max(0.1, backoff * 2 or 0.25))
            if ok and self.buffer.pending >= self.max_rows:
                self._full.set()

    def _write(self, batch: list[Taken]) -> None:
        self.store.insert_records(self.table, list(map(itemgetter(0), batch)))

    async def flush_once(self) -> bool:
        """Write up to max_rows rows' records; on failure put them back and return False."""
        batch = self.buffer.take(self.max_rows)
        if not batch:
            return True
        rows = sum(map(itemgetter(1), batch))  # on the loop: no Python loop per record
        started = self.clock()
        self._writing = True
        try:
            await asyncio.to_thread(self._write, batch)
        except StoreError as exc:
            unwritten = batch
            if exc.bad_data and self.dead_letter is not None:
                try:
                    bad = await asyncio.to_thread(isolate_bad, self._write, batch, exc)
                    self._dead_letter(bad)
                    unwritten = []
                except StoreWentDown as down:
                    self._dead_letter(down.bad)
                    unwritten, exc = down.rows, down.error
            if unwritten:
                left = sum(n for _, n in unwritten)
                self.buffer.give_back(unwritten)
                self.hooks.failed(left, str(exc))
                log.warning("flush failed, will retry", extra={"rows": left, "error": str(exc)})
                return False
        finally:
            self._writing = False
        self.buffer.done(batch)
        self._no_room = False
        self.hooks.flushed(rows, self.clock() - started)
        self.hooks.depth(self.buffer.pending)
        return True

    def _dead_letter(self, bad: list[tuple[Taken, str]]) -> None:
        assert self.dead_letter is not None
        for (line, rows), reason in bad:
            self.dead_letter.write(self.table, [_readable_record(line)], reason)
            self.hooks.dead_lettered(rows)
            log.error("record refused by the store, dead-lettered", extra={"error": reason})

    async def close(self, deadline_seconds: float = 15.0) -> int:
        """Stop accepting, flush everything (retrying until the deadline); return the rows
        lost: what a spool still holds is not lost, it is written at the next start."""
        self._closing = True
        self._full.set()
        if self._task is not None:
            await self._task
        end = self.clock() + deadline_seconds
        delay = 0.1
        while self.buffer.pending and self.clock() < end:
            if not await self.flush_once():
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        left = self.buffer.pending
        self.buffer.close()
        if left and isinstance(self.buffer, SpoolBuffer):
            log.warning("rows left in the spool; they are written at the next start",
                        extra={"rows": left})
            return 0
        if left:
            log.error("rows not written at shutdown", extra={"rows": left})
        return left


def _readable_record(line: bytes) -> dict[str, object]:
    """A refused record as the dead-letter file keeps it (the raw text when not JSON)."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {"raw": line.decode("utf-8", "replace")}
    return doc if isinstance(doc, dict) else {"raw": doc}
