-- session_rollup_sets: the session rollup (migration 0090 explains its rows) keeps its
-- 'agg' sums and 'views' histograms per set of dimensions (`dset`, rollups/tables.py
-- SESSION_SETS): 0 country, region and device class (as before), 1 browser, 2 os,
-- 3 connection type, so revenue-impact and conversion-by-speed by any session dimension
-- but city and asn read it. Each set's rows hold every session once (a set's sums add up to
-- the site's); the columns of the other sets are '' in them. A set per dimension, not one
-- segment of all six: their combinations would multiply the segments (360 to 12,960 on
-- the analytics bench's day) and the rows every country question adds up. 'session'
-- pieces (dset 0) keep all six of their earliest event. `dset` is in the sort key after
-- `part`, so a question reads its set's rows together. Rows rolled before hold no set:
-- the table is made anew, and the roller fills it again from rum.events (a backfill of
-- the retention; readers take raw events for the hours not rolled yet).
DROP TABLE IF EXISTS rum.sessions_hourly;
CREATE TABLE IF NOT EXISTS rum.sessions_hourly
(
    site         LowCardinality(String),
    hour         DateTime('UTC'),
    part         Enum8('mark' = 0, 'agg' = 1, 'views' = 2, 'session' = 3),
    from_hour    DateTime('UTC'),
    carried      UInt8,
    dset         UInt8,
    country      LowCardinality(String),
    region       LowCardinality(String),
    device_class LowCardinality(String),
    browser      LowCardinality(String),
    os           LowCardinality(String),
    connection_type LowCardinality(String),
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
ORDER BY (site, part, dset, hour, from_hour, carried, country, region, device_class, browser, os,
          connection_type, bucket, sess)
TTL hour + INTERVAL 30 DAY;
