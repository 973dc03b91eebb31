-- conversion_rate_by_lcp: do slower sessions convert less?
--
-- Each session is bucketed by the p75 LCP of its page views and counts as converted
-- when it sent at least one conversion.
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms).
-- Output, fastest bucket first: lcp_bucket (label), bucket_start (ms), sessions,
--   converted (sessions with a conversion), conversion_rate (0-1).
SELECT
    multiIf(session_lcp < 1000, '< 1 s', session_lcp < 2000, '1-2 s',
            session_lcp < 2500, '2-2.5 s', session_lcp < 3000, '2.5-3 s',
            session_lcp < 4000, '3-4 s', session_lcp < 6000, '4-6 s', '> 6 s') AS lcp_bucket,
    multiIf(session_lcp < 1000, 0, session_lcp < 2000, 1000, session_lcp < 2500, 2000,
            session_lcp < 3000, 2500, session_lcp < 4000, 3000, session_lcp < 6000, 4000, 6000)
        AS bucket_start,
    count() AS sessions,
    countIf(converted) AS converted,
    converted / sessions AS conversion_rate
FROM
(
    SELECT
        session_id,
        quantileIf(0.75)(lcp, kind = 'pageview' AND lcp IS NOT NULL) AS session_lcp,
        countIf(kind = 'pageview' AND lcp IS NOT NULL) AS lcp_views,
        countIf(kind = 'conversion') > 0 AS converted
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = '', d2 = '')
    WHERE kind IN ('pageview', 'conversion')
    GROUP BY session_id
    HAVING lcp_views > 0
)
GROUP BY lcp_bucket, bucket_start
ORDER BY bucket_start
