-- page_views_newest: the first step of page-views (queries/pages.py `_newest` plans it):
-- the newest page views of a place and page group, and when each started, on five narrow
-- columns; page_views.sql then reads their rows.
--
-- Answers: up to `n` page views, newest first, each with when it started (its first event
-- of kind pageview or error in the window), that have a page view row in the window. With
-- recent_ms = since_ms, the window's newest `n`. With recent_ms later (the window's last
-- hour, or its last six: queries/pages.py TAILS_MS), only the rows from recent_ms on are
-- grouped, and the page views with a row before it in the window are left out: they began
-- before recent_ms, so after every page view answered, whose rows in the window all lie at
-- or after recent_ms (so their starts are right). Then when `limit` (<= n) are answered,
-- they are the window's newest `limit`; otherwise the plan asks again with an earlier
-- recent_ms (the next tail, then since_ms). The page views left out are found by id
-- through the pageview_id skip index (migration 0200).
--
-- Parameters:
--   site String ('' = all), since_ms, recent_ms, until_ms Int64 (epoch ms;
--   since_ms <= recent_ms < until_ms), country, region, page_group, device String
--   ('' = any), n UInt32: how many page views to look at.
--
-- Output, newest first: pageview_id, started_ms (epoch ms).
-- Bots are excluded. Duplicated events change neither a start nor whether a page view has
-- a page view row, so this reads rum.events without FINAL.
WITH
    (
        SELECT (groupArray(pageview_id), groupArray(started))
        FROM (
            SELECT pageview_id, min(ts) AS started
            FROM rum.events
            WHERE is_bot = 0 AND ({site:String} = '' OR site = {site:String})
              AND ts >= fromUnixTimestamp64Milli({recent_ms:Int64}, 'UTC')
              AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
              AND kind IN ('pageview', 'error') AND pageview_id != ''
              AND ({country:String} = '' OR country = {country:String})
              AND ({region:String} = '' OR region = {region:String})
              AND ({page_group:String} = '' OR page_group = {page_group:String})
              AND ({device:String} = '' OR device_class = {device:String})
            GROUP BY pageview_id
            HAVING countIf(kind = 'pageview') > 0
            ORDER BY started DESC, pageview_id
            LIMIT {n:UInt32}
        )
    ) AS candidates,
    (
        -- the candidates with rows before recent_ms
        SELECT groupUniqArray(pageview_id)
        FROM rum.events
        WHERE is_bot = 0 AND ({site:String} = '' OR site = {site:String})
          AND ts >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({recent_ms:Int64}, 'UTC')
          AND kind IN ('pageview', 'error') AND pageview_id IN candidates.1
          AND ({country:String} = '' OR country = {country:String})
          AND ({region:String} = '' OR region = {region:String})
          AND ({page_group:String} = '' OR page_group = {page_group:String})
          AND ({device:String} = '' OR device_class = {device:String})
    ) AS begun_before
SELECT c.1 AS pageview_id, toUnixTimestamp64Milli(c.2) AS started_ms
FROM (SELECT arrayJoin(arrayZip(candidates.1, candidates.2)) AS c)
WHERE NOT has(begun_before, c.1)
ORDER BY started_ms DESC, pageview_id
