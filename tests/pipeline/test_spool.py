"""The disk spool: order, bound, cursor across restarts, torn writes, segment cleanup."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.spool import Spool


def fill(spool: Spool, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        assert spool.append(f"k{i}".encode(), f"value-{i}".encode() * 10, rows=2)


def test_messages_come_back_in_order_and_ack_moves_the_cursor(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=1024)
    fill(spool, 100)
    assert spool.pending_rows == 200
    first = spool.read(30)
    assert [r.key for r in first] == [f"k{i}".encode() for i in range(30)]
    assert spool.read(1)[0].key == b"k0"  # reading does not move the cursor
    spool.ack(first)
    assert spool.pending_rows == 140
    rest = spool.read(1000)
    assert [r.key for r in rest] == [f"k{i}".encode() for i in range(30, 100)]
    spool.ack(rest)
    assert (spool.pending_rows, spool.pending_bytes, spool.read(10)) == (0, 0, [])
    # acknowledged segments are deleted; only the active one stays
    assert len(list(tmp_path.glob("*.seg"))) == 1


def test_a_full_spool_refuses_and_takes_again_after_acks(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=4096, segment_bytes=1024)
    taken = 0
    while spool.append(b"k", b"x" * 100, rows=1):
        taken += 1
    assert 0 < taken < 4096 // 100
    assert spool.pending_bytes <= 4096
    spool.ack(spool.read(5))
    assert spool.append(b"k", b"x" * 100, rows=1)


def test_restart_resumes_after_the_last_ack(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=1024)
    fill(spool, 50)
    spool.ack(spool.read(20))
    spool.close()  # or a SIGKILL: every append was a write(2) already
    again = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=1024)
    assert again.pending_rows == 60
    assert [r.key for r in again.read(100)] == [f"k{i}".encode() for i in range(20, 50)]
    fill(again, 5, start=50)  # new appends go after the old ones
    assert [r.key for r in again.read(100)][-5:] == [f"k{i}".encode() for i in range(50, 55)]


def test_a_torn_last_record_is_cut_and_the_rest_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 20)
    fill(spool, 10)
    spool.close()
    segment = max(tmp_path.glob("*.seg"))
    data = segment.read_bytes()
    segment.write_bytes(data[:-7])  # the machine died in the middle of the last write
    again = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 20)
    assert [r.key for r in again.read(100)] == [f"k{i}".encode() for i in range(9)]
    assert again.pending_rows == 18


def test_oldest_age_follows_the_oldest_unacknowledged_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("pipeline.spool.time.time", lambda: clock[0])
    spool = Spool(tmp_path, max_bytes=1 << 20)
    assert spool.oldest_age() == 0.0
    fill(spool, 1)
    clock[0] = 1005.0
    fill(spool, 1, start=1)
    clock[0] = 1012.5
    assert spool.oldest_age() == 12.5
    spool.ack(spool.read(1))
    assert spool.oldest_age() == 7.5

