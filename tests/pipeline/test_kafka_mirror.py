"""KafkaSink sends what this process spooled from its memory copy, and from the disk when
the copy let go (broker behind) or an earlier process left a backlog: each record once, in
spool order per partition, the cursor moved only past what the broker acknowledged.

A fake producer (named in each test): a failed send and a broker that falls behind are
injected at will, which a real broker does not do on cue; the real broker's paths (cut,
restart, SIGKILL with a spool) are tests/pipeline/test_kafka_faults.py's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaError

from collector.settings import load_settings
from pipeline.kafka import KafkaSink, decode
from tests.pipeline.records import record_line


class FakeProducer:
    """Takes sends as aiokafka's producer does (a future per message); `fail` refuses them."""

    def __init__(self) -> None:
        self.values: list[bytes] = []
        self.fail = False

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    async def send(self, topic: str, value: bytes, key: bytes | None = None,
                   partition: int | None = None) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail:
            done.set_exception(KafkaError("broker down"))
        else:
            self.values.append(value)
            done.set_result(None)
        return done

    def pageviews(self) -> list[str]:
        return [orjson.loads(line)["pageview_id"] for v in self.values for line in decode(v).records]


def _sink(tmp_path: Path, **extra: Any) -> KafkaSink:
    settings = load_settings(None, kafka_bootstrap="127.0.0.1:9", data_dir=tmp_path / "data",
                             kafka_partitions=3)
    return KafkaSink(settings, send_batch=7, **extra)


async def _drain(sink: KafkaSink, producer: FakeProducer) -> None:
    while await sink._send_some(producer):  # type: ignore[arg-type]
        pass


def _submit(sink: KafkaSink, start: int, n: int) -> None:
    for i in range(start, start + n):
        assert sink.submit(f"s{i % 5}".encode(), record_line(i), 1)


async def test_with_a_fake_producer_records_go_from_memory_once_and_a_failed_send_again(
        tmp_path: Path) -> None:
    sink = _sink(tmp_path)
    producer = FakeProducer()
    _submit(sink, 0, 20)
    assert sink._mirrored and len(sink._recent) == 20
    producer.fail = True
    with pytest.raises(KafkaError):
        await sink._send_some(producer)  # type: ignore[arg-type]
    assert sink.pending == 20 and len(sink._recent) == 20  # nothing acknowledged: all kept
    producer.fail = False
    await _drain(sink, producer)
    assert sorted(producer.pageviews(), key=lambda p: int(p[1:])) == [f"p{i}" for i in range(20)]
    assert sink.pending == 0 and not sink._recent and sink._recent_bytes == 0
    await sink.close()


async def test_with_a_fake_producer_a_broker_behind_lets_memory_go_and_the_disk_serves(
        tmp_path: Path) -> None:
    line = len(record_line(0))
    sink = _sink(tmp_path, mirror_bytes=10 * line)
    producer = FakeProducer()
    _submit(sink, 0, 8)
    await sink._send_some(producer)  # 7 sent from memory
    _submit(sink, 8, 12)  # past 10 lines held: memory lets go
    assert not sink._mirrored and not sink._recent
    await _drain(sink, producer)
    assert sink._mirrored  # the backlog is sent: memory takes over again
    _submit(sink, 20, 3)
    await _drain(sink, producer)
    sent = producer.pageviews()
    assert sorted(sent, key=lambda p: int(p[1:])) == [f"p{i}" for i in range(23)]  # each once
    assert sink.pending == 0
    await sink.close()


async def test_with_a_fake_producer_an_earlier_process_backlog_is_read_from_disk_first(
        tmp_path: Path) -> None:
    first = _sink(tmp_path)
    _submit(first, 0, 10)
    await first.close()  # nothing sent: the spool keeps them
    again = _sink(tmp_path)
    assert not again._mirrored and again.pending == 10
    _submit(again, 10, 5)
    producer = FakeProducer()
    await _drain(again, producer)
    sent = producer.pageviews()
    assert sorted(sent, key=lambda p: int(p[1:])) == [f"p{i}" for i in range(15)]
    for session in range(5):  # in spool order within a session (one partition)
        mine = [int(p[1:]) for p in sent if int(p[1:]) % 5 == session]
        assert mine == sorted(mine)
    assert again.pending == 0 and again._mirrored
    await again.close()
