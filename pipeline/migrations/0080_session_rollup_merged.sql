-- session_rollup_merged: the session rollup of 0070, rebuilt so that sessions spanning
-- hours are merged when an hour is rolled, not when a question is asked (bench/RESULTS.md:
-- merging them per query cost ~0.5 s a day with sessions lasting minutes). The roller
-- fills the new table from rum.events (a backfill of the retention, newest day first).
--
-- One table, four kinds of row (`part`), all of an hour written by one INSERT under one
-- `roll` id (pipeline/rollup.py), so a reader never sees half a roll:
-- - 'session': one row per session, site, country and region seen in the hour (a
--   "piece"): `sess` = cityHash64(session_id), `lcps` its page views' LCPs (ms, sorted;
--   bots and values past 60 s left out), `orders` and `revenue` from its conversions, `w`
--   its largest sample weight, `currencies`; `first_hour` the first hour the session was
--   seen in, `mixed` = 1 when it was seen in more than one site, country or region, both
--   up to this hour.
-- - 'agg': signed sums per first hour, site, country, region and LCP bucket (`bucket`
--   0-6: from bucket x 1000 ms) of whole sessions: sessions, converted, orders, revenue,
--   revenue_sq (sum of squared session revenue), w (sum of weights), w_revenue (sum of
--   weight x revenue), lcp_sum (sum of session LCPs). The roll of an hour adds each of
--   its sessions as merged over its pieces up to this hour (`+`), and takes out the same
--   session as merged up to its previous hour (`-`, what that hour's roll added), so over
--   the hours a session was seen in the sums hold it once, as of its last hour. A mixed
--   session adds nothing: readers merge it themselves.
-- - 'views': per site, country and region, `counts`: the page views' LCPs in the 600
--   buckets of rum.vitals_hourly (2% wide), for the segments' p75 and share past the
--   threshold.
-- - 'mark': site '', n = raw rows the roll counted, rolled_until = end of time covered,
--   `content` = a hash of the hour's pieces, `deps` = the other hours that share a
--   session with this one, `dep_content` = their content when this roll read them. An
--   hour is stale when an earlier hour it depends on changed since (or newly shares a
--   session with it); readers stop at a stale hour, the roller rolls it again.
-- Superseded rolls are merged away (ReplacingMergeTree on `roll`).
DROP TABLE IF EXISTS rum.sessions_hourly;
CREATE TABLE IF NOT EXISTS rum.sessions_hourly
(
    site         LowCardinality(String),
    hour         DateTime('UTC'),
    part         Enum8('mark' = 0, 'agg' = 1, 'views' = 2, 'session' = 3),
    first_hour   DateTime('UTC'),
    mixed        UInt8,
    country      LowCardinality(String),
    region       LowCardinality(String),
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
ORDER BY (site, hour, part, first_hour, country, region, bucket, sess)
TTL hour + INTERVAL 30 DAY;
