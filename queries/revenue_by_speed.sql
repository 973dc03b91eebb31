-- revenue_by_speed: how do sessions of each segment convert, and spend, at each speed?
--
-- Answers, per segment (one or two session-level dimensions, or none) and LCP bucket
-- (0-1 s, 1-2 s, ..., 5-6 s, 6 s+; a session's LCP is the p75 of its page views'
-- LCP, as quantileExact): sessions, converting sessions, orders and revenue from
-- kind = 'conversion' rows of the same session, observed and weighted by sample_weight,
-- with the segment's p75 LCP over page views. The input of revenue-impact (observed
-- what-if and modelled prior) and conversion-by-speed in queries/revenue.py;
-- docs/analytics.md explains the model.
--
-- Parameters:
--   site String ('' = all), from_ms Int64, until_ms Int64 (window, epoch ms),
--   d1, d2 String: segment dimensions, as in rum.segmented_events ('' = none),
--   threshold Float64: the LCP "good" threshold (ms) the segment is judged by,
--   cap Float64: LCP values past it (ms) are outliers, left out,
--   first_ms, rolled_until_ms Int64, rolls Array(UInt64): the part of the window the
--     session rollup answers, [first_ms, rolled_until_ms), and the roll to read for each
--     of its hours (rollups/coverage.py `coverage` with SESSIONS; first_ms =
--     rolled_until_ms and [] = none; only for d1, d2 among '' and the dimensions of one
--     set of rollups/tables.py SESSION_SETS), dset UInt8: that set (`session_set`; 0
--     when nothing is rolled).
--   grid_ratio Float64, grid_last UInt16: the histogram grid (rollups/grid.py PARAMS, which
--     `coverage` adds).
--
-- Output, one row per segment and bucket: g1, g2, bucket (0-6: LCP from bucket * 1000 ms),
--   sessions (sessions with an LCP), converted (sessions with a conversion), orders
--   (conversion events), revenue (sum of conversion_value, site currency), revenue_sq
--   (sum over sessions of the session's revenue squared, for the variance),
--   weighted_sessions, weighted_revenue (the same weighted by sample_weight),
--   currencies (the currency codes seen in the segment), mean_lcp (mean session LCP in the bucket, ms),
--   p75_lcp (segment's p75 LCP of page views, ms), pageviews (page views with an LCP in
--   the segment), above_threshold (those with LCP past `threshold`), span_s (the seconds
--   the window covers: from_ms to until_ms).
-- Sessions with a conversion but no page view with an LCP cannot be bucketed and are
-- left out. A session is a site's session id on one UTC day (it ends at midnight, as
-- Universal Analytics' sessions did: the rollup's work per session grows with the square
-- of the hours it spans, and a tab left open for days keeps its id), cut at the window's
-- edges (only its events inside count), and counts, whole, in the segment of its earliest
-- event in the window (ties broken by event id: argMin over rumEventOrder, migration 0230).
--
-- Page views' p75 and share past the threshold come from histograms on the grid of
-- rollups/grid.py (as slow-regions; unweighted): p75 within 1% of quantileExact, the threshold's
-- own bucket split in proportion to where the threshold falls in it.
-- Whole hours come from the rollup rum.sessions_hourly where it has rolled them
-- (migration 0090): per hour, signed sums that hold each session once as a window
-- starting at a given hour sees it, merged over the hours it was seen in up to its last
-- (the roll does the merging). A session the raw rest of the window has too is merged
-- here from its rolled pieces and its raw events instead, and its share of the sums
-- taken back out (the rest is cut into pieces as the roll cuts an hour). So the answer
-- is the one the raw events give. A window the rolls cover whole is answered by
-- revenue_by_speed_rolled.sql, which reads the sums alone. Sessions are matched by
-- cityHash64(session_id, day) (two ids colliding merge: odds ~3e-8 among a million sessions,
-- ~2e-5 among 30 million). A window of 6 h or more starts at the top of its first hour.
WITH
    rolled AS (
        -- the rollup's rows of the hours it covers, only the roll in use of each (a roll id
        -- is one hour's, or one whole UTC day's: ids are unique per INSERT; a day's rows hold
        -- no piece, and the raw rest has no session of a whole day, sessions ending at midnight)
        SELECT multiIf({d1:String} = 'country', country, {d1:String} = 'region', region,
                       {d1:String} = 'device_class', device_class, {d1:String} = 'browser', browser,
                       {d1:String} = 'os', os, {d1:String} = 'connection_type', connection_type, '') AS g1,
               multiIf({d2:String} = 'country', country, {d2:String} = 'region', region,
                       {d2:String} = 'device_class', device_class, {d2:String} = 'browser', browser,
                       {d2:String} = 'os', os, {d2:String} = 'connection_type', connection_type, '') AS g2,
               site, hour, part, bucket, sess, sessions, converted, orders, revenue, revenue_sq,
               w, w_revenue, lcp_sum, lcps, currencies, counts, from_hour, carried
        FROM rum.sessions_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          AND hour >= toDateTime(intDiv({first_ms:Int64}, 1000), 'UTC')
          AND hour < toDateTime(intDiv({rolled_until_ms:Int64} + 999, 1000), 'UTC')
          AND roll IN {rolls:Array(UInt64)}
          -- the pieces (kept with every dimension), and the sums and histograms of the set
          AND (part = 'session' OR dset = {dset:UInt8})
    ),
    rest AS (
        -- the raw events of the window the rollup does not cover (segments as in
        -- rum.segmented_events, read directly: the view costs ~7 ms of planning a read)
        SELECT multiIf({d1:String} = 'country', country, {d1:String} = 'region', region,
                       {d1:String} = 'city', city, {d1:String} = 'asn', toString(asn),
                       {d1:String} = 'device_class', device_class, {d1:String} = 'browser', browser,
                       {d1:String} = 'os', os, {d1:String} = 'connection_type', connection_type, '') AS g1,
               multiIf({d2:String} = 'country', country, {d2:String} = 'region', region,
                       {d2:String} = 'city', city, {d2:String} = 'asn', toString(asn),
                       {d2:String} = 'device_class', device_class, {d2:String} = 'browser', browser,
                       {d2:String} = 'os', os, {d2:String} = 'connection_type', connection_type, '') AS g2,
               site, session_id, ts, event_id, kind, lcp, conversion_value, currency, sample_weight
        FROM rum.events FINAL
        WHERE is_bot = 0 AND ({site:String} = '' OR site = {site:String})
          AND kind IN ('pageview', 'conversion')
          AND ((ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
                AND ts < fromUnixTimestamp64Milli({hole_from_ms:Int64}, 'UTC'))
               OR (ts >= fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
                   AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')))
    ),
    pieces AS (
        -- the rolled pieces of sessions the raw rest also has (`at`: when the piece
        -- begins, as far as order goes: its hour)
        SELECT site, sess, toDateTime64(hour, 3, 'UTC') AS at, (g1, g2) AS seg, lcps, orders,
               revenue, w, currencies, 1 AS rolled
        FROM rolled
        WHERE part = 'session' AND {rolled_until_ms:Int64} > {first_ms:Int64}
          AND (site, sess) IN (SELECT site, cityHash64(session_id, toDate(ts)) FROM rest)
        UNION ALL
        -- the raw rest cut into pieces as the roll cuts an hour
        SELECT site, cityHash64(session_id, toDate(ts)) AS sess, min(ts) AS at,
               argMin((g1, g2), rumEventOrder(ts, event_id)) AS seg,
               arraySort(groupArrayIf(assumeNotNull(lcp), kind = 'pageview' AND lcp IS NOT NULL
                                      AND lcp <= {cap:Float64})) AS lcps,
               toInt32(countIf(kind = 'conversion')) AS orders,
               sumIf(ifNull(conversion_value, 0), kind = 'conversion') AS revenue,
               max(toFloat64(sample_weight)) AS w,
               groupUniqArrayIf(currency, kind = 'conversion' AND currency != '') AS currencies,
               0 AS rolled
        FROM rest
        GROUP BY site, sess
    ),
    merged AS (
        -- whole sessions from their pieces, in the segment of their earliest piece, and
        -- what the sums hold of them (their rolled pieces merged, in the segment of the
        -- earliest rolled one)
        SELECT argMin(seg, at) AS segment, segment.1 AS g1, segment.2 AS g2,
               arrayReduce('quantileExact(0.75)', groupArrayArray(lcps)) AS session_lcp,
               sum(length(lcps)) AS lcp_views, sum(orders) AS session_orders,
               sum(revenue) AS session_revenue, max(w) AS session_w,
               groupUniqArrayArray(currencies) AS session_currencies,
               groupArrayArrayIf(lcps, rolled = 1) AS held_lcps,
               if(empty(held_lcps), [],
                  [(argMinIf(seg, at, rolled = 1), arrayReduce('quantileExact(0.75)', held_lcps),
                    sumIf(orders, rolled = 1), sumIf(revenue, rolled = 1), maxIf(w, rolled = 1))])
                   AS counted
        FROM pieces
        GROUP BY site, sess
    ),
    buckets AS (
        SELECT c.1.1 AS g1, c.1.2 AS g2, toUInt8(least(6, intDiv(toUInt32(c.2), 1000))) AS bucket,
               sum(c.3) AS sessions, sum(c.3 * (c.4 > 0)) AS converted, sum(c.3 * c.4) AS orders,
               sum(c.3 * c.5) AS revenue, sum(c.3 * c.5 * c.5) AS revenue_sq,
               sum(c.3 * c.6) AS weighted_sessions, sum(c.3 * c.6 * c.5) AS weighted_revenue,
               sum(c.3 * c.2) AS lcp_sum, groupUniqArrayArray(currencies) AS currencies
        FROM (
            -- each merged session (+1) and what the sums hold of it (-1):
            -- (segment, session LCP, sign, orders, revenue, weight)
            SELECT arrayConcat(
                       if(lcp_views > 0, [((g1, g2), toFloat64(session_lcp), 1, toInt64(session_orders),
                                           session_revenue, session_w)], []),
                       arrayMap(p -> (p.1, toFloat64(p.2), -1, toInt64(p.3), p.4, p.5), counted)) AS cs,
                   session_currencies AS currencies
            FROM merged
        )
        ARRAY JOIN cs AS c
        GROUP BY g1, g2, bucket
        UNION ALL
        -- the sums of the rolled hours, as a window starting at its first rolled hour sees
        -- each session
        SELECT g1, g2, bucket, toInt64(sessions), toInt64(converted), toInt64(orders), revenue,
               revenue_sq, w, w_revenue, lcp_sum, currencies
        FROM rolled
        WHERE part = 'agg'
          AND (from_hour = toDateTime(intDiv({first_ms:Int64}, 1000), 'UTC')
               OR (from_hour > toDateTime(intDiv({first_ms:Int64}, 1000), 'UTC') AND NOT carried))
    ),
    views AS (
        -- each segment's page views by LCP: rolled histograms, and the raw rest bucketed
        -- as rollups/sql/sessions_roll.sql does
        SELECT g1, g2, sumForEach(counts) AS h, arrayCumSum(h) AS cum, cum[-1] AS pageviews,
               toUInt64(floor(0.75 * pageviews)) + 1 AS rank,
               arrayFirstIndex(c -> c >= rank, cum) AS at,
               -- the threshold's bucket (1-based index into h) and the share of it past
               -- the threshold
               toUInt32(least({grid_last:UInt16}, 1 + floor(log({threshold:Float64}) / log({grid_ratio:Float64}))))
                   + 1 AS tb,
               (pow({grid_ratio:Float64}, tb - 1) - {threshold:Float64})
                   / (pow({grid_ratio:Float64}, tb - 1) - pow({grid_ratio:Float64}, tb - 2))
                   AS share
        FROM (
            SELECT g1, g2, counts FROM rolled WHERE part = 'views'
            UNION ALL
            SELECT g1, g2,
                   arrayConcat(arrayWithConstant(filled.1[1], toUInt32(0)),
                               arrayMap(x -> toUInt32(x), filled.2),
                               arrayWithConstant({grid_last:UInt16} - filled.1[-1], toUInt32(0))) AS counts
            FROM (
                SELECT g1, g2, mapPopulateSeries(groupArray(bucket), groupArray(c)) AS filled
                FROM (
                    SELECT g1, g2,
                           least({grid_last:UInt16},
                                 if(lcp < 1, 0, toUInt16(1 + floor(log(lcp) / log({grid_ratio:Float64})))))
                               AS bucket,
                           count() AS c
                    FROM rest
                    WHERE kind = 'pageview' AND lcp IS NOT NULL AND lcp <= {cap:Float64}
                    GROUP BY g1, g2, bucket
                )
                GROUP BY g1, g2
            )
        )
        GROUP BY g1, g2
    )
SELECT
    b.g1 AS g1, b.g2 AS g2, b.bucket AS bucket,
    toUInt64(b.sessions) AS sessions, toUInt64(b.converted) AS converted,
    toUInt64(b.orders) AS orders, b.revenue AS revenue, b.revenue_sq AS revenue_sq,
    b.weighted_sessions AS weighted_sessions, b.weighted_revenue AS weighted_revenue,
    b.currencies AS currencies, round(b.lcp_sum / b.sessions, 1) AS mean_lcp,
    -- p75 as quantileExact picks it (the element of rank floor(0.75 x n) + 1), found in
    -- its bucket (h[i] is bucket i - 1) and placed inside it by its rank there
    round(if(views.at = 1, (views.rank - views.cum[1] + views.h[1] - 0.5) / views.h[1],
             pow({grid_ratio:Float64}, views.at - 2
                       + (views.rank - views.cum[views.at] + views.h[views.at] - 0.5)
                       / views.h[views.at])), 1) AS p75_lcp,
    views.pageviews AS pageviews,
    round(arraySum(arraySlice(views.h, views.tb + 1)) + views.h[views.tb] * views.share)
        AS above_threshold,
    ({until_ms:Int64} - {from_ms:Int64}) / 1000 AS span_s
FROM (
    SELECT g1, g2, bucket, sum(sessions) AS sessions, sum(converted) AS converted,
           sum(orders) AS orders, sum(revenue) AS revenue, sum(revenue_sq) AS revenue_sq,
           sum(weighted_sessions) AS weighted_sessions, sum(weighted_revenue) AS weighted_revenue,
           sum(lcp_sum) AS lcp_sum,
           -- per segment: a piece taken back out of one bucket lands in another, with its codes
           arrayDistinct(arrayFlatten(groupArray(groupUniqArrayArray(currencies))
               OVER (PARTITION BY g1, g2))) AS currencies
    FROM buckets
    GROUP BY g1, g2, bucket
    HAVING sessions > 0
) AS b
LEFT JOIN views ON b.g1 = views.g1 AND b.g2 = views.g2
ORDER BY g1, g2, bucket
