-- revenue_by_speed_rolled: revenue_by_speed.sql for a window the session rollup covers
-- whole (queries/revenue.py picks it): the same question, parameters and output, read
-- from the rollup's sums alone.
--
-- Parameters: as revenue_by_speed.sql, with from_ms = first_ms and until_ms =
--   rolled_until_ms (no raw rest); d1, d2 among '' and the dimensions of the set `dset`
--   (rollups/tables.py SESSION_SETS, `session_set`).
--
-- Output: as revenue_by_speed.sql, one row per segment and LCP bucket.
--
-- One read of rum.sessions_hourly (migrations 0090, 0210), the rows of set `dset`: the
-- 'agg' sums of the window's sessions (rows of from_hour = the window's first hour, and
-- of later from_hour the sessions first seen then; a whole UTC day's row, from_hour its
-- midnight, holds the day's sessions: rollups/sql/sessions_day_roll.sql), and the 'views'
-- histograms of its page views, both grouped per segment and bucket ('views' rows are
-- bucket 0; their histogram is the segment's, summed over its buckets). The roll has
-- merged each session over the hours it was seen in, so no session is merged here, and the
-- answer equals revenue_by_speed.sql's (tests/queries/test_session_rollup.py).
SELECT
    g1, g2, bucket,
    toUInt64(sessions) AS sessions, toUInt64(converted) AS converted, toUInt64(orders) AS orders,
    revenue, revenue_sq, weighted_sessions, weighted_revenue, currencies,
    round(lcp_sum / sessions, 1) AS mean_lcp,
    -- p75 as quantileExact picks it (the element of rank floor(0.75 x n) + 1), found in its
    -- bucket (h[i] is bucket i - 1) and placed inside it by its rank there
    round(if(at = 1, (rank - cum[1] + h[1] - 0.5) / h[1],
             pow({grid_ratio:Float64}, at - 2 + (rank - cum[at] + h[at] - 0.5) / h[at])), 1) AS p75_lcp,
    pageviews,
    round(arraySum(arraySlice(h, tb + 1)) + h[tb] * share) AS above_threshold,
    ({until_ms:Int64} - {from_ms:Int64}) / 1000 AS span_s
FROM (
    SELECT g1, g2, bucket, sessions, converted, orders, revenue, revenue_sq,
           weighted_sessions, weighted_revenue, lcp_sum,
           arrayDistinct(arrayFlatten(groupArray(bucket_currencies) OVER seg)) AS currencies,
           sumForEach(bucket_counts) OVER seg AS h, arrayCumSum(h) AS cum, cum[-1] AS pageviews,
           toUInt64(floor(0.75 * pageviews)) + 1 AS rank,
           arrayFirstIndex(c -> c >= rank, cum) AS at,
           -- the threshold's bucket (1-based index into h) and the share of it past it
           toUInt32(least({grid_last:UInt16}, 1 + floor(log({threshold:Float64}) / log({grid_ratio:Float64})))) + 1 AS tb,
           (pow({grid_ratio:Float64}, tb - 1) - {threshold:Float64})
               / (pow({grid_ratio:Float64}, tb - 1) - pow({grid_ratio:Float64}, tb - 2))
               AS share
    FROM (
        SELECT multiIf({d1:String} = 'country', country, {d1:String} = 'region', region,
                       {d1:String} = 'device_class', device_class, {d1:String} = 'browser', browser,
                       {d1:String} = 'os', os, {d1:String} = 'connection_type', connection_type, '') AS g1,
               multiIf({d2:String} = 'country', country, {d2:String} = 'region', region,
                       {d2:String} = 'device_class', device_class, {d2:String} = 'browser', browser,
                       {d2:String} = 'os', os, {d2:String} = 'connection_type', connection_type, '') AS g2,
               bucket, sum(sessions) AS sessions, sum(converted) AS converted,
               sum(orders) AS orders, sum(revenue) AS revenue, sum(revenue_sq) AS revenue_sq,
               sum(w) AS weighted_sessions, sum(w_revenue) AS weighted_revenue,
               sum(lcp_sum) AS lcp_sum, groupUniqArrayArray(currencies) AS bucket_currencies,
               sumForEach(counts) AS bucket_counts
        FROM rum.sessions_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          AND hour >= toDateTime(intDiv({first_ms:Int64}, 1000), 'UTC')
          AND hour < toDateTime(intDiv({rolled_until_ms:Int64} + 999, 1000), 'UTC')
          AND roll IN {rolls:Array(UInt64)} AND dset = {dset:UInt8}
          AND (part = 'views'
               OR (part = 'agg'
                   AND (from_hour = toDateTime(intDiv({first_ms:Int64}, 1000), 'UTC')
                        OR (from_hour > toDateTime(intDiv({first_ms:Int64}, 1000), 'UTC')
                            AND NOT carried))))
        GROUP BY g1, g2, bucket
    )
    WINDOW seg AS (PARTITION BY g1, g2)
)
WHERE sessions > 0
ORDER BY g1, g2, bucket
