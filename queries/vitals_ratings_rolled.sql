-- vitals_ratings_rolled: vitals_ratings.sql for the groupings the segments rollup keeps
-- (queries/analytics.py picks it when rollups/segments.py GROUPINGS has the question's
-- dimensions and an hour of the window is rolled): the same question and output, from
-- rolled hours and the raw rest. Every figure is exact: the rollup keeps per segment and
-- metric the samples, outliers, their summed weights and the summed weights past the good
-- and the poor thresholds (migrations 0140, 0150).
--
-- Parameters: site, d1, d2 as vitals_ratings.sql; the window as the rollup's coverage
--   gives it (rollups/coverage.py): from_ms, until_ms Int64 (a window of 6 h or more
--   starts at the top of its first hour), first_ms, rolled_until_ms Int64 and rolls
--   Array(UInt64) (the hours the rollup answers and the roll of each), hole_from_ms Int64;
--   the metrics' caps, goods, poors, scales and the grid (rollups/segments.py
--   METRIC_PARAMS: the raw rest is counted by rum.vital_samples, as the roll counts it);
--   set Array(UInt8), at1, at2 UInt8: the grouping and where d1 and d2 sit in a
--   segment's values (rollups/segments.py `grouping`).
--
-- Output: as vitals_ratings.sql.
WITH
    cells AS (
        -- the hours the rollup covers, only the roll in use of each (rolls[1]: first hour's;
        -- a whole UTC day's rows, stamped a second past midnight, take its first
        -- hour's place and its other hours' are 0: rollups/coverage.py)
        SELECT vals, toString(metric) AS metric, samples, outliers, arraySum(weights) AS wt,
               above_good_w, above_poor_w
        FROM rum.segments_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          -- segments_hourly.metric: the column (its key), not the String alias above
          AND segments_hourly.metric IN ('lcp', 'inp', 'cls', 'fcp', 'ttfb')
          AND set = {set:Array(UInt8)}
          AND hour >= fromUnixTimestamp64Milli({first_ms:Int64}, 'UTC')
          AND hour < fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
          AND roll = {rolls:Array(UInt64)}[
              intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {first_ms:Int64}, 3600000) + 1]
        UNION ALL
        -- the raw rest: the window but the rolled hours, each page view counted as the
        -- roll counts it (rum.vital_samples, migrations 0140, 0150, 0240)
        SELECT CAST(arrayMap(p -> dims[p], {set:Array(UInt8)}), 'Array(String)') AS vals,
               metric, toUInt32(countIf(ok)) AS samples, toUInt32(countIf(NOT ok)) AS outliers,
               toUInt64(sumIf(w, ok)) AS wt, toUInt64(sumIf(w, past_good)) AS above_good_w,
               toUInt64(sumIf(w, past_poor)) AS above_poor_w
        FROM rum.vital_samples(site = {site:String}, from_ms = {from_ms:Int64},
                               until_ms = {until_ms:Int64}, hole_from_ms = {hole_from_ms:Int64},
                               hole_until_ms = {rolled_until_ms:Int64},
                               metrics = ['lcp', 'inp', 'cls', 'fcp', 'ttfb'],
                               caps = {caps:Array(Float64)}, goods = {goods:Array(Float64)},
                               poors = {poors:Array(Float64)}, scales = {scales:Array(Float64)},
                               grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
        GROUP BY vals, metric
    )
SELECT if({at1:UInt8} = 0, '', vals[greatest({at1:UInt8}, 1)]) AS g1,
       if({at2:UInt8} = 0, '', vals[greatest({at2:UInt8}, 1)]) AS g2, metric,
       sum(samples) AS samples, sum(outliers) AS outliers, sum(wt) AS weight,
       (weight - sum(above_good_w)) / weight AS good,
       (sum(above_good_w) - sum(above_poor_w)) / weight AS needs_improvement,
       sum(above_poor_w) / weight AS poor
FROM cells
GROUP BY g1, g2, metric
HAVING samples > 0
ORDER BY indexOf(['lcp', 'inp', 'cls', 'fcp', 'ttfb'], metric), g1, g2
