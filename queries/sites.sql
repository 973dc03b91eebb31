-- sites: which sites sent data in the window, busiest first (the dashboard's site picker).
--
-- Parameters: site String ('' = all; a site narrows the answer to it), from_ms Int64,
--   until_ms Int64 (window, epoch ms); bound by queries/pages.py: first_ms,
--   rolled_until_ms Int64, rolls Array(UInt64) (what the pages rollup answers:
--   rollups/coverage.py `coverage` with rollups.tables.PAGES), the metrics' caps and
--   scales and the grid (rum.page_samples takes them).
-- Output, most page views first: site, pageviews (distinct page views), sessions, events
--   (rows of every kind), last_seen (UTC text).
-- Whole hours come from the pages rollup's site rows (migration 0190, set 8), the rest of
-- the window from raw events counted the same way, merged as aggregate states: the same
-- answer with or without the rollup. Bots are excluded; each event counts once (FINAL).
-- Distinct page views and sessions are counted by their ids' 64-bit hashes: the counts of
-- uniqExact over the strings (two of 10 million ids share a hash with odds of about 1 in
-- 400,000).
SELECT site, uniqExactIfMerge(pageviews) AS pageviews, uniqExactMerge(sessions) AS sessions,
       sum(events) AS events, toString(max(last_seen)) AS last_seen
FROM
(
    SELECT site, pageviews, sessions, events, last_seen
    FROM rum.pages_hourly
    WHERE ({site:String} = '' OR site = {site:String}) AND site != '' AND set = 8
      AND hour >= fromUnixTimestamp64Milli({first_ms:Int64}, 'UTC')
      AND hour < fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
      AND roll = {rolls:Array(UInt64)}[
          intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {first_ms:Int64}, 3600000) + 1]
    UNION ALL
    SELECT site, uniqExactIfState(pv, kind = 'pageview'), uniqExactState(sess),
           toUInt64(count()), max(ts)
    FROM rum.page_samples(site = {site:String}, from_ms = {from_ms:Int64},
                          until_ms = {until_ms:Int64}, hole_from_ms = {first_ms:Int64},
                          hole_until_ms = {rolled_until_ms:Int64},
                          caps = {caps:Array(Float64)}, scales = {scales:Array(Float64)},
                          grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
    WHERE site != ''
    GROUP BY site
)
GROUP BY site
ORDER BY pageviews DESC, site
LIMIT 200
