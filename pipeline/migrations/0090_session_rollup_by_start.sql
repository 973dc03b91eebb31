-- session_rollup_by_start: the session rollup of 0080, rebuilt so that a question over a
-- window its rolls cover reads one kind of row and merges no session (bench/RESULTS.md:
-- merging the sessions a window's start cuts, and the ones seen in more than one region,
-- cost ~half of revenue-impact's time, most of it in planning the query). The roller
-- fills the new table from rum.events (a backfill of the retention, newest day first).
--
-- A session is a site's session id on one UTC day (`sess` = cityHash64(session_id,
-- toDate(ts)): it ends at midnight, so it spans at most 24 hours) and counts, whole, in
-- the segment of its earliest event in a window (country and region; ties broken by event
-- id), as queries/revenue_by_speed.sql counts it from raw events.
--
-- One table, four kinds of row (`part`), all of an hour written by one INSERT under one
-- `roll` id (pipeline/rollup.py), so a reader never sees half a roll:
-- - 'session': one row per session seen in the hour (a "piece"): `sess`, `country` and
--   `region` of its earliest event in the hour, `lcps` its page views' LCPs (ms, sorted;
--   bots and values past 60 s left out), `orders` and `revenue` from its conversions, `w`
--   its largest sample weight, `currencies`.
-- - 'agg': signed sums per window start hour (`from_hour`), `carried` (the session was
--   seen before that hour), site, country, region and LCP bucket (`bucket` 0-6: from
--   bucket x 1000 ms) of whole sessions: sessions, converted, orders, revenue, revenue_sq
--   (sum of squared session revenue), w (sum of weights), w_revenue (sum of weight x
--   revenue), lcp_sum (sum of session LCPs). For each hour H from the session's first to
--   this one, the roll of an hour adds the session as a window starting at H sees it up
--   to this hour (`+`, its pieces from H on) and takes out the same up to its previous
--   hour (`-`, what that hour's roll added), so over the hours a session was seen in the
--   sums for H hold it once, as of its last hour. A window starting at hour F reads the
--   rows of from_hour F, and those of later from_hour not carried.
-- - 'views': per site, country and region, `counts`: the page views' LCPs in the 600
--   buckets of rum.vitals_hourly (2% wide), for the segments' p75 and share past the
--   threshold.
-- - 'mark': site '', n = raw rows the roll counted, rolled_until = end of time covered,
--   `content` = a hash of the hour's pieces, `deps` = the other hours that share a
--   session with this one, `dep_content` = their content when this roll read them. An
--   hour is stale when an earlier hour it depends on changed since (or newly shares a
--   session with it); readers stop at a stale hour, the roller rolls it again.
-- Superseded rolls are merged away (ReplacingMergeTree on `roll`). `part` leads the sort
-- key so that a question's 'agg' and 'views' rows lie together, apart from the pieces.
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
ORDER BY (site, part, hour, from_hour, carried, country, region, bucket, sess)
TTL hour + INTERVAL 30 DAY;
