-- pageview_counts: raw page views per hour over [from_ms, until_ms): physical rows, so
-- duplicates not merged yet count. The scheduler compares them with each hour's marker (of the
-- vitals and segments rollups, which roll page views).
--
-- Parameters: from_ms, until_ms Int64 (epoch ms).

SELECT toInt64(toUnixTimestamp(toStartOfHour(ts))) * 1000 AS hour_ms, count() AS n
FROM rum.events
WHERE kind IN ('pageview') AND ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
GROUP BY hour_ms
