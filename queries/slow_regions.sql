-- slow_regions: which countries and regions are slow for real users?
--
-- Answers: p75 and p95 of LCP, INP and TTFB per country, and per
-- country + region, over a time window, for segments with enough samples;
-- `flagged` when some p75 is past its Core Web Vitals "good" threshold
-- (LCP 2500 ms, INP 200 ms, TTFB 800 ms) with confidence: the lower bound of its
-- distribution-free 95% interval (order statistic of rank n x (0.75 - 1.96 x
-- sqrt(0.75 x 0.25 / n)), read at its bucket's lower edge) is past it, with enough
-- samples of that metric (as slow-segments flags a segment); `slow_metrics` names them.
--
-- Parameters:
--   site         String   site key; '' = every site
--   from_ms      Int64    window start, epoch milliseconds (inclusive)
--   until_ms     Int64    window end, epoch milliseconds (exclusive)
--   min_samples  UInt32   a segment needs this many page views with an LCP
--   first_ms, rolled_until_ms Int64, rolls Array(UInt64): the part of the window the
--                         hourly rollup answers, [first_ms, rolled_until_ms), and the roll
--                         to read for each of its hours (rollups/coverage.py `coverage`
--                         picks them; first_ms = rolled_until_ms and [] = none)
--   grid_ratio   Float64, grid_last UInt16: the histogram grid (rollups/grid.py PARAMS,
--                         which `coverage` adds)
--
-- Output, one row per segment, slowest LCP p75 first:
--   level ('country' | 'region'), country (ISO 3166-1 alpha-2, '' = unknown),
--   region (ISO 3166-2 subdivision code, '' on country rows),
--   samples (page views with LCP), lcp_p75, lcp_p95 (ms),
--   inp_samples, inp_p75, inp_p95 (ms), ttfb_samples, ttfb_p75, ttfb_p95 (ms),
--   slow_metrics (Array(String): the metrics among 'lcp', 'inp', 'ttfb' whose p75 is past
--   'good' with confidence), flagged (Bool: slow_metrics is not empty)
--
-- Bots are excluded; each event counts once (rum.events FINAL). Percentiles come from
-- histograms on the grid of rollups/grid.py (600 buckets, 2% wide: bucket 0 = [0, 1) ms,
-- bucket b = [ratio^(b-1), ratio^b) ms, the last one open-ended): the bucket holding the element quantileExact would pick,
-- and a place inside it by that element's rank among the bucket's values, so within 1% of
-- quantileExact.
-- Whole hours come from the hourly rollup rum.vitals_hourly (rollups/) where it
-- has rolled them (whole UTC days from its day rows, where it has added them up); the
-- rest of the window (the hour being filled since its last roll, a short window's
-- edges, hours not rolled yet) is bucketed from raw events the same way,
-- so the answer is the same with or without the rollup. `rum report slow-regions` and the
-- API start a window of 6 h or more at the top of its first hour (the rollup's grain), so
-- such a window may cover up to an hour more than asked.
WITH
    2500 AS lcp_good, 200 AS inp_good, 800 AS ttfb_good,
    hist AS (
        -- the hours the rollup covers, only the roll in use of each (rolls[1]: first hour's;
        -- a whole UTC day's rows, stamped a second past midnight, take its first
        -- hour's place and its other hours' are 0: rollups/coverage.py)
        SELECT country, region, toString(metric) AS metric, counts
        FROM rum.vitals_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          -- vitals_hourly.metric: the column (its key), not the String alias above
          AND vitals_hourly.metric IN ('lcp', 'inp', 'ttfb')
          AND hour >= fromUnixTimestamp64Milli({first_ms:Int64}, 'UTC')
          AND hour < fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
          AND roll = {rolls:Array(UInt64)}[
              intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {first_ms:Int64}, 3600000) + 1]
        UNION ALL
        -- the rest of the window from raw page views, bucketed as rollups/sql/vitals_roll.sql does
        SELECT country, region, metric,
               arrayConcat(arrayWithConstant(filled.1[1], toUInt32(0)),
                           arrayMap(x -> toUInt32(x), filled.2),
                           arrayWithConstant({grid_last:UInt16} - filled.1[-1], toUInt32(0))) AS counts
        FROM (
            SELECT country, region, metric,
                   mapPopulateSeries(groupArray(bucket), groupArray(c)) AS filled
            FROM (
                SELECT country, region, m.1 AS metric,
                       least({grid_last:UInt16}, if(m.2 < 1, 0, toUInt16(1 + floor(log(m.2) / log({grid_ratio:Float64})))))
                           AS bucket,
                       count() AS c
                FROM rum.events FINAL
                ARRAY JOIN [('lcp', lcp), ('inp', inp), ('ttfb', ttfb)] AS m
                WHERE ({site:String} = '' OR site = {site:String})
                  AND kind = 'pageview' AND is_bot = 0 AND m.2 IS NOT NULL
                  AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
                  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
                  AND (ts < fromUnixTimestamp64Milli({hole_from_ms:Int64}, 'UTC')
                       OR ts >= fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC'))
                  -- (the rest's start, said so the primary key sees it: migration 0240)
                  AND ts >= fromUnixTimestamp64Milli(if({hole_from_ms:Int64} <= {from_ms:Int64},
                                                        greatest({from_ms:Int64}, {rolled_until_ms:Int64}),
                                                        {from_ms:Int64}), 'UTC')
                GROUP BY country, region, metric, bucket
            )
            GROUP BY country, region, metric
        )
    ),
    per_metric AS (
        -- each region's histogram over the window's hours first, then both levels from
        -- those (GROUPING SETS): a 7-day window's 168 hourly rows per region are added up
        -- once, not once per level (its SQL: 239-288 -> 136-195 ms over 7 days, bench/RESULTS.md)
        SELECT if(grouping(region) = 1, 'country', 'region') AS level,
               country, if(grouping(region) = 1, '', region) AS seg_region, metric,
               sumForEach(rh) AS h
        FROM (SELECT country, region, metric, sumForEach(counts) AS rh FROM hist
              GROUP BY country, region, metric)
        GROUP BY GROUPING SETS ((country, metric), (country, region, metric))
        HAVING level = 'country' OR seg_region != ''
    ),
    percentiles AS (
        -- p75 and p95 as quantileExact picks them (the element of rank floor(q x n) + 1),
        -- found in its bucket (h[i] is bucket i - 1) and placed inside it by its rank
        -- among the bucket's values
        SELECT level, country, seg_region, metric,
               arrayCumSum(h) AS cum, cum[-1] AS count,
               arrayMap(q -> toUInt64(floor(q * count)) + 1, [0.75, 0.95]) AS ranks,
               arrayMap(r -> arrayFirstIndex(c -> c >= r, cum), ranks) AS at,
               arrayMap((r, i) -> round(if(i = 1, (r - cum[i] + h[i] - 0.5) / h[i],
                            pow({grid_ratio:Float64}, i - 2 + (r - cum[i] + h[i] - 0.5) / h[i])), 1),
                        ranks, at) AS q,
               -- the p75's 95% lower bound: the lower edge of the bucket of its rank (0
               -- when the level is not above 0: too few samples)
               0.75 - 1.959963984540054 * sqrt(0.75 * 0.25 / greatest(count, 1)) AS low_level,
               arrayFirstIndex(c -> c >= toUInt64(floor(low_level * count)) + 1, cum) AS low_at,
               if(low_level <= 0 OR low_at <= 1, 0, pow({grid_ratio:Float64}, low_at - 2)) AS p75_low
        FROM per_metric
    )
SELECT
    level, country, seg_region AS region,
    sumIf(count, metric = 'lcp') AS samples,
    anyIf(q[1], metric = 'lcp') AS lcp_p75, anyIf(q[2], metric = 'lcp') AS lcp_p95,
    sumIf(count, metric = 'inp') AS inp_samples,
    if(inp_samples = 0, NULL, anyIf(q[1], metric = 'inp')) AS inp_p75,
    if(inp_samples = 0, NULL, anyIf(q[2], metric = 'inp')) AS inp_p95,
    sumIf(count, metric = 'ttfb') AS ttfb_samples,
    if(ttfb_samples = 0, NULL, anyIf(q[1], metric = 'ttfb')) AS ttfb_p75,
    if(ttfb_samples = 0, NULL, anyIf(q[2], metric = 'ttfb')) AS ttfb_p95,
    arrayFilter(m -> m != '', [
        if(anyIf(p75_low, metric = 'lcp') > lcp_good, 'lcp', ''),
        if(inp_samples >= {min_samples:UInt32} AND anyIf(p75_low, metric = 'inp') > inp_good,
           'inp', ''),
        if(ttfb_samples >= {min_samples:UInt32} AND anyIf(p75_low, metric = 'ttfb') > ttfb_good,
           'ttfb', '')]) AS slow_metrics,
    toBool(notEmpty(slow_metrics)) AS flagged
FROM percentiles
GROUP BY level, country, seg_region
HAVING samples >= {min_samples:UInt32}
ORDER BY lcp_p75 DESC, level, country, region
