-- page_views_recent: page-views' shortcut (queries/pages.py plans it): the newest page views
-- of a place and page group that began in the window's last part, [recent_ms, until_ms),
-- found without reading the rest of the window's rows.
--
-- Answers: up to `n` page views, newest first, each with when it started (its first event
-- of kind pageview or error), that have a page view row at or after recent_ms and none of
-- their rows before it in the window. Those started where this reads them: all their rows
-- in the window lie at or after recent_ms. A page view whose earlier rows lie in
-- [since_ms, recent_ms) started before recent_ms, so after every page view answered here;
-- it is found by id through the pageview_id skip index (migration 0200) and left out.
-- When `n` of these are answered, page-views' newest `limit` (<= n) are the first of them.
--
-- Parameters:
--   site String ('' = all), since_ms, recent_ms, until_ms Int64 (epoch ms;
--   since_ms <= recent_ms < until_ms), country, region, page_group, device String
--   ('' = any), n UInt32: how many candidates to look at.
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
