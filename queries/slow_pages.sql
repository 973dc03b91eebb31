-- slow_pages: which pages are slow, and what is their largest element?
--
-- Answers, per page group (/product/:id), within a place or site-wide: the page views,
-- p75 of LCP, INP, CLS and TTFB (weighted by sample_weight), the LCP element and resource
-- seen most often on the group's page views with an LCP (attribution build; '' without
-- it), and the JS errors on the group's pages. The dashboard's drill-down and Pages view.
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   country String, region String ('' = any): the place, as slow-regions names it,
--   device String ('' = any device class),
--   min_samples UInt32: a group needs this many page views with an LCP,
--   limit UInt32: how many groups;
--   bound by queries/pages.py: the metrics' caps and scales (rollups/segments.py
--   METRIC_PARAMS) and the grid (grid_ratio, grid_last: rollups/grid.py).
--
-- Output, slowest LCP p75 first: page_group, pageviews (distinct page views), samples
--   (page views with an LCP), lcp_p75, inp_p75, ttfb_p75 (ms), cls_p75 (unitless; NULL
--   when the group has no such value), lcp_element, lcp_resource (the most common), errors
--   (error events), sessions.
-- The p75s are read on the rollups' histogram grid, within 1% of quantileExactWeighted:
--   the weighted quantile of the values' bucket indices is the bucket of the value
--   quantileExactWeighted picks (bucketing keeps the order), and the bucket's middle,
--   ratio^(b - 0.5), is within 1% of any value in it (bucket 0, values under 1 ms or
--   0.001 CLS, reads 0). That takes a quarter of the time: quantileExactWeighted over the
--   values keeps every distinct one.
-- Distinct page views and sessions are counted by their ids' 64-bit hashes: the counts of
--   uniqExact over the strings (two of 10 million ids share a hash with odds of about 1
--   in 400,000) in half the time.
-- Bots are excluded; each event counts once (the view reads FINAL); values past 60 s (LCP,
-- INP, TTFB) or 10 (CLS) are outliers and left out, as slow-segments does.
WITH
    -- back from a bucket to the metric's unit: LCP, INP, CLS, TTFB are caps/scales 1, 2, 3, 5
    arrayMap((i, m) -> if(n[i] = 0, NULL,
                          if(q[i] = 0, 0, pow({grid_ratio:Float64}, q[i] - 0.5)) / {scales:Array(Float64)}[m]),
             [1, 2, 3, 4], [1, 2, 3, 5]) AS p75s
SELECT page_group, pageviews, samples,
       p75s[1] AS lcp_p75, p75s[2] AS inp_p75, p75s[3] AS cls_p75, p75s[4] AS ttfb_p75,
       lcp_element, lcp_resource, errors, sessions
FROM
(
    SELECT
        page_group,
        uniqExactIf(cityHash64(pageview_id), kind = 'pageview') AS pageviews,
        [countIf(kind = 'pageview' AND b[1] >= 0), countIf(kind = 'pageview' AND b[2] >= 0),
         countIf(kind = 'pageview' AND b[3] >= 0), countIf(kind = 'pageview' AND b[4] >= 0)] AS n,
        n[1] AS samples,
        [quantileExactWeightedIf(0.75)(b[1], w, kind = 'pageview' AND b[1] >= 0),
         quantileExactWeightedIf(0.75)(b[2], w, kind = 'pageview' AND b[2] >= 0),
         quantileExactWeightedIf(0.75)(b[3], w, kind = 'pageview' AND b[3] >= 0),
         quantileExactWeightedIf(0.75)(b[4], w, kind = 'pageview' AND b[4] >= 0)] AS q,
        arrayElement(topKIf(1)(lcp_element, lcp_element != ''), 1) AS lcp_element,
        arrayElement(topKIf(1)(lcp_resource, lcp_resource != ''), 1) AS lcp_resource,
        countIf(kind = 'error') AS errors,
        uniqExact(cityHash64(session_id)) AS sessions
    FROM
    (
        SELECT page_group, kind, pageview_id, session_id, lcp_element, lcp_resource,
               toUInt64(greatest(1, round(sample_weight))) AS w,
               -- LCP, INP, CLS, TTFB: each value's grid bucket (-1: none, or an outlier)
               arrayMap((v, m) -> if(isNull(v) OR v > {caps:Array(Float64)}[m], -1,
                                     toInt32(if(v * {scales:Array(Float64)}[m] < 1, 0,
                                                least({grid_last:UInt16},
                                                      1 + floor(log(v * {scales:Array(Float64)}[m])
                                                                / log({grid_ratio:Float64})))))),
                        [lcp, inp, cls, ttfb], [1, 2, 3, 5]) AS b
        FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
            until_ms = {until_ms:Int64}, d1 = '', d2 = '')
        WHERE kind IN ('pageview', 'error')
          AND ({country:String} = '' OR country = {country:String})
          AND ({region:String} = '' OR region = {region:String})
          AND ({device:String} = '' OR device_class = {device:String})
    )
    GROUP BY page_group
    HAVING samples >= {min_samples:UInt32}
)
ORDER BY lcp_p75 DESC, page_group
LIMIT {limit:UInt32}
