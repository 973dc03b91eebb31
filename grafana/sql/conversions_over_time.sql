-- conversions_over_time: are conversions holding up?
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms),
--   bucket_s UInt32 (bucket width, seconds).
-- Output, oldest first: time (bucket start, UTC), conversions, converting_sessions.
SELECT
    toStartOfInterval(toDateTime(ts), INTERVAL {bucket_s:UInt32} second) AS time,
    count() AS conversions,
    uniqExact(session_id) AS converting_sessions
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = '', d2 = '')
WHERE kind = 'conversion'
GROUP BY time
ORDER BY time
