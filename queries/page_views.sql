-- page_views: recent page views of a place and page group, one row each.
--
-- Answers: the newest page views (the drill-down's samples), each with its page, place,
-- browser and device, its vitals and load time (from whichever flush carried them), its
-- LCP element and the JS errors it had.
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   country, region, page_group, device String ('' = any),
--   ids String: the page views to show, a JSON array of ids, and started_ms Int64: the
--   earliest start among them (epoch ms), as queries/pages.py `_newest` found them
--   (queries/page_views_newest.sql).
--
-- Output, newest first: pageview_id, session_id, started (UTC text: its first event),
--   page_path, page_group, country, region, browser, device_class, lcp, inp, fcp, ttfb,
--   load (ms), cls (unitless), lcp_element, errors (error events).
-- Bots are excluded; each event counts once (FINAL).
--
-- The second of two steps, the same answer as one: the plan finds the page views to show
-- and when each started (page_views_newest.sql: on five narrow columns, over the window's
-- last hour, then its last six, first); this reads only the rows of those page views, from
-- the earliest start among them on (every row of a page view is at or after its start). On
-- the analytics bench's day: 95-114 ms for a country and page group against 346-489 ms
-- grouping the whole window, 102-180 ms against 0.77-0.84 s site-wide (bench/RESULTS.md).
WITH (JSONExtract({ids:String}, 'Array(String)'),
      fromUnixTimestamp64Milli({started_ms:Int64}, 'UTC')) AS newest
SELECT
    pageview_id,
    any(session_id) AS session_id,
    toString(min(ts)) AS started,
    any(page_path) AS page_path,
    any(page_group) AS page_group,
    any(country) AS country,
    any(region) AS region,
    any(browser) AS browser,
    any(device_class) AS device_class,
    max(lcp) AS lcp, max(inp) AS inp, max(cls) AS cls, max(fcp) AS fcp, max(ttfb) AS ttfb,
    max(load) AS load,
    anyIf(lcp_element, lcp_element != '') AS lcp_element,
    countIf(kind = 'error') AS errors
FROM
(
    -- a subquery: the output's aliases (country, ...) would shadow the columns here
    SELECT *
    FROM rum.events FINAL
    WHERE notEmpty(newest.1) AND is_bot = 0 AND ({site:String} = '' OR site = {site:String})
      AND ts >= greatest(fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC'), newest.2)
      AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
      AND kind IN ('pageview', 'error') AND has(newest.1, pageview_id)
      AND ({country:String} = '' OR country = {country:String})
      AND ({region:String} = '' OR region = {region:String})
      AND ({page_group:String} = '' OR page_group = {page_group:String})
      AND ({device:String} = '' OR device_class = {device:String})
)
GROUP BY pageview_id
ORDER BY min(ts) DESC, pageview_id
