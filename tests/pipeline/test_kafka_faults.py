"""Faults on the scaled path, against the real broker (tansu) and real chDB.

The store outage is injected at the store boundary (a wrapper that raises the
error a ClickHouse server that is down raises); everything else is real:
the broker, the consumer group and its commits, chDB, and `rum collector` /
`rum pipeline` as separate processes killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from collector.settings import Settings, load_settings
from pipeline.chdb_store import ChdbStore
from pipeline.consumer import ConsumeHooks, PipelineConsumer
from pipeline.kafka import RECORDS_HEAD, encode_rows, ensure_topics, records_message
from pipeline.store import Store
from tests.beacons import envelope
from tests.conftest import free_port, scrape, wait_until
from tests.kafka_fixtures import Broker, unique_topic
from tests.pipeline.records import page_view_id, record_message
from tests.pipeline.stores import FaultInjectedStore, SlowStore

ROOT = Path(__file__).resolve().parents[2]


def kafka_settings(broker: Broker, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap": broker.bootstrap, "kafka_idempotent": False, "kafka_partitions": 3,
        "data_dir": tmp_path / "data", "batch_max_seconds": 0.2, **unique_topic("f"),
    }
    values.update(overrides)
    return load_settings(None, **values)


def beacon_message(i: int) -> tuple[bytes, bytes]:
    """A message carrying one page-view record of the site 'faults'."""
    return record_message(i, "faults")


def legacy_row(i: int) -> dict[str, Any]:
    """An event row as collectors before records sent them (messages {"v": 1, "rows": [...]})."""
    now = round(time.time(), 3)
    return {"event_id": f"00000000-0000-4000-8000-{i:012d}", "site": "faults", "kind": "pageview",
            "ts": now, "received_at": now, "session_id": f"s{i % 50}", "lcp": 1000 + i % 3000}


async def produce(settings: Settings, messages: Sequence[bytes | tuple[bytes, bytes]]) -> None:
    """Put messages straight into the topic ((key, value) pairs, or raw values)."""
    await ensure_topics(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for message in messages:
            key, value = message if isinstance(message, tuple) else (b"k", message)
            await producer.send(settings.kafka_topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def committed(settings: Settings) -> int:
    """Sum of the group's committed offsets over the topic's partitions."""
    # a consumer of the group that never joins it: committed() only reads (OffsetFetch)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                group_id=settings.kafka_group, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await _partitions(consumer, settings.kafka_topic)
        offsets = [await consumer.committed(tp) for tp in parts]
    finally:
        await consumer.stop()
    return sum(o for o in offsets if o)


async def until(check: Any, timeout: float, what: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time" + (
                f" (last: {await what()})" if what is not None else ""))
        await asyncio.sleep(0.1)


def counts(store: Store, site: str = "faults") -> tuple[int, int]:
    """(rows the queries see, distinct event ids) for a site."""
    got = store.query("SELECT count() AS n, uniqExact(event_id) AS ids FROM rum.events FINAL "
                      "WHERE site = {site:String}", {"site": site})[0]
    return int(got["n"]), int(got["ids"])


async def test_store_outage_commits_nothing_and_rows_arrive_once(
        chdb_store: Store, kafka_broker: Broker, tmp_path: Path) -> None:
    settings = kafka_settings(kafka_broker, tmp_path, batch_max_rows=100)
    await produce(settings, [beacon_message(i) for i in range(500)])
    store = FaultInjectedStore(chdb_store)
    store.down = True  # from the start, as a ClickHouse server that is down
    consumer = PipelineConsumer(settings, store)
    consumer.start()
    try:
        await until(lambda: _true(store.insert_calls >= 3), timeout=30)  # several retries, backing off
        assert await committed(settings) == 0  # nothing written, nothing committed
        assert counts(chdb_store) == (0, 0)
        store.down = False
        await until(lambda: _true(counts(chdb_store)[0] >= 500), timeout=60)
        await until(lambda: _eq(committed(settings), 500), timeout=30)
    finally:
        await consumer.close()
    assert counts(chdb_store) == (500, 500)


async def test_poison_message_goes_to_dead_letter_topic_and_partition_keeps_flowing(
        chdb_store: Store, kafka_broker: Broker, tmp_path: Path) -> None:
    settings = kafka_settings(kafka_broker, tmp_path, kafka_partitions=1)
    # not ours, in three ways, and a records message whose record the store refuses
    poison = [b"{not json", orjson.dumps({"v": 99, "rows": []}), orjson.dumps({"v": 1, "rows": [1]}),
              records_message([b'{"site": "faults", "received_ms": "soon"}'])]
    messages: list[bytes | tuple[bytes, bytes]] = [beacon_message(i) for i in range(20)]
    messages[5:5] = poison  # in the middle of one partition
    await produce(settings, messages)
    consumer = PipelineConsumer(settings, chdb_store)
    consumer.start()
    try:
        await until(lambda: _true(counts(chdb_store)[0] >= 20), timeout=60)
        await until(lambda: _eq(committed(settings), 24), timeout=30)
    finally:
        await consumer.close()
    assert counts(chdb_store) == (20, 20)
    dead = await read_topic(settings.kafka_bootstrap or "", settings.kafka_dlq_topic, 4)
    assert sorted(m.value for m in dead) == sorted(poison)
    for message in dead:
        headers = dict(message.headers)
        assert headers["rum-reason"]  # why, e.g. "not JSON: ..." or the store's error
        if not message.value.startswith(RECORDS_HEAD):  # undecodable: where it came from
            assert headers["rum-source"].decode().startswith(f"{settings.kafka_topic}/0/")


async def test_messages_of_the_previous_format_are_written_during_an_upgrade(
        chdb_store: Store, kafka_broker: Broker, tmp_path: Path) -> None:
    settings = kafka_settings(kafka_broker, tmp_path, kafka_partitions=1)
    messages: list[bytes | tuple[bytes, bytes]] = [encode_rows([legacy_row(i)]) for i in range(5)]
    messages += [beacon_message(i) for i in range(100, 105)]
    await produce(settings, messages)
    consumer = PipelineConsumer(settings, chdb_store)
    consumer.start()
    try:
        await until(lambda: _true(counts(chdb_store)[0] >= 10), timeout=60)
        await until(lambda: _eq(committed(settings), 10), timeout=30)
    finally:
        await consumer.close()
    ids = {r["event_id"] for r in chdb_store.query(
        "SELECT DISTINCT toString(event_id) AS event_id FROM rum.events WHERE site = 'faults'")}
    assert ids == ({legacy_row(i)["event_id"] for i in range(5)}
                   | {page_view_id(i, "faults") for i in range(100, 105)})


async def read_topic(bootstrap: str, topic: str, n: int, timeout: float = 20) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    got: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                got.extend(messages)
    finally:
        await consumer.stop()
    return got


async def _true(value: bool) -> bool:
    return value


async def _eq(value: Any, expected: int) -> bool:
    return bool(await value == expected)


# -- processes killed with SIGKILL ---------------------------------------------------------


def rum_process(command: str, settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RUM_PORT": str(port), "RUM_DATA_DIR": str(settings.data_dir),
           "RUM_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "", "RUM_KAFKA_IDEMPOTENT": "false",
           "RUM_KAFKA_TOPIC": settings.kafka_topic, "RUM_KAFKA_DLQ_TOPIC": settings.kafka_dlq_topic,
           "RUM_KAFKA_GROUP": settings.kafka_group, "RUM_KAFKA_PARTITIONS": "3",
           "RUM_RATE_LIMIT_IP": "0", "RUM_BATCH_MAX_ROWS": str(settings.batch_max_rows),
           "RUM_BATCH_MAX_SECONDS": "0.2", "RUM_LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "cli.main", command], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_until(lambda: _healthy(port) or process.poll() is not None, timeout=60)
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    return process


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_collector_killed_with_a_full_spool_delivers_it_once_after_restart(
        kafka_broker: Broker, tmp_path: Path, chdb_store: Store) -> None:
    settings = kafka_settings(kafka_broker, tmp_path)
    kafka_broker.proxy.cut()  # the broker is unreachable: accepted beacons stay in the spool
    port = free_port()
    collector = None
    try:
        collector = rum_process("collector", settings, port)
        sids = [f"killed-{i}" for i in range(40)]
        for sid in sids:
            reply = httpx.post(f"http://127.0.0.1:{port}/v1/beacon",
                               content=orjson.dumps(envelope(sid=sid, site="faults")),
                               headers={"content-type": "text/plain"})
            assert reply.status_code == 202
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["pending_rows"] == 40
    finally:
        if collector is not None:
            collector.send_signal(signal.SIGKILL)
            collector.wait(timeout=10)
        kafka_broker.proxy.restore()
    collector = rum_process("collector", settings, port)  # same data dir: the spool survives
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").json()["pending_rows"] == 0,
                   timeout=60)
    finally:
        collector.send_signal(signal.SIGTERM)
        assert collector.wait(timeout=30) == 0

    async def consume() -> None:
        consumer = PipelineConsumer(settings, chdb_store)
        consumer.start()
        try:
            await until(lambda: _true(counts(chdb_store)[0] >= 40), timeout=60)
        finally:
            await consumer.close()

    asyncio.run(consume())
    got = chdb_store.query("SELECT session_id, count() AS n FROM rum.events FINAL "
                           "WHERE site = 'faults' GROUP BY session_id")
    assert sorted(r["session_id"] for r in got) == sorted(sids)
    assert all(r["n"] == 1 for r in got)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[Any]:
    from aiokafka.structs import TopicPartition

    ids = consumer.partitions_for_topic(topic) or set()
    if not ids:
        await consumer.topics()
        ids = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(ids)]


def test_pipeline_killed_mid_batch_leaves_no_duplicates_and_no_gaps(
        kafka_broker: Broker, tmp_path: Path) -> None:
    settings = kafka_settings(kafka_broker, tmp_path, batch_max_rows=200)
    n = 20_000
    asyncio.run(produce(settings, [beacon_message(i) for i in range(n)]))
    port = free_port()
    pipeline = rum_process("pipeline", settings, port)
    try:  # kill it once some batches are written, well before all of them are
        wait_until(lambda: scrape(f"http://127.0.0.1:{port}").get(
            "rum_events_written_total", 0.0) >= 200, timeout=60)
    finally:
        pipeline.send_signal(signal.SIGKILL)
        pipeline.wait(timeout=10)
    assert asyncio.run(committed(settings)) < n  # killed with work left
    pipeline = rum_process("pipeline", settings, port)
    try:
        wait_until(lambda: asyncio.run(committed(settings)) == n, timeout=120)
    finally:
        pipeline.send_signal(signal.SIGTERM)
        assert pipeline.wait(timeout=30) == 0
    store = ChdbStore(settings.data_dir / "chdb")
    try:
        assert counts(store) == (n, n)  # no duplicates seen, no gaps
        ids = {r["event_id"] for r in store.query(
            "SELECT DISTINCT event_id FROM rum.events WHERE site = 'faults'")}
        assert ids == {page_view_id(i, "faults") for i in range(n)}
    finally:
        store.close()


async def test_rebalances_as_consumers_join_and_leave_lose_and_double_nothing(
        chdb_store: Store, kafka_broker: Broker, tmp_path: Path) -> None:
    settings = kafka_settings(kafka_broker, tmp_path, batch_max_rows=100, kafka_partitions=4)
    n = 6000
    await produce(settings, [beacon_message(i) for i in range(n)])
    # 150 ms more per insert, so the stream is still flowing when the group changes
    slow = SlowStore(chdb_store, 0.15)
    wrote = [Written(), Written()]
    first = PipelineConsumer(settings, slow, wrote[0])
    first.start()
    second = PipelineConsumer(settings, slow, wrote[1])
    try:
        await until(lambda: _true(counts(chdb_store)[0] >= 300), timeout=60)
        second.start()  # joins: the group rebalances while the first is mid-stream
        await until(lambda: _true(counts(chdb_store)[0] >= 3000), timeout=60)
        await first.close()  # leaves: its partitions move to the second
        await until(lambda: _eq(committed(settings), n), timeout=90,
                    what=lambda: committed(settings))
    finally:
        await first.close()
        await second.close()
    # the first consumer's partitions were revoked by the join (its first "revoke" is the
    # empty one before it first joins), and the second wrote rows too
    assert first.generation >= 2 and second.generation >= 1, (first.generation, second.generation)
    assert wrote[0].rows > 0 and wrote[1].rows > 0, (wrote[0].rows, wrote[1].rows)
    assert counts(chdb_store) == (n, n)  # every id once, none missing
    ids = {r["event_id"] for r in chdb_store.query(
        "SELECT DISTINCT event_id FROM rum.events WHERE site = 'faults'")}
    assert ids == {page_view_id(i, "faults") for i in range(n)}


class Written(ConsumeHooks):
    """Counts the rows one consumer wrote."""

    rows = 0

    def flushed(self, rows: int, seconds: float) -> None:
        self.rows += rows
