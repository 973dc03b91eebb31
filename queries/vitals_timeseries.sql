-- vitals_timeseries: how fast was the site for real users, bucket by bucket?
--
-- Answers, per time bucket of the window (buckets start on multiples of `bucket_s`
-- since the Unix epoch, so they are stable from one refresh to the next): the page
-- views, the p75 of LCP, INP, CLS and TTFB, and the shares of page views with an LCP
-- rated good / needs improvement / poor. Page views only; bots are left out by the
-- rum.segmented_events view. Every figure but the counts is weighted by sample_weight
-- (rounded to an integer weight, at least 1), so sampled sites count right. The
-- built-in dashboard's charts read it (docs/demo.md).
--
-- Percentiles are read on the rollups' histogram grid (rollups/grid.py), as slow-pages
-- reads them: the weighted p75 (quantileExactWeighted: the smallest value whose
-- cumulative weight reaches 75% of the bucket's) of the values' grid bucket numbers is
-- the bucket of the exact weighted p75 (bucketing keeps the order), and that bucket's
-- middle, ratio^(b - 0.5), is within 1% of it (bucket 0, values under 1 ms or 0.001 CLS,
-- reads 0). Deterministic, unlike t-digest (a few % off in the tail on a few hundred
-- samples), so a bucket that moves is a real change; and a quarter of the time of
-- quantileExactWeighted over the values, which keeps every distinct one (24 h in 5-minute
-- buckets on the analytics bench's 10M-event day: 4.3 s to 1.0 s).
-- Buckets of a multiple of 10 minutes read the series rollup instead once an hour of the
-- window is rolled (vitals_timeseries_rolled.sql: the same counts and shares, each p75
-- in the same grid bucket, placed in it by rank, from histograms as slow-segments'
-- rolled answer).
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   bucket_s UInt32: bucket length in seconds (10-86400),
--   device String: device_class to keep (desktop | mobile | tablet; '' = all),
--   country, region String: the place to keep ('' = any; the dashboard's overlay of the
--     drill-down's place on the site-wide line),
--   good Float64, poor Float64: the LCP thresholds (2500, 4000 ms),
--   lcp_cap, inp_cap, cls_cap, ttfb_cap Float64: values above are outliers, left out,
--   scales Array(Float64): what each metric is bucketed at (LCP, INP, CLS, FCP, TTFB; CLS
--     x 1000), grid_ratio Float64, grid_last UInt16: the grid (rollups/grid.py).
--
-- Output, one row per bucket with at least one page view, oldest first:
--   t (bucket start, epoch seconds), samples (page views, observed),
--   lcp_samples (page views with an LCP, outliers excluded, observed),
--   lcp_p75, inp_p75, ttfb_p75 (weighted; ms), cls_p75 (weighted; unitless),
--     NULL when no page view of the bucket measured the metric,
--   lcp_weight (sum of the weights of those page views),
--   good, needs_improvement, poor (weighted shares 0-1 of page views with an LCP:
--     LCP <= good, good < LCP <= poor, LCP > poor; NULL when lcp_samples = 0).
WITH
    -- the p75's grid bucket back to the metric's unit (LCP, INP, CLS, TTFB: scales 1, 2, 3, 5)
    arrayMap((q, m, n) -> if(n = 0, NULL,
                             if(q = 0, 0, pow({grid_ratio:Float64}, q - 0.5)) / {scales:Array(Float64)}[m]),
             [quantileExactWeightedIf(0.75)(b[1], w, lcp_ok),
              quantileExactWeightedIf(0.75)(b[2], w, inp_ok),
              quantileExactWeightedIf(0.75)(b[3], w, cls_ok),
              quantileExactWeightedIf(0.75)(b[4], w, ttfb_ok)],
             [1, 2, 3, 5], [lcp_samples, countIf(inp_ok), countIf(cls_ok), countIf(ttfb_ok)]) AS p75s
SELECT
    intDiv(toUnixTimestamp(ts), {bucket_s:UInt32}) * {bucket_s:UInt32} AS t,
    count() AS samples,
    countIf(lcp_ok) AS lcp_samples,
    p75s[1] AS lcp_p75, p75s[2] AS inp_p75, p75s[3] AS cls_p75, p75s[4] AS ttfb_p75,
    sumIf(w, lcp_ok) AS lcp_weight,
    if(lcp_samples = 0, NULL, sumIf(w, lcp_ok AND lcp <= {good:Float64}) / lcp_weight) AS good,
    if(lcp_samples = 0, NULL,
       sumIf(w, lcp_ok AND lcp > {good:Float64} AND lcp <= {poor:Float64}) / lcp_weight)
        AS needs_improvement,
    if(lcp_samples = 0, NULL, sumIf(w, lcp_ok AND lcp > {poor:Float64}) / lcp_weight) AS poor
FROM
(
    SELECT
        ts, lcp, inp, cls, ttfb,
        toUInt64(greatest(1, round(sample_weight))) AS w,
        ifNull(lcp <= {lcp_cap:Float64}, 0) AS lcp_ok,
        ifNull(inp <= {inp_cap:Float64}, 0) AS inp_ok,
        ifNull(cls <= {cls_cap:Float64}, 0) AS cls_ok,
        ifNull(ttfb <= {ttfb_cap:Float64}, 0) AS ttfb_ok,
        -- LCP, INP, CLS, TTFB: each value's grid bucket (0 for none: only read where _ok)
        arrayMap((v, m) -> toUInt16(if(isNull(v) OR v * {scales:Array(Float64)}[m] < 1, 0,
                                       least({grid_last:UInt16},
                                             1 + floor(log(v * {scales:Array(Float64)}[m])
                                                       / log({grid_ratio:Float64}))))),
                 [lcp, inp, cls, ttfb], [1, 2, 3, 5]) AS b
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = '', d2 = '')
    WHERE kind = 'pageview'
      AND ({device:String} = '' OR device_class = {device:String})
      AND ({country:String} = '' OR country = {country:String})
      AND ({region:String} = '' OR region = {region:String})
)
GROUP BY t
ORDER BY t
