-- segments_rollup: the Web Vitals per hour and segment, so that slow-segments by one
-- dimension (or a pair the rollup keeps) adds up rolled histograms instead of reading
-- every page view (docs/analytics.md, "Rollups").
--
-- rum.vital_samples(...) is the one definition of how a page view is counted: one row per
-- page view and metric (those named in `metrics`) with its sample weight (rounded as
-- segment_vitals.sql rounds it), `ok` (within the metric's cap; past it: an outlier),
-- `past_good` and `past_poor` (past the metric's thresholds) and its `bucket` on the grid
-- of rollups/grid.py (CLS bucketed x 1000: `scales`), deduplicated (FINAL), bots left
-- out, over [from_ms, until_ms) but [hole_from_ms, hole_until_ms) (equal: no hole).
-- `dims` holds its values of the dimensions in the order rollups/segments.py DIMENSIONS
-- names them.
--
-- rum.vital_cells(...) rolls them up for the roll (rollups/sql/segments_roll.sql): per
-- site, metric and segment of every grouping of rollups/segments.py GROUPINGS (GROUPING
-- SETS, below; a test checks both lists), a grouping named by its `set`, the sorted
-- 1-based positions of its dimensions in `dims` ([1] = by country alone, [1, 3] = by
-- country and device class), a segment by its `vals` (the page views' values there):
-- samples (within the cap), outliers, above_good and above_poor, exact counts; and the
-- sparse histogram of the samples (buckets: the non-empty bucket numbers, ascending;
-- counts: page views per bucket; weights: their summed sample weights). A question's raw
-- rest (queries/segment_vitals_rolled.sql) groups rum.vital_samples by its one grouping.
--
-- Parameters: site String ('' = every site), from_ms, until_ms Int64 (epoch ms),
-- hole_from_ms, hole_until_ms Int64 (vital_samples only), metrics Array(String)
-- (vital_samples only), and per metric in the order lcp, inp, cls, fcp, ttfb
-- (rollups/segments.py METRIC_PARAMS binds them): caps, goods, poors, scales
-- Array(Float64); grid_ratio Float64, grid_last UInt16.
CREATE VIEW IF NOT EXISTS rum.vital_samples AS
SELECT site, country, region, device_class, browser, os, page_group, connection_type,
       [country, region, device_class, browser, os, page_group, connection_type] AS dims,
       metric, w, ok, ok AND v > good AS past_good, ok AND v > poor AS past_poor, bucket
FROM (
    SELECT site, country, region, device_class, browser, os, page_group, connection_type,
           m.1 AS i, ['lcp', 'inp', 'cls', 'fcp', 'ttfb'][i] AS metric,
           assumeNotNull(m.2) AS v, toUInt64(greatest(1, round(sample_weight))) AS w,
           v <= {caps:Array(Float64)}[i] AS ok,
           {goods:Array(Float64)}[i] AS good, {poors:Array(Float64)}[i] AS poor,
           v * {scales:Array(Float64)}[i] AS scaled,
           if(ok, least({grid_last:UInt16},
                        if(scaled < 1, 0,
                           toUInt16(1 + floor(log(scaled) / log({grid_ratio:Float64}))))),
              0) AS bucket
    FROM rum.events FINAL
    ARRAY JOIN arrayFilter(x -> has({metrics:Array(String)}, ['lcp', 'inp', 'cls', 'fcp', 'ttfb'][x.1]),
                           arrayZip([1, 2, 3, 4, 5], [lcp, inp, cls, fcp, ttfb])) AS m
    WHERE kind = 'pageview' AND is_bot = 0 AND m.2 IS NOT NULL
      AND ({site:String} = '' OR site = {site:String})
      AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
      AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
      AND (ts < fromUnixTimestamp64Milli({hole_from_ms:Int64}, 'UTC')
           OR ts >= fromUnixTimestamp64Milli({hole_until_ms:Int64}, 'UTC'))
);

CREATE VIEW IF NOT EXISTS rum.vital_cells AS
SELECT site, set, vals, metric,
       sum(c) AS samples, sum(o) AS outliers, sum(ag) AS above_good, sum(ap) AS above_poor,
       arraySort(groupArrayIf((bucket, c, cw), c > 0)) AS hist,
       arrayMap(x -> x.1, hist) AS buckets, arrayMap(x -> x.2, hist) AS counts,
       arrayMap(x -> x.3, hist) AS weights
FROM (
    -- one pass over the page views for every grouping (GROUPING SETS); a grouping's
    -- positions in dims are the columns it groups by (grouping(): a 1 bit = not grouped)
    SELECT site, metric, bucket,
           arrayFilter(p -> NOT bitTest(grouping(country, region, device_class, browser, os,
                                                 page_group, connection_type), 7 - p),
                       range(1, 8)) AS set,
           CAST(arrayMap(p -> [country, region, device_class, browser, os, page_group,
                               connection_type][p], set), 'Array(String)') AS vals,
           toUInt32(countIf(ok)) AS c, toUInt64(sumIf(w, ok)) AS cw,
           toUInt32(countIf(NOT ok)) AS o, toUInt32(countIf(past_good)) AS ag,
           toUInt32(countIf(past_poor)) AS ap
    FROM rum.vital_samples(site = {site:String}, from_ms = {from_ms:Int64},
                           until_ms = {until_ms:Int64}, hole_from_ms = 0, hole_until_ms = 0,
                           metrics = ['lcp', 'inp', 'cls', 'fcp', 'ttfb'],
                           caps = {caps:Array(Float64)}, goods = {goods:Array(Float64)},
                           poors = {poors:Array(Float64)}, scales = {scales:Array(Float64)},
                           grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
    GROUP BY GROUPING SETS (
        -- rollups/segments.py GROUPINGS, in its order (a test checks they agree)
        (site, metric, bucket, country), (site, metric, bucket, region),
        (site, metric, bucket, device_class), (site, metric, bucket, browser),
        (site, metric, bucket, os), (site, metric, bucket, page_group),
        (site, metric, bucket, connection_type), (site, metric, bucket, country, region),
        (site, metric, bucket, country, device_class),
        (site, metric, bucket, page_group, country),
        (site, metric, bucket, page_group, device_class))
)
GROUP BY site, set, vals, metric;

-- One row per (site, hour, metric, segment) of a roll, and per hour a marker (site '',
-- metric 'mark': n = the raw page views counted, rolled_until = the end of the time
-- covered, config = what the roll was made with: rollups/segments.py CONFIG, so a roll
-- made with other groupings, metrics or grid is rolled again), all under the roll's id,
-- as rum.vitals_hourly (migration 0060) does. Ordered by grouping before hour: a question
-- reads one metric and grouping over many hours, which then lie together (by hour first,
-- it read a fifth of the table's arrays: 81 ms against 15 on the bench's day).
CREATE TABLE IF NOT EXISTS rum.segments_hourly
(
    site         LowCardinality(String),
    hour         DateTime('UTC'),
    metric       Enum8('mark' = 0, 'lcp' = 1, 'inp' = 2, 'cls' = 3, 'fcp' = 4, 'ttfb' = 5),
    set          Array(UInt8),
    vals         Array(String),
    samples      UInt32,
    outliers     UInt32,
    above_good   UInt32,
    above_poor   UInt32,
    buckets      Array(UInt16),
    counts       Array(UInt32),
    weights      Array(UInt64),
    n            UInt64,
    config       UInt64,
    roll         UInt64,
    rolled_until DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(roll)
PARTITION BY toYYYYMM(hour)
ORDER BY (site, metric, set, hour, vals)
TTL hour + INTERVAL 30 DAY;
