"""The pipeline: consume beacon records from Kafka, write them to the store, then commit.

One loop per process, in a consumer group (scale out with partitions):

1. Collect messages with `getmany` until `batch_max_rows` records (or legacy rows)
   or `batch_max_seconds` have passed.
2. Split each into its record lines (pipeline/kafka.py); a message that is not ours
   goes to the dead-letter topic with the reason in its headers and is counted. It
   never blocks the partition.
3. Insert the batch's records into the landing table in one statement (ClickHouse
   builds the event rows; messages of the previous format insert their rows into
   rum.events). The store down: pause the partitions, keep polling (so the group does
   not drop us) and retry with backoff, without committing; records the store refuses
   as bad data are isolated and dead-lettered one by one.
4. Commit the offsets just past the batch only after the insert succeeded.

So a crash anywhere means the batch is read again from the last commit: at
least once. Rows that arrive twice (a re-read batch, a producer retry, a spool
replay) carry the same event id, and rum.events is a ReplacingMergeTree keyed
by it, read through FINAL, so the store shows each event once (exactly-once
rows; see docs/architecture.md, "Delivery guarantees").

On a rebalance the uncommitted batch is dropped (its partitions are read
again by their new owner from the last commit); a commit that fails because
the group moved on is logged, and the re-read rows are deduplicated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from collector.protocol import MAX_SAMPLE_WEIGHT
from collector.settings import Settings
from pipeline.batcher import LANDING_TABLE, FlushHooks, StoreWentDown, isolate_bad
from pipeline.kafka import (
    MessageError,
    decode,
    encode_rows,
    ensure_topics,
    records_message,
    start_producer,
)
from pipeline.store import Store, StoreError

log = logging.getLogger(__name__)
Row = dict[str, Any]
Item = TypeVar("Item")


class ConsumeHooks(FlushHooks):
    """FlushHooks plus what only the consumer knows (metrics); defaults do nothing."""

    def lag(self, partition: int, messages: int) -> None:
        """Messages in `partition` not yet written and committed."""

    def dlq(self, reason: str) -> None:
        """One message (or row) went to the dead-letter topic."""


@dataclass
class _Batch:
    records: list[bytes] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)  # from messages of the previous format
    offsets: dict[TopicPartition, int] = field(default_factory=dict)  # next offset to commit
    poison: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]], str]] = field(
        default_factory=list)

    @property
    def size(self) -> int:
        return len(self.records) + len(self.rows)

    def clear(self) -> None:
        self.records.clear()
        self.rows.clear()
        self.offsets.clear()
        self.poison.clear()


class _Revokes(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: PipelineConsumer) -> None:
        self.owner = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        if self.owner.batch.offsets:
            log.info("rebalance: uncommitted batch dropped, it is read again from the last commit",
                     extra={"records": self.owner.batch.size})
        self.owner.batch.clear()
        self.owner.generation += 1

    async def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("partitions assigned", extra={"partitions": sorted(tp.partition for tp in assigned)})


class PipelineConsumer:
    """Kafka -> store, committing only what the store holds."""

    def __init__(self, settings: Settings, store: Store, hooks: ConsumeHooks | None = None,
                 table: str = LANDING_TABLE, rows_table: str = "rum.events") -> None:
        self.settings = settings
        self.store = store
        self.hooks = hooks or ConsumeHooks()
        self.table = table
        self.rows_table = rows_table
        self.batch = _Batch()
        self.generation = 0
        self.max_rows = settings.batch_max_rows
        self.max_seconds = settings.batch_max_seconds
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq: AIOKafkaProducer | None = None
        self._committed: dict[TopicPartition, int] = {}
        self.ready = False

    def start(self) -> None:
        """Start consuming in the background."""
        self._task = asyncio.create_task(self._run(), name="pipeline-consumer")

    async def _connect(self) -> None:
        await ensure_topics(self.settings)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap, group_id=self.settings.kafka_group,
            enable_auto_commit=False, auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 << 20, fetch_max_bytes=64 << 20,
            request_timeout_ms=30_000, session_timeout_ms=10_000, heartbeat_interval_ms=3_000,
        )
        dlq = await start_producer(self.settings)
        try:
            consumer.subscribe([self.settings.kafka_topic], listener=_Revokes(self))
            await consumer.start()
        except BaseException:
            await dlq.stop()
            await consumer.stop()
            raise
        self._consumer, self._dlq = consumer, dlq
        log.info("consumer connected", extra={"topic": self.settings.kafka_topic,
                                              "group": self.settings.kafka_group})

    async def _run(self) -> None:
        backoff = 0.0
        while not self._closing.is_set():
            if backoff and await self._sleep(backoff):
                break
            try:
                if self._consumer is None:
                    await self._connect()
                self.ready = True
                await self._collect()
                await self._write_and_commit()
                backoff = 0.0
            except (KafkaError, OSError, TimeoutError) as exc:
                log.warning("broker error; retrying",
                            extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
                backoff = min(10.0, max(0.25, backoff * 2))
            except Exception:  # a bug must not stop consuming silently: log it, back off, go on
                log.exception("consumer loop failed; retrying")
                backoff = min(10.0, max(0.25, backoff * 2))
        await self._write_and_commit()  # what was collected before the stop

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, or wake early (True) when closing."""
        try:
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)
            return True
        except TimeoutError:
            return False

    async def _collect(self) -> None:
        """Fill the batch until max_rows rows or max_seconds, or closing."""
        assert self._consumer is not None
        deadline = time.monotonic() + self.max_seconds
        while self.batch.size < self.max_rows and not self._closing.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            got = await self._consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000),
                                               max_records=max(1, self.max_rows - self.batch.size))
            for tp, messages in got.items():
                for message in messages:
                    self._add(tp, message)
        self._report_lag()

    def _add(self, tp: TopicPartition, message: Any) -> None:
        self.batch.offsets[tp] = message.offset + 1
        try:
            decoded = decode(message.value)
            self.batch.records.extend(decoded.records)
            self.batch.rows.extend(decoded.rows)
        except MessageError as exc:
            headers = [("rum-reason", str(exc)[:500].encode()),
                       ("rum-source", f"{tp.topic}/{tp.partition}/{message.offset}".encode())]
            self.batch.poison.append((message.key, message.value, headers, "undecodable"))

    async def _write_and_commit(self) -> None:
        """Write the batch (retrying while the store is down), dead-letter poison, commit."""
        if not self.batch.offsets:
            return
        generation = self.generation
        records, rows = list(self.batch.records), list(self.batch.rows)
        if records and not await self._insert(records, self._write_records,
                                              self._dead_letter_record, generation):
            return  # rebalanced or closing: the batch is read again from the last commit
        if rows and not await self._insert(rows, self._write_rows, self._dead_letter_row,
                                           generation):
            return
        if self.generation != generation:
            return  # revoked while writing: the new owner re-reads (and re-dead-letters) it
        for key, value, headers, reason in self.batch.poison:
            await self._send_dlq(key, value, headers, reason)
        if self.generation != generation:
            return  # revoked meanwhile: nothing of this batch is committed here
        offsets = dict(self.batch.offsets)
        self.batch.clear()
        await self._commit(offsets)

    async def _insert(self, rows: list[Item], write: Callable[[list[Item]], None],
                      dead_letter: Callable[[Item, str], Any], generation: int) -> bool:
        """Write `rows` (records or legacy rows) with `write`, retrying while the store is
        down; what the store refuses as bad data goes through `dead_letter`."""
        backoff = 0.25
        paused = False
        try:
            while True:
                started = time.monotonic()
                try:
                    bad = await asyncio.to_thread(self._insert_isolating, rows, write)
                    for item, reason in bad:
                        await dead_letter(item, reason)
                    self.hooks.flushed(len(rows) - len(bad), time.monotonic() - started)
                    return True
                except StoreWentDown as down:
                    for item, reason in down.bad:
                        await dead_letter(item, reason)
                    rows, error = down.rows, down.error
                except StoreError as exc:
                    error = exc
                self.hooks.failed(len(rows), str(error))
                log.warning("store unavailable; batch kept, offsets not committed",
                            extra={"rows": len(rows), "error": str(error)[:300]})
                if self._closing.is_set():
                    return False  # stopping: the batch is read again at the next start
                if self._consumer is not None and not paused:
                    self._consumer.pause(*self._consumer.assignment())
                    paused = True
                # keep polling while paused: the group keeps us, a rebalance can still happen
                waited = time.monotonic()
                while time.monotonic() - waited < backoff:
                    if self._consumer is not None:
                        await self._consumer.getmany(timeout_ms=int(min(backoff, 0.5) * 1000))
                    else:
                        await asyncio.sleep(backoff)
                    if self.generation != generation:
                        return False
                backoff = min(30.0, backoff * 2)
        finally:
            if paused and self._consumer is not None:
                self._consumer.resume(*self._consumer.assignment())

    @staticmethod
    def _insert_isolating(items: list[Item],
                          write: Callable[[list[Item]], None]) -> list[tuple[Item, str]]:
        """Insert; when the store refuses items as bad data, write the rest and return those."""
        try:
            write(items)
        except StoreError as exc:
            if not exc.bad_data:
                raise
            return isolate_bad(write, items, exc)
        return []

    def _write_records(self, lines: list[bytes]) -> None:
        self.store.insert_records(self.table, lines)

    def _write_rows(self, rows: list[Row]) -> None:
        for row in rows:  # rows of the previous format: weights bounded as records' are
            weight = row.get("sample_weight")
            if isinstance(weight, int | float) and not weight <= MAX_SAMPLE_WEIGHT:
                row["sample_weight"] = MAX_SAMPLE_WEIGHT
        self.store.insert(self.rows_table, rows)

    async def _dead_letter_record(self, line: bytes, reason: str) -> None:
        await self._send_dlq(None, records_message([line]),
                             [("rum-reason", reason[:500].encode())], "refused")
        self.hooks.dead_lettered(1)

    async def _dead_letter_row(self, row: Row, reason: str) -> None:
        key, value = encode_rows([row])
        await self._send_dlq(key, value, [("rum-reason", reason[:500].encode())], "refused")
        self.hooks.dead_lettered(1)

    async def _send_dlq(self, key: bytes | None, value: bytes | None,
                        headers: list[tuple[str, bytes]], reason: str) -> None:
        assert self._dlq is not None
        backoff = 0.25
        while True:  # not committing past a poison message before the DLQ has it
            try:
                await self._dlq.send_and_wait(self.settings.kafka_dlq_topic, value, key=key,
                                              headers=headers)
                break
            except KafkaError as exc:
                log.warning("dead-letter topic unavailable; retrying", extra={"error": str(exc)})
                await asyncio.sleep(backoff)
                backoff = min(10.0, backoff * 2)
        self.hooks.dlq(reason)
        log.warning("message dead-lettered", extra={"reason": reason, "headers": str(headers)})

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in offsets.items()})
            self._committed.update(offsets)
        except CommitFailedError as exc:
            log.warning("commit refused after a rebalance; the new owner re-reads the batch "
                        "and the store keeps one row per event id", extra={"error": str(exc)})

    def _report_lag(self) -> None:
        assert self._consumer is not None
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:
                continue
            done = self.batch.offsets.get(tp) or self._committed.get(tp)
            if done is None:
                continue
            self.hooks.lag(tp.partition, max(0, high - done))

    async def close(self, deadline_seconds: float = 15.0) -> None:
        """Write and commit what is collected (within the deadline), then leave the group."""
        self._closing.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=deadline_seconds)
            except TimeoutError:
                log.warning("pipeline stop deadline passed; the uncommitted batch is read again "
                            "at the next start")
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
        for part in (self._consumer, self._dlq):
            if part is not None:
                try:
                    await asyncio.wait_for(part.stop(), timeout=5)
                except (TimeoutError, KafkaError, OSError):
                    pass
