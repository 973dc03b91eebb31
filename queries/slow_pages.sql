-- slow_pages: which pages are slow, and what is their largest element?
--
-- Answers, per page group (/product/:id), within a place or site-wide: the page views,
-- p75 of LCP, INP, CLS and TTFB (weighted by sample_weight), the LCP element and resource
-- seen on most of the group's page views with one (attribution build; '' without it; a
-- tie goes to the first by name), and the JS errors on the group's pages. The dashboard's
-- drill-down and Pages view.
--
-- Parameters:
--   site String ('' = all), from_ms Int64, until_ms Int64 (window, epoch ms),
--   country String, region String ('' = any): the place, as slow-regions names it,
--   device String ('' = any device class),
--   min_samples UInt32: a group needs this many page views with an LCP,
--   limit UInt32: how many groups,
--   counts UInt8: 1 = count each group's distinct page views and sessions, 0 = leave them
--   out (NULL; their reads are constant-false and select no part: most of the question's
--   time over a long window, bench/RESULTS.md);
--   bound by queries/pages.py: first_ms, rolled_until_ms Int64, rolls Array(UInt64) (the
--   part of the window the pages rollup answers and each hour's roll: rollups/coverage.py
--   `coverage` with rollups.tables.PAGES; first_ms = rolled_until_ms and [] = none), set
--   UInt8 (the rollup's rows for these filters: rollups/tables.py series_set), the
--   metrics' caps and scales (rollups/segments.py METRIC_PARAMS) and the grid
--   (grid_ratio, grid_last: rollups/grid.py).
--
-- Output, slowest LCP p75 first: page_group, pageviews (distinct page views; NULL when
--   counts = 0), samples
--   (page views with an LCP), lcp_p75, inp_p75, ttfb_p75 (ms), cls_p75 (unitless; NULL
--   when the group has no such value), lcp_element, lcp_resource (the most common), errors
--   (error events), sessions (NULL when counts = 0).
--
-- Whole hours come from the pages rollup (migration 0190) where it has rolled them, the
-- rest of the window from raw events (rum.page_samples), as aggregate states made by the
-- same expressions and merged: the answer is the same with or without the rollup.
-- The p75s are read on the rollups' histogram grid, within 1% of quantileExactWeighted:
--   the weighted quantile of the values' bucket indices is the bucket of the value
--   quantileExactWeighted picks (bucketing keeps the order), and the bucket's middle,
--   ratio^(b - 0.5), is within 1% of any value in it (bucket 0, values under 1 ms or
--   0.001 CLS, reads 0).
-- Distinct page views and sessions are counted by their ids' 64-bit hashes: the counts of
--   uniqExact over the strings (two of 10 million ids share a hash with odds of about 1
--   in 400,000).
-- Bots are excluded; each event counts once (FINAL); values past 60 s (LCP, INP, TTFB) or
-- 10 (CLS) are outliers and left out, as slow-segments does.
WITH
    -- back from a bucket to the metric's unit: LCP, INP, CLS, TTFB are caps/scales 1, 2, 3, 5
    arrayMap((i, m) -> if(n[i] = 0, NULL,
                          if(q[i] = 0, 0, pow({grid_ratio:Float64}, q[i] - 0.5)) / {scales:Array(Float64)}[m]),
             [1, 2, 3, 4], [1, 2, 3, 5]) AS p75s,
    rolled AS (
        -- the hours the rollup covers, only the roll in use of each (rolls[1]: first hour's;
        -- a whole UTC day's rows, stamped a second past midnight, take its first
        -- hour's place and its other hours' are 0: rollups/coverage.py)
        SELECT *
        FROM rum.pages_hourly
        WHERE ({site:String} = '' OR site = {site:String}) AND site != ''
          AND set = {set:UInt8}
          AND ({country:String} = '' OR country = {country:String})
          AND ({region:String} = '' OR region = {region:String})
          AND ({device:String} = '' OR device_class = {device:String})
          AND hour >= fromUnixTimestamp64Milli({first_ms:Int64}, 'UTC')
          AND hour < fromUnixTimestamp64Milli({rolled_until_ms:Int64}, 'UTC')
          AND roll = {rolls:Array(UInt64)}[
              intDiv(toInt64(toUnixTimestamp(hour)) * 1000 - {first_ms:Int64}, 3600000) + 1]
    ),
    rest AS (
        -- the raw rest: the window but the rolled hours, counted as the roll counts it
        SELECT *
        FROM rum.page_samples(site = {site:String}, from_ms = {from_ms:Int64},
                              until_ms = {until_ms:Int64}, hole_from_ms = {hole_from_ms:Int64},
                              hole_until_ms = {rolled_until_ms:Int64},
                              caps = {caps:Array(Float64)}, scales = {scales:Array(Float64)},
                              grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
        WHERE kind IN ('pageview', 'error')
          AND ({country:String} = '' OR country = {country:String})
          AND ({region:String} = '' OR region = {region:String})
          AND ({device:String} = '' OR device_class = {device:String})
    )
SELECT page_group, if({counts:UInt8} = 1, c.pageviews, NULL) AS pageviews, samples,
       p75s[1] AS lcp_p75, p75s[2] AS inp_p75, p75s[3] AS cls_p75, p75s[4] AS ttfb_p75,
       if(empty(el.1), '', el.1[indexOf(el.2, arrayMax(el.2))]) AS lcp_element,
       if(empty(res.1), '', res.1[indexOf(res.2, arrayMax(res.2))]) AS lcp_resource,
       errors, if({counts:UInt8} = 1, c.sessions, NULL) AS sessions
FROM
(
    SELECT
        page_group,
        sumForEach(sampled) AS n, n[1] AS samples,
        [quantileExactWeightedIfMerge(0.75)(lcp), quantileExactWeightedIfMerge(0.75)(inp),
         quantileExactWeightedIfMerge(0.75)(cls), quantileExactWeightedIfMerge(0.75)(ttfb)] AS q,
        sumMapMerge(elements) AS el, sumMapMerge(resources) AS res,
        sum(errors) AS errors
    FROM
    (
        SELECT page_group, errors, samples AS sampled, lcp, inp, cls, ttfb, elements, resources
        FROM rolled
        UNION ALL
        SELECT page_group, toUInt64(countIf(kind = 'error')),
               [toUInt64(countIf(b[1] >= 0)), toUInt64(countIf(b[2] >= 0)),
                toUInt64(countIf(b[3] >= 0)), toUInt64(countIf(b[4] >= 0))],
               quantileExactWeightedIfState(0.75)(b[1], w, b[1] >= 0),
               quantileExactWeightedIfState(0.75)(b[2], w, b[2] >= 0),
               quantileExactWeightedIfState(0.75)(b[3], w, b[3] >= 0),
               quantileExactWeightedIfState(0.75)(b[4], w, b[4] >= 0),
               sumMapState(if(element = '', [], [element]), if(element = '', [], [toUInt64(1)])),
               sumMapState(if(resource = '', [], [resource]), if(resource = '', [], [toUInt64(1)]))
        FROM rest
        GROUP BY page_group
    )
    GROUP BY page_group
    HAVING samples >= {min_samples:UInt32}
) AS m
LEFT JOIN
(
    -- the distinct page views and sessions, from the same rolled hours and raw rest; with
    -- counts = 0 both reads are constant-false and ClickHouse selects no part for them
    SELECT page_group, uniqExactIfMerge(pageviews) AS pageviews, uniqExactMerge(sessions) AS sessions
    FROM
    (
        SELECT page_group, pageviews, sessions FROM rolled WHERE {counts:UInt8} = 1
        UNION ALL
        SELECT page_group, uniqExactIfState(pv, kind = 'pageview'), uniqExactState(sess)
        FROM rest
        WHERE {counts:UInt8} = 1
        GROUP BY page_group
    )
    GROUP BY page_group
) AS c USING page_group
ORDER BY lcp_p75 DESC, page_group
LIMIT {limit:UInt32}
