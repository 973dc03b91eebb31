-- vitals_timeseries_rolled: vitals_timeseries.sql for buckets of a multiple of the series
-- rollup's 10-minute slice (queries/timeseries.py picks it once an hour of the window is
-- rolled): the same question and output, from rolled hours (rum.series_hourly, migration
-- 0170) and the raw rest, each page view counted as rum.series_samples counts it. The
-- counts (samples, lcp_samples, lcp_weight) and the good / needs improvement / poor shares
-- are exact; each p75 (weighted) comes from the merged histogram: the bucket holding the
-- value quantileExactWeighted would pick (2% wide, rollups/grid.py), and a place inside it
-- by that value's rank among the bucket's weight, as slow-segments' rolled answer.
--
-- Parameters: site, bucket_s, device, country, region, good, poor, lcp_cap, inp_cap,
--   cls_cap, ttfb_cap as vitals_timeseries.sql (rollups/tables.py SERIES_PARAMS holds the
--   same caps and thresholds); the window as the rollup's coverage gives it
--   (rollups/coverage.py): from_ms, until_ms Int64 (a window of 6 h or more starts at the
--   top of its first hour), first_ms, rolled_until_ms Int64 and rolls Array(UInt64) (the
--   hours the rollup answers and the roll of each); grid_ratio Float64, grid_last UInt16;
--   set UInt8: the rows of the filters given (rollups/tables.py `series_set`).
--
-- Output: as vitals_timeseries.sql (p75s rounded to 0.1 ms, CLS to 4 digits).
WITH
    cells AS (
        -- the hours the rollup covers, only the roll in use of each (rolls[1]: first hour's)
        SELECT t, toString(metric) AS metric, samples, above_good_w AS gw, above_poor_w AS pw,
               buckets, weights
        FROM rum.series_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          -- series_hourly.metric: the column (its key), not the String alias above
          AND series_hourly.metric != 'mark' AND set = {set:UInt8}
          AND hour >= fromUnixTimestamp64Milli({first_ms:Int64}, 'UTC')
          AND hour < fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
          AND roll = {rolls:Array(UInt64)}[
              intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {first_ms:Int64}, 3600000) + 1]
          AND ({device:String} = '' OR device_class = {device:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({region:String} = '' OR region = {region:String})
        UNION ALL
        -- the raw rest: the window but the rolled hours, per slice, metric and bucket
        SELECT t, metric, toUInt32(count()) AS samples, sumIf(w, past_good) AS gw,
               sumIf(w, past_poor) AS pw, [bucket] AS buckets, [sum(w)] AS weights
        FROM rum.series_samples(site = {site:String}, from_ms = {from_ms:Int64},
                                until_ms = {until_ms:Int64}, hole_from_ms = {hole_from_ms:Int64},
                                hole_until_ms = {rolled_until_ms:Int64}, lcp_cap = {lcp_cap:Float64},
                                inp_cap = {inp_cap:Float64}, cls_cap = {cls_cap:Float64},
                                ttfb_cap = {ttfb_cap:Float64}, good = {good:Float64},
                                poor = {poor:Float64}, grid_ratio = {grid_ratio:Float64},
                                grid_last = {grid_last:UInt16})
        WHERE ({device:String} = '' OR device_class = {device:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({region:String} = '' OR region = {region:String})
        GROUP BY t, metric, bucket
    ),
    placed AS (
        -- per bucket of the answer and metric: the merged histogram, and the weighted p75
        -- (quantileExactWeighted's: the first value whose cumulative weight reaches
        -- ceil(0.75 x total)) placed inside its grid bucket by its rank there (bucket 0 is
        -- [0, 1), bucket b >= 1 is [ratio^(b-1), ratio^b)), back to the metric's unit
        SELECT tb, metric, n, g, p, h.1 AS b, h.2 AS w, arrayCumSum(w) AS cw, cw[-1] AS total,
               greatest(1, ceil(0.75 * total)) AS rank, arrayFirstIndex(c -> c >= rank, cw) AS at,
               round(if(b[at] = 0, (rank - cw[at] + w[at] - 0.5) / w[at],
                        pow({grid_ratio:Float64}, b[at] - 1 + (rank - cw[at] + w[at] - 0.5) / w[at]))
                     / if(metric = 'cls', 1000, 1), if(metric = 'cls', 4, 1)) AS p75
        FROM (
            SELECT intDiv(toUnixTimestamp(t), {bucket_s:UInt32}) * {bucket_s:UInt32} AS tb, metric,
                   sum(samples) AS n, sum(gw) AS g, sum(pw) AS p, sumMap(buckets, weights) AS h
            FROM cells
            GROUP BY tb, metric
        )
    )
SELECT
    tb AS t,
    sumIf(n, metric = 'views') AS samples,
    sumIf(n, metric = 'lcp') AS lcp_samples,
    if(lcp_samples = 0, NULL, anyIf(p75, metric = 'lcp')) AS lcp_p75,
    if(sumIf(n, metric = 'inp') = 0, NULL, anyIf(p75, metric = 'inp')) AS inp_p75,
    if(sumIf(n, metric = 'cls') = 0, NULL, anyIf(p75, metric = 'cls')) AS cls_p75,
    if(sumIf(n, metric = 'ttfb') = 0, NULL, anyIf(p75, metric = 'ttfb')) AS ttfb_p75,
    sumIf(total, metric = 'lcp') AS lcp_weight,
    if(lcp_samples = 0, NULL, (lcp_weight - sumIf(g, metric = 'lcp')) / lcp_weight) AS good,
    if(lcp_samples = 0, NULL, (sumIf(g, metric = 'lcp') - sumIf(p, metric = 'lcp')) / lcp_weight)
        AS needs_improvement,
    if(lcp_samples = 0, NULL, sumIf(p, metric = 'lcp') / lcp_weight) AS poor
FROM placed
GROUP BY tb
HAVING samples > 0
ORDER BY t
