-- segment_vitals_rolled: segment_vitals.sql for the groupings the segments rollup keeps
-- (queries/analytics.py picks it when rollups/segments.py GROUPINGS has the question's
-- dimensions): the same question and output, from rolled hours and the raw rest.
--
-- Parameters: site, metric, d1, d2 as segment_vitals.sql; the window as the rollup's
--   coverage gives it (rollups/coverage.py): from_ms, until_ms Int64 (a window of 6 h or
--   more starts at the top of its first hour), first_ms, rolled_until_ms Int64 and rolls
--   Array(UInt64) (the hours the rollup answers and the roll of each); grid_ratio,
--   grid_last and the metrics' caps, goods, poors, scales (rollups/segments.py
--   METRIC_PARAMS); set Array(UInt8): the grouping, at1, at2 UInt8: where d1 and d2 sit in
--   a segment's values (0 = no such dimension; rollups/segments.py `grouping`).
--
-- Output: as segment_vitals.sql. The counts (samples, outliers, above_good, the good /
-- needs improvement / poor shares, the totals) are exact; the percentiles (p50, p75, p95
-- weighted by sample_weight, and the grid of unweighted quantiles 0.50-0.95) come from
-- the merged histogram: the bucket holding the element quantileExact(Weighted) would
-- pick (2% wide), and a place inside it by that element's rank among the bucket's.
-- Rolled hours are deduplicated (FINAL), and so is the raw rest (rum.vital_samples).
WITH
    cells AS (
        -- the hours the rollup covers, only the roll in use of each (rolls[1]: first hour's;
        -- a whole UTC day's rows, stamped a second past midnight, take its first
        -- hour's place and its other hours' are 0: rollups/coverage.py)
        SELECT vals, samples, outliers, above_good, above_poor, buckets, counts, weights
        FROM rum.segments_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          AND metric = {metric:String} AND set = {set:Array(UInt8)}
          AND hour >= fromUnixTimestamp64Milli({first_ms:Int64}, 'UTC')
          AND hour < fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
          AND roll = {rolls:Array(UInt64)}[
              intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {first_ms:Int64}, 3600000) + 1]
        UNION ALL
        -- the raw rest: the window but the rolled hours, each page view counted as the
        -- roll counts it (rum.vital_samples, migration 0140), one row per segment and bucket
        SELECT CAST(arrayMap(p -> dims[p], {set:Array(UInt8)}), 'Array(String)') AS vals,
               toUInt32(countIf(ok)) AS samples, toUInt32(countIf(NOT ok)) AS outliers,
               toUInt32(countIf(past_good)) AS above_good,
               toUInt32(countIf(past_poor)) AS above_poor,
               [bucket] AS buckets, [samples] AS counts, [toUInt64(sumIf(w, ok))] AS weights
        FROM rum.vital_samples(site = {site:String}, from_ms = {from_ms:Int64},
                               until_ms = {until_ms:Int64}, hole_from_ms = {hole_from_ms:Int64},
                               hole_until_ms = {rolled_until_ms:Int64}, metrics = [{metric:String}],
                               caps = {caps:Array(Float64)}, goods = {goods:Array(Float64)},
                               poors = {poors:Array(Float64)}, scales = {scales:Array(Float64)},
                               grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
        GROUP BY vals, bucket
    ),
    segments AS (
        SELECT if({at1:UInt8} = 0, '', vals[greatest({at1:UInt8}, 1)]) AS g1,
               if({at2:UInt8} = 0, '', vals[greatest({at2:UInt8}, 1)]) AS g2,
               sum(samples) AS samples, sum(outliers) AS outliers,
               sum(above_good) AS above_good, sum(above_poor) AS above_poor,
               sumMap(buckets, counts, weights) AS h
        FROM cells
        GROUP BY g1, g2
    ),
    placed AS (
        -- a rank's value: its bucket b (the first whose cumulative count reaches the rank),
        -- placed inside it by the rank's position among the bucket's (bucket 0 is [0, 1),
        -- bucket b >= 1 is [ratio^(b-1), ratio^b)), back to the metric's unit
        SELECT g1, g2, samples, outliers, above_good, above_poor,
               h.1 AS b, h.2 AS n, h.3 AS w, arrayCumSum(n) AS cn, arrayCumSum(w) AS cw,
               {scales:Array(Float64)}[indexOf(['lcp', 'inp', 'cls', 'fcp', 'ttfb'], {metric:String})]
                   AS scale,
               if({metric:String} = 'cls', 4, 1) AS digits,
               -- quantileExactWeighted's rank: the first value whose cumulative weight
               -- reaches ceil(level x total); quantileExact's: floor(level x n) + 1
               arrayMap(l -> greatest(1, ceil(l * cw[-1])), [0.5, 0.75, 0.95]) AS w_ranks,
               arrayMap(r -> arrayFirstIndex(c -> c >= r, cw), w_ranks) AS w_at,
               arrayMap((r, i) -> if(b[i] = 0, (r - cw[i] + w[i] - 0.5) / w[i],
                                     pow({grid_ratio:Float64}, b[i] - 1 + (r - cw[i] + w[i] - 0.5) / w[i]))
                                  / scale, w_ranks, w_at) AS q,
               arrayMap(l -> toUInt64(floor(l * samples)) + 1, arrayMap(x -> x / 100, range(50, 96)))
                   AS n_ranks,
               arrayMap(r -> arrayFirstIndex(c -> c >= r, cn), n_ranks) AS n_at,
               arrayMap((r, i) -> if(b[i] = 0, (r - cn[i] + n[i] - 0.5) / n[i],
                                     pow({grid_ratio:Float64}, b[i] - 1 + (r - cn[i] + n[i] - 0.5) / n[i]))
                                  / scale, n_ranks, n_at) AS grid
        FROM segments
    )
SELECT
    g1, g2, samples, outliers,
    if(samples = 0, [0., 0., 0.], arrayMap(v -> round(v, digits), q)) AS q,
    q[1] AS p50, q[2] AS p75, q[3] AS p95,
    (samples - above_good) / greatest(samples, 1) AS good,
    (above_good - above_poor) / greatest(samples, 1) AS needs_improvement,
    above_poor / greatest(samples, 1) AS poor,
    above_good,
    if(samples = 0, [], arrayMap(v -> round(v, digits), grid)) AS grid,
    sum(samples) OVER () AS total_samples,
    sum(above_good) OVER () AS total_above_good
FROM placed
ORDER BY p75 DESC, g1, g2
