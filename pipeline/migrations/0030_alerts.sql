-- Alert state, history and the webhook outbox (alerts/). Small tables.
-- alert_state: latest state per (rule, group); read with FINAL.
CREATE TABLE IF NOT EXISTS rum.alert_state
(
    rule        String,
    group_key   String,
    state       LowCardinality(String),
    since       Float64,
    started_at  Float64,
    value       Nullable(Float64),
    samples     UInt64,
    updated_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (rule, group_key);

-- alert_history: every firing / resolved transition, for GET /v1/alerts.
CREATE TABLE IF NOT EXISTS rum.alert_history
(
    alert_id    String,
    rule        String,
    group_key   String,
    kind        LowCardinality(String),
    value       Nullable(Float64),
    threshold   Float64,
    samples     UInt64,
    at          DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY at
TTL toDateTime(at) + INTERVAL 90 DAY;

-- webhook_outbox: one row per notification per webhook, written before any delivery.
CREATE TABLE IF NOT EXISTS rum.webhook_outbox
(
    notification_id String,
    webhook         String,
    alert_id        String,
    created_at      DateTime64(6, 'UTC'),
    payload         String
)
ENGINE = MergeTree
ORDER BY (webhook, created_at);

-- webhook_deliveries: the final outcome of each (notification, webhook).
CREATE TABLE IF NOT EXISTS rum.webhook_deliveries
(
    notification_id String,
    webhook         String,
    outcome         LowCardinality(String),
    attempts        UInt32,
    http_status     UInt16,
    at              DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (webhook, notification_id);
