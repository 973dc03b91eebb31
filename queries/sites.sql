-- sites: which sites sent data in the window, busiest first (the dashboard's site picker).
--
-- Parameters: site String ('' = all; a site narrows the answer to it), since_ms Int64,
--   until_ms Int64 (window, epoch ms).
-- Output, most page views first: site, pageviews (distinct page views), sessions, events
--   (rows of every kind), last_seen (UTC text).
-- Bots are excluded; each event counts once (the view reads FINAL). Distinct page views and
-- sessions are counted by their ids' 64-bit hashes: the counts of uniqExact over the
-- strings (two of 10 million ids share a hash with odds of about 1 in 400,000) in about
-- half the time.
SELECT
    site,
    uniqExactIf(cityHash64(pageview_id), kind = 'pageview') AS pageviews,
    uniqExact(cityHash64(session_id)) AS sessions,
    count() AS events,
    toString(max(ts)) AS last_seen
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = '', d2 = '')
WHERE site != ''
GROUP BY site
ORDER BY pageviews DESC, site
LIMIT 200
