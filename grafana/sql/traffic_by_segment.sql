-- traffic_by_segment: where do page views and sessions come from (one dimension)?
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1 String (country, device_class, browser, page_group, ... as in rum.segmented_events),
--   limit UInt32 (how many segments).
-- Output, most page views first: segment ('' = unknown), pageviews, sessions.
SELECT
    g1 AS segment,
    count() AS pageviews,
    uniqExact(session_id) AS sessions
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = '')
WHERE kind = 'pageview'
GROUP BY segment
ORDER BY pageviews DESC, segment
LIMIT {limit:UInt32}
