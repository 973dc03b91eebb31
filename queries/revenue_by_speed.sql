-- revenue_by_speed: how do sessions of each segment convert, and spend, at each speed?
--
-- Answers, per segment (one or two session-level dimensions, or none) and LCP bucket
-- (0-1 s, 1-2 s, ..., 5-6 s, 6 s+; a session's LCP is the p75 of its page views'
-- LCP): sessions, converting sessions, orders and revenue from kind = 'conversion'
-- rows of the same session, observed and weighted by sample_weight, with the
-- segment's p75 LCP over page views. The input of revenue-impact (observed what-if
-- and modelled prior) in queries/revenue.py; docs/analytics.md explains the model.
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1, d2 String: segment dimensions, as in rum.segmented_events ('' = none),
--   threshold Float64: the LCP "good" threshold (ms) the segment is judged by,
--   cap Float64: LCP values past it (ms) are outliers, left out.
--
-- Output, one row per segment and bucket: g1, g2, bucket (0-6: LCP from bucket * 1000 ms),
--   sessions (sessions with an LCP), converted (sessions with a conversion), orders
--   (conversion events), revenue (sum of conversion_value, site currency), revenue_sq
--   (sum over sessions of the session's revenue squared, for the variance),
--   weighted_sessions, weighted_revenue (the same weighted by sample_weight),
--   currencies (the currency codes seen), mean_lcp (mean session LCP in the bucket, ms),
--   p75_lcp (segment's weighted p75 LCP of page views, ms), pageviews (page views with
--   an LCP in the segment), above_threshold (those with LCP past `threshold`).
-- Sessions with a conversion but no page view with an LCP cannot be bucketed and are
-- left out.
WITH
    sessions AS (
        SELECT
            g1, g2, session_id,
            quantileExactIf(0.75)(lcp, kind = 'pageview' AND lcp_ok) AS session_lcp,
            countIf(kind = 'pageview' AND lcp_ok) AS lcp_views,
            countIf(kind = 'conversion') AS session_orders,
            sumIf(ifNull(conversion_value, 0), kind = 'conversion') AS session_revenue,
            max(toFloat64(sample_weight)) AS w,
            groupUniqArrayIf(currency, kind = 'conversion' AND currency != '') AS currencies
        FROM
        (
            SELECT g1, g2, session_id, kind, lcp, conversion_value, currency, sample_weight,
                   lcp IS NOT NULL AND lcp <= {cap:Float64} AS lcp_ok
            FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
                until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
            WHERE kind IN ('pageview', 'conversion')
        )
        GROUP BY g1, g2, session_id
        HAVING lcp_views > 0
    ),
    views AS (
        SELECT
            g1, g2,
            quantileExactWeighted(0.75)(lcp, toUInt64(greatest(1, round(sample_weight)))) AS p75_lcp,
            count() AS pageviews,
            countIf(lcp > {threshold:Float64}) AS above_threshold
        FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
            until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
        WHERE kind = 'pageview' AND lcp IS NOT NULL AND lcp <= {cap:Float64}
        GROUP BY g1, g2
    )
SELECT
    b.g1 AS g1, b.g2 AS g2, b.bucket AS bucket,
    b.sessions AS sessions, b.converted AS converted, b.orders AS orders,
    b.revenue AS revenue, b.revenue_sq AS revenue_sq,
    b.weighted_sessions AS weighted_sessions, b.weighted_revenue AS weighted_revenue,
    b.currencies AS currencies, round(b.mean_lcp, 1) AS mean_lcp,
    round(views.p75_lcp, 1) AS p75_lcp, views.pageviews AS pageviews,
    views.above_threshold AS above_threshold
FROM
(
    SELECT
        g1, g2,
        toUInt8(least(6, intDiv(toUInt32(session_lcp), 1000))) AS bucket,
        count() AS sessions,
        countIf(session_orders > 0) AS converted,
        sum(session_orders) AS orders,
        sum(session_revenue) AS revenue,
        sum(session_revenue * session_revenue) AS revenue_sq,
        sum(w) AS weighted_sessions,
        sum(w * session_revenue) AS weighted_revenue,
        avg(session_lcp) AS mean_lcp,
        groupUniqArrayArray(currencies) AS currencies
    FROM sessions
    GROUP BY g1, g2, bucket
) AS b
LEFT JOIN views ON b.g1 = views.g1 AND b.g2 = views.g2
ORDER BY g1, g2, bucket
