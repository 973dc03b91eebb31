"""Where the collector puts accepted beacon records: the embedded batcher (default) or Kafka."""

from __future__ import annotations

from typing import Any, Protocol

from collector.settings import Settings
from pipeline.batcher import Batcher
from pipeline.buffers import SpoolBuffer
from pipeline.deadletter import DeadLetterFile
from pipeline.spool import Spool
from pipeline.store import Store


class Sink(Protocol):
    """Accepts beacon records from the intake; must never lose an accepted record."""

    @property
    def pending(self) -> int:
        """Event rows accepted (as records) and not yet handed on (queue depth)."""

    @property
    def refusing(self) -> bool:
        """True while a new record would be refused: closing, or the last record offered did
        not fit and nothing has been written (or sent) since to make room. The intake then
        answers 503 before decoding and enriching the body: under overload a refusal costs
        little, and the writer keeps the core's time to catch up."""

    def submit(self, key: bytes, line: bytes, rows: int) -> bool:
        """Take one record (`line`, encoded; `key` its session id; `rows` the event rows it
        makes); False (nothing taken) means backpressure: the intake answers 503."""

    def start(self) -> None:
        """Start background work (flush loops, producers)."""

    async def close(self, deadline_seconds: float = 15.0) -> int:
        """Hand on everything accepted; return how many rows could not be."""


def open_sink(settings: Settings, store: Store | None, hooks: Any) -> Sink:
    """The sink the settings ask for: Kafka (through the disk spool) if configured, else the
    embedded batcher writing to `store`. `hooks` observe it (FlushHooks / ProduceHooks)."""
    if settings.kafka_bootstrap:
        from pipeline.kafka import KafkaSink

        return KafkaSink(settings, hooks)
    assert store is not None, "the embedded sink writes to a store"
    # the spool makes a 202 mean "on disk" in the embedded default too (pipeline/buffers.py);
    # its slow file work (fsyncs, deleting segments) runs in its worker, off the event loop
    spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes,
                  settings.spool_segment_bytes, background=True)
    return Batcher(store, max_rows=settings.batch_max_rows,
                   max_seconds=settings.batch_max_seconds,
                   max_buffer_rows=settings.buffer_max_rows, hooks=hooks,
                   dead_letter=DeadLetterFile(settings.data_dir / "deadletter"),
                   buffer=SpoolBuffer(spool, settings.buffer_max_rows,
                                      settings.spool_fsync_seconds))
