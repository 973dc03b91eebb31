"""The spool buffer: records come back in order, from disk for an earlier process's
backlog and from memory for this process's own, and none is lost or skipped."""

from __future__ import annotations

from pathlib import Path

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
