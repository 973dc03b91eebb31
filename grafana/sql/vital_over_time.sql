-- vital_over_time: how do p75 and p95 of one Core Web Vital move over time?
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   metric String (lcp | inp | cls | fcp | ttfb), bucket_s UInt32 (bucket width, seconds).
-- Output, one row per bucket, oldest first: time (bucket start, UTC), p75, p95
--   (ms, unitless for CLS), samples (page views with the metric).
SELECT
    toStartOfInterval(toDateTime(ts), INTERVAL {bucket_s:UInt32} second) AS time,
    round(quantile(0.75)(vital), 3) AS p75,
    round(quantile(0.95)(vital), 3) AS p95,
    count(vital) AS samples
FROM
(
    SELECT ts,
           multiIf({metric:String} = 'lcp', lcp, {metric:String} = 'inp', inp,
                   {metric:String} = 'cls', cls, {metric:String} = 'fcp', fcp, ttfb) AS vital
    FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
        until_ms = {until_ms:Int64}, d1 = '', d2 = '')
    WHERE kind = 'pageview'
)
WHERE vital IS NOT NULL
GROUP BY time
ORDER BY time
