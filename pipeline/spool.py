"""A bounded on-disk spool: accepted messages wait here until the broker has them.

Every message the collector accepts is appended here first (one `write(2)` per
message on an unbuffered file), and the producer reads from here and moves the
cursor on only after the broker acknowledged. So a collector killed at any
point loses nothing it answered 202 for: on restart the spool is scanned and
everything past the cursor is sent again, in order.

Layout under the spool folder:
- `NNNNNNNNNNNNNNNN.seg`: segment files, appended in order; a new one is started
  every `segment_bytes` and at each start. A record is a 22-byte header
  (payload length u32, CRC-32 of the payload u32, append time ms i64, key length
  u16, row count u32) followed by the key and the value.
- `cursor`: "segment offset" of the first message not yet acknowledged, replaced
  atomically (write + rename). Segments wholly before the cursor are deleted.

Durability: a write is in the OS page cache when `append` returns, so a killed
process loses nothing; a machine crash can lose the last `fsync_seconds` of
appends (0 = fsync on every append). A record torn by a crash fails its CRC
and the segment is cut there on the next start. Replaying from the cursor can
resend messages the broker already had; the store keeps one row per event id
(see docs/architecture.md, "Delivery guarantees").
"""

from __future__ import annotations

import functools
import logging
import os
import struct
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)
_HEADER = struct.Struct("<IIqHI")
_SUFFIX = ".seg"


class Record(NamedTuple):
    """One spooled message and the cursor position just past it (a tuple: a read makes
    one per message, and a frozen dataclass cost ~1 µs more each)."""

    key: bytes
    value: bytes
    rows: int
    appended_ms: int
    end: tuple[int, int]


class Spool:
    """Append-only segment files with an acknowledged-up-to cursor.

    `background`: the slow file work that no reply waits for (the fsync of a finished
    segment, ~13 ms for 16 MB; deleting acknowledged segments, ~6 ms each; replacing the
    cursor file) runs in one worker thread, in order, instead of blocking the caller
    (the event loop). `close()` waits for it.
    """

    def __init__(self, directory: Path, max_bytes: int, segment_bytes: int = 16 << 20,
                 background: bool = False) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self._worker = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool")
                        if background else None)
        directory.mkdir(parents=True, exist_ok=True)
        self._sizes: dict[int, int] = {}  # segment -> valid bytes
        self._cursor = self._load_cursor()
        self._pending_rows = self._recover()
        # a fresh segment at each start, after everything already there
        self._active = max([*self._sizes, self._cursor[0], 0]) + 1
        self._fd = self._open_segment(self._active)
        self._drop_consumed()
        self._pending_bytes = self._count_pending_bytes()  # kept up to date by append and ack

    # -- state -------------------------------------------------------------------------

    @property
    def pending_bytes(self) -> int:
        """Bytes of messages not yet acknowledged."""
        return self._pending_bytes

    def _count_pending_bytes(self) -> int:
        seg, off = self._cursor
        return sum(size for s, size in self._sizes.items() if s >= seg) - (
            off if seg in self._sizes else 0)

    @property
    def pending_rows(self) -> int:
        """Event rows in messages not yet acknowledged."""
        return self._pending_rows

    def oldest_age(self) -> float:
        """Seconds since the oldest unacknowledged message was appended (0 when empty)."""
        first = self.read(1)
        return max(0.0, time.time() - first[0].appended_ms / 1000) if first else 0.0

    # -- writing -------------------------------------------------------------------------

    def append(self, key: bytes, value: bytes, rows: int) -> tuple[int, int] | None:
        """Append one message; the cursor position just past it, or None (nothing written)
        when the spool is full."""
        size = _HEADER.size + len(key) + len(value)
        if self._pending_bytes + size > self.max_bytes:
            return None
        if self._sizes[self._active] >= self.segment_bytes:
            self._roll()
        header = _HEADER.pack(len(key) + len(value), zlib.crc32(value, zlib.crc32(key)),
                              int(time.time() * 1000), len(key), rows)
        # one write(2) of the three parts, without joining them into a copy first
        written = os.writev(self._fd, (header, key, value))
        if written != size:  # a short write (disk full): the rest, so the record stays whole
            rest = (header + key + value)[written:]
            while rest:
                rest = rest[os.write(self._fd, rest):]
        self._sizes[self._active] += size
        self._pending_bytes += size
        self._pending_rows += rows
        return self._active, self._sizes[self._active]

    def sync(self) -> None:
        """fsync the active segment now (every append, when the fsync interval is 0)."""
        os.fsync(self._fd)

    def sync_soon(self) -> None:
        """fsync the active segment in the background worker (without one: now). The
        interval's fsync: ~1-14 ms that no reply waits for. In the worker it is ordered
        before the close of the segment a later roll finishes, so the fd stays valid."""
        self._later(functools.partial(os.fsync, self._fd))

    def _roll(self) -> None:
        finished = self._fd
        self._active += 1
        self._fd = self._open_segment(self._active)
        self._later(functools.partial(_fsync_and_close, finished))

    def _later(self, job: Callable[[], object]) -> None:
        """Run `job` now, or in the worker thread when the spool has one (in order)."""
        if self._worker is None:
            job()
        else:
            self._worker.submit(job).add_done_callback(_log_failure)

    def _open_segment(self, seg: int) -> int:
        self._sizes[seg] = 0
        return os.open(self._path(seg), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)

    # -- reading and acknowledging -------------------------------------------------------

    def read(self, max_records: int, max_bytes: int = 4 << 20) -> list[Record]:
        """Up to `max_records` messages from the cursor on (the cursor does not move)."""
        out: list[Record] = []
        seg, off = self._cursor
        taken = 0
        while len(out) < max_records and taken < max_bytes and seg in self._sizes:
            end = self._sizes[seg]
            if off >= end:
                seg, off = seg + 1, 0
                continue
            with open(self._path(seg), "rb") as f:
                f.seek(off)
                chunk = f.read(min(end - off, max(max_bytes - taken, _HEADER.size)))
            pos = 0
            while pos + _HEADER.size <= len(chunk) and len(out) < max_records:
                length, _, appended, key_len, rows = _HEADER.unpack_from(chunk, pos)
                start = pos + _HEADER.size
                if start + length > len(chunk):
                    if not out:  # one message larger than max_bytes: read it whole
                        with open(self._path(seg), "rb") as f:
                            f.seek(off + pos)
                            chunk = chunk[:pos] + f.read(_HEADER.size + length)
                        continue
                    break
                payload = chunk[start:start + length]
                pos = start + length
                out.append(Record(payload[:key_len], payload[key_len:], rows, appended,
                                  (seg, off + pos)))
            taken += pos
            off += pos
            if pos == 0:
                break
        return out

    def ack(self, records: list[Record]) -> None:
        """Move the cursor past `records` (a prefix of what `read` returned)."""
        if records:
            self.ack_to(records[-1].end, sum(r.rows for r in records))

    def ack_to(self, end: tuple[int, int], rows: int) -> None:
        """Move the cursor to `end` (a position `append` or `read` gave), past `rows` rows."""
        self._cursor = end
        self._pending_rows -= rows
        self._drop_consumed()
        self._pending_bytes = self._count_pending_bytes()
        self._later(functools.partial(self._write_cursor, f"{self._cursor[0]} {self._cursor[1]}\n"))

    def _write_cursor(self, text: str) -> None:
        tmp = self.directory / "cursor.tmp"
        tmp.write_text(text)
        os.replace(tmp, self.directory / "cursor")

    def _drop_consumed(self) -> None:
        seg, off = self._cursor
        for old in sorted(self._sizes):
            done = old < seg or (old == seg and off >= self._sizes[old])
            if done and old != self._active:
                self._later(functools.partial(self._path(old).unlink, missing_ok=True))
                del self._sizes[old]
        if seg not in self._sizes:
            later = [s for s in self._sizes if s > seg]
            self._cursor = (min(later), 0) if later else (self._active, 0)

    def close(self) -> None:
        """Finish the background work, fsync and close the active segment."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
        os.fsync(self._fd)
        os.close(self._fd)

    # -- recovery ------------------------------------------------------------------------

    def _path(self, seg: int) -> Path:
        return self.directory / f"{seg:016d}{_SUFFIX}"

    def _recover(self) -> int:
        """Find the segments; cut each at its first torn or corrupt record.

        Returns the rows in records at or past the cursor (not yet acknowledged).
        """
        pending = 0
        for path in sorted(self.directory.glob(f"*{_SUFFIX}")):
            if not path.stem.isdigit():
                continue
            seg = int(path.stem)
            data = path.read_bytes()
            pos = 0
            while pos + _HEADER.size <= len(data):
                length, crc, _, _, count = _HEADER.unpack_from(data, pos)
                payload = data[pos + _HEADER.size:pos + _HEADER.size + length]
                if len(payload) != length or zlib.crc32(payload) != crc:
                    break
                if (seg, pos) >= self._cursor:
                    pending += count
                pos += _HEADER.size + length
            if pos < len(data):
                log.warning("spool segment cut at a torn record",
                            extra={"segment": path.name, "kept_bytes": pos,
                                   "dropped_bytes": len(data) - pos})
                with open(path, "r+b") as f:
                    f.truncate(pos)
            self._sizes[seg] = pos
        return pending

    def _load_cursor(self) -> tuple[int, int]:
        try:
            seg_text, off_text = (self.directory / "cursor").read_text().split()
            return int(seg_text), int(off_text)
        except (OSError, ValueError):
            return (0, 0)  # before every segment: all is pending


def _fsync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _log_failure(done: Future[object]) -> None:
    if done.exception() is not None:
        log.warning("spool background work failed", extra={"error": str(done.exception())})
