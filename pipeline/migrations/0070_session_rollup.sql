-- session_rollup: sessions per hour, rolled from deduplicated raw events, so that
-- revenue-impact and conversion-by-speed over a day add up a few thousand rows instead
-- of grouping every page view and conversion into its session (bench/RESULTS.md).
--
-- One table, four kinds of row (`part`), all of an hour written by one INSERT under one
-- `roll` id (pipeline/rollup.py), so a reader never sees half a roll:
-- - 'session': one row per session, country and region seen in the hour (a "piece"):
--   `sess` = cityHash64(session_id), `lcps` its page views' LCPs (ms, sorted; bots and
--   values past 60 s left out), `orders` and `revenue` from its conversions, `w` its
--   largest sample weight, `currencies`. `linked` = 1 when the session has another piece
--   (in another hour, or another region of this hour) that the roll could see.
-- - 'agg': the pieces with linked = 0 and an LCP (sessions wholly inside the hour),
--   added up per country, region and LCP bucket (`bucket` 0-6: from bucket x 1000 ms):
--   sessions, converted, orders, revenue, revenue_sq (sum of squared session revenue),
--   w (sum of weights), w_revenue (sum of weight x revenue), lcp_sum (sum of session LCPs).
-- - 'views': per country and region, `counts`: the page views' LCPs in the 600 buckets
--   of rum.vitals_hourly (2% wide), for the segments' p75 and share past the threshold.
-- - 'mark': site '', n = raw rows the roll counted, rolled_until = end of time covered.
-- A reader (queries/revenue_by_speed.sql) sums the 'agg' rows and merges only the pieces
-- of sessions that span pieces (linked ones, and any session also seen in raw rows the
-- rollup does not cover), taking their 'agg' share back out, so its answer is the one
-- the raw events give. Superseded rolls are merged away (ReplacingMergeTree on `roll`).
CREATE TABLE IF NOT EXISTS rum.sessions_hourly
(
    site         LowCardinality(String),
    hour         DateTime('UTC'),
    part         Enum8('mark' = 0, 'agg' = 1, 'views' = 2, 'session' = 3),
    linked       UInt8,
    country      LowCardinality(String),
    region       LowCardinality(String),
    bucket       UInt8,
    sess         UInt64,
    sessions     UInt32,
    converted    UInt32,
    orders       UInt32,
    revenue      Float64,
    revenue_sq   Float64,
    w            Float64,
    w_revenue    Float64,
    lcp_sum      Float64,
    lcps         Array(Float32),
    currencies   Array(LowCardinality(String)),
    counts       Array(UInt32),
    n            UInt64,
    roll         UInt64,
    rolled_until DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(roll)
PARTITION BY toYYYYMM(hour)
ORDER BY (site, hour, part, linked, country, region, bucket, sess)
TTL hour + INTERVAL 30 DAY;
