"""A broker that refuses idempotent producing (tansu answers InitProducerId with an error):
one clear log line, then the producer works without idempotence (it did not before: the
collector logged "broker unavailable" forever and spooled everything)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from pipeline.kafka import KafkaSink
from tests.kafka_fixtures import Broker
from tests.pipeline.records import record_line
from tests.pipeline.test_kafka_faults import kafka_settings


async def test_idempotence_refused_by_the_broker_falls_back_and_sends(
        kafka_broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = kafka_settings(kafka_broker, tmp_path, kafka_idempotent=True)
    sink = KafkaSink(settings)
    for i in range(20):
        assert sink.submit(f"s{i}".encode(), record_line(i, "idem"), 1)
    with caplog.at_level(logging.WARNING, logger="pipeline.kafka"):
        sink.start()
        deadline = time.monotonic() + 30
        while sink.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await sink.close()
    assert sink.pending == 0, "the spool was not sent: idempotence refused, no fallback"
    refusals = [r for r in caplog.records if "refused idempotent producing" in r.getMessage()]
    assert len(refusals) == 1
    assert not any("broker unavailable" in r.getMessage() for r in caplog.records)
