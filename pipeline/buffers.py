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
    """Records in a deque, at most `max_rows` rows (the last take()'s included until done())."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._items: deque[Taken] = deque()
        self._rows = 0  # rows held, taken or not
        self._taken_rows = 0  # rows of the last take(), until done() or give_back()

    @property
    def pending(self) -> int:
        """Event rows held: not written yet, the ones being written included."""
        return self._rows

    def append(self, key: bytes, line: bytes, rows: int) -> bool:
        """Hold one record; False when it would pass `max_rows`."""
        if self._rows + rows > self.max_rows:
            return False
        self._items.append((line, rows))
        self._rows += rows
        return True

    def take(self, max_rows: int) -> list[Taken]:
        """Pop the oldest records, about `max_rows` rows (held until done())."""
        batch: list[Taken] = []
        rows = 0
        while self._items and rows < max_rows:
            item = self._items.popleft()
            batch.append(item)
            rows += item[1]
        self._taken_rows = rows
        return batch

    def done(self, batch: list[Taken]) -> None:
        """The last take() is written: no longer held."""
        self._rows -= self._taken_rows
        self._taken_rows = 0

    def give_back(self, batch: list[Taken]) -> None:
        """Put records back at the head, in order; those of the last take() not given back
        (dead-lettered) are no longer held."""
        self._items.extendleft(reversed(batch))
        self._rows -= self._taken_rows - sum(rows for _, rows in batch)
        self._taken_rows = 0

    def tick(self) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Nothing to do."""


class SpoolBuffer:
    """Records in the disk spool; held until the store has them, across restarts.

    Reading records back from disk costs ~9 µs each (and runs on the event loop), so
    the records this process appended are also kept in memory, in order, and served
    from there; the disk is read only for what an earlier process left (its backlog),
    until the spool has nothing pending. Memory holds at most what the spool holds.
    """

    def __init__(self, spool: Spool, max_rows: int, fsync_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spool = spool
        self.max_rows = max_rows
        self.fsync_seconds = fsync_seconds
        self.clock = clock
        # records appended here, (line, rows), and beside them the spool position just past
        # each; a take() of them all (the usual flush) copies the deques, with no Python loop
        self._recent: deque[Taken] = deque()
        self._ends: deque[tuple[int, int]] = deque()
        self._recent_rows = 0
        self._mirrored = spool.pending_rows == 0  # no backlog on disk: memory has it all
        self._taken_disk: list[Record] = []
        self._taken_recent: list[Taken] = []
        self._taken_ends: list[tuple[int, int]] = []
        self._taken_rows = 0
        self._synced = clock()

    @property
    def pending(self) -> int:
        """Event rows in records past the spool's cursor."""
        return self.spool.pending_rows

    def append(self, key: bytes, line: bytes, rows: int) -> bool:
        """Append to the spool (fsynced now when the interval is 0); False when full."""
        if self.spool.pending_rows + rows > self.max_rows:
            return False
        end = self.spool.append(key, line, rows)
        if end is None:
            return False
        if self.fsync_seconds == 0:
            self.spool.sync()
        if self._mirrored:
            self._recent.append((line, rows))
            self._ends.append(end)
            self._recent_rows += rows
        return True

    def take(self, max_rows: int) -> list[Taken]:
        """The oldest records (the spool's cursor stays until done())."""
        if self._mirrored:
            return self._take_recent(max_rows)
        records = self.spool.read(max_rows, max_bytes=64 << 20)
        batch: list[Taken] = []
        rows = 0
        for count, record in enumerate(records):
            if rows >= max_rows:
                records = records[:count]
                break
            batch.append((record.value, record.rows))
            rows += record.rows
        self._taken_disk = records
        return batch

    def _take_recent(self, max_rows: int) -> list[Taken]:
        # on the event loop: a flush of ~17,000 records took 3-7 ms record by record
        if self._recent_rows <= max_rows:
            taken, ends = list(self._recent), list(self._ends)
            rows = self._recent_rows
            self._recent.clear()
            self._ends.clear()
        else:
            taken, ends, rows = [], [], 0
            while self._recent and rows < max_rows:
                item = self._recent.popleft()
                taken.append(item)
                ends.append(self._ends.popleft())
                rows += item[1]
        self._recent_rows -= rows
        self._taken_recent, self._taken_ends, self._taken_rows = taken, ends, rows
        return taken

    def done(self, batch: list[Taken]) -> None:
        """Move the cursor past the records of the last take()."""
        if self._taken_recent:
            self.spool.ack_to(self._taken_ends[-1], self._taken_rows)
            self._taken_recent, self._taken_ends, self._taken_rows = [], [], 0
        elif self._taken_disk:
            self.spool.ack(self._taken_disk)
            self._taken_disk = []
            if self.spool.pending_rows == 0:  # the backlog is written: memory has the rest
                self._mirrored = True

    def give_back(self, batch: list[Taken]) -> None:
        """The cursor did not move: the whole last take() is taken again next time (what
        was written of it is written again, and kept once by event id)."""
        self._recent.extendleft(reversed(self._taken_recent))
        self._ends.extendleft(reversed(self._taken_ends))
        self._recent_rows += self._taken_rows
        self._taken_recent, self._taken_ends, self._taken_rows = [], [], 0
        self._taken_disk = []

    def tick(self) -> None:
        """fsync when the interval has passed (in the spool's worker when it has one)."""
        if self.fsync_seconds and self.clock() - self._synced >= self.fsync_seconds:
            self.spool.sync_soon()
            self._synced = self.clock()

    def close(self) -> None:
        """fsync and close the spool."""
        self.spool.close()
