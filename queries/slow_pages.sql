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
--   limit UInt32: how many groups.
--
-- Output, slowest LCP p75 first: page_group, pageviews (distinct page views), samples
--   (page views with an LCP), lcp_p75, inp_p75, ttfb_p75 (ms), cls_p75 (unitless),
--   lcp_element, lcp_resource (the most common), errors (error events), sessions.
-- Bots are excluded; each event counts once (the view reads FINAL); values past 60 s (LCP, INP, TTFB)
-- or 10 (CLS) are outliers and left out, as slow-segments does.
SELECT
    page_group,
    uniqExactIf(pageview_id, kind = 'pageview') AS pageviews,
    countIf(kind = 'pageview' AND lcp IS NOT NULL AND lcp <= 60000) AS samples,
    quantileExactWeightedIf(0.75)(assumeNotNull(lcp), w,
        kind = 'pageview' AND lcp IS NOT NULL AND lcp <= 60000) AS lcp_p75,
    if(countIf(inp IS NOT NULL) = 0, NULL, quantileExactWeightedIf(0.75)(assumeNotNull(inp), w,
        kind = 'pageview' AND inp IS NOT NULL AND inp <= 60000)) AS inp_p75,
    if(countIf(cls IS NOT NULL) = 0, NULL, quantileExactWeightedIf(0.75)(assumeNotNull(cls), w,
        kind = 'pageview' AND cls IS NOT NULL AND cls <= 10)) AS cls_p75,
    if(countIf(ttfb IS NOT NULL) = 0, NULL, quantileExactWeightedIf(0.75)(assumeNotNull(ttfb), w,
        kind = 'pageview' AND ttfb IS NOT NULL AND ttfb <= 60000)) AS ttfb_p75,
    arrayElement(topKIf(1)(lcp_element, lcp_element != ''), 1) AS lcp_element,
    arrayElement(topKIf(1)(lcp_resource, lcp_resource != ''), 1) AS lcp_resource,
    countIf(kind = 'error') AS errors,
    uniqExact(session_id) AS sessions
FROM
(
    SELECT *, toUInt64(greatest(1, round(sample_weight))) AS w
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = '', d2 = '')
    WHERE kind IN ('pageview', 'error')
      AND ({country:String} = '' OR country = {country:String})
      AND ({region:String} = '' OR region = {region:String})
      AND ({device:String} = '' OR device_class = {device:String})
)
GROUP BY page_group
HAVING samples >= {min_samples:UInt32}
ORDER BY lcp_p75 DESC, page_group
LIMIT {limit:UInt32}
