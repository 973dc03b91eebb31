-- vitals_rollup: pre-bucketed histograms of the Web Vitals per hour, country and region,
-- so that slow-regions over a day adds up a few thousand arrays instead of reading every
-- page view (bench/RESULTS.md, "Analytics at scale").
--
-- A row holds, per (site, hour, metric, country, region), `counts`: a dense histogram of
-- 600 buckets of the page views (bots left out, deduplicated: rolled from rum.events
-- FINAL) by their value of the metric. Buckets are logarithmic, 2% wide: counts[1] is
-- [0, 1), counts[b + 1] is [1.02^(b-1), 1.02^b) in ms (CLS is stored x 1000), the last
-- bucket takes everything past it. Dense arrays, not a row per bucket: adding up a day of
-- them is a vectorized sum over ~15 thousand rows whatever the traffic, where rows per
-- bucket grew with it (3 million rows a day at 10 million page views).
--
-- pipeline/rollup.py rolls an hour with one INSERT ... SELECT that writes all its rows
-- under a new `roll` id together with a marker row (site '', metric 'mark': n = the raw
-- rows counted, rolled_until = the end of the time covered), so a reader that takes each
-- hour's newest marker and only rows of that roll never sees half a roll. Superseded
-- rolls are merged away (ReplacingMergeTree on `roll`). Partitioned by month, not day:
-- the rollup is small, and the retention's empty hours are marked too, which made 30
-- daily partitions (31 parts after OPTIMIZE) against 2 by month.
CREATE TABLE IF NOT EXISTS rum.vitals_hourly
(
    site         LowCardinality(String),
    hour         DateTime('UTC'),
    metric       Enum8('mark' = 0, 'lcp' = 1, 'inp' = 2, 'cls' = 3, 'fcp' = 4, 'ttfb' = 5),
    country      LowCardinality(String),
    region       LowCardinality(String),
    counts       Array(UInt32),
    n            UInt64,
    roll         UInt64,
    rolled_until DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(roll)
PARTITION BY toYYYYMM(hour)
ORDER BY (site, hour, metric, country, region)
TTL hour + INTERVAL 30 DAY;
