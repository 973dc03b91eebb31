-- segment_vitals: how fast is each segment for real users, and is it really slow?
--
-- Answers, for one Core Web Vital and a segmentation of one or two dimensions:
-- p50/p75/p95 (weighted by sample_weight, so sampled sites count right), the
-- share of page views rated good / needs improvement / poor, outliers excluded
-- past a cap (and counted), and a grid of unweighted quantiles from which
-- queries/stats.py derives the distribution-free 95% interval of the p75 and
-- the `flagged` / `worse_than_rest` marks (docs/analytics.md).
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   metric String: lcp | inp | cls | fcp | ttfb,
--   d1, d2 String: segment dimensions (country, region, city, asn, device_class,
--     browser, os, page_group, connection_type; '' = none), mapped to columns by the
--     rum.segmented_events view (pipeline/migrations/0040_segmented_events.sql),
--   good Float64, poor Float64: the metric's Core Web Vitals thresholds,
--   cap Float64: values above are outliers (excluded, counted).
--
-- Output, one row per segment: g1, g2, samples (page views with the metric, outliers
--   excluded), outliers, p50, p75, p95 (weighted; ms, or unitless for CLS),
--   good, needs_improvement, poor (shares 0-1), above_good (page views past `good`),
--   grid (unweighted quantiles at 0.50, 0.51, ..., 0.95: 46 values),
--   total_samples and total_above_good (over all segments, for the rest-of-site test).
-- slow-segments runs this file (exact percentiles, raw events) only for dimensions the
-- segments rollup does not group by; otherwise segment_vitals_rolled.sql, same output.
SELECT
    g1, g2,
    countIf(ok) AS samples,
    countIf(NOT ok) AS outliers,
    quantilesExactWeightedIf(0.5, 0.75, 0.95)(v, w, ok) AS q,
    q[1] AS p50, q[2] AS p75, q[3] AS p95,
    countIf(ok AND v <= {good:Float64}) / greatest(samples, 1) AS good,
    countIf(ok AND v > {good:Float64} AND v <= {poor:Float64}) / greatest(samples, 1)
        AS needs_improvement,
    countIf(ok AND v > {poor:Float64}) / greatest(samples, 1) AS poor,
    countIf(ok AND v > {good:Float64}) AS above_good,
    quantilesExactIf(0.50, 0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.57, 0.58, 0.59,
                     0.60, 0.61, 0.62, 0.63, 0.64, 0.65, 0.66, 0.67, 0.68, 0.69,
                     0.70, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77, 0.78, 0.79,
                     0.80, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89,
                     0.90, 0.91, 0.92, 0.93, 0.94, 0.95)(v, ok) AS grid,
    sum(samples) OVER () AS total_samples,
    sum(above_good) OVER () AS total_above_good
FROM
(
    SELECT
        g1, g2,
        multiIf({metric:String} = 'lcp', lcp, {metric:String} = 'inp', inp,
                {metric:String} = 'cls', cls, {metric:String} = 'fcp', fcp, ttfb) AS vital,
        assumeNotNull(vital) AS v,
        v <= {cap:Float64} AS ok,
        toUInt64(greatest(1, round(sample_weight))) AS w
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
    WHERE kind = 'pageview' AND vital IS NOT NULL
)
GROUP BY g1, g2
ORDER BY p75 DESC, g1, g2
