"""Where the embedded batcher holds accepted records until the store has them.

`SpoolBuffer` (what `rum serve` uses) appends each record to the disk spool
(pipeline/spool.py) before the intake answers 202, and moves the spool's cursor only
past records the store holds: a collector killed with SIGKILL loses nothing, and the
next start writes what it had accepted. A record can be written twice (killed between
the insert and the cursor's move); the store keeps one row per event id. Durability
against a machine crash: the spool is fsynced every RUM_SPOOL_FSYNC_SECONDS (0 = each
append). `MemoryBuffer` keeps records in memory (what a killed process loses).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from pipeline.spool import Record, Spool

Taken = tuple[bytes, int]  # (record line, event rows it makes)


class Buffer(Protocol):
    """Records accepted and not yet written, bounded."""

    @property
    def pending(self) -> int:
        """Event rows the held records make."""

    def append(self, key: bytes, line: bytes, rows: int) -> bool:
        """Hold one record; False (nothing held) when full."""

    def take(self, max_rows: int) -> list[Taken]:
        """The oldest records, about `max_rows` rows' worth; they stay held until done()."""

    def done(self, batch: list[Taken]) -> None:
        """The records of the last take() are written (or dead-lettered): forget them."""

    def give_back(self, batch: list[Taken]) -> None:
        """These records of the last take() were not written: hold them again, first."""

    def tick(self) -> None:
        """Periodic work (fsync)."""

    def close(self) -> None:
        """Release files."""


class MemoryBuffer:
    """Records in a deque, at most `max_rows` rows."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._items: deque[Taken] = deque()
        self._rows = 0

    @property
    def pending(self) -> int:
        """Event rows held."""
        return self._rows

    def append(self, key: bytes, line: bytes, rows: int) -> bool:
        """Hold one record; False when it would pass `max_rows`."""
        if self._rows + rows > self.max_rows:
            return False
        self._items.append((line, rows))
        self._rows += rows
        return True

    def take(self, max_rows: int) -> list[Taken]:
        """Pop the oldest records, about `max_rows` rows."""
        batch: list[Taken] = []
        rows = 0
        while self._items and rows < max_rows:
            item = self._items.popleft()
            batch.append(item)
            rows += item[1]
        self._rows -= rows
        return batch

    def done(self, batch: list[Taken]) -> None:
        """Nothing to do: take() already removed them."""

    def give_back(self, batch: list[Taken]) -> None:
        """Put records back at the head, in order."""
        self._items.extendleft(reversed(batch))
        self._rows += sum(rows for _, rows in batch)

    def tick(self) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Nothing to do."""


class SpoolBuffer:
    """Records in the disk spool; held until the store has them, across restarts."""

    def __init__(self, spool: Spool, max_rows: int, fsync_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spool = spool
        self.max_rows = max_rows
        self.fsync_seconds = fsync_seconds
        self.clock = clock
        self._taken: list[Record] = []
        self._synced = clock()

    @property
    def pending(self) -> int:
        """Event rows in records past the spool's cursor."""
        return self.spool.pending_rows

    def append(self, key: bytes, line: bytes, rows: int) -> bool:
        """Append to the spool (fsynced now when the interval is 0); False when full."""
        if self.spool.pending_rows + rows > self.max_rows or not self.spool.append(key, line, rows):
            return False
        if self.fsync_seconds == 0:
            self.spool.sync()
        return True

    def take(self, max_rows: int) -> list[Taken]:
        """Read from the cursor on (the cursor stays until done())."""
        records = self.spool.read(max_rows, max_bytes=64 << 20)
        batch: list[Taken] = []
        rows = 0
        for count, record in enumerate(records):
            if rows >= max_rows:
                records = records[:count]
                break
            batch.append((record.value, record.rows))
            rows += record.rows
        self._taken = records
        return batch

    def done(self, batch: list[Taken]) -> None:
        """Move the cursor past the records of the last take()."""
        self.spool.ack(self._taken)
        self._taken = []

    def give_back(self, batch: list[Taken]) -> None:
        """The cursor did not move: the whole last take() is read again (what was written of
        it is written again, and kept once by event id)."""
        self._taken = []

    def tick(self) -> None:
        """fsync when the interval has passed."""
        if self.fsync_seconds and self.clock() - self._synced >= self.fsync_seconds:
            self.spool.sync()
            self._synced = self.clock()

    def close(self) -> None:
        """fsync and close the spool."""
        self.spool.close()
