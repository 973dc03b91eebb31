"""The scaled path's transport: messages, the topic, and the collector-side KafkaSink.

A message carries beacon records (collector/record.py): `rum-records/2` and a newline,
then one record per line (JSON never holds a raw newline). Each accepted beacon is
spooled as its record line keyed by its session id, and the sender packs the records
bound for one partition (the session key's partition, so a session's records stay in
one partition, in order) into messages of up to 256 KB. `rum pipeline` inserts the
lines as they are into the landing table, where ClickHouse builds the event rows: no
record is parsed in Python on either side.

Messages of the previous format, `{"v": 1, "rows": [...]}` (event rows built by an
older collector), are still read and written to rum.events as they are, so collectors
and pipelines can be upgraded in any order (docs/deploy.md).

The collector never sends straight from a request: `submit` appends to the disk
spool (pipeline/spool.py) and a background task sends from the spool, moving its
cursor only past what the broker acknowledged (acks=all). A broker that is down or
slow therefore costs spool space, not data; a full spool answers 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import BrokerResponseError, KafkaError, TopicAlreadyExistsError
from aiokafka.partitioner import murmur2

from collector.record import RECORD_VERSION
from collector.settings import Settings
from pipeline.spool import Record, Spool

log = logging.getLogger(__name__)
Row = dict[str, Any]
RECORDS_HEAD = b"rum-records/%d\n" % RECORD_VERSION
ROWS_VERSION = 1  # the previous format: event rows built by the collector
_ROWS_HEAD = b'{"v":%d,"rows":[' % ROWS_VERSION
_ROWS_TAIL = b"]}"


class MessageError(ValueError):
    """A message that is not a batch of records or rows this version reads (dead-lettered)."""


@dataclass
class Decoded:
    """What one message carries: record lines (the current format) or legacy event rows."""

    records: list[bytes] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


def records_message(lines: Sequence[bytes]) -> bytes:
    """The value of a message carrying these record lines."""
    return RECORDS_HEAD + b"\n".join(lines)


def encode_rows(rows: Sequence[Row]) -> tuple[bytes, bytes]:
    """(key, value) of a message in the previous format (one envelope's event rows)."""
    key = str(rows[0].get("session_id") or rows[0].get("event_id") or "").encode()
    return key, orjson.dumps({"v": ROWS_VERSION, "rows": rows})


def decode(value: bytes | None) -> Decoded:
    """The records (or legacy rows) of a message; MessageError when it is not one of ours."""
    value = value or b""
    if value.startswith(RECORDS_HEAD):
        lines = [line for line in value[len(RECORDS_HEAD):].split(b"\n") if line]
        if not lines:
            raise MessageError("a records message without records")
        return Decoded(records=lines)
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise MessageError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("v") != ROWS_VERSION:
        raise MessageError(f"neither a records message nor a v{ROWS_VERSION} rows message")
    rows = doc.get("rows")
    if not isinstance(rows, list) or not rows or not all(
            isinstance(r, dict) and isinstance(r.get("event_id"), str) for r in rows):
        raise MessageError("rows must be a non-empty list of objects with an event_id")
    return Decoded(rows=rows)


@functools.lru_cache(maxsize=65536)
def partition_of(key: bytes, count: int) -> int:
    """The partition index aiokafka's default partitioner picks for `key` (murmur2)."""
    return int((murmur2(key) & 0x7FFFFFFF) % count)


def pack(records: Sequence[Record], partitions: Sequence[int],
         max_bytes: int) -> list[tuple[int, bytes, bytes]]:
    """(partition, key, value) messages joining the spooled records per partition, in order.

    A spooled value is one record line, joined by newlines under RECORDS_HEAD; a value
    spooled by an older collector (`{"v":1,"rows":[...]}`) goes as its own message. Each
    message stays under `max_bytes` unless one record alone is larger.
    """
    groups: dict[int, list[Record]] = {}
    for record in records:
        groups.setdefault(partitions[partition_of(record.key, len(partitions))], []).append(record)
    out: list[tuple[int, bytes, bytes]] = []
    for partition, group in groups.items():
        lines: list[bytes] = []
        size = 0
        for record in group:
            if record.value.startswith(_ROWS_HEAD) and record.value.endswith(_ROWS_TAIL):
                out.append((partition, record.key, record.value))  # a legacy value: as is
                continue
            if lines and size + len(record.value) > max_bytes:
                out.append((partition, group[0].key, records_message(lines)))
                lines, size = [], 0
            lines.append(record.value)
            size += len(record.value) + 1
        if lines:
            out.append((partition, group[0].key, records_message(lines)))
    return out


def producer_options(settings: Settings) -> dict[str, Any]:
    """aiokafka producer settings shared by the sink and the dead-letter producer."""
    compression = None if settings.kafka_compression == "none" else settings.kafka_compression
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotent,
        "compression_type": compression,
        "linger_ms": settings.kafka_linger_ms,
        "max_batch_size": 1 << 20,
        "max_request_size": 8 << 20,
        "request_timeout_ms": 10_000,
        "retry_backoff_ms": 200,
    }


async def start_producer(settings: Settings) -> AIOKafkaProducer:
    """A started producer; idempotent when the settings ask and the broker allows it.

    A broker that refuses idempotent producing answers InitProducerId with an error (a
    BrokerResponseError: it answered, it is not down). Retrying that forever would spool
    every beacon; instead the refusal is said in one log line and the producer starts
    without idempotence: rows stay exactly-once, since the store keeps one row per event
    id (a resend is merged away), only the broker may hold a duplicate message.
    """
    options = producer_options(settings)
    producer = AIOKafkaProducer(**options)
    try:
        await producer.start()
        return producer
    except BrokerResponseError as exc:
        await producer.stop()
        if not options["enable_idempotence"]:
            raise
        log.warning("broker refused idempotent producing (InitProducerId: %s); producing without "
                    "idempotence (set RUM_KAFKA_IDEMPOTENT=false to skip the attempt); rows stay "
                    "exactly-once through event ids", type(exc).__name__)
    except BaseException:
        await producer.stop()
        raise
    producer = AIOKafkaProducer(**{**options, "enable_idempotence": False})
    try:
        await producer.start()
    except BaseException:
        await producer.stop()
        raise
    return producer


async def ensure_topics(settings: Settings) -> None:
    """Create the event and dead-letter topics when missing (auto-create may be off)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap,
                                request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(name, settings.kafka_partitions if name == settings.kafka_topic else 1,
                           settings.kafka_replication)
                  for name in (settings.kafka_topic, settings.kafka_dlq_topic)
                  if name not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
                log.info("topics created", extra={"topics": [t.name for t in wanted]})
            except TopicAlreadyExistsError:
                pass  # another process created it meanwhile
    finally:
        await admin.close()


class ProduceHooks:
    """Observers of the spool and the producer (metrics); the default does nothing."""

    def spooled(self, pending_bytes: int, pending_rows: int, oldest_seconds: float) -> None:
        """The spool now holds this much not yet acknowledged by the broker."""

    def produced(self, envelopes: int, seconds: float) -> None:
        """`envelopes` (packed into fewer messages) were acknowledged after `seconds`."""

    def produce_failed(self, error: str) -> None:
        """A send failed (it will be retried from the spool)."""


class KafkaSink:
    """The collector's sink on the scaled path: disk spool, then Kafka.

    The records this process spooled are also kept in memory, in order, and sent from
    there: reading them back from disk (open, read, parse each header) cost ~2 µs a beacon
    on the event loop. The disk is read for what an earlier process left, and when the
    broker falls behind by more than `mirror_bytes` (then memory lets go of its copy, and
    takes over again once the spool has nothing pending).
    """

    def __init__(self, settings: Settings, hooks: ProduceHooks | None = None,
                 send_batch: int = 2000, pack_bytes: int = 256 << 10,
                 mirror_bytes: int = 64 << 20) -> None:
        self.settings = settings
        self.hooks = hooks or ProduceHooks()
        self.send_batch = send_batch
        self.pack_bytes = pack_bytes
        self.mirror_bytes = mirror_bytes
        self.spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes,
                           settings.spool_segment_bytes, background=True)
        # records past the cursor appended by this process, while `_mirrored`
        self._recent: deque[Record] = deque()
        self._recent_bytes = 0
        self._mirrored = self.spool.pending_rows == 0  # no backlog on disk: memory has it all
        self._mirror_epoch = 0  # bumped when memory lets go, so an in-flight send pops nothing
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._no_room = False  # the last record offered did not fit; cleared by the next ack
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pending(self) -> int:
        """Event rows accepted (as records) and not yet acknowledged by the broker (on disk)."""
        return self.spool.pending_rows

    @property
    def refusing(self) -> bool:
        """Closing, or the spool was full for the last record and nothing was sent since."""
        return self._closing or self._no_room

    def submit(self, key: bytes, line: bytes, rows: int) -> bool:
        """Spool one beacon's record; False (nothing taken) when the spool is full or closing."""
        if self._closing:
            return False
        end = self.spool.append(key, line, rows)
        if end is None:
            self._no_room = True
            return False
        if self.settings.spool_fsync_seconds == 0:
            self.spool.sync()
        if self._mirrored:
            if self._recent_bytes + len(line) > self.mirror_bytes:  # the broker is behind
                self._recent.clear()
                self._recent_bytes = 0
                self._mirrored = False
                self._mirror_epoch += 1
            else:
                self._recent.append(Record(key, line, rows, int(time.time() * 1000), end))
                self._recent_bytes += len(line)
        self._wake.set()
        return True

    def start(self) -> None:
        """Start sending from the spool, and the fsync and metrics tickers."""
        self._tasks = [asyncio.create_task(self._send_loop(), name="kafka-send"),
                       asyncio.create_task(self._tick_loop(), name="spool-tick")]

    async def _connect(self) -> AIOKafkaProducer:
        await ensure_topics(self.settings)
        producer = await start_producer(self.settings)
        log.info("producer connected", extra={"bootstrap": self.settings.kafka_bootstrap})
        return producer

    async def _send_loop(self) -> None:
        backoff = 0.0
        while True:
            if backoff:
                await asyncio.sleep(backoff)
            try:
                if self._producer is None:
                    self._producer = await self._connect()
                sent = await self._send_some(self._producer)
            except (KafkaError, OSError, TimeoutError) as exc:
                self.hooks.produce_failed(type(exc).__name__)
                log.warning("broker unavailable; events stay in the spool",
                            extra={"error": f"{type(exc).__name__}: {exc}"[:300],
                                   "spooled_rows": self.spool.pending_rows})
                backoff = min(10.0, max(0.25, backoff * 2))
                continue
            except Exception:  # a bug must not stop sending silently: log it, back off, go on
                self.hooks.produce_failed("unexpected")
                log.exception("send loop failed; events stay in the spool")
                backoff = min(10.0, max(0.25, backoff * 2))
                continue
            backoff = 0.0
            if sent:
                continue
            if self._closing:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=0.5)
            except TimeoutError:
                pass

    async def _send_some(self, producer: AIOKafkaProducer) -> int:
        """Send the next spooled envelopes, packed per partition; acknowledge all or none.

        Envelopes go to the partition their session key hashes to (the Java client's
        murmur2, as aiokafka's default partitioner), several per Kafka message: one send
        per partition and `pack_bytes` instead of one per beacon, which is most of the
        producer's cost per beacon. A session's envelopes stay in one partition, in order.
        """
        from_memory, epoch = self._mirrored, self._mirror_epoch
        records = (list(islice(self._recent, self.send_batch)) if from_memory
                   else self.spool.read(self.send_batch))
        if not records:
            return 0
        started = time.monotonic()
        topic = self.settings.kafka_topic
        partitions = sorted(await producer.partitions_for(topic))
        futures = [await producer.send(topic, value, key=key, partition=partition)
                   for partition, key, value in pack(records, partitions, self.pack_bytes)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:  # resent whole: what did arrive is merged away by event id
            if isinstance(failed, KafkaError | OSError):
                raise failed
            raise KafkaError(str(failed))
        self.spool.ack(records)
        self._no_room = False
        if from_memory:
            if epoch == self._mirror_epoch:  # still mirrored: they are the oldest held
                for _ in records:
                    self._recent_bytes -= len(self._recent.popleft().value)
        elif self.spool.pending_rows == 0:  # the backlog is sent: memory has the rest
            self._mirrored = True
        self.hooks.produced(len(records), time.monotonic() - started)
        return len(records)

    async def _tick_loop(self) -> None:
        interval = self.settings.spool_fsync_seconds or 1.0
        while True:
            await asyncio.sleep(interval)
            try:
                if self.settings.spool_fsync_seconds:
                    # in the spool's worker, ordered before the close of a segment that
                    # rolls meanwhile (a thread of its own could fsync a closed fd)
                    self.spool.sync_soon()
                self._report()
            except OSError as exc:
                log.warning("spool fsync or report failed", extra={"error": str(exc)})

    def _report(self) -> None:
        self.hooks.spooled(self.spool.pending_bytes, self.spool.pending_rows,
                           self.spool.oldest_age())

    async def close(self, deadline_seconds: float = 15.0) -> int:
        """Stop accepting; send what the deadline allows; the rest stays spooled on disk.

        Returns 0: rows still spooled are not lost, they are sent at the next start.
        """
        self._closing = True
        self._wake.set()
        send_task, tick_task = self._tasks or (None, None)
        if send_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(send_task), timeout=deadline_seconds)
            except TimeoutError:
                send_task.cancel()
                await asyncio.gather(send_task, return_exceptions=True)
        if tick_task is not None:
            tick_task.cancel()
            await asyncio.gather(tick_task, return_exceptions=True)
        if self._producer is not None:
            try:  # everything it holds is still spooled, so a broker that is down costs nothing
                await asyncio.wait_for(self._producer.stop(), timeout=5)
            except (TimeoutError, KafkaError, OSError):
                pass
        self._report()
        if self.spool.pending_rows:
            log.warning("rows left in the spool; they are sent at the next start",
                        extra={"rows": self.spool.pending_rows})
        self.spool.close()
        return 0
