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
-- Percentiles are quantileExactWeighted, not quantileTDigestWeighted: exact (the
-- smallest value whose cumulative weight reaches 75% of the bucket's), the same
-- function and weights as slow-segments (segment_vitals.sql), so a bucket's p75 is
-- what slow-segments answers for that span, and a bucket that moves is a real change
-- rather than t-digest error (up to a few % in the tail on a few hundred samples).
-- Its memory grows with the distinct values of a bucket; over the whole window that is
-- the memory slow-segments already needs.
-- Buckets of a multiple of 10 minutes read the series rollup instead once an hour of the
-- window is rolled (vitals_timeseries_rolled.sql: the same counts and shares, each p75
-- within 2%, from histograms as slow-segments' rolled answer).
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   bucket_s UInt32: bucket length in seconds (10-86400),
--   device String: device_class to keep (desktop | mobile | tablet; '' = all),
--   country, region String: the place to keep ('' = any; the dashboard's overlay of the
--     drill-down's place on the site-wide line),
--   good Float64, poor Float64: the LCP thresholds (2500, 4000 ms),
--   lcp_cap, inp_cap, cls_cap, ttfb_cap Float64: values above are outliers, left out.
--
-- Output, one row per bucket with at least one page view, oldest first:
--   t (bucket start, epoch seconds), samples (page views, observed),
--   lcp_samples (page views with an LCP, outliers excluded, observed),
--   lcp_p75, inp_p75, ttfb_p75 (weighted; ms), cls_p75 (weighted; unitless),
--     NULL when no page view of the bucket measured the metric,
--   lcp_weight (sum of the weights of those page views),
--   good, needs_improvement, poor (weighted shares 0-1 of page views with an LCP:
--     LCP <= good, good < LCP <= poor, LCP > poor; NULL when lcp_samples = 0).
SELECT
    intDiv(toUnixTimestamp(ts), {bucket_s:UInt32}) * {bucket_s:UInt32} AS t,
    count() AS samples,
    countIf(lcp_ok) AS lcp_samples,
    quantileExactWeightedIf(0.75)(lcp, w, lcp_ok) AS lcp_p75,
    quantileExactWeightedIf(0.75)(inp, w, inp_ok) AS inp_p75,
    quantileExactWeightedIf(0.75)(cls, w, cls_ok) AS cls_p75,
    quantileExactWeightedIf(0.75)(ttfb, w, ttfb_ok) AS ttfb_p75,
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
        ifNull(ttfb <= {ttfb_cap:Float64}, 0) AS ttfb_ok
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = '', d2 = '')
    WHERE kind = 'pageview'
      AND ({device:String} = '' OR device_class = {device:String})
      AND ({country:String} = '' OR country = {country:String})
      AND ({region:String} = '' OR region = {region:String})
)
GROUP BY t
ORDER BY t
