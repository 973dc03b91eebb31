-- series_rollup: the vitals over time, per 10-minute slice, so that vitals-timeseries with
-- buckets of a multiple of 10 minutes (the dashboard's 24 h and 7 d windows) adds up rolled
-- histograms instead of reading every page view (docs/analytics.md, "Rollups").
--
-- rum.series_samples(...) is the one definition of how a page view is counted over time:
-- one row per page view and metric with its 10-minute slice `t`, device class, country and
-- region, its sample weight (rounded as queries/vitals_timeseries.sql rounds it) and its
-- `bucket` on the grid of rollups/grid.py (CLS bucketed x 1000); metric 'views' is every
-- page view (bucket 0), 'lcp', 'inp', 'cls', 'ttfb' the values within their caps
-- (lcp_cap, inp_cap, cls_cap, ttfb_cap), LCP's with `past_good` and `past_poor` (past
-- good, poor). Deduplicated (FINAL), bots left out, over [from_ms, until_ms) but
-- [hole_from_ms, hole_until_ms) (equal: no hole). The roll (rollups/sql/series_roll.sql)
-- adds it up per slice and segment; a question's raw rest
-- (queries/vitals_timeseries_rolled.sql) per slice.
--
-- Parameters: site String ('' = every site), from_ms, until_ms, hole_from_ms,
-- hole_until_ms Int64 (epoch ms), lcp_cap, inp_cap, cls_cap, ttfb_cap, good, poor Float64
-- (rollups/tables.py SERIES_PARAMS), grid_ratio Float64, grid_last UInt16.
CREATE VIEW IF NOT EXISTS rum.series_samples AS
SELECT site, toStartOfInterval(ts, INTERVAL 10 MINUTE, 'UTC') AS t, device_class, country,
       region, m.1 AS metric, w, m.1 = 'lcp' AND assumeNotNull(m.2) > {good:Float64} AS past_good,
       m.1 = 'lcp' AND assumeNotNull(m.2) > {poor:Float64} AS past_poor,
       if(m.1 = 'views', 0,
          least({grid_last:UInt16},
                if(scaled < 1, 0, toUInt16(1 + floor(log(scaled) / log({grid_ratio:Float64}))))))
           AS bucket
FROM (
    SELECT site, ts, device_class, country, region, m,
           toUInt64(greatest(1, round(sample_weight))) AS w,
           assumeNotNull(m.2) * if(m.1 = 'cls', 1000, 1) AS scaled
    FROM rum.events FINAL
    ARRAY JOIN arrayFilter(x -> x.2 IS NOT NULL AND assumeNotNull(x.2) <= x.3,
                           [('views', CAST(0 AS Nullable(Float64)), inf),
                            ('lcp', CAST(lcp AS Nullable(Float64)), {lcp_cap:Float64}),
                            ('inp', CAST(inp AS Nullable(Float64)), {inp_cap:Float64}),
                            ('cls', CAST(cls AS Nullable(Float64)), {cls_cap:Float64}),
                            ('ttfb', CAST(ttfb AS Nullable(Float64)), {ttfb_cap:Float64})]) AS m
    WHERE kind = 'pageview' AND is_bot = 0
      AND ({site:String} = '' OR site = {site:String})
      AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
      AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
      AND (ts < fromUnixTimestamp64Milli({hole_from_ms:Int64}, 'UTC')
           OR ts >= fromUnixTimestamp64Milli({hole_until_ms:Int64}, 'UTC'))
);

-- One row per (site, hour, slice, metric, set, device class, country, region) of a roll,
-- where `set` is the filter the row serves (rollups/tables.py SERIES_SETS: bits device 1,
-- country 2, region 4; 0 = the whole site, 7 = device, country and region; the dimensions
-- not in the set are ''), so that a question reads only the rows of its filter (the whole
-- site's line is 1 row per slice and metric, not one per segment): samples (page views
-- with the metric within its cap; 'views': page views), above_good_w and above_poor_w
-- (LCP: summed weights past good and poor), and the sparse weighted histogram (buckets
-- ascending, weights: summed sample weights); per hour a marker (site '', metric 'mark':
-- n = raw page views counted, rolled_until = end of the time covered, config =
-- rollups/tables.py SERIES config), all under the roll's id, as the other rollups.
CREATE TABLE IF NOT EXISTS rum.series_hourly
(
    site         LowCardinality(String),
    hour         DateTime('UTC'),
    t            DateTime('UTC'),
    metric       Enum8('mark' = 0, 'views' = 1, 'lcp' = 2, 'inp' = 3, 'cls' = 4, 'ttfb' = 5),
    set          UInt8,
    device_class LowCardinality(String),
    country      LowCardinality(String),
    region       LowCardinality(String),
    samples      UInt32,
    above_good_w UInt64,
    above_poor_w UInt64,
    buckets      Array(UInt16),
    weights      Array(UInt64),
    n            UInt64,
    config       UInt64,
    roll         UInt64,
    rolled_until DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(roll)
PARTITION BY toYYYYMM(hour)
ORDER BY (site, set, hour, t, metric, device_class, country, region)
TTL hour + INTERVAL 30 DAY;
