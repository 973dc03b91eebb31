-- segments_weighted: the segments rollup (migration 0140) also keeps weighted counts, so
-- that apdex (queries/apdex_rolled.sql) reads it as slow-segments does: per segment and
-- metric, weight_sq (the summed squared sample weights of the samples: the effective
-- sample size), above_good_w, above_poor_w and above_4good_w (the summed weights of the
-- samples past the metric's good threshold, its poor threshold, and four times the good
-- one: Apdex's "frustrated" with T = the good threshold). rum.vital_samples gains
-- `past_4good`; both views are otherwise as in 0140 (their header there says what they
-- take and give). rollups/segments.py CONFIG changes with this (CELLS), so every hour is
-- rolled again and no roll made before is read.

ALTER TABLE rum.segments_hourly ADD COLUMN IF NOT EXISTS weight_sq UInt64 DEFAULT 0 AFTER above_poor;
ALTER TABLE rum.segments_hourly ADD COLUMN IF NOT EXISTS above_good_w UInt64 DEFAULT 0 AFTER weight_sq;
ALTER TABLE rum.segments_hourly ADD COLUMN IF NOT EXISTS above_poor_w UInt64 DEFAULT 0 AFTER above_good_w;
ALTER TABLE rum.segments_hourly ADD COLUMN IF NOT EXISTS above_4good_w UInt64 DEFAULT 0 AFTER above_poor_w;

DROP VIEW IF EXISTS rum.vital_cells;
DROP VIEW IF EXISTS rum.vital_samples;

CREATE VIEW IF NOT EXISTS rum.vital_samples AS
SELECT site, country, region, device_class, browser, os, page_group, connection_type,
       [country, region, device_class, browser, os, page_group, connection_type] AS dims,
       metric, w, ok, ok AND v > good AS past_good, ok AND v > poor AS past_poor,
       ok AND v > 4 * good AS past_4good, bucket
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
       sum(cwsq) AS weight_sq, sum(agw) AS above_good_w, sum(apw) AS above_poor_w,
       sum(afw) AS above_4good_w,
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
           toUInt32(countIf(past_poor)) AS ap, toUInt64(sumIf(w * w, ok)) AS cwsq,
           toUInt64(sumIf(w, past_good)) AS agw, toUInt64(sumIf(w, past_poor)) AS apw,
           toUInt64(sumIf(w, past_4good)) AS afw
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
