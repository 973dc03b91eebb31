"""Pipeline health (Prometheus): intake outcomes, the write path, Kafka, webhooks.

Metric names are those of collector/metrics.py; `rum_spool_bytes` and
`rum_consumer_lag` come from the Kafka producer spool and the consumer.
"""

from __future__ import annotations

from grafana.common import JSON, Panel, Row, dashboard, prometheus_target, steps, timeseries

UID = "rum-pipeline-health"
RATE = "[$__rate_interval]"


def _series(title: str, description: str, unit: str, *queries: tuple[str, str],
            width: int = 8, stack: bool = False, thresholds: JSON | None = None) -> Panel:
    targets = [prometheus_target(expr, legend, ref=chr(ord("A") + i))
               for i, (expr, legend) in enumerate(queries)]
    return timeseries(title, description, targets, unit=unit, width=width, stack=stack,
                      thresholds=thresholds)


def intake() -> list[Panel]:
    """Beacons accepted and rejected (by reason), events dropped (by reason)."""
    return [
        _series("Beacons accepted", "Envelopes answered 202, per second, per collector.", "reqps",
                (f"sum by (instance) (rate(rum_beacons_accepted_total{RATE}))", "{{instance}}")),
        _series("Beacons rejected by reason", "Envelopes refused, per second, by reason.", "reqps",
                (f"sum by (reason) (rate(rum_beacons_rejected_total{RATE}))", "{{reason}}"),
                stack=True),
        _series("Events dropped by reason",
                "Events left out of accepted beacons, per second, by reason.", "ops",
                (f"sum by (reason) (rate(rum_events_dropped_total{RATE}))", "{{reason}}"),
                stack=True),
    ]


def write_path() -> list[Panel]:
    """Events written, batcher buffer, insert latency, failures and dead letters."""
    return [
        _series("Events accepted vs written", "Events built at intake and written to the store.",
                "ops",
                (f"sum(rate(rum_events_accepted_total{RATE}))", "accepted"),
                (f"sum(rate(rum_events_written_total{RATE}))", "written")),
        _series("Batcher buffer", "Rows accepted and not yet written, per process "
                "(intake answers 503 past RUM_BUFFER_MAX_ROWS).", "short",
                ("sum by (instance) (rum_buffer_rows)", "{{instance}}")),
        _series("Insert latency", "Time to write one batch (p50, p95, p99).", "s",
                (f"histogram_quantile(0.5, sum by (le) (rate(rum_flush_seconds_bucket{RATE})))", "p50"),
                (f"histogram_quantile(0.95, sum by (le) (rate(rum_flush_seconds_bucket{RATE})))", "p95"),
                (f"histogram_quantile(0.99, sum by (le) (rate(rum_flush_seconds_bucket{RATE})))", "p99"),
                thresholds=steps(("green", None), ("orange", 1.0), ("red", 5.0))),
        _series("Insert failures and dead letters",
                "Batches the store refused (retried) and rows set aside as bad data.", "ops",
                (f"sum(rate(rum_flush_errors_total{RATE}))", "failed batches"),
                (f"sum(rate(rum_rows_dead_lettered_total{RATE}))", "dead-lettered rows")),
        _series("Intake stage time (p95)", "Time spent in each intake stage.", "s",
                (f"histogram_quantile(0.95, sum by (le, stage) (rate(rum_stage_seconds_bucket{RATE})))",
                 "{{stage}}")),
        _series("Rollups", "Hours rolled into the vitals rollup per second, failed cycles "
                "(retried next cycle) and the p95 time of a cycle (rollups/scheduler.py).", "short",
                (f"sum(rate(rum_rollup_hours_total{RATE}))", "hours rolled/s"),
                (f"sum(rate(rum_rollup_errors_total{RATE}))", "failed cycles/s"),
                (f"histogram_quantile(0.95, sum by (le) (rate(rum_rollup_seconds_bucket{RATE})))",
                 "cycle p95 (s)")),
    ]


def kafka() -> list[Panel]:
    """The collectors' disk spool and producer, the pipeline consumers' lag and dead letters."""
    return [
        _series("Producer spool", "Bytes spooled on disk not yet acknowledged by Kafka, per "
                "collector (intake answers 503 past RUM_SPOOL_MAX_BYTES).", "bytes",
                ("sum by (instance) (rum_spool_bytes)", "{{instance}}")),
        _series("Oldest spooled message", "Age of the oldest message waiting in each spool.", "s",
                ("max by (instance) (rum_spool_oldest_seconds)", "{{instance}}"),
                thresholds=steps(("green", None), ("orange", 60), ("red", 600))),
        _series("Produce latency", "Time for the broker to acknowledge one send batch (p95).", "s",
                (f"histogram_quantile(0.95, sum by (le) (rate(rum_produce_seconds_bucket{RATE})))",
                 "p95")),
        _series("Messages produced and errors", "Messages acknowledged by the broker, and failed "
                "sends (retried from the spool) by error.", "ops",
                (f"sum(rate(rum_produced_messages_total{RATE}))", "produced"),
                (f"sum by (error) (rate(rum_produce_errors_total{RATE}))", "error {{error}}")),
        _series("Consumer lag", "Messages not yet written and committed, per partition.", "short",
                ("sum by (partition) (rum_consumer_lag)", "partition {{partition}}"),
                thresholds=steps(("green", None), ("orange", 100_000), ("red", 1_000_000))),
        _series("Dead-letter topic", "Messages or rows sent to the dead-letter topic, by reason.",
                "ops", (f"sum by (reason) (rate(rum_dlq_messages_total{RATE}))", "{{reason}}")),
    ]


def alerting() -> list[Panel]:
    """Webhook deliveries by outcome, outbox depth, alerts firing."""
    return [
        _series("Webhook deliveries", "Delivery attempts and outcomes, per webhook.", "ops",
                (f"sum by (webhook, outcome) (rate(rum_webhook_deliveries_total{RATE}))",
                 "{{webhook}} {{outcome}}")),
        _series("Webhook outbox", "Notifications not yet delivered.", "short",
                ("sum(rum_webhook_outbox_depth)", "outbox")),
        _series("Alert evaluation", "Alert groups firing now, and evaluation rounds per minute "
                "(flat at zero = the evaluator is not running).", "short",
                ("sum(rum_alerts_firing)", "firing"),
                (f"sum(rate(rum_alert_evaluations_total{RATE})) * 60", "evaluations/min")),
    ]


def rows() -> list[Row]:
    """The rows of panels, top to bottom."""
    return [
        Row("Intake", intake()), Row("Write path", write_path()),
        Row("Kafka", kafka()), Row("Alerts and webhooks", alerting()),
    ]


def build() -> JSON:
    """The Pipeline health dashboard."""
    return dashboard(UID, "Pipeline health",
                     "Collector, batcher, Kafka and webhook metrics from Prometheus.",
                     rows(), refresh="30s")
