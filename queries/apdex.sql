-- apdex: how satisfied are real users with each page group and region?
--
-- Answers, per segment (one or two dimensions, by default page group x country):
-- the Apdex of LCP (satisfied: LCP <= T, tolerating: T < LCP <= 4T, frustrated:
-- past 4T; Apdex = (satisfied + tolerating / 2) / samples) and the parts of the
-- experience score (docs/analytics.md): for LCP, INP and CLS the share of page
-- views rated good and needs improvement by the Core Web Vitals thresholds
-- (LCP 2500/4000 ms, INP 200/500 ms, CLS 0.1/0.25). Every figure is weighted by
-- sample_weight (a sampled site counts right), rounded to an integer weight, at least 1,
-- as slow-segments and the segments rollup weigh page views; queries/experience.py
-- finishes the score (0-100), the Apdex interval and the rating. With T at its default
-- and a grouping the segments rollup keeps, apdex_rolled.sql answers instead (the same
-- figures, from rolled hours).
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1, d2 String: segment dimensions, as in rum.segmented_events ('' = none),
--   apdex_t Float64: Apdex T in ms,
--   cap Float64: LCP/INP values past it (ms) are outliers, left out (and LCP's counted);
--     CLS past 10 likewise.
--
-- Output, one row per segment: g1, g2, samples (page views with an LCP, observed),
--   outliers, weight (sum of sample_weight of those page views), weight_sq (sum of
--   squared weights, for the effective sample size), satisfied, tolerating,
--   frustrated (weighted shares 0-1), apdex (0-1), lcp_good, lcp_ni, inp_good, inp_ni,
--   cls_good, cls_ni (weighted shares 0-1 of page views with that metric, NULL when
--   none), inp_samples, cls_samples.
SELECT
    g1, g2,
    countIf(lcp_ok) AS samples,
    countIf(lcp IS NOT NULL AND NOT lcp_ok) AS outliers,
    sumIf(w, lcp_ok) AS weight,
    sumIf(w * w, lcp_ok) AS weight_sq,
    sumIf(w, lcp_ok AND lcp <= {apdex_t:Float64}) / weight AS satisfied,
    sumIf(w, lcp_ok AND lcp > {apdex_t:Float64} AND lcp <= 4 * {apdex_t:Float64}) / weight
        AS tolerating,
    sumIf(w, lcp_ok AND lcp > 4 * {apdex_t:Float64}) / weight AS frustrated,
    satisfied + tolerating / 2 AS apdex,
    sumIf(w, lcp_ok AND lcp <= 2500) / weight AS lcp_good,
    sumIf(w, lcp_ok AND lcp > 2500 AND lcp <= 4000) / weight AS lcp_ni,
    countIf(inp_ok) AS inp_samples,
    if(inp_samples = 0, NULL, sumIf(w, inp_ok AND inp <= 200) / sumIf(w, inp_ok)) AS inp_good,
    if(inp_samples = 0, NULL, sumIf(w, inp_ok AND inp > 200 AND inp <= 500) / sumIf(w, inp_ok))
        AS inp_ni,
    countIf(cls_ok) AS cls_samples,
    if(cls_samples = 0, NULL, sumIf(w, cls_ok AND cls <= 0.1) / sumIf(w, cls_ok)) AS cls_good,
    if(cls_samples = 0, NULL, sumIf(w, cls_ok AND cls > 0.1 AND cls <= 0.25) / sumIf(w, cls_ok))
        AS cls_ni
FROM
(
    SELECT
        g1, g2, lcp, inp, cls,
        toFloat64(greatest(1, round(sample_weight))) AS w,
        lcp IS NOT NULL AND lcp <= {cap:Float64} AS lcp_ok,
        inp IS NOT NULL AND inp <= {cap:Float64} AS inp_ok,
        cls IS NOT NULL AND cls <= 10 AS cls_ok
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
    WHERE kind = 'pageview'
)
GROUP BY g1, g2
HAVING samples > 0
ORDER BY apdex, g1, g2
