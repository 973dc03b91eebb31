"""The spool buffer: records come back in order, from disk for an earlier process's
backlog and from memory for this process's own, and none is lost or skipped."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from pipeline.buffers import SpoolBuffer
from pipeline.spool import Spool


def _buffer(folder: Path) -> SpoolBuffer:
    return SpoolBuffer(Spool(folder, 1 << 24, 4096), max_rows=10_000, fsync_seconds=0)


def _lines(buffer: SpoolBuffer, max_rows: int) -> list[bytes]:
    return [line for line, _ in buffer.take(max_rows)]


def test_backlog_from_disk_then_this_process_records_from_memory(tmp_path: Path) -> None:
    first = _buffer(tmp_path)
    for i in range(30):
        assert first.append(b"k", b"old-%d" % i, 2)
    first.close()  # a process that stopped (or was killed) with 30 records unwritten
    again = _buffer(tmp_path)
    assert again.pending == 60
    for i in range(5):
        again.append(b"k", b"new-%d" % i, 2)
    got = _lines(again, 20)  # 10 records of the backlog, from disk
    assert got == [b"old-%d" % i for i in range(10)]
    again.give_back([])  # not written: the same records come again
    assert _lines(again, 20) == got
    again.done([])
    rest: list[bytes] = []
    while batch := _lines(again, 1000):
        rest += batch
        again.done([])
    # the disk read reaches the records appended after the restart too, in order
    assert rest == [b"old-%d" % i for i in range(10, 30)] + [b"new-%d" % i for i in range(5)]
    assert again.pending == 0
    again.append(b"k", b"later", 1)  # the backlog is gone: served from memory now
    assert again._mirrored and _lines(again, 10) == [b"later"]
    again.give_back([])
    assert _lines(again, 10) == [b"later"]
    again.done([])
    again.close()
    assert _buffer(tmp_path).pending == 0  # the cursor on disk moved past everything


def test_records_from_memory_in_parts_and_whole_keep_order_and_cursor(tmp_path: Path) -> None:
    # a take() past max_rows goes record by record; one that holds everything copies the
    # whole queue; both give back in order and move the cursor past what they took
    buffer = _buffer(tmp_path)
    for i in range(10):
        assert buffer.append(b"k", b"r-%d" % i, 3)
    part = _lines(buffer, 7)  # 3 records make 9 rows: just past 7
    assert part == [b"r-0", b"r-1", b"r-2"]
    buffer.give_back([])
    assert _lines(buffer, 7) == part
    buffer.done([])
    assert buffer.pending == 21
    rest = buffer.take(1000)  # the other 7 records, all at once
    assert [line for line, _ in rest] == [b"r-%d" % i for i in range(3, 10)]
    assert sum(rows for _, rows in rest) == 21
    buffer.give_back([])
    buffer.append(b"k", b"r-10", 1)
    assert _lines(buffer, 1000) == [b"r-%d" % i for i in range(3, 11)]
    buffer.done([])
    assert buffer.pending == 0 and buffer.take(1000) == []
    buffer.close()
    assert _buffer(tmp_path).pending == 0  # the cursor on disk is past the last record

def test_the_interval_fsync_runs_in_the_spools_worker_not_the_callers_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the event loop calls tick(): an fsync there stalled every request in flight (up to
    # ~14 ms under load); the worker does it, ordered before a rolled segment's close
    synced: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def watched(fd: int) -> None:
        synced.append((fd, threading.get_ident()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watched)
    spool = Spool(tmp_path / "spool", 1 << 20, segment_bytes=256, background=True)
    ticks = iter([0.0, 5.0, 5.0, 5.0])
    buffer = SpoolBuffer(spool, 1000, fsync_seconds=1.0, clock=lambda: next(ticks))
    assert buffer.append(b"k", b"x" * 300, 1)  # past segment_bytes: the next append rolls
    buffer.tick()
    assert buffer.append(b"k", b"y" * 10, 1)
    spool.close()  # waits for the worker
    caller = threading.get_ident()
    worker_syncs = [t for _, t in synced if t != caller]
    # the tick's fsync and the rolled segment's fsync ran in the worker; close()'s own
    # fsync of the active segment is the caller's
    assert len(worker_syncs) == 2
    assert [t for _, t in synced].count(caller) == 1
