"""The embedded batcher on a real chDB store; faults injected at the store boundary."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from pipeline.batcher import Batcher
from pipeline.buffers import SpoolBuffer
from pipeline.deadletter import DeadLetterFile
from pipeline.spool import Spool
from pipeline.store import Store
from tests.pipeline.records import record_line
from tests.pipeline.stores import FaultInjectedStore

_numbers = itertools.count()


def submit(batcher: Batcher, n: int, site: str = "t") -> bool:
    """Submit n one-row records; True when every one was taken."""
    return all(batcher.submit(b"k", record_line(next(_numbers), site), 1) for _ in range(n))


def count(store: Store, site: str = "t") -> int:
    return int(store.query("SELECT count() AS n FROM rum.events WHERE site = {s:String}",
                           {"s": site})[0]["n"])


async def wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_flushes_when_max_rows_reached_before_interval(chdb_store: Store) -> None:
    batcher = Batcher(chdb_store, max_rows=10, max_seconds=3600)
    batcher.start()
    assert submit(batcher, 10, "full")
    await wait_for(lambda: count(chdb_store, "full") == 10)
    await batcher.close()


async def test_flushes_on_interval_below_max_rows(chdb_store: Store) -> None:
    batcher = Batcher(chdb_store, max_rows=1000, max_seconds=0.05)
    batcher.start()
    submit(batcher, 3, "tick")
    await wait_for(lambda: count(chdb_store, "tick") == 3)
    await batcher.close()


async def test_close_flushes_everything_and_refuses_more(chdb_store: Store) -> None:
    batcher = Batcher(chdb_store, max_rows=50, max_seconds=3600)
    batcher.start()
    for _ in range(7):
        submit(batcher, 30, "close")
    left = await batcher.close()
    assert left == 0
    assert count(chdb_store, "close") == 210
    assert not submit(batcher, 1, "close")


async def test_store_down_buffers_then_delivers_exactly_once(chdb_store: Store) -> None:
    store = FaultInjectedStore(chdb_store)
    store.down = True
    batcher = Batcher(store, max_rows=20, max_seconds=0.02, max_buffer_rows=100, max_backoff=0.05)
    batcher.start()
    assert submit(batcher, 60, "outage")
    await wait_for(lambda: store.insert_calls >= 3)
    assert count(chdb_store, "outage") == 0
    assert batcher.pending == 60
    assert submit(batcher, 40, "outage")
    assert not batcher.refusing  # full, but nothing has been refused yet
    assert not submit(batcher, 1, "outage"), "a full buffer must refuse (backpressure)"
    assert batcher.refusing  # the intake now answers 503 before the body's work
    store.down = False
    await wait_for(lambda: batcher.pending == 0)
    assert not batcher.refusing  # a flush made room
    await batcher.close()
    assert count(chdb_store, "outage") == 100


async def test_bad_record_is_dead_lettered_and_the_rest_written(chdb_store: Store,
                                                                 tmp_path: Path) -> None:
    dead = DeadLetterFile(tmp_path / "dead")
    batcher = Batcher(chdb_store, max_rows=100, max_seconds=0.02, dead_letter=dead)
    batcher.start()
    batch = [record_line(900 + i, "poison") for i in range(9)]
    batch[4] = record_line(904, "poison", transfer_size="not a number")
    for line in batch:
        assert batcher.submit(b"k", line, 1)
    await wait_for(lambda: count(chdb_store, "poison") == 8)
    await batcher.close()
    lines = (tmp_path / "dead" / "rum.beacon_records.jsonl").read_bytes().splitlines()
    assert len(lines) == 1
    kept = orjson.loads(lines[0])
    assert kept["row"]["pageview_id"] == "p904" and kept["row"]["transfer_size"] == "not a number"
    assert "Code:" in kept["reason"]


async def test_spooled_records_survive_a_restart_and_are_written_once(chdb_store: Store,
                                                                      tmp_path: Path) -> None:
    store = FaultInjectedStore(chdb_store)
    store.down = True
    spool = Spool(tmp_path / "spool", 1 << 20, 4096)
    batcher = Batcher(store, max_rows=20, max_seconds=0.02, max_backoff=0.05,
                      buffer=SpoolBuffer(spool, 1000, fsync_seconds=0))
    batcher.start()
    assert submit(batcher, 50, "spooled")
    await wait_for(lambda: store.insert_calls >= 2)
    # a process that dies here (the store down) leaves the records in the spool, not lost
    assert await batcher.close(deadline_seconds=0.1) == 0
    assert count(chdb_store, "spooled") == 0
    again = Batcher(chdb_store, max_rows=20, max_seconds=0.02,
                    buffer=SpoolBuffer(Spool(tmp_path / "spool", 1 << 20, 4096), 1000, 0))
    assert again.pending == 50  # recovered from disk
    again.start()
    await wait_for(lambda: again.pending == 0)
    await again.close()
    assert count(chdb_store, "spooled") == 50


class GatedStore(FaultInjectedStore):
    """The real store, whose inserts wait until `gate` opens: a writer busy writing."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def insert_records(self, table: str, lines: Any) -> None:
        self.entered.set()
        self.gate.wait(10)
        super().insert_records(table, lines)


async def test_behind_is_the_backlog_past_one_batch_while_writing(chdb_store: Store) -> None:
    store = GatedStore(chdb_store)
    batcher = Batcher(store, max_rows=10, max_seconds=3600, max_buffer_rows=1000)
    batcher.start()
    assert submit(batcher, 5, "behind")
    assert batcher.behind() == 0  # not writing
    assert submit(batcher, 5, "behind")  # a full batch: the flush starts, and waits
    await wait_for(store.entered.is_set)
    assert batcher.behind() == 0  # one batch pending, being written: keeping up
    assert submit(batcher, 20, "behind")
    assert batcher.behind() == 2.0  # 30 pending, 20 of them past one batch
    store.gate.set()
    await wait_for(lambda: count(chdb_store, "behind") == 30)
    await wait_for(lambda: batcher.pending == 0)
    assert batcher.behind() == 0
    await batcher.close()


async def test_behind_is_zero_while_the_store_is_down(chdb_store: Store) -> None:
    """Rows piling up for a store that is down are not a writer to give time to."""
    store = FaultInjectedStore(chdb_store)
    store.down = True
    batcher = Batcher(store, max_rows=10, max_seconds=3600, max_buffer_rows=1000)
    assert submit(batcher, 30, "down")
    assert not await batcher.flush_once()
    assert batcher.pending == 30
    assert batcher.behind() == 0
    store.down = False
    assert await batcher.flush_once()
    await batcher.close()
