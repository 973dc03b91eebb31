-- vitals_ratings: how many page views does each Core Web Vital rate good, needs
-- improvement and poor, per segment?
--
-- Answers, for every metric (LCP, INP, CLS, FCP, TTFB) and a segmentation of one or two
-- dimensions: the page views with the metric (outliers past its cap left out, and
-- counted) and the shares of them rated good (<= the good threshold), needs improvement
-- (<= poor) and poor, weighted by sample_weight (rounded to an integer weight, at least 1,
-- as slow-segments and the segments rollup weigh page views), with the summed weight, so
-- that segments add up exactly (the dashboard's Web Vitals bars: one question for all
-- four bars, where it asked slow-segments once per metric). The thresholds and caps are
-- rollups/segments.py METRICS (the Core Web Vitals ratings).
--
-- Parameters:
--   site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   d1, d2 String: segment dimensions, as in rum.segmented_events ('' = none),
--   caps, goods, poors Array(Float64): per metric, in the order lcp, inp, cls, fcp, ttfb
--     (rollups/segments.py METRIC_PARAMS).
--
-- Output, per metric (in that order), then segment: g1, g2, metric, samples (page views
--   with the metric, outliers left out; observed, not weighted), outliers, weight (their
--   summed weights), good, needs_improvement, poor (weighted shares 0-1).
-- vitals-ratings runs this file (raw events) only for groupings the segments rollup does
-- not keep, or with no hour rolled; otherwise vitals_ratings_rolled.sql, same output.
SELECT g1, g2, metric,
       countIf(ok) AS samples, countIf(NOT ok) AS outliers, sumIf(w, ok) AS weight,
       sumIf(w, ok AND v <= good_t) / weight AS good,
       sumIf(w, ok AND v > good_t AND v <= poor_t) / weight AS needs_improvement,
       sumIf(w, ok AND v > poor_t) / weight AS poor
FROM
(
    SELECT g1, g2, m.1 AS i, ['lcp', 'inp', 'cls', 'fcp', 'ttfb'][i] AS metric,
           assumeNotNull(m.2) AS v, v <= {caps:Array(Float64)}[i] AS ok,
           {goods:Array(Float64)}[i] AS good_t, {poors:Array(Float64)}[i] AS poor_t,
           toUInt64(greatest(1, round(sample_weight))) AS w
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = {d1:String}, d2 = {d2:String})
    ARRAY JOIN arrayFilter(x -> x.2 IS NOT NULL,
                           arrayZip([1, 2, 3, 4, 5], [lcp, inp, cls, fcp, ttfb])) AS m
    WHERE kind = 'pageview'
)
GROUP BY g1, g2, metric
HAVING samples > 0
ORDER BY indexOf(['lcp', 'inp', 'cls', 'fcp', 'ttfb'], metric), g1, g2
