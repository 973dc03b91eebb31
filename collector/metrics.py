"""Prometheus metrics of one app instance (own registry: no import-time globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from alerts.delivery import DeliveryHooks
from alerts.runner import EvalHooks
from pipeline.consumer import ConsumeHooks
from pipeline.kafka import ProduceHooks
from rollups.scheduler import RollupHooks

_FAST_BUCKETS = (0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05)


class Metrics(ConsumeHooks, ProduceHooks, EvalHooks, DeliveryHooks, RollupHooks):
    """Counters and histograms for intake, stages and the write buffer."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.beacons_accepted = Counter(
            "rum_beacons_accepted_total", "Envelopes accepted (202)", registry=r
        )
        self.beacons_rejected = Counter(
            "rum_beacons_rejected_total", "Envelopes refused, by reason", ["reason"], registry=r
        )
        self.events_accepted = Counter(
            "rum_events_accepted_total", "Normalized events built from accepted envelopes",
            registry=r,
        )
        self.events_dropped = Counter(
            "rum_events_dropped_total", "Events left out of accepted beacons, by reason",
            ["reason"], registry=r,
        )
        self.events_written = Counter(
            "rum_events_written_total", "Normalized events written to the store", registry=r
        )
        self.flush_errors = Counter(
            "rum_flush_errors_total", "Batches the store refused (retried)", registry=r
        )
        self.flush_seconds = Histogram(
            "rum_flush_seconds", "Time to write one batch", registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.dead_lettered_rows = Counter(
            "rum_rows_dead_lettered_total", "Rows the store refused as bad data (kept on disk)",
            registry=r,
        )
        self.buffer_rows = Gauge(
            "rum_buffer_rows", "Events accepted and not yet written (queue depth)", registry=r
        )
        self.alert_evaluations = Counter(
            "rum_alert_evaluations_total", "Alert evaluation rounds", registry=r
        )
        self.alerts_firing = Gauge("rum_alerts_firing", "Alert groups firing now", registry=r)
        self.outbox_depth = Gauge(
            "rum_webhook_outbox_depth", "Notifications not yet delivered", registry=r
        )
        self.webhook_deliveries = Counter(
            "rum_webhook_deliveries_total", "Webhook delivery attempts and outcomes",
            ["webhook", "outcome"], registry=r,
        )
        # the scaled path: the collector's spool and producer, the pipeline's consumer
        self.spool_bytes = Gauge(
            "rum_spool_bytes", "Bytes spooled on disk not yet acknowledged by Kafka", registry=r
        )
        self.spool_oldest_seconds = Gauge(
            "rum_spool_oldest_seconds", "Age of the oldest spooled message", registry=r
        )
        self.produce_seconds = Histogram(
            "rum_produce_seconds", "Time for the broker to acknowledge one send batch",
            registry=r, buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        self.produced_messages = Counter(
            "rum_produced_messages_total",
            "Beacon envelopes acknowledged by the broker (several packed per Kafka message)",
            registry=r
        )
        self.produce_errors = Counter(
            "rum_produce_errors_total", "Failed sends (retried from the spool), by error",
            ["error"], registry=r,
        )
        self.consumer_lag = Gauge(
            "rum_consumer_lag", "Messages not yet written and committed, by partition",
            ["partition"], registry=r,
        )
        self.dlq_messages = Counter(
            "rum_dlq_messages_total", "Messages or rows sent to the dead-letter topic, by reason",
            ["reason"], registry=r,
        )
        # rollups (rollups/scheduler.py)
        self.rollup_seconds = Histogram(
            "rum_rollup_seconds", "Time of one rollup cycle", registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.rollup_hours = Counter(
            "rum_rollup_hours_total", "Hours rolled (again) into the rollups", registry=r
        )
        self.rollup_errors = Counter(
            "rum_rollup_errors_total", "Rollup cycles that failed (retried next cycle)", registry=r
        )
        self.stage_seconds = Histogram(
            "rum_stage_seconds", "Time spent in each intake stage (one beacon in 16 is timed)",
            ["stage"], registry=r,
            buckets=_FAST_BUCKETS,
        )

    def flushed(self, rows: int, seconds: float) -> None:
        """Count a written batch."""
        self.events_written.inc(rows)
        self.flush_seconds.observe(seconds)

    def failed(self, rows: int, error: str) -> None:
        """Count a refused batch."""
        self.flush_errors.inc()

    def depth(self, rows: int) -> None:
        """Track the buffer depth."""
        self.buffer_rows.set(rows)

    def dead_lettered(self, rows: int) -> None:
        """Count rows set aside as bad data."""
        self.dead_lettered_rows.inc(rows)

    def evaluated(self, firing: int, outbox_depth: int = 0) -> None:
        """Count an alert evaluation round."""
        self.alert_evaluations.inc()
        self.alerts_firing.set(firing)
        self.outbox_depth.set(outbox_depth)

    def delivered(self, webhook: str, outcome: str) -> None:
        """Count a webhook attempt or final outcome."""
        self.webhook_deliveries.labels(webhook, outcome).inc()

    def spooled(self, pending_bytes: int, pending_rows: int, oldest_seconds: float) -> None:
        """Track the spool."""
        self.spool_bytes.set(pending_bytes)
        self.spool_oldest_seconds.set(oldest_seconds)
        self.buffer_rows.set(pending_rows)

    def produced(self, envelopes: int, seconds: float) -> None:
        """Count an acknowledged send batch."""
        self.produced_messages.inc(envelopes)
        self.produce_seconds.observe(seconds)

    def produce_failed(self, error: str) -> None:
        """Count a failed send."""
        self.produce_errors.labels(error).inc()

    def lag(self, partition: int, messages: int) -> None:
        """Track consumer lag."""
        self.consumer_lag.labels(str(partition)).set(messages)

    def dlq(self, reason: str) -> None:
        """Count a dead-lettered message."""
        self.dlq_messages.labels(reason).inc()

    def rolled(self, hours: int, seconds: float) -> None:
        """Count a rollup cycle."""
        self.rollup_hours.inc(hours)
        self.rollup_seconds.observe(seconds)

    def roll_failed(self, error: str) -> None:
        """Count a failed rollup cycle."""
        self.rollup_errors.inc()
