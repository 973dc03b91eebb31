-- slow_regions (dashboard form): which countries and regions are slow for real users?
--
-- The Grafana panel's own reading of queries/slow_regions.sql: the same question and
-- output, read from raw events through rum.segmented_events, because the dashboard's
-- device and page-group variables narrow it and the hourly rollup that makes the API's
-- answer fast holds only country and region. Slower over long windows at high traffic.
--
-- Answers: p75 and p95 of LCP, INP and TTFB per country, and per
-- country + region, over a time window, for segments with enough samples;
-- `flagged` when some p75 is past its Core Web Vitals "good" threshold
-- (LCP 2500 ms, INP 200 ms, TTFB 800 ms) with confidence, as the API's slow-regions flags:
-- the share of page views past the threshold exceeds 25% by more than 1.96 standard
-- errors (sqrt(0.75 x 0.25 / n)), with enough samples of that metric; `slow_metrics`
-- names the metrics that tripped.
--
-- Parameters:
--   site         String   site key; '' = every site
--   since_ms     Int64    window start, epoch milliseconds (inclusive)
--   until_ms     Int64    window end, epoch milliseconds (exclusive)
--   min_samples  UInt32   a segment needs this many page views with an LCP
--
-- Output, one row per segment, slowest LCP p75 first:
--   level ('country' | 'region'), country (ISO 3166-1 alpha-2, '' = unknown),
--   region (ISO 3166-2 subdivision code, '' on country rows),
--   samples (page views with LCP), lcp_p75, lcp_p95 (ms),
--   inp_samples, inp_p75, inp_p95 (ms), ttfb_samples, ttfb_p75, ttfb_p95 (ms),
--   slow_metrics (Array(String)), flagged (0/1)
--
-- Bots are excluded. Percentiles are unweighted `quantiles` (exact up to
-- 8,192 values per segment, a uniform reservoir sample past that).
WITH
    2500 AS lcp_good, 200 AS inp_good, 800 AS ttfb_good,
    segments AS (
        -- one scan for both levels: GROUPING SETS instead of a UNION ALL over a CTE,
        -- which ClickHouse would inline and read twice
        SELECT if(grouping(region) = 1, 'country', 'region') AS level,
               country, if(grouping(region) = 1, '', region) AS seg_region,
               count(lcp) AS samples, quantiles(0.75, 0.95)(lcp) AS lcp_q,
               count(inp) AS inp_samples, quantiles(0.75, 0.95)(inp) AS inp_q,
               count(ttfb) AS ttfb_samples, quantiles(0.75, 0.95)(ttfb) AS ttfb_q,
               countIf(lcp > lcp_good) AS lcp_past, countIf(inp > inp_good) AS inp_past,
               countIf(ttfb > ttfb_good) AS ttfb_past
        FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
            until_ms = {until_ms:Int64}, d1 = '', d2 = '')
        WHERE kind = 'pageview'
        GROUP BY GROUPING SETS ((country), (country, region))
        HAVING level = 'country' OR seg_region != ''
    )
SELECT
    level, country, seg_region AS region,
    samples,
    round(lcp_q[1], 1) AS lcp_p75, round(lcp_q[2], 1) AS lcp_p95,
    inp_samples, round(inp_q[1], 1) AS inp_p75, round(inp_q[2], 1) AS inp_p95,
    ttfb_samples, round(ttfb_q[1], 1) AS ttfb_p75, round(ttfb_q[2], 1) AS ttfb_p95,
    arrayFilter(m -> m != '', [
        if(lcp_past / samples - 1.96 * sqrt(0.1875 / samples) > 0.25, 'lcp', ''),
        if(inp_samples >= {min_samples:UInt32}
           AND inp_past / inp_samples - 1.96 * sqrt(0.1875 / inp_samples) > 0.25, 'inp', ''),
        if(ttfb_samples >= {min_samples:UInt32}
           AND ttfb_past / ttfb_samples - 1.96 * sqrt(0.1875 / ttfb_samples) > 0.25, 'ttfb', '')
    ]) AS slow_metrics,
    toUInt8(notEmpty(slow_metrics)) AS flagged
FROM segments
WHERE samples >= {min_samples:UInt32}
ORDER BY lcp_p75 DESC, level, country, region
