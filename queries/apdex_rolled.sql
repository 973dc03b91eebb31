-- apdex_rolled: apdex.sql for the groupings the segments rollup keeps, with T the LCP
-- "good" threshold (the default; queries/experience.py picks it then): the same question
-- and output, from rolled hours and the raw rest. Every figure is exact: the rollup keeps
-- per segment and metric the samples, outliers, their summed weights and squared
-- weights, and the summed weights past the good threshold, the poor one and four times
-- the good one (migration 0150), which is all Apdex and the experience score ask.
--
-- Parameters: site, d1, d2 as apdex.sql; the window as the rollup's coverage gives it
--   (rollups/coverage.py): from_ms, until_ms Int64 (a window of 6 h or more starts at the
--   top of its first hour), first_ms, rolled_until_ms Int64 and rolls Array(UInt64) (the
--   hours the rollup answers and the roll of each); the metrics' caps, goods, poors,
--   scales and the grid (rollups/segments.py METRIC_PARAMS: the raw rest is counted by
--   rum.vital_samples, as the roll counts it); set Array(UInt8), at1, at2 UInt8: the
--   grouping and where d1 and d2 sit in a segment's values (rollups/segments.py `grouping`).
--
-- Output: as apdex.sql.
WITH
    cells AS (
        -- the hours the rollup covers, only the roll in use of each (rolls[1]: first hour's;
        -- a whole UTC day's rows, stamped a second past midnight, take its first
        -- hour's place and its other hours' are 0: rollups/coverage.py)
        SELECT vals, toString(metric) AS metric, samples, outliers, arraySum(weights) AS weight, weight_sq,
               above_good_w, above_poor_w, above_4good_w
        FROM rum.segments_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          -- segments_hourly.metric: the column (its key), not the String alias above
          AND segments_hourly.metric IN ('lcp', 'inp', 'cls') AND set = {set:Array(UInt8)}
          AND hour >= fromUnixTimestamp64Milli({first_ms:Int64}, 'UTC')
          AND hour < fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
          AND roll = {rolls:Array(UInt64)}[
              intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {first_ms:Int64}, 3600000) + 1]
        UNION ALL
        -- the raw rest: the window but the rolled hours, each page view counted as the
        -- roll counts it (rum.vital_samples, migrations 0140 and 0150)
        SELECT CAST(arrayMap(p -> dims[p], {set:Array(UInt8)}), 'Array(String)') AS vals,
               metric,
               toUInt32(countIf(ok)) AS samples, toUInt32(countIf(NOT ok)) AS outliers,
               toUInt64(sumIf(w, ok)) AS weight, toUInt64(sumIf(w * w, ok)) AS weight_sq,
               toUInt64(sumIf(w, past_good)) AS above_good_w,
               toUInt64(sumIf(w, past_poor)) AS above_poor_w,
               toUInt64(sumIf(w, past_4good)) AS above_4good_w
        FROM rum.vital_samples(site = {site:String}, from_ms = {from_ms:Int64},
                               until_ms = {until_ms:Int64}, hole_from_ms = {hole_from_ms:Int64},
                               hole_until_ms = {rolled_until_ms:Int64}, metrics = ['lcp', 'inp', 'cls'],
                               caps = {caps:Array(Float64)}, goods = {goods:Array(Float64)},
                               poors = {poors:Array(Float64)}, scales = {scales:Array(Float64)},
                               grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
        GROUP BY vals, metric
    ),
    segments AS (
        -- per segment and metric: n samples, o outliers, their weight wt and squared
        -- weights wsq, and the weight past good (gw), poor (pw) and four times good (fw)
        SELECT if({at1:UInt8} = 0, '', vals[greatest({at1:UInt8}, 1)]) AS g1,
               if({at2:UInt8} = 0, '', vals[greatest({at2:UInt8}, 1)]) AS g2, metric,
               sum(samples) AS n, sum(outliers) AS o, toFloat64(sum(weight)) AS wt,
               toFloat64(sum(weight_sq)) AS wsq, toFloat64(sum(above_good_w)) AS gw,
               toFloat64(sum(above_poor_w)) AS pw, toFloat64(sum(above_4good_w)) AS fw
        FROM cells
        GROUP BY g1, g2, metric
    )
SELECT
    g1, g2,
    sumIf(n, metric = 'lcp') AS samples,
    sumIf(o, metric = 'lcp') AS outliers,
    sumIf(wt, metric = 'lcp') AS weight,
    sumIf(wsq, metric = 'lcp') AS weight_sq,
    (weight - sumIf(gw, metric = 'lcp')) / weight AS satisfied,
    (sumIf(gw, metric = 'lcp') - sumIf(fw, metric = 'lcp')) / weight AS tolerating,
    sumIf(fw, metric = 'lcp') / weight AS frustrated,
    satisfied + tolerating / 2 AS apdex,
    satisfied AS lcp_good,
    (sumIf(gw, metric = 'lcp') - sumIf(pw, metric = 'lcp')) / weight AS lcp_ni,
    sumIf(n, metric = 'inp') AS inp_samples,
    if(inp_samples = 0, NULL, (sumIf(wt, metric = 'inp') - sumIf(gw, metric = 'inp'))
                              / sumIf(wt, metric = 'inp')) AS inp_good,
    if(inp_samples = 0, NULL, (sumIf(gw, metric = 'inp') - sumIf(pw, metric = 'inp'))
                              / sumIf(wt, metric = 'inp')) AS inp_ni,
    sumIf(n, metric = 'cls') AS cls_samples,
    if(cls_samples = 0, NULL, (sumIf(wt, metric = 'cls') - sumIf(gw, metric = 'cls'))
                              / sumIf(wt, metric = 'cls')) AS cls_good,
    if(cls_samples = 0, NULL, (sumIf(gw, metric = 'cls') - sumIf(pw, metric = 'cls'))
                              / sumIf(wt, metric = 'cls')) AS cls_ni
FROM segments
GROUP BY g1, g2
HAVING samples > 0
ORDER BY apdex, g1, g2
