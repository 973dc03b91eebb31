-- session_rollup_device: the session rollup (migration 0090, which explains its rows) also
-- keeps the device class a session starts on (of its earliest event in a window, as
-- country and region), so revenue-impact and conversion-by-speed by device_class, alone or
-- with country or region, read it as they read country and region (rollups/tables.py
-- ROLLED_SESSION_DIMENSIONS). The column is part of the sort key (rows of one roll that differ
-- only by it must not be merged away). Rows rolled before hold no device class: the table
-- is made anew, and the roller fills it again from rum.events (a backfill of the
-- retention; readers take raw events for the hours not rolled yet).
DROP TABLE IF EXISTS rum.sessions_hourly;
CREATE TABLE IF NOT EXISTS rum.sessions_hourly
(
    site         LowCardinality(String),
    hour         DateTime('UTC'),
    part         Enum8('mark' = 0, 'agg' = 1, 'views' = 2, 'session' = 3),
    from_hour    DateTime('UTC'),
    carried      UInt8,
    country      LowCardinality(String),
    region       LowCardinality(String),
    device_class LowCardinality(String),
    bucket       UInt8,
    sess         UInt64,
    sessions     Int32,
    converted    Int32,
    orders       Int32,
    revenue      Float64,
    revenue_sq   Float64,
    w            Float64,
    w_revenue    Float64,
    lcp_sum      Float64,
    lcps         Array(Float32),
    currencies   Array(LowCardinality(String)),
    counts       Array(UInt32),
    n            UInt64,
    content      UInt64,
    deps         Array(DateTime('UTC')),
    dep_content  Array(UInt64),
    roll         UInt64,
    rolled_until DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(roll)
PARTITION BY toYYYYMM(hour)
ORDER BY (site, part, hour, from_hour, carried, country, region, device_class, bucket, sess)
TTL hour + INTERVAL 30 DAY;
